// Recognisable credentials for the secrets tests (an emulator started with `EMULATOR_ARGS`
// accepts exactly these) and the helpers that look for them: shared by tests/hostile,
// tests/worker/hostile.test.mjs, tests/page/hostile.test.mjs and tests/package/secrets.test.mjs.
import assert from "node:assert/strict";

export const TOKEN = "SECRET-TOKEN-3f9a1c";
export const EMAIL = "secret-user@example.com";
export const KEY = "SECRET-KEY-77e2b0";
// The whole values and recognisable parts of them: a partial leak is a leak.
export const SECRETS = [TOKEN, EMAIL, KEY, "SECRET-TOKEN", "SECRET-KEY", "3f9a1c", "77e2b0", "secret-user"];
/** `startEmulator(EMULATOR_ARGS)` accepts TOKEN, and EMAIL + KEY. */
export const EMULATOR_ARGS = ["--token", TOKEN, "--email", EMAIL, "--key", KEY];

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
