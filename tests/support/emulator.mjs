// Starts the API emulator (the Rust binary built by `cargo build -p cf-gateway-emulator`)
// on a free loopback port and gives tests its URL, credentials and control API.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));
const bin = `${process.env.CARGO_TARGET_DIR ?? `${root}target`}/debug/cf-gateway-emulator`;

/** Start an emulator process; resolves once it printed its JSON line. */
export async function startEmulator(args = []) {
  if (!existsSync(bin)) throw new Error(`emulator not built: ${bin} (run: cargo build -p cf-gateway-emulator)`);
  const child = spawn(bin, ["--port", "0", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  child.stderr.resume(); // its human-readable banner is not test output
  const lines = createInterface({ input: child.stdout });
  const info = await new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`emulator exited early (${code})`)));
    lines.once("line", (line) => resolve(JSON.parse(line)));
  });
  child.removeAllListeners("exit");
  const control = async (method, path, body) => {
    const res = await fetch(`${info.origin}/__emulator${path}`, {
      method,
      headers: body ? { "content-type": "application/json" } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    if (!res.ok) throw new Error(`control ${method} ${path}: ${res.status} ${await res.text()}`);
    return res.json();
  };
  return {
    ...info,
    /** A fresh account (random 32-hex id) with the demo seed unless told otherwise. */
    async account(options = {}) {
      const id = randomBytes(16).toString("hex");
      const created = await control("POST", `/accounts/${id}`, { activate_ms: 50, deactivate_ms: 50, ...options });
      return { id, certificates: created.certificates };
    },
    addCertificates: (account, fields) => control("POST", `/accounts/${account}/certificates`, fields),
    patchCertificate: (account, id, fields) => control("PATCH", `/accounts/${account}/certificates/${id}`, fields),
    limits: (account, body) => control("POST", `/accounts/${account}/limits`, body),
    faults: (account, faults) => control("POST", `/accounts/${account}/faults`, { faults }),
    log: async (account) => (await control("GET", `/accounts/${account}/log`)).requests,
    state: (account) => control("GET", `/accounts/${account}/state`),
    stop: () => new Promise((resolve) => { child.once("exit", resolve); child.kill("SIGTERM"); }),
  };
}
