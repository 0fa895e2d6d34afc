// The emulator control calls the load test needs beyond tests/support/emulator.mjs: an account
// with a rate limit and random, seeded fault injection (`fault_rate`), bulk certificates, and
// the state / log read back. See the doc comment of emulator/src/control.rs.

/** A control-API client for one emulator (`emu` from startEmulator()). */
export function controlOf(emu) {
  const control = async (method, path, body) => {
    const res = await fetch(`${emu.origin}/__emulator${path}`, {
      method,
      headers: body !== undefined ? { "content-type": "application/json" } : {},
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    if (!res.ok) throw new Error(`control ${method} ${path}: ${res.status} ${await res.text()}`);
    return res.json();
  };
  return {
    /** (Re)create an account: { seed, activate_ms, deactivate_ms, rate_limit, fault_rate }. */
    createAccount: (account, options) => control("POST", `/accounts/${account}`, options),
    /** Add `count` certificates with the given fields; resolves with their objects. */
    addCertificates: async (account, fields) =>
      (await control("POST", `/accounts/${account}/certificates`, fields)).certificates,
    /** { rate, kinds, ops, seed } or null to turn random faults off. */
    setFaultRate: (account, faultRate) => control("POST", `/accounts/${account}/fault-rate`, faultRate),
    state: (account) => control("GET", `/accounts/${account}/state`),
    log: async (account) => (await control("GET", `/accounts/${account}/log`)).requests,
  };
}
