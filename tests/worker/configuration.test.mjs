// The one Gateway-configuration route the relay Worker relays (contract section 5):
// PATCH /client/v4/accounts/{a}/gateway/configuration with a body that is exactly
// {"settings":{"certificate":{"id":"<uuid>"}}}, sent upstream by the package's
// selectCertificate. Everything else on that path is refused before anything leaves: a recording
// proxy between the Worker and the emulator shows what went upstream, byte for byte.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { GatewayCertificates } from "cf-gateway-certs";
import { readJson, startEmulatorAndWorker, startRecordingProxy } from "./harness.mjs";

let emu;
let proxy;
let worker;
let stack;
before(async () => {
  stack = await startEmulatorAndWorker({ proxy: startRecordingProxy });
  ({ emu, proxy, worker } = stack);
});
after(async () => { await stack?.stop(); });

const SCHEMES = {
  token: () => ({ Authorization: `Bearer ${emu.api_token}` }),
  key: () => ({ "X-Auth-Email": emu.email, "X-Auth-Key": emu.api_key }),
};
const configPath = (acct) => `/client/v4/accounts/${acct}/gateway/configuration`;
const canonical = (id) => JSON.stringify({ settings: { certificate: { id } } });
const upstream = (acct) => proxy.exchanges().filter((e) => e.path.includes(acct));

async function patch(acct, body, headers = SCHEMES.token()) {
  const res = await worker.fetch(configPath(acct), {
    method: "PATCH",
    headers: { Accept: "application/json", "Content-Type": "application/json", ...headers },
    body,
  });
  const { text, json } = await readJson(res);
  for (const secret of [emu.api_token, emu.api_key]) {
    assert.ok(!text.includes(secret), "a credential in the body");
    for (const [name, value] of res.headers) assert.ok(!value.includes(secret), `a credential in ${name}`);
  }
  assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
  return { res, text, json };
}

for (const [scheme, creds] of Object.entries(SCHEMES)) {
  test(`switching the certificate in use (${scheme} scheme): one PATCH upstream, exactly the canonical body`, async () => {
    const acct = await emu.account();
    const next = acct.certificates.available.id;
    const previous = acct.certificates.in_use.id;
    const { res, json } = await patch(acct.id, canonical(next), creds());
    assert.equal(res.status, 200);
    assert.equal(json.success, true);
    assert.equal(json.result.settings.certificate.id, next, "the API's configuration is the result");

    const state = await emu.state(acct.id);
    assert.equal(state.configuration.settings.certificate.id, next);
    const byId = new Map(state.certificates.map((c) => [c.id, c]));
    assert.equal(byId.get(next).in_use, true, "the new certificate is in use");
    assert.equal(byId.get(previous).in_use, false, "the old one is not");
    assert.equal(byId.get(previous).binding_status, "available", "and stays available");

    const log = await emu.log(acct.id);
    assert.deepEqual(log.map((r) => [r.method, r.op, r.auth, r.status]), [["PATCH", "patch_configuration", scheme, 200]]);
    const sent = upstream(acct.id);
    assert.equal(sent.length, 1);
    assert.equal(sent[0].path, `/client/v4/accounts/${acct.id}/gateway/configuration`);
    assert.equal(sent[0].body, canonical(next), "the package's body, nothing else");
    // The API's rate-limit headers, passed on as sent.
    assert.equal(res.headers.get("ratelimit"), sent[0].headers.ratelimit);
    assert.equal(res.headers.get("ratelimit-policy"), sent[0].headers["ratelimit-policy"]);
  });
}

test("whitespace around the JSON and between its tokens is fine", async () => {
  const acct = await emu.account();
  const id = acct.certificates.available.id;
  const body = `\n {\n  "settings" : {\t"certificate": { "id" : "${id}" } }\r\n}\n`;
  const { res, json } = await patch(acct.id, body);
  assert.equal(res.status, 200, JSON.stringify(json));
  assert.equal(upstream(acct.id)[0].body, canonical(id), "sent in canonical form");
  assert.equal((await emu.state(acct.id)).configuration.settings.certificate.id, id);
});

test("refused bodies: 400 InvalidInputError [90001], nothing sent upstream", async (t) => {
  const acct = await emu.account();
  const id = acct.certificates.available.id;
  const before = proxy.count();
  const big = `{"settings":{"certificate":{"id":"${id}"}}}${" ".repeat(5000)}`;
  const cases = [
    ["empty", ""],
    ["not JSON", "settings.certificate.id=" + id],
    ["truncated JSON", `{"settings":{"certificate":{"id":"${id}"}}`],
    ["JSON null", "null"],
    ["a string", JSON.stringify(canonical(id))],
    ["an array", `[${canonical(id)}]`],
    ["{}", "{}"],
    ["settings only", '{"settings":{}}'],
    ["another top-level key", `{"settings":{"certificate":{"id":"${id}"}},"name":"x"}`],
    ["another block (tls_decrypt)", `{"settings":{"certificate":{"id":"${id}"},"tls_decrypt":{"enabled":false}}}`],
    ["another block instead", '{"settings":{"tls_decrypt":{"enabled":false}}}'],
    ["a key beside id", `{"settings":{"certificate":{"id":"${id}","enabled":true}}}`],
    ["settings an array", `{"settings":[{"certificate":{"id":"${id}"}}]}`],
    ["certificate an array", `{"settings":{"certificate":["${id}"]}}`],
    ["certificate null", '{"settings":{"certificate":null}}'],
    ["id a number", '{"settings":{"certificate":{"id":1}}}'],
    ["id null", '{"settings":{"certificate":{"id":null}}}'],
    ["id an object", `{"settings":{"certificate":{"id":{"id":"${id}"}}}}`],
    ["id not a UUID", '{"settings":{"certificate":{"id":"not-a-uuid"}}}'],
    ["id with a path", `{"settings":{"certificate":{"id":"${id}/../x"}}}`],
    ["id with spaces inside", `{"settings":{"certificate":{"id":" ${id} "}}}`],
    ["id empty", '{"settings":{"certificate":{"id":""}}}'],
    ["a duplicate key", `{"settings":{"certificate":{"id":"00000000-0000-0000-0000-000000000000"}},"settings":{"certificate":{"id":"${id}"}}}`],
    ["a duplicate id", `{"settings":{"certificate":{"id":"00000000-0000-0000-0000-000000000000","id":"${id}"}}}`],
    ["an escaped key", `{"settings":{"certificate":{"\\u0069d":"${id}"}}}`],
    ["an escaped character in the id", `{"settings":{"certificate":{"id":"${id.slice(0, 35)}\\u00${id.charCodeAt(35).toString(16)}"}}}`],
    ["__proto__", `{"settings":{"certificate":{"id":"${id}","__proto__":{"x":1}}}}`],
    ["larger than 4 KiB (trailing spaces)", big],
    ["not UTF-8", Buffer.from([0x7b, 0xff, 0xfe, 0x7d])],
  ];
  for (const [label, body] of cases) {
    const { res, json } = await patch(acct.id, body);
    assert.equal(res.status, 400, `${label}: ${JSON.stringify(json)}`);
    assert.equal(json.success, false, label);
    assert.equal(json.result, null, label);
    assert.equal(res.headers.get("x-gateway-certs-error"), "InvalidInputError", label);
    assert.equal(res.headers.get("x-should-retry"), "false", label);
    assert.equal(json.errors.length, 1, label);
    assert.equal(json.errors[0].code, 90001, label);
    assert.match(json.errors[0].message, /^InvalidInputError: \S/, label);
    assert.equal(proxy.count(), before, `${label}: a request went upstream`);
  }
  assert.deepEqual(await emu.log(acct.id), [], "nothing reached the API");
  const state = await emu.state(acct.id);
  assert.equal(state.configuration.settings.certificate.id, acct.certificates.in_use.id, "the configuration is unchanged");
  t.diagnostic(`${cases.length} bodies refused, none sent upstream`);
});

test("other methods on the configuration path are 405 (Allow: PATCH), nothing sent upstream", async () => {
  const acct = await emu.account();
  const before = proxy.count();
  for (const method of ["GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD"]) {
    const res = await worker.fetch(configPath(acct.id), {
      method,
      headers: { ...SCHEMES.token(), "Content-Type": "application/json" },
      body: ["PUT", "POST"].includes(method) ? canonical(acct.certificates.available.id) : undefined,
    });
    await res.arrayBuffer();
    assert.equal(res.status, 405, method);
    assert.equal(res.headers.get("allow"), "PATCH", method);
  }
  assert.equal(proxy.count(), before);
  assert.deepEqual(await emu.log(acct.id), []);
});

describe("the API's answers are relayed", () => {
  test("a certificate that is not available: the API's 400 and its errors, passed on", async () => {
    const acct = await emu.account();
    const { res, json } = await patch(acct.id, canonical(acct.certificates.inactive.id));
    assert.equal(res.status, 400);
    assert.equal(res.headers.get("x-gateway-certs-error"), "BadRequestError");
    assert.equal(json.errors[0].code, 1107, "the API's own code");
    assert.equal(res.headers.get("ratelimit"), upstream(acct.id)[0].headers.ratelimit);
    assert.equal((await emu.log(acct.id)).length, 1);
  });

  test("a read-only token: the API's 403", async () => {
    const acct = await emu.account();
    const { res, json } = await patch(acct.id, canonical(acct.certificates.available.id), { Authorization: `Bearer ${emu.read_only_token}` });
    assert.equal(res.status, 403);
    assert.equal(res.headers.get("x-gateway-certs-error"), "PermissionDeniedError");
    assert.ok(json.errors[0].code < 90000);
  });

  test("a 503: one attempt, no x-should-retry (the caller's client retries)", async () => {
    const acct = await emu.account();
    await emu.faults(acct.id, [{ op: "patch_configuration", kind: "status", status: 503 }]);
    const { res } = await patch(acct.id, canonical(acct.certificates.available.id));
    assert.equal(res.status, 503);
    assert.equal(res.headers.get("x-should-retry"), null);
    assert.deepEqual((await emu.log(acct.id)).map((r) => r.op), ["patch_configuration"]);
  });
});

test("the package's setInUse through the Worker (as the page runs it)", async () => {
  const acct = await emu.account();
  const id = acct.certificates.available.id;
  const client = new GatewayCertificates({ apiToken: emu.api_token, baseUrl: `${worker.url}/client/v4` });
  const steps = [];
  const cert = await client.setInUse(id, { account_id: acct.id }, { pollIntervalMs: 20, onProgress: (e) => steps.push(e.step) });
  assert.equal(cert.id, id);
  assert.equal(cert.in_use, true);
  assert.ok(steps.includes("switching"), steps.join(","));
  const state = await emu.state(acct.id);
  assert.equal(state.configuration.settings.certificate.id, id);
  const patches = upstream(acct.id).filter((e) => e.method === "PATCH");
  assert.deepEqual(patches.map((e) => e.body), [canonical(id)]);
});
