// The Worker in workerd (Miniflare, configured from wrangler.toml) with the API emulator behind
// it: the six operations relayed with both credential schemes, everything else refused, and no
// credential ever echoed or logged. (The configuration PATCH: configuration.test.mjs.)
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { CSP, readJson, startEmulatorAndWorker, startWorker } from "./harness.mjs";

let emu;
let worker;
let stack;
before(async () => { stack = await startEmulatorAndWorker(); ({ emu, worker } = stack); });
after(async () => { await stack?.stop(); });

const SCHEMES = {
  token: () => ({ Authorization: `Bearer ${emu.api_token}` }),
  key: () => ({ "X-Auth-Email": emu.email, "X-Auth-Key": emu.api_key }),
};
const secrets = () => [emu.api_token, emu.api_key, emu.read_only_token];

const certPath = (acct, id = "", action = "") =>
  `/client/v4/accounts/${acct}/gateway/certificates${id ? `/${id}` : ""}${action ? `/${action}` : ""}`;

const firstId = (certs) => (Array.isArray(certs) ? certs[0] : certs).id;

/** No credential in the body or any header of a response. */
function assertNoSecret(res, text) {
  for (const secret of secrets()) {
    assert.ok(!text.includes(secret), "a credential appears in the response body");
    for (const [name, value] of res.headers) {
      assert.ok(!value.includes(secret), `a credential appears in response header ${name}`);
    }
  }
}

function assertEnvelope(json, success) {
  assert.equal(typeof json, "object");
  assert.equal(json.success, success);
  assert.ok(Array.isArray(json.errors));
  assert.ok(Array.isArray(json.messages));
  if (!success) {
    assert.equal(json.result, null);
    assert.ok(json.errors.length > 0, "a failure envelope carries at least one error");
    for (const e of json.errors) {
      assert.equal(typeof e.code, "number");
      assert.equal(typeof e.message, "string");
    }
  }
}

async function call(method, path, headers = {}, body) {
  const res = await worker.fetch(path, {
    method,
    headers: { Accept: "application/json", ...(body !== undefined ? { "Content-Type": "application/json" } : {}), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const { text, json } = await readJson(res);
  assertNoSecret(res, text);
  assert.equal(res.headers.get("access-control-allow-origin"), null, "no CORS headers");
  assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
  return { res, text, json };
}

for (const [scheme, creds] of Object.entries(SCHEMES)) {
  describe(`six operations relayed with the ${scheme} scheme`, () => {
    test("list", async () => {
      const acct = await emu.account();
      const { res, json } = await call("GET", certPath(acct.id), creds());
      assert.equal(res.status, 200);
      assertEnvelope(json, true);
      assert.ok(Array.isArray(json.result));
      const seeded = Object.values(acct.certificates).flat().map((c) => c.id).sort();
      assert.deepEqual(json.result.map((c) => c.id).sort(), seeded);
      const log = await emu.log(acct.id);
      assert.deepEqual(log.map((r) => [r.op, r.auth, r.status]), [["list", scheme, 200]]);
    });

    test("create (with validity_period_days), never retried", async () => {
      const acct = await emu.account();
      const { res, json } = await call("POST", certPath(acct.id), creds(), { validity_period_days: 30 });
      assert.equal(res.status, 200);
      assertEnvelope(json, true);
      assert.equal(json.result.binding_status, "inactive");
      const state = await emu.state(acct.id);
      assert.ok(state.certificates.some((c) => c.id === json.result.id));
      const log = await emu.log(acct.id);
      assert.deepEqual(log.map((r) => [r.op, r.auth]), [["create", scheme]]);
    });

    test("get", async () => {
      const acct = await emu.account();
      const id = firstId(acct.certificates.available);
      const { res, json } = await call("GET", certPath(acct.id, id), creds());
      assert.equal(res.status, 200);
      assertEnvelope(json, true);
      assert.equal(json.result.id, id);
      assert.equal(json.result.binding_status, "available");
    });

    test("delete an inactive certificate", async () => {
      const acct = await emu.account();
      const id = firstId(acct.certificates.inactive);
      const { res, json } = await call("DELETE", certPath(acct.id, id), creds());
      assert.equal(res.status, 200);
      assertEnvelope(json, true);
      assert.equal(json.result.id, id);
      const state = await emu.state(acct.id);
      assert.ok(!state.certificates.some((c) => c.id === id), "the certificate is gone");
      const log = await emu.log(acct.id);
      assert.deepEqual(log.map((r) => [r.method, r.auth, r.status]), [["DELETE", scheme, 200]]);
    });

    test("activate answers 202", async () => {
      const acct = await emu.account();
      const id = firstId(acct.certificates.inactive);
      const { res, json } = await call("POST", certPath(acct.id, id, "activate"), creds(), {});
      assert.equal(res.status, 202);
      assertEnvelope(json, true);
      assert.equal(json.result.id, id);
      const log = await emu.log(acct.id);
      assert.deepEqual(log.map((r) => [r.op, r.auth, r.status]), [["activate", scheme, 202]]);
    });

    test("deactivate answers 201", async () => {
      const acct = await emu.account();
      const id = firstId(acct.certificates.available);
      const { res, json } = await call("POST", certPath(acct.id, id, "deactivate"), creds());
      assert.equal(res.status, 201);
      assertEnvelope(json, true);
      assert.equal(json.result.id, id);
      const log = await emu.log(acct.id);
      assert.deepEqual(log.map((r) => [r.op, r.auth, r.status]), [["deactivate", scheme, 201]]);
    });
  });
}

describe("refused without reaching the API", () => {
  test("other paths under /client/v4 are 404 [7003]", async () => {
    const acct = await emu.account();
    const id = firstId(acct.certificates.inactive);
    for (const path of [
      "/client/v4",
      "/client/v4/",
      "/client/v4/user/tokens/verify",
      `/client/v4/accounts/${acct.id}`,
      `/client/v4/accounts/${acct.id}/gateway/configuration/`,
      `/client/v4/accounts/${acct.id}/gateway/configuration/custom_certificate`,
      `/client/v4/accounts/${acct.id}/gateway/rules`,
      `/client/v4/accounts/${acct.id}/gateway/certificates/`,
      `${certPath(acct.id, id)}/`,
      `${certPath(acct.id, id)}/rotate`,
      `${certPath(acct.id, id, "activate")}/x`,
      `/client/v4/zones/${acct.id}/gateway/certificates`,
    ]) {
      const { res, json } = await call("GET", path, SCHEMES.token());
      assert.equal(res.status, 404, path);
      assertEnvelope(json, false);
      assert.deepEqual(json.errors, [{ code: 7003, message: "No route for the URI" }], path);
    }
    assert.deepEqual(await emu.log(acct.id), [], "nothing reached the API");
  });

  test("wrong methods on known paths are 405 with Allow", async () => {
    const acct = await emu.account();
    const id = firstId(acct.certificates.inactive);
    const cases = [
      ["PUT", certPath(acct.id), "GET, POST"],
      ["DELETE", certPath(acct.id), "GET, POST"],
      ["PATCH", certPath(acct.id, id), "GET, DELETE"],
      ["POST", certPath(acct.id, id), "GET, DELETE"],
      ["GET", certPath(acct.id, id, "activate"), "POST"],
      ["DELETE", certPath(acct.id, id, "deactivate"), "POST"],
      ["OPTIONS", certPath(acct.id, id), "GET, DELETE"],
      ["HEAD", certPath(acct.id), "GET, POST"],
      ["GET", `/client/v4/accounts/${acct.id}/gateway/configuration`, "PATCH"],
      ["PUT", `/client/v4/accounts/${acct.id}/gateway/configuration`, "PATCH"],
      ["POST", `/client/v4/accounts/${acct.id}/gateway/configuration`, "PATCH"],
      ["DELETE", `/client/v4/accounts/${acct.id}/gateway/configuration`, "PATCH"],
      ["OPTIONS", `/client/v4/accounts/${acct.id}/gateway/configuration`, "PATCH"],
    ];
    for (const [method, path, allow] of cases) {
      const res = await worker.fetch(path, { method, headers: { ...SCHEMES.token(), Origin: "https://evil.example" } });
      const text = await res.text();
      assert.equal(res.status, 405, `${method} ${path}`);
      assert.equal(res.headers.get("allow"), allow);
      assert.equal(res.headers.get("access-control-allow-origin"), null);
      assert.equal(res.headers.get("access-control-allow-methods"), null);
      if (method !== "HEAD") {
        const json = JSON.parse(text);
        assertEnvelope(json, false);
        assert.equal(json.errors[0].code, 7001);
      }
      assertNoSecret(res, text);
    }
    assert.deepEqual(await emu.log(acct.id), [], "nothing reached the API");
  });

  test("bad ids and bad credentials are InvalidInputError (400) from the package's validation", async () => {
    const acct = await emu.account();
    const id = firstId(acct.certificates.inactive);
    const cases = [
      ["DELETE", certPath(acct.id, "not-a-uuid"), SCHEMES.token()],
      ["DELETE", certPath(acct.id, `${id}x`), SCHEMES.token()],
      ["DELETE", certPath(acct.id, encodeURIComponent(`../${id}`)), SCHEMES.token()],
      ["GET", certPath(`${acct.id}0`, id), SCHEMES.token()],
      ["GET", certPath("acc%2Fount", id), SCHEMES.token()],
      ["DELETE", certPath(acct.id, id), {}],
      ["DELETE", certPath(acct.id, id), { ...SCHEMES.token(), ...SCHEMES.key() }],
      ["DELETE", certPath(acct.id, id), { "X-Auth-Email": emu.email }],
      ["DELETE", certPath(acct.id, id), { Authorization: `Basic ${emu.api_token}` }],
    ];
    for (const [method, path, headers] of cases) {
      const { res, json } = await call(method, path, headers);
      assert.equal(res.status, 400, `${method} ${path} ${Object.keys(headers)}`);
      assertEnvelope(json, false);
      assert.equal(res.headers.get("x-gateway-certs-error"), "InvalidInputError");
      assert.match(json.errors[0].message, /^InvalidInputError: /);
    }
    const { res } = await call("POST", certPath(acct.id), SCHEMES.token(), { validity_period_days: 0 });
    assert.equal(res.status, 400);
    const bad = await worker.fetch(certPath(acct.id), { method: "POST", headers: SCHEMES.token(), body: "{not json" });
    assert.equal(bad.status, 400);
    assert.deepEqual(await emu.log(acct.id), [], "no request reached the API");
  });
});

describe("errors become envelopes", () => {
  test("deleting an active certificate (the API's 500) is CertificateNotInactiveError with the API's errors", async () => {
    const acct = await emu.account();
    const id = firstId(acct.certificates.available);
    const { res, json } = await call("DELETE", certPath(acct.id, id), SCHEMES.token());
    assert.equal(res.status, 500);
    assertEnvelope(json, false);
    assert.equal(res.headers.get("x-gateway-certs-error"), "CertificateNotInactiveError");
    assert.equal(res.headers.get("x-should-retry"), "false");
    assert.ok(json.errors.some((e) => e.code >= 1000), "the API's own error is preserved");
    const log = await emu.log(acct.id);
    // One DELETE, then the package's follow-up GET: no blind retry loop.
    assert.deepEqual(log.map((r) => r.method), ["DELETE", "GET"]);
    const state = await emu.state(acct.id);
    assert.ok(state.certificates.some((c) => c.id === id), "still there");
  });

  test("a 429 passes its Retry-After and the API's errors", async () => {
    const acct = await emu.account();
    const id = firstId(acct.certificates.inactive);
    await emu.faults(acct.id, [{ op: "delete", kind: "status", status: 429, headers: { "Retry-After": "120" } }]);
    const { res, json } = await call("DELETE", certPath(acct.id, id), SCHEMES.key());
    assert.equal(res.status, 429);
    assertEnvelope(json, false);
    assert.equal(res.headers.get("retry-after"), "120");
    assert.equal(res.headers.get("x-gateway-certs-error"), "RateLimitError");
    assert.deepEqual(json.errors, [{ code: 971, message: "Please wait and consider throttling your request speed" }]);
  });

  test("403 from a read-only token keeps the API's code", async () => {
    const acct = await emu.account();
    const id = firstId(acct.certificates.inactive);
    const { res, json } = await call("DELETE", certPath(acct.id, id), { Authorization: `Bearer ${emu.read_only_token}` });
    assert.equal(res.status, 403);
    assertEnvelope(json, false);
    assert.equal(res.headers.get("x-gateway-certs-error"), "PermissionDeniedError");
    assert.equal(json.errors[0].code, 10000);
  });

  test("a wrong token is 4xx and never echoed", async () => {
    const acct = await emu.account();
    const wrong = "wrong-token-0123456789abcdefABCDEF";
    const res = await worker.fetch(certPath(acct.id), { headers: { Authorization: `Bearer ${wrong}` } });
    const text = await res.text();
    assert.ok(res.status >= 400 && res.status < 500);
    assert.ok(!text.includes(wrong));
    for (const [, v] of res.headers) assert.ok(!v.includes(wrong));
  });

  test("an unreachable API is APIConnectionError (502)", async () => {
    const dead = await startWorker({ apiBaseUrl: "http://127.0.0.1:9/client/v4" });
    try {
      const res = await dead.fetch(certPath("0123456789abcdef0123456789abcdef"), { headers: SCHEMES.token() });
      const { json, text } = await readJson(res);
      assert.equal(res.status, 502);
      assertEnvelope(json, false);
      assert.equal(res.headers.get("x-gateway-certs-error"), "APIConnectionError");
      assert.equal(json.errors[0].code, 90002);
      assert.equal(res.headers.get("x-should-retry"), null, "left to the caller's client to retry");
      assertNoSecret(res, text);
      assert.ok(!dead.output().includes(emu.api_token));
    } finally {
      await dead.dispose();
    }
  });
});

describe("the page and its headers", () => {
  test("/ serves the page with the CSP and no CORS", async () => {
    const res = await worker.fetch("/", { headers: { Origin: "https://evil.example" } });
    const html = await res.text();
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type"), /text\/html/);
    assert.equal(res.headers.get("content-security-policy"), CSP);
    assert.equal(res.headers.get("x-content-type-options"), "nosniff");
    assert.equal(res.headers.get("access-control-allow-origin"), null);
    assert.match(html, /<script type="module" src="app\.js"><\/script>/);
    assert.doesNotMatch(html, /<script>(?!<)/, "no inline script");
  });

  test("the wasm and the browser entry are served", async () => {
    const wasm = await worker.fetch("/vendor/cf-gateway-certs/pkg/cf_gateway_certs_bg.wasm");
    assert.equal(wasm.status, 200);
    assert.equal(wasm.headers.get("content-type"), "application/wasm");
    const bytes = new Uint8Array(await wasm.arrayBuffer());
    assert.deepEqual([...bytes.slice(0, 4)], [0, 0x61, 0x73, 0x6d]);
    const js = await worker.fetch("/vendor/cf-gateway-certs/js/browser.js");
    assert.equal(js.status, 200);
    await js.arrayBuffer();
  });

  test("API answers carry the CSP and no-store", async () => {
    const acct = await emu.account();
    const { res } = await call("GET", certPath(acct.id), SCHEMES.token());
    assert.equal(res.headers.get("content-security-policy"), CSP);
    assert.equal(res.headers.get("cache-control"), "no-store");
  });
});

test("no credential in the Worker's console output", () => {
  const out = worker.output();
  for (const secret of secrets()) assert.ok(!out.includes(secret), "a credential was logged");
});
