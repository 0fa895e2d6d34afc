// Retries and retire, against the emulator.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { GatewayCertificates } from "cf-gateway-certs";
import { checkError, ops, rejection, startEmulator } from "./support.mjs";

let emu;
before(async () => { emu = await startEmulator(); });
after(async () => { await emu?.stop(); });

const client = (extra = {}) => new GatewayCertificates({ apiToken: emu.api_token, baseUrl: emu.url, ...extra });

describe("retries", () => {
  test("a 503 once, then success (default backoff)", async () => {
    const acct = await emu.account();
    await emu.faults(acct.id, [{ op: "get", kind: "status", status: 503 }]);
    const cert = acct.certificates.inactive;
    const started = Date.now();
    assert.deepEqual(await client().get(cert.id, { account_id: acct.id }), cert);
    const took = Date.now() - started;
    assert.ok(took >= 350, `backed off (${took} ms)`);
    assert.deepEqual((await emu.log(acct.id)).map((e) => e.status), [503, 200]);
  });

  test("a connection reset once, then success", async () => {
    const acct = await emu.account();
    await emu.faults(acct.id, [{ op: "get", kind: "reset" }]);
    const cert = acct.certificates.inactive;
    assert.deepEqual(await client().get(cert.id, { account_id: acct.id }), cert);
    assert.deepEqual((await emu.log(acct.id)).map((e) => [e.fault, e.status]), [["reset", null], [null, 200]]);
  });

  test("a per-attempt timeout once, then success", async () => {
    const acct = await emu.account();
    await emu.faults(acct.id, [{ op: "get", kind: "hang" }]);
    const cert = acct.certificates.inactive;
    assert.deepEqual(await client({ timeoutMs: 200 }).get(cert.id, { account_id: acct.id }), cert);
    assert.equal((await emu.log(acct.id)).length, 2);
  });

  test("at most maxRetries + 1 attempts, then the status's error", async () => {
    const acct = await emu.account();
    await emu.faults(acct.id, [{ op: "get", kind: "status", status: 500, times: 5, headers: { "retry-after-ms": "5" } }]);
    const err = await rejection(client().get(acct.certificates.inactive.id, { account_id: acct.id }));
    checkError(err, "InternalServerError", { status: 500 });
    assert.equal((await emu.log(acct.id)).length, 3, "default maxRetries 2");
  });

  test("a 503 on DELETE of an inactive certificate: GET, then the DELETE is retried", async () => {
    const acct = await emu.account();
    await emu.faults(acct.id, [{ op: "delete", kind: "status", status: 503, headers: { "retry-after-ms": "5" } }]);
    const cert = acct.certificates.inactive;
    assert.deepEqual(await client().delete(cert.id, { account_id: acct.id }), cert);
    const log = await emu.log(acct.id);
    assert.deepEqual(log.filter((e) => e.method === "DELETE").map((e) => e.status), [503, 200]);
    assert.deepEqual((await emu.state(acct.id)).deleted, { [cert.id]: 1 });
  });

  test("create is never retried", async () => {
    const acct = await emu.account({ seed: "empty" });
    await emu.faults(acct.id, [{ op: "create", kind: "status", status: 503, headers: { "retry-after-ms": "1" } }]);
    const err = await rejection(client().create({ account_id: acct.id }));
    checkError(err, "InternalServerError", { status: 503 });
    assert.deepEqual(await ops(emu, acct.id), ["POST create"]);
    await emu.faults(acct.id, [{ op: "create", kind: "reset" }]);
    checkError(await rejection(client().create({ account_id: acct.id })), "APIConnectionError", { errors: [] });
    assert.deepEqual(await ops(emu, acct.id), ["POST create", "POST create"]);
  });
});

describe("retire", () => {
  const collect = () => {
    const events = [];
    return { events, onProgress: (e) => events.push(e) };
  };

  test("an available certificate: deactivate, wait, delete", async () => {
    const acct = await emu.account({ deactivate_ms: 150 });
    const cert = acct.certificates.available;
    const { events, onProgress } = collect();
    const result = await client().retire(cert.id, { account_id: acct.id }, { pollIntervalMs: 20, onProgress });
    assert.equal(result.id, cert.id);
    assert.equal(result.binding_status, "inactive");
    assert.equal(Object.getPrototypeOf(result), Object.prototype);
    const steps = events.map((e) => e.step);
    assert.equal(steps[0], "checking");
    assert.equal(steps[1], "deactivating");
    assert.deepEqual(steps.slice(-2), ["deleting", "done"]);
    const middle = steps.slice(2, -2);
    assert.ok(middle.length >= 1 && middle.every((s) => s === "waiting"), `steps: ${steps}`);
    for (const e of events.slice(1)) {
      assert.equal(e.certificate?.id, cert.id, `${e.step} carries the certificate`);
    }
    assert.equal(events.at(-1).certificate.binding_status, "inactive");
    assert.equal(events.at(-2).certificate.binding_status, "inactive");
    const state = await emu.state(acct.id);
    assert.deepEqual(state.deleted, { [cert.id]: 1 }, "deleted exactly once");
    assert.ok(!state.certificates.some((c) => c.id === cert.id));
    const log = await ops(emu, acct.id);
    assert.deepEqual(log.slice(0, 2), ["GET get", "POST deactivate"]);
    assert.equal(log.at(-1), "DELETE delete");
    assert.ok(log.slice(2, -1).every((o) => o === "GET get"));
  });

  test("a pending_deletion certificate: no deactivate", async () => {
    const acct = await emu.account({ deactivate_ms: 100 });
    const cert = acct.certificates.pending_deletion;
    const { events, onProgress } = collect();
    const result = await client().retire(cert.id, { account_id: acct.id }, { pollIntervalMs: 20, onProgress });
    assert.equal(result.id, cert.id);
    const log = await ops(emu, acct.id);
    assert.ok(!log.includes("POST deactivate"), `log: ${log}`);
    assert.equal(log.at(-1), "DELETE delete");
    assert.ok(!events.some((e) => e.step === "deactivating"));
    assert.deepEqual(events.map((e) => e.step).slice(-2), ["deleting", "done"]);
    assert.deepEqual((await emu.state(acct.id)).deleted, { [cert.id]: 1 });
  });

  test("an inactive certificate: GET and DELETE only", async () => {
    const acct = await emu.account();
    const cert = acct.certificates.inactive;
    const { events, onProgress } = collect();
    assert.deepEqual(await client().retire(cert.id, { account_id: acct.id }, { onProgress }), cert);
    assert.deepEqual(events.map((e) => e.step), ["checking", "deleting", "done"]);
    assert.deepEqual(await ops(emu, acct.id), ["GET get", "DELETE delete"]);
  });

  test("a throwing onProgress does not stop it", async () => {
    const acct = await emu.account();
    const cert = acct.certificates.inactive;
    const result = await client().retire(cert.id, { account_id: acct.id }, { onProgress: () => { throw new Error("boom"); } });
    assert.equal(result.id, cert.id);
  });

  test("stuck in pending_deletion: CertificateNotInactiveError after waitTimeoutMs", async () => {
    const acct = await emu.account({ deactivate_ms: 60_000 });
    const cert = acct.certificates.available;
    const started = Date.now();
    const err = await rejection(client().retire(cert.id, { account_id: acct.id }, { pollIntervalMs: 20, waitTimeoutMs: 150 }));
    const took = Date.now() - started;
    assert.ok(took >= 140 && took < 5000, `took ${took} ms`);
    checkError(err, "CertificateNotInactiveError", { errors: [], api: true });
    assert.equal(err.certificate.id, cert.id);
    assert.equal(err.certificate.binding_status, "pending_deletion");
    const log = await ops(emu, acct.id);
    assert.ok(!log.includes("DELETE delete"));
    assert.deepEqual((await emu.state(acct.id)).deleted, {});
  });
});
