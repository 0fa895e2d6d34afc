// Shared helpers for the command-line tests (not a test file itself): runs
// `bin/cf-gateway-certs.js` as a child process against a live emulator, and checks on EVERY run
// that no credential reached stdout or stderr and that (stderr being a pipe, not a terminal)
// neither holds a carriage return or an escape sequence.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { startEmulator } from "../support/emulator.mjs";
import { EMAIL, EMULATOR_ARGS, KEY, SECRETS, TOKEN, assertNoSecrets } from "../support/secrets.mjs";

export { EMAIL, KEY, TOKEN };
export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const BIN = `${ROOT}bin/cf-gateway-certs.js`;
/** A token the emulator accepts for reads only (writes answer 403). */
export const READ_ONLY_TOKEN = "RO-SECRET-TOKEN-5b1d9e";
/** A token the emulator does not know (401), still a secret. */
export const WRONG_TOKEN = "WRONG-SECRET-TOKEN-c0ffee";
export const ALL_SECRETS = [...SECRETS, READ_ONLY_TOKEN, WRONG_TOKEN, "5b1d9e", "c0ffee"];
export const UNKNOWN_ID = "00000000-0000-4000-8000-000000000000";

/** An emulator that accepts exactly TOKEN, EMAIL + KEY, and READ_ONLY_TOKEN for reads. */
export function startCliEmulator() {
  return startEmulator([...EMULATOR_ARGS, "--read-only-token", READ_ONLY_TOKEN]);
}

/** The environment of one run: credentials (token by default), base URL and account. */
export function cliEnv(emu, account, extra = {}) {
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME ?? "/tmp",
    CLOUDFLARE_API_TOKEN: TOKEN,
    CLOUDFLARE_API_BASE_URL: emu.url,
    ...(account ? { CLOUDFLARE_ACCOUNT_ID: account } : {}),
    ...extra,
  };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
  return env;
}

/**
 * Runs the command line; resolves with `{ code, signal, stdout, stderr }`. `env`: the whole
 * environment (see cliEnv). `onStderr(text so far, child)` is called as stderr grows.
 */
export function runCli(args, { env, onStderr, timeoutMs = 30000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    const timer = setTimeout(() => { child.kill("SIGKILL"); reject(new Error(`timed out: ${args.join(" ")}\n${stderr}`)); }, timeoutMs);
    child.stdout.setEncoding("utf8").on("data", (d) => { stdout += d; });
    child.stderr.setEncoding("utf8").on("data", (d) => { stderr += d; onStderr?.(stderr, child); });
    child.once("error", reject);
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      try {
        assertNoSecrets([stdout, stderr], ALL_SECRETS, `cf-gateway-certs ${args.join(" ")}`);
        assert.ok(!/[\r\x1b]/.test(stdout + stderr), `no \\r or escape sequence when not a terminal: ${JSON.stringify(stderr.slice(0, 300))}`);
      } catch (e) {
        reject(e);
        return;
      }
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** `--json` output: exactly one JSON document on stdout. */
export function oneDocument(stdout) {
  assert.ok(stdout.trim().length > 0, "stdout holds a JSON document");
  return JSON.parse(stdout); // throws on anything but exactly one document
}

/** The emulator log as "METHOD path-after-the-account" strings. */
export async function requests(emu, account) {
  const prefix = `/client/v4/accounts/${account}`;
  return (await emu.log(account)).map((e) => `${e.method} ${e.path.startsWith(prefix) ? e.path.slice(prefix.length) : e.path}`);
}

export { startEmulator };
