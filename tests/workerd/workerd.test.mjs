// The package inside workerd (Miniflare): the `workerd` entry imports the .wasm as a module.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";
import { startEmulator } from "../support/emulator.mjs";
import { startPackageWorker } from "./support.mjs";

const root = fileURLToPath(new URL("../..", import.meta.url));
let emu;
let mf;

before(async () => {
  emu = await startEmulator();
  mf = await startPackageWorker({ scriptPath: fileURLToPath(new URL("./worker.js", import.meta.url)), modulesRoot: root, emu });
});
after(async () => {
  await mf?.dispose();
  await emu?.stop();
});

const call = async (body) => {
  const res = await mf.dispatchFetch("http://worker.test/delete", { method: "POST", body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
};

test("deletes an inactive certificate from inside workerd", async () => {
  const acct = await emu.account();
  const cert = acct.certificates.inactive;
  const { status, body } = await call({ accountId: acct.id, certificateId: cert.id });
  assert.equal(status, 200, JSON.stringify(body));
  assert.equal(body.plain, true);
  assert.deepEqual(body.certificate, cert);
  assert.deepEqual((await emu.state(acct.id)).deleted, { [cert.id]: 1 });
  const log = await emu.log(acct.id);
  assert.deepEqual(log.map((e) => [e.method, e.auth, e.status]), [["DELETE", "token", 200]]);
});

test("NotFoundError from inside workerd", async () => {
  const acct = await emu.account();
  const { status, body } = await call({ accountId: acct.id, certificateId: "00000000-0000-4000-8000-000000000000" });
  assert.equal(status, 502);
  assert.equal(body.isError, true);
  assert.equal(body.name, "NotFoundError");
  assert.equal(body.status, 404);
  assert.deepEqual(body.errors, [{ code: 1101, message: "Certificate not found" }]);
  assert.match(body.cfRay, /-EMU$/);
  assert.match(body.message, /HTTP 404/);
});

test("CertificateNotInactiveError from inside workerd (DELETE, then GET)", async () => {
  const acct = await emu.account();
  const { body } = await call({ accountId: acct.id, certificateId: acct.certificates.available.id });
  assert.equal(body.name, "CertificateNotInactiveError");
  assert.equal(body.status, 500);
  assert.deepEqual((await emu.log(acct.id)).map((e) => e.method), ["DELETE", "GET"]);
});

test("a hanging request: timeout and abort", async () => {
  const acct = await emu.account();
  const certificateId = acct.certificates.inactive.id;
  await emu.faults(acct.id, [{ op: "delete", kind: "hang", times: 2 }]);
  const timedOut = await call({ accountId: acct.id, certificateId, timeoutMs: 300 });
  assert.equal(timedOut.body.name, "APIConnectionTimeoutError", JSON.stringify(timedOut.body));
  assert.equal(timedOut.body.status, null);
  const aborted = await call({ accountId: acct.id, certificateId, abortAfterMs: 300 });
  assert.equal(aborted.body.name, "APIUserAbortError", JSON.stringify(aborted.body));
  // Neither is retried (a request cut off before it reached the emulator is not logged).
  const log = await emu.log(acct.id);
  assert.ok(log.length <= 2, JSON.stringify(log));
  assert.deepEqual((await emu.state(acct.id)).deleted, {});
});

test("InvalidInputError from inside workerd sends nothing", async () => {
  const acct = await emu.account();
  const { body } = await call({ accountId: acct.id, certificateId: "not-a-uuid" });
  assert.equal(body.name, "InvalidInputError");
  assert.equal(body.status, null);
  assert.equal((await emu.log(acct.id)).length, 0);
});
