// Issue 5, items 4 and 5, through the relay Worker in workerd (Miniflare from wrangler.toml):
// bad paths, bad credential headers and bad configuration PATCH bodies are refused with a 4xx
// Cloudflare-shaped envelope and send nothing upstream (a counting proxy sits between the Worker
// and the emulator); and no failure path (nor a success's passed-on rate-limit headers) puts a
// credential into a response body, a response header or the Worker's log.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import { startCountingProxy } from "../hostile/support.mjs";
import { EMAIL, EMULATOR_ARGS, KEY, SECRETS, TOKEN } from "../support/secrets.mjs";
import { readJson, startEmulatorAndWorker } from "./harness.mjs";

const TOKEN_H = { Authorization: `Bearer ${TOKEN}` };
const KEY_H = { "X-Auth-Email": EMAIL, "X-Auth-Key": KEY };

let emu;
let proxy;
let worker;
let stack;
before(async () => {
  stack = await startEmulatorAndWorker({ emulatorArgs: EMULATOR_ARGS, proxy: (e) => startCountingProxy(e.origin) });
  ({ emu, proxy, worker } = stack);
});
after(async () => { await stack?.stop(); });

const certs = (acct, rest = "") => `/client/v4/accounts/${acct}/gateway/certificates${rest}`;
const config = (acct) => `/client/v4/accounts/${acct}/gateway/configuration`;
const selectBody = (id) => JSON.stringify({ settings: { certificate: { id } } });
const JSON_H = { "Content-Type": "application/json" };

function assertFailureEnvelope(json, label) {
  assert.equal(typeof json, "object", `${label}: a JSON body`);
  assert.equal(json.success, false, label);
  assert.equal(json.result, null, label);
  assert.ok(Array.isArray(json.messages), label);
  assert.ok(Array.isArray(json.errors) && json.errors.length > 0, `${label}: errors`);
  for (const e of json.errors) {
    assert.equal(typeof e.code, "number", label);
    assert.equal(typeof e.message, "string", label);
  }
}

/** A request with a raw, un-normalised path (node:http sends it as written). */
function rawRequest(method, path, headers) {
  const { hostname, port } = new URL(worker.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: hostname, port, method, path, headers }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d) => { body += d; });
      res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, text: body }));
    });
    req.on("error", reject);
    req.end();
  });
}

test("bad paths and bad credential headers: 4xx envelopes, nothing sent upstream", async (t) => {
  const acct = await emu.account();
  const id = acct.certificates.inactive.id;
  const A = acct.id;
  const before = proxy.count();
  // [method, path, headers, expected status (or a list of acceptable ones)]
  const cases = [
    // certificate id, path-level variants
    ["DELETE", certs(A, `/${id.slice(0, 33)}%2F`), TOKEN_H, 400],
    ["DELETE", certs(A, `/${id.slice(0, 23)}%2F${id.slice(24)}`), TOKEN_H, 400],
    ["DELETE", certs(A, `/${id}%2F..`), TOKEN_H, 400],
    ["DELETE", certs(A, `/..%2F${id}`), TOKEN_H, 400],
    ["DELETE", certs(A, `/%2e%2e%2F${id}`), TOKEN_H, 400],
    ["DELETE", certs(A, "/.."), TOKEN_H, 404], // normalised away: /accounts/A/gateway
    ["DELETE", certs(A, "/%2e%2e"), TOKEN_H, 404],
    ["DELETE", certs(A, `/${id}/..`), TOKEN_H, 404], // normalised to .../certificates/ (trailing slash): no route
    ["GET", certs(A, `/${id.slice(0, 8)}\u2010${id.slice(9)}`), TOKEN_H, 400],
    ["GET", certs(A, `/${id.slice(0, 8)}%E2%80%90${id.slice(9)}`), TOKEN_H, 400],
    ["GET", certs(A, `/${id.slice(0, 33)}\uff18\uff14\uff11`), TOKEN_H, 400],
    ["GET", certs(A, `/\u0430${id.slice(1)}`), TOKEN_H, 400],
    ["DELETE", certs(A, `/${id}0`), TOKEN_H, 400],
    ["DELETE", certs(A, `/${id.slice(0, 35)}`), TOKEN_H, 400],
    ["DELETE", certs(A, `/${id.slice(0, 35)}%00`), TOKEN_H, 400],
    ["DELETE", certs(A, `/${id}%00`), TOKEN_H, 400],
    ["DELETE", certs(A, `/${id.slice(0, 35)}%20`), TOKEN_H, 400],
    ["DELETE", certs(A, `/${id.slice(0, 35)}?x=${id.slice(35)}`), TOKEN_H, 400],
    ["DELETE", certs(A, `/${id.slice(0, 35)}#${id.slice(35)}`), TOKEN_H, 400],
    ["DELETE", certs(A, `/${id.slice(0, 35)}%3F`), TOKEN_H, 400],
    ["DELETE", certs(A, `/${id.slice(0, 35)}%23`), TOKEN_H, 400],
    ["POST", certs(A, `/${id}0/deactivate`), TOKEN_H, 400],
    ["POST", certs(A, `/${id.slice(0, 33)}%2F/activate`), TOKEN_H, 400],
    ["DELETE", certs(A, "/"), TOKEN_H, 404],
    ["DELETE", certs(A, `/${id}/`), TOKEN_H, 404],
    ["DELETE", certs(A, `//${id}`), TOKEN_H, 404],
    // account id, path-level variants
    ["GET", certs(`${A.slice(0, 29)}%2F`), TOKEN_H, 400],
    ["GET", certs(`${A}%2F..`), TOKEN_H, 400],
    ["GET", certs(`..%2F${A}`), TOKEN_H, 400],
    ["GET", certs(".."), TOKEN_H, 404],
    ["GET", certs(`${A.slice(0, 8)}\u2010${A.slice(9)}`), TOKEN_H, 400],
    ["GET", certs(`\u0430${A.slice(1)}`), TOKEN_H, 400],
    ["GET", certs(`${A.slice(0, 29)}\uff10\uff11\uff12`), TOKEN_H, 400],
    ["GET", certs(`${A}0`), TOKEN_H, 400],
    ["GET", certs(`${A.slice(0, 31)}%00`), TOKEN_H, 400],
    ["GET", certs(`${A.slice(0, 31)}%20`), TOKEN_H, 400],
    ["GET", certs(""), TOKEN_H, 404],
    ["DELETE", certs(`${A}0`, `/${id}`), TOKEN_H, 400],
    ["DELETE", certs(`${A.slice(0, 31)}%2F`, `/${id}`), TOKEN_H, 400],
    ["POST", certs(`${A}0`), TOKEN_H, 400],
    // bad credential headers on a good path
    ["GET", certs(A, `/${id}`), { Authorization: `Bearer t\u00f6k\u00e9n-${TOKEN}` }, 400],
    ["GET", certs(A, `/${id}`), { Authorization: "Bearer " }, 400],
    ["GET", certs(A, `/${id}`), { Authorization: "Bearer" }, 400],
    ["GET", certs(A, `/${id}`), { Authorization: "" }, 400],
    ["GET", certs(A, `/${id}`), { Authorization: `Bearer ${TOKEN}\tX` }, 400],
    ["GET", certs(A, `/${id}`), { Authorization: `Bearer ${TOKEN}${"x".repeat(5000)}` }, 400],
    ["GET", certs(A, `/${id}`), { Authorization: `Basic ${TOKEN}` }, 400],
    ["GET", certs(A, `/${id}`), { Authorization: TOKEN }, 400],
    ["GET", certs(A, `/${id}`), { ...TOKEN_H, ...KEY_H }, 400],
    ["GET", certs(A, `/${id}`), { ...TOKEN_H, "X-Auth-Key": KEY }, 400],
    ["GET", certs(A, `/${id}`), { ...TOKEN_H, "X-Auth-Email": EMAIL }, 400],
    ["GET", certs(A, `/${id}`), { "X-Auth-Email": EMAIL }, 400],
    ["GET", certs(A, `/${id}`), { "X-Auth-Key": KEY }, 400],
    ["GET", certs(A, `/${id}`), { "X-Auth-Email": `${EMAIL}\u00e9`, "X-Auth-Key": KEY }, 400],
    ["GET", certs(A, `/${id}`), { "X-Auth-Email": EMAIL, "X-Auth-Key": `${KEY}\tx` }, 400],
    ["GET", certs(A, `/${id}`), {}, 400],
    // bad create bodies
    ["POST", certs(A), { ...TOKEN_H, "Content-Type": "application/json" }, 400, JSON.stringify({ validity_period_days: 0 })],
    ["POST", certs(A), { ...TOKEN_H, "Content-Type": "application/json" }, 400, JSON.stringify({ validity_period_days: 10951 })],
    ["POST", certs(A), { ...TOKEN_H, "Content-Type": "application/json" }, 400, JSON.stringify({ validity_period_days: 1.5 })],
    ["POST", certs(A), { ...TOKEN_H, "Content-Type": "application/json" }, 400, JSON.stringify({ validity_period_days: "30" })],
    ["POST", certs(A), { ...TOKEN_H, "Content-Type": "application/json" }, 400, JSON.stringify({ validity_period_days: -1 })],
    ["POST", certs(A), { ...TOKEN_H, "Content-Type": "application/json" }, 400, "[1]"],
    ["POST", certs(A), { ...TOKEN_H, "Content-Type": "application/json" }, 400, `{"validity_period_days": 30, "x": "${"y".repeat(5000)}"}`],
    // the configuration PATCH: bad bodies (some holding a credential), bad ids, bad credentials
    ["PATCH", config(A), { ...TOKEN_H, ...JSON_H }, 400, selectBody(TOKEN)],
    ["PATCH", config(A), { ...TOKEN_H, ...JSON_H }, 400, `{"settings":{"certificate":{"id":"${id}"}},"token":"${TOKEN}"}`],
    ["PATCH", config(A), { ...TOKEN_H, ...JSON_H }, 400, `{"settings":{"certificate":{"id":"${id}"},"tls_decrypt":{"enabled":true}}}`],
    ["PATCH", config(A), { ...KEY_H, ...JSON_H }, 400, `not json ${KEY}`],
    ["PATCH", config(A), { ...KEY_H, ...JSON_H }, 400, `{"settings":{"certificate":{"id":"${id}","email":"${EMAIL}"}}}`],
    ["PATCH", config(A), { ...TOKEN_H, ...JSON_H }, 400, selectBody(`${id}/../../${id}`)],
    ["PATCH", config(A), { ...TOKEN_H, ...JSON_H }, 400, `${selectBody(id)}${" ".repeat(5000)}`],
    ["PATCH", config(`${A}0`), { ...TOKEN_H, ...JSON_H }, 400, selectBody(id)],
    ["PATCH", config(`${A.slice(0, 31)}%2F`), { ...TOKEN_H, ...JSON_H }, 400, selectBody(id)],
    ["PATCH", config(A), { Authorization: `Basic ${TOKEN}`, ...JSON_H }, 400, selectBody(id)],
    ["PATCH", config(A), { ...TOKEN_H, ...KEY_H, ...JSON_H }, 400, selectBody(id)],
    ["PATCH", config(A), JSON_H, 400, selectBody(id)],
    ["GET", config(A), TOKEN_H, 405],
    ["PUT", config(A), { ...TOKEN_H, ...JSON_H }, 405, selectBody(id)],
    ["POST", config(A), { ...TOKEN_H, ...JSON_H }, 405, selectBody(id)],
    ["PATCH", `${config(A)}/`, { ...TOKEN_H, ...JSON_H }, 404, selectBody(id)],
  ];
  let n = 0;
  for (const [method, path, headers, expected, body] of cases) {
    const label = `${method} ${path.slice(0, 120)} ${JSON.stringify(Object.keys(headers))}`;
    const res = await worker.fetch(path, { method, headers, body });
    const { text, json } = await readJson(res);
    assert.equal(res.status, expected, `${label}: ${text.slice(0, 300)}`);
    if (res.status !== 405 || method !== "HEAD") assertFailureEnvelope(json, label);
    if (expected === 400) {
      assert.equal(res.headers.get("x-gateway-certs-error"), "InvalidInputError", label);
      assert.match(json.errors[0].message, /^InvalidInputError: \S/, label);
    }
    for (const s of SECRETS) {
      assert.ok(!text.includes(s), `${label}: the body echoes ${s}`);
      for (const [k, v] of res.headers) assert.ok(!v.includes(s), `${label}: header ${k} echoes ${s}`);
    }
    assert.equal(proxy.count(), before, `${label}: a request went upstream: ${proxy.requests().slice(before)}`);
    n += 1;
  }
  // Raw paths a browser would normalise but a hand-made client can send as written.
  const raw = [
    ["DELETE", certs(A, `/${id}/../../certificates/00000000-0000-4000-8000-000000000000`)],
    ["DELETE", certs(A, `/../../../../user/tokens/verify`)],
    ["GET", `/client/v4/accounts/../accounts/${A}/gateway/certificates/..`],
    ["DELETE", certs(A, "/./00000000-0000-4000-8000-000000000000")],
    ["DELETE", certs(A, `/${id}%2F..%2F..%2F${id}`)],
    ["DELETE", certs(A, `/${id.slice(0, 35)}%00`)],
    ["GET", certs(`${A}%00`)],
  ];
  let normalised = 0;
  for (const [method, path] of raw) {
    const sent = proxy.count();
    const res = await rawRequest(method, path, { Authorization: `Bearer ${TOKEN}` });
    const label = `raw ${method} ${path}`;
    assert.ok(res.status >= 400 && res.status < 500, `${label}: ${res.status} ${res.text.slice(0, 200)}`);
    assertFailureEnvelope(JSON.parse(res.text), label);
    for (const s of SECRETS) assert.ok(!res.text.includes(s), `${label}: echoes ${s}`);
    if (proxy.count() !== sent) {
      // workerd resolved the dot segments (WHATWG URL parsing) before the Worker saw the
      // path: what went upstream must be a canonical route of the same account, no dot left.
      const [line] = proxy.requests().slice(sent);
      assert.equal(proxy.count() - sent, 1, `${label}: one request`);
      assert.match(line, new RegExp(`^${method} /client/v4/accounts/${A}/gateway/certificates/[0-9a-f-]{36}$`), `${label}: sent ${line}`);
      t.diagnostic(`${label}: normalised by workerd to ${line} (answered ${res.status})`);
      normalised += 1;
    }
    n += 1;
  }
  const upstream = proxy.count() - before - normalised;
  assert.equal((await emu.state(A)).certificates.length, 6, "nothing changed");
  t.diagnostic(`${n - normalised} bad requests through the Worker, all refused with a 4xx envelope, ${upstream} sent upstream ` +
    `(plus ${normalised} raw dot-segment paths that workerd resolved to a canonical route)`);
  assert.equal(upstream, 0, "nothing went upstream");
});

test("no failure path puts a credential in a Worker response or log line", async (t) => {
  const T = (extra = {}) => ({ ...TOKEN_H, ...extra });
  const K = (extra = {}) => ({ ...KEY_H, ...extra });
  const own = (scheme) => (scheme === "token" ? [TOKEN, TOKEN] : [KEY, EMAIL]);
  const echoEnvelope = (status, scheme) => JSON.stringify({
    success: false,
    errors: [{ code: status * 10, message: `bad credential ${own(scheme).join(" / ")}`, documentation_url: `https://d.example/${own(scheme)[0]}` }],
    messages: [], result: null,
  });
  const echoHtml = (scheme) => `<html><title>${own(scheme)[0]}</title><body><p>Bearer ${own(scheme).join(" ")}</p></body></html>`;
  const rows = [];
  for (const [scheme, headers] of [["token", T], ["key", K]]) {
    const add = (label, expect, prepare) => rows.push([`${label} (${scheme})`, expect, scheme, headers, prepare]);
    add("InvalidInputError: bad id", 400, async (a) => ({ path: certs(a.id, "/not-a-uuid") }));
    add("NotFoundError", 404, async (a) => ({ path: certs(a.id, "/00000000-0000-4000-8000-000000000000") }));
    add("CertificateNotInactiveError", 500, async (a) => ({ path: certs(a.id, `/${a.certificates.available.id}`), method: "DELETE" }));
    for (const [status, times] of [[400, 1], [401, 1], [403, 1], [404, 1], [409, 3], [422, 1], [429, 1], [500, 3], [503, 3], [418, 1]]) {
      add(`${status} echoing the credentials`, status, async (a) => {
        await emu.faults(a.id, [{ op: "get", kind: "status", status, times, body: echoEnvelope(status, scheme), headers: { "cf-ray": `${own(scheme)[0]}-EMU`, "Retry-After": status === 429 ? "300" : "0" } }]);
        return { path: certs(a.id, `/${a.certificates.inactive.id}`) };
      });
    }
    add("HTML 502 echoing the credentials", 502, async (a) => {
      await emu.faults(a.id, [{ op: "get", kind: "html", status: 502, times: 3, body: echoHtml(scheme) }]);
      return { path: certs(a.id, `/${a.certificates.inactive.id}`) };
    });
    for (const kind of ["success_false", "result_null", "malformed_json"]) {
      add(`200 ${kind} echoing the credentials`, 502, async (a) => {
        const body = kind === "malformed_json" ? `{"x": "${own(scheme).join(" ")}"` : JSON.stringify({ success: kind === "result_null", errors: [{ code: 1, message: own(scheme).join(" ") }], messages: [], result: null });
        await emu.faults(a.id, [{ op: "list", kind, body }]);
        return { path: certs(a.id) };
      });
    }
    add("APIConnectionError: resets", 502, async (a) => {
      await emu.faults(a.id, [{ op: "list", kind: "reset", times: 3 }]);
      return { path: certs(a.id) };
    });
    for (const status of [400, 403, 503]) {
      add(`configuration PATCH: ${status} echoing the credentials`, status, async (a) => {
        await emu.faults(a.id, [{ op: "patch_configuration", kind: "status", status, body: echoEnvelope(status, scheme), headers: { "cf-ray": `${own(scheme)[0]}-EMU` } }]);
        return { path: config(a.id), method: "PATCH", body: selectBody(a.certificates.available.id) };
      });
    }
    add("configuration PATCH: a body holding the credentials", 400, async (a) => ({
      path: config(a.id), method: "PATCH", body: `{"settings":{"certificate":{"id":"${own(scheme).join(" ")}"}}}`,
    }));
    add("Ratelimit headers holding the credentials (a 404)", 404, async (a) => {
      await emu.faults(a.id, [{ op: "get", kind: "status", status: 404, headers: {
        Ratelimit: `"default";r=5;t=9, "${own(scheme)[0]}";r=1;t=1`, "Ratelimit-Policy": `"${own(scheme).join(" ")}";q=1;w=1`,
      } }]);
      return { path: certs(a.id, `/${a.certificates.inactive.id}`), ratelimitRedacted: true };
    });
  }
  // Wrong credentials that hold the real ones.
  rows.push(["AuthenticationError: a wrong token holding the real one", 401, "token", () => ({ Authorization: `Bearer ${TOKEN}0` }),
    async (a) => ({ path: certs(a.id) })]);
  rows.push(["PermissionDeniedError: a wrong key holding the real one", 403, "key", () => ({ "X-Auth-Email": EMAIL, "X-Auth-Key": `${KEY}0` }),
    async (a) => ({ path: certs(a.id) })]);
  rows.push(["InvalidInputError: token and key both", 400, "both", () => ({ ...TOKEN_H, ...KEY_H }), async (a) => ({ path: certs(a.id) })]);
  rows.push(["InvalidInputError: token with non-ASCII", 400, "token", () => ({ Authorization: `Bearer ${TOKEN}\u00e9` }), async (a) => ({ path: certs(a.id) })]);

  const names = new Set();
  for (const [label, expect, , headers, prepare] of rows) {
    const a = await emu.account();
    const { path, method = "GET", body, ratelimitRedacted } = await prepare(a);
    const res = await worker.fetch(path, { method, headers: { ...headers(), ...(body ? JSON_H : {}) }, body });
    const { text, json } = await readJson(res);
    assert.equal(res.status, expect, `${label}: ${text.slice(0, 300)}`);
    assertFailureEnvelope(json, label);
    names.add(res.headers.get("x-gateway-certs-error"));
    for (const s of SECRETS) {
      assert.ok(!text.includes(s), `${label}: the body leaks ${s}: ${text.slice(0, 300)}`);
      for (const [k, v] of res.headers) assert.ok(!v.includes(s), `${label}: header ${k} leaks ${s}`);
    }
    if (/echoing/.test(label)) assert.match(text, /\[redacted\]/, `${label}: redacted, not dropped`);
    if (ratelimitRedacted) {
      assert.match(res.headers.get("ratelimit") ?? "", /^"default";r=5;t=9, "\[redacted\]";r=1;t=1$/, `${label}: Ratelimit passed on, redacted`);
      assert.match(res.headers.get("ratelimit-policy") ?? "", /\[redacted\]/, `${label}: Ratelimit-Policy redacted`);
    }
  }
  // A success whose rate-limit headers hold the credentials: passed on, redacted.
  for (const [scheme, headers] of [["token", T], ["key", K]]) {
    const a = await emu.account();
    await emu.faults(a.id, [{ op: "list", kind: "latency", delay_ms: 0, headers: {
      Ratelimit: `"${own(scheme)[0]}";r=5;t=9`, "Ratelimit-Policy": `"default";q=10;w=60, "${own(scheme).join(" ")}";q=1;w=1`,
    } }]);
    const res = await worker.fetch(certs(a.id), { headers: headers() });
    const text = await res.text();
    assert.equal(res.status, 200, `success with echoing rate-limit headers (${scheme}): ${text.slice(0, 200)}`);
    assert.equal(res.headers.get("ratelimit"), '"[redacted]";r=5;t=9');
    assert.match(res.headers.get("ratelimit-policy"), /^"default";q=10;w=60, "\[redacted\]/);
    for (const s of SECRETS) {
      assert.ok(!text.includes(s), `success (${scheme}): the body leaks ${s}`);
      for (const [k, v] of res.headers) assert.ok(!v.includes(s), `success (${scheme}): header ${k} leaks ${s}`);
    }
  }
  const out = worker.output();
  for (const s of SECRETS) assert.ok(!out.includes(s), `the Worker's log holds ${s}`);
  t.diagnostic(`${rows.length} failure paths through the Worker (${[...names].sort().join(", ")}); ` +
    `no credential in any body, header or of ${out.split("\n").filter(Boolean).length} Worker log lines`);
});
