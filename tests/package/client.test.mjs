// The six operations against the emulator, through the package's own name (exports map).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { GatewayCertificates, deleteCertificate } from "cf-gateway-certs";
import { ops, startEmulator } from "./support.mjs";

let emu;
before(async () => { emu = await startEmulator(); });
after(async () => { await emu?.stop(); });

const client = (extra = {}) => new GatewayCertificates({ apiToken: emu.api_token, baseUrl: emu.url, ...extra });

function isPlain(value) {
  assert.equal(typeof value, "object");
  assert.ok(!(value instanceof Map), "not a Map");
  assert.equal(Object.getPrototypeOf(value), Object.prototype, "a plain object");
}

describe("delete", () => {
  test("with an API token: resolves with the deleted certificate as sent", async () => {
    const acct = await emu.account();
    const cert = acct.certificates.inactive;
    const deleted = await client().delete(cert.id, { account_id: acct.id });
    isPlain(deleted);
    assert.deepEqual(deleted, cert);
    assert.equal(deleted.binding_status, "inactive");
    const state = await emu.state(acct.id);
    assert.deepEqual(state.deleted, { [cert.id]: 1 });
    const [req] = await emu.log(acct.id);
    assert.equal(req.method, "DELETE");
    assert.equal(req.auth, "token");
    assert.equal(req.path, `/client/v4/accounts/${acct.id}/gateway/certificates/${cert.id}`);
  });

  test("with email + Global API key", async () => {
    const acct = await emu.account();
    const cert = acct.certificates.inactive;
    const c = new GatewayCertificates({ apiEmail: emu.email, apiKey: emu.api_key, baseUrl: emu.url });
    assert.deepEqual(await c.delete(cert.id, { account_id: acct.id }), cert);
    assert.deepEqual((await emu.log(acct.id)).map((e) => e.auth), ["key"]);
  });

  test("deleteCertificate (token and key), with a trailing slash on baseUrl", async () => {
    const acct = await emu.account();
    const [a, b] = (await emu.addCertificates(acct.id, { count: 2 })).certificates;
    const one = await deleteCertificate({ apiToken: emu.api_token, baseUrl: `${emu.url}/`, accountId: acct.id, certificateId: a.id });
    isPlain(one);
    assert.deepEqual(one, a);
    const two = await deleteCertificate({ apiEmail: emu.email, apiKey: emu.api_key, baseUrl: emu.url, accountId: acct.id, certificateId: b.id });
    assert.deepEqual(two, b);
    const log = await emu.log(acct.id);
    assert.deepEqual(log.map((e) => [e.method, e.auth, e.status]), [["DELETE", "token", 200], ["DELETE", "key", 200]]);
    assert.ok(log.every((e) => !e.path.includes("//")), "no doubled slash");
  });

  test("unknown fields and unknown enum values are passed through", async () => {
    const acct = await emu.account({ seed: "empty" });
    const [cert] = (await emu.addCertificates(acct.id, {
      future_field: { nested: [1, "two"] }, another_flag: true, type: "gateway_managed_v2",
    })).certificates;
    const got = await client().get(cert.id, { account_id: acct.id });
    isPlain(got);
    isPlain(got.future_field);
    assert.deepEqual(got.future_field, { nested: [1, "two"] });
    assert.equal(got.type, "gateway_managed_v2");
    const deleted = await client().delete(cert.id, { account_id: acct.id });
    assert.deepEqual(deleted, cert);
    assert.equal(deleted.another_flag, true);
  });

  test("the legacy binding_status \"active\" is passed through", async () => {
    const acct = await emu.account({ seed: "empty" });
    const [cert] = (await emu.addCertificates(acct.id, { binding_status: "active" })).certificates;
    const got = await client().get(cert.id, { account_id: acct.id });
    assert.equal(got.binding_status, "active");
    const [listed] = await client().list({ account_id: acct.id });
    assert.equal(listed.binding_status, "active");
  });
});

test("get", async () => {
  const acct = await emu.account();
  const cert = acct.certificates.available;
  const got = await client().get(cert.id, { account_id: acct.id });
  isPlain(got);
  assert.deepEqual(got, cert);
  assert.deepEqual(await ops(emu, acct.id), ["GET get"]);
});

test("list: an array of plain certificates", async () => {
  const acct = await emu.account();
  const list = await client().list({ account_id: acct.id });
  assert.ok(Array.isArray(list));
  assert.equal(list.length, 6);
  list.forEach(isPlain);
  assert.deepEqual(new Set(list.map((c) => c.id)), new Set(Object.values(acct.certificates).map((c) => c.id)));
  const empty = await emu.account({ seed: "empty" });
  assert.deepEqual(await client().list({ account_id: empty.id }), []);
});

test("create: an inactive certificate; validity_period_days is sent", async () => {
  const acct = await emu.account({ seed: "empty" });
  const c = client();
  const plain = await c.create({ account_id: acct.id });
  isPlain(plain);
  assert.equal(plain.binding_status, "inactive");
  assert.match(plain.id, /^[0-9a-f-]{36}$/);
  const short = await c.create({ account_id: acct.id, validity_period_days: 30 });
  const days = (Date.parse(short.expires_on) - Date.parse(short.created_at)) / 86_400_000;
  assert.ok(Math.abs(days - 30) < 0.01, `expires after ${days} days`);
  const state = await emu.state(acct.id);
  assert.deepEqual(new Set(state.certificates.map((x) => x.id)), new Set([plain.id, short.id]));
  assert.deepEqual(await ops(emu, acct.id), ["POST create", "POST create"]);
});

test("activate → pending_deployment, deactivate → pending_deletion", async () => {
  const acct = await emu.account({ activate_ms: 60_000, deactivate_ms: 60_000 });
  const c = client();
  const p = { account_id: acct.id };
  const activated = await c.activate(acct.certificates.inactive.id, p);
  isPlain(activated);
  assert.equal(activated.binding_status, "pending_deployment");
  const deactivated = await c.deactivate(acct.certificates.available.id, p);
  isPlain(deactivated);
  assert.equal(deactivated.binding_status, "pending_deletion");
  const log = await emu.log(acct.id);
  assert.deepEqual(log.map((e) => [e.method, e.path.split("/").pop(), e.status]), [
    ["POST", "activate", 202],
    ["POST", "deactivate", 201],
  ]);
});
