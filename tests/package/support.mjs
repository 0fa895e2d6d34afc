// Shared helpers for the package tests (not a test file itself).
import assert from "node:assert/strict";
import { createServer } from "node:net";

export { startEmulator } from "../support/emulator.mjs";

/** A UUID no emulator account holds. */
export const UNKNOWN_ID = "00000000-0000-4000-8000-000000000000";

/** Awaits `promise`, expecting it to reject; returns the rejection. */
export async function rejection(promise) {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  assert.fail("expected a rejection, got a value");
}

/**
 * Checks the contract's error shape. `status`: expected HTTP status (or undefined);
 * `api`: true when the error came from an API answer (cf-ray and an errors array expected).
 */
export function checkError(err, name, { status, api = status !== undefined, errors } = {}) {
  assert.ok(err instanceof Error, `not an Error: ${err}`);
  assert.equal(err.name, name, `name (message: ${err.message})`);
  assert.equal(err.status, status, "status");
  assert.ok(Array.isArray(err.errors), "errors is an array");
  for (const item of err.errors) {
    assert.equal(typeof item.code, "number");
    assert.equal(typeof item.message, "string");
    assert.ok(err.message.includes(`[${item.code}] ${item.message}`), `message lists [${item.code}] ${item.message}: ${err.message}`);
  }
  if (errors !== undefined) assert.deepEqual(err.errors.map(({ code, message }) => ({ code, message })), errors);
  if (status !== undefined) assert.ok(err.message.includes(`HTTP ${status}`), `message has HTTP ${status}: ${err.message}`);
  if (api) assert.match(err.cfRay ?? "", /^[0-9a-f]{16}-EMU$/, "cfRay");
  else assert.equal(err.cfRay, undefined, "cfRay");
  assert.ok("cfRay" in err && "status" in err && "errors" in err, "properties present");
  return err;
}

/** A loopback port nothing listens on. */
export async function closedPort() {
  const srv = createServer();
  await new Promise((r) => srv.listen(0, "127.0.0.1", r));
  const { port } = srv.address();
  await new Promise((r) => srv.close(r));
  return port;
}

/** The emulator log's requests as "METHOD op" strings. */
export async function ops(emu, account) {
  return (await emu.log(account)).map((e) => `${e.method} ${e.op}`);
}
