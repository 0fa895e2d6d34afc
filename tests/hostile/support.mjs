// Shared helpers for the hostile-input and secrets tests (not a test file itself); also used by
// tests/worker/hostile.test.mjs and tests/page/hostile.test.mjs.
import assert from "node:assert/strict";
import { createServer, request as httpRequest } from "node:http";

export { startEmulator } from "../support/emulator.mjs";

/**
 * A loopback HTTP proxy in front of `targetOrigin` that counts every request it sees, whatever
 * its path (the emulator logs only requests that reach an account, so a request with a bad
 * account id would not show in any account's log). Point a client's baseUrl (or the Worker's
 * CF_API_BASE_URL) at `url` and `count()` is the number of requests that left.
 */
export async function startCountingProxy(targetOrigin) {
  const target = new URL(targetOrigin);
  const seen = [];
  const server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    const up = httpRequest({
      host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers,
    }, (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      upRes.pipe(res);
    });
    up.on("error", () => res.destroy());
    req.pipe(up);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const origin = `http://127.0.0.1:${server.address().port}`;
  return {
    origin,
    url: `${origin}/client/v4`,
    count: () => seen.length,
    requests: () => [...seen],
    close: () => new Promise((resolve) => { server.closeAllConnections?.(); server.close(resolve); }),
  };
}

/** Every string reachable from a value: String(), stack, JSON, each own property (deeply). */
export function texts(value) {
  const out = [];
  const seen = new Set();
  const walk = (v) => {
    if (v === null || v === undefined) return;
    if (typeof v !== "object" && typeof v !== "function") { out.push(String(v)); return; }
    if (seen.has(v)) return;
    seen.add(v);
    try { out.push(String(v)); } catch { /* an object without toString */ }
    try { out.push(JSON.stringify(v) ?? ""); } catch { /* cyclic */ }
    if (typeof v.stack === "string") out.push(v.stack);
    for (const k of Reflect.ownKeys(v)) {
      if (typeof k === "string") out.push(k);
      const d = Object.getOwnPropertyDescriptor(v, k);
      if (d && "value" in d) walk(d.value);
    }
  };
  walk(value);
  return out;
}

/** Asserts none of `secrets` occurs in any of `strings`. */
export function assertNoSecrets(strings, secrets, label) {
  for (const s of strings) {
    for (const secret of secrets) {
      assert.ok(!s.includes(secret), `${label}: leaks ${JSON.stringify(secret)} in ${JSON.stringify(s.slice(0, 300))}`);
    }
  }
}

/** Awaits `promise` (or calls it, catching a synchronous throw), expecting a failure. */
export async function failureOf(run, label = "") {
  let value;
  try {
    value = await run();
  } catch (err) {
    return err;
  }
  assert.fail(`${label}: accepted (expected a failure, got ${JSON.stringify(value)?.slice(0, 200)})`);
}
