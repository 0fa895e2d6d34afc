// The fault matrix (issue 5, item 2) through the relay Worker in workerd (Miniflare), with the
// API emulator behind it: each hostile upstream answer gives the envelope and status the Worker
// promises (worker/relay.js). The relay makes ONE upstream attempt per incoming request
// (maxRetries 0; CF_API_TIMEOUT_MS per attempt) and leaves retrying to the caller's client, so a
// retryable failure is answered at once, with the upstream status (or 502/504 when no answer
// came) and without `x-should-retry: false`; only the relay's own final verdicts say
// `x-should-retry: false`. Attempts are the upstream requests in the emulator's log for the
// case's own account. (End-to-end retrying by the page's client: end-to-end.test.mjs.)
//
// | case                                          | relayed status, X-Gateway-Certs-Error, errors    | upstream   | x-should-retry |
// |-----------------------------------------------|--------------------------------------------------|------------|----------------|
// | reset before the answer                       | 502 APIConnectionError [90002]                   | GET        | -              |
// | reset on DELETE (not processed)               | 502 APIConnectionError [90002], no follow-up GET | DELETE     | -              |
// | reset on DELETE after processing (lost answer)| 502 APIConnectionError [90002]; deleted once     | DELETE     | -              |
// | reset mid-body                                | 502 APIConnectionError [90002]                   | GET        | -              |
// | drip 5 ms/byte (~0.6 s)                       | 200                                              | GET        | -              |
// | hang / drip beyond CF_API_TIMEOUT_MS (300 ms) | 504 APIConnectionTimeoutError [90003]            | GET        | -              |
// | HTML 502 / 503 / 504                          | 502 / 503 / 504 InternalServerError [90000 ...]  | GET        | -              |
// | HTML 502 on DELETE of an inactive cert        | 502 InternalServerError [90000]                  | DELETE GET | -              |
// | the API's 500 on DELETE of an active cert     | 500 CertificateNotInactiveError, API's errors    | DELETE GET | false          |
// | HTML 500 on DELETE of an active cert          | 500 CertificateNotInactiveError [90005]          | DELETE GET | false          |
// | JSON 503 on DELETE of an inactive cert        | 503 InternalServerError, API's errors            | DELETE GET | -              |
// | 503 + x-should-retry: false (GET / DELETE) (*)| 503 InternalServerError, API's errors            | GET / D G  | -              |
// | 429 Retry-After: 1 / HTTP date in 2 s /       | 429 RateLimitError [971], Retry-After and        | GET        | -              |
// | retry-after-ms: 250 / Ratelimit t=1 / 120 /   | Retry-After-Ms of the wait the API named, its    |            |                |
// | HTTP date in 120 s / retry-after-ms: 61000 /  | Ratelimit passed on                              |            |                |
// | Ratelimit t=90                                |                                                  |            |                |
// | 200 success:false (GET / list / DELETE)       | 502 APIError, the envelope's errors [1001]       | 1, no GET  | false          |
// | 200 malformed JSON (GET / list / DELETE)      | 502 APIError [90008]                             | 1, no GET  | false          |
// | 200 result:null (GET / list / DELETE)         | 502 APIError [90008]                             | 1, no GET  | false          |
//
// Every failure also carries `cf-ray` when upstream sent one, and no credential anywhere.
// (*) The package's errors do not carry the API's `x-should-retry`, so the relay cannot pass it
// on: a caller's client may retry such a 503 (within its own maxRetries).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readJson, startEmulatorAndWorker, startWorker } from "./harness.mjs";

let emu;
let worker;
let stack;
before(async () => { stack = await startEmulatorAndWorker(); ({ emu, worker } = stack); });
after(async () => { await stack?.stop(); });

const secrets = () => [emu.api_token, emu.api_key];
const certPath = (acct, id) => `/client/v4/accounts/${acct}/gateway/certificates${id ? `/${id}` : ""}`;
/** Each case gets its own account and its own rate-limit window (never the shared token's). */
const ACCOUNT = { rate_limit: { limit: 100000, window_ms: 300000 } };

const GET = { method: "GET", role: "available" };
const LIST = { method: "GET", role: null };
const DELETE_INACTIVE = { method: "DELETE", role: "inactive" };
const DELETE_ACTIVE = { method: "DELETE", role: "available" };

const once = (fault) => [fault];
const r429 = (headers, times = 1) => [{ kind: "status", status: 429, times, headers }];
/** An IMF-fixdate `secs` from now; the format has whole seconds only. */
const httpDateIn = (secs) => new Date(Math.floor((Date.now() + secs * 1000) / 1000) * 1000).toUTCString();

/**
 * Runs one case: queue the faults, call the Worker, check the answer, the upstream attempts
 * (methods in order) and that every queued fault was consumed.
 */
async function run({ op, faults = [], account = {}, status, error, final = false, attempts, minMs = 0, maxMs = 10_000, check, via = worker }) {
  const acct = await emu.account({ ...ACCOUNT, ...account });
  if (faults.length) await emu.faults(acct.id, faults);
  const cert = op.role ? acct.certificates[op.role] : undefined;
  const started = Date.now();
  const res = await via.fetch(certPath(acct.id, cert?.id), {
    method: op.method,
    headers: { Accept: "application/json", Authorization: `Bearer ${emu.api_token}` },
  });
  const { text, json } = await readJson(res);
  const done = Date.now();
  const took = done - started;

  assert.equal(res.status, status, text.slice(0, 300));
  assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
  for (const secret of secrets()) {
    assert.ok(!text.includes(secret), "a credential in the body");
    for (const [name, value] of res.headers) assert.ok(!value.includes(secret), `a credential in ${name}`);
  }
  assert.equal(typeof json, "object", "a JSON envelope");
  assert.ok(Array.isArray(json.errors) && Array.isArray(json.messages));
  if (error) {
    assert.equal(json.success, false);
    assert.equal(json.result, null);
    assert.ok(json.errors.length > 0, "a failure envelope carries at least one error");
    for (const e of json.errors) {
      assert.equal(typeof e.code, "number");
      assert.equal(typeof e.message, "string");
    }
    assert.equal(res.headers.get("x-gateway-certs-error"), error);
    assert.equal(res.headers.get("x-should-retry"), final ? "false" : null,
      final ? "a final verdict of the relay" : "a retryable failure, left to the caller's client");
  } else {
    assert.equal(json.success, true, text.slice(0, 300));
    assert.equal(res.headers.get("x-gateway-certs-error"), null);
    if (cert) assert.equal(json.result.id, cert.id);
  }
  const log = await emu.log(acct.id);
  assert.deepEqual(log.map((r) => r.method), attempts, "upstream attempts");
  assert.deepEqual(await emuPending(acct.id), 0, "every queued fault consumed");
  assert.ok(took >= minMs, `took ${took} ms, expected >= ${minMs}`);
  assert.ok(took <= maxMs, `took ${took} ms: the relay waited (expected one attempt, answered at once)`);
  await check?.({ res, json, log, cert, acct });
}

async function emuPending(account) {
  const res = await fetch(`${emu.origin}/__emulator/accounts/${account}/faults`);
  return (await res.json()).pending;
}

const apiError = (code) => ({ json }) => assert.equal(json.errors[0].code, code);
const relayError = (code, prefix) => ({ json }) => {
  assert.equal(json.errors.length, 1);
  assert.equal(json.errors[0].code, code);
  assert.ok(json.errors[0].message.startsWith(prefix), json.errors[0].message);
};
const hasRay = ({ res }) => assert.match(res.headers.get("cf-ray") ?? "", /-EMU$/);
const retryAfter = (lo, hi, ms) => ({ res, json }) => {
  const secs = Number(res.headers.get("retry-after"));
  assert.ok(secs >= lo && secs <= hi, `Retry-After ${res.headers.get("retry-after")}`);
  if (ms !== undefined) assert.equal(res.headers.get("retry-after-ms"), String(ms));
  assert.deepEqual(json.errors, [{ code: 971, message: "Please wait and consider throttling your request speed" }]);
  assert.match(res.headers.get("ratelimit") ?? "", /^"default";r=\d+;t=\d+$/, "the API's Ratelimit passed on");
  hasRay({ res });
};
/** The API's own error for its JSON 503, as it came (not a relay-written "Name: message"). */
const passedThrough503 = ({ json }) => assert.deepEqual(json.errors, [{ code: 1000, message: "Service Unavailable" }]);
const all = (...checks) => (ctx) => Promise.all(checks.map((c) => c(ctx)));
const deletedOnce = async ({ acct, cert }) => {
  const st = await emu.state(acct.id);
  assert.ok(!st.certificates.some((c) => c.id === cert.id), "the DELETE was processed");
  assert.equal(st.deleted[cert.id], 1);
};

const CASES = {
  "connection failures": {
    "reset before the answer": {
      op: GET, faults: once({ kind: "reset" }), status: 502, error: "APIConnectionError", attempts: ["GET"],
      check: relayError(90002, "APIConnectionError: "),
    },
    "reset on DELETE, not processed (no follow-up GET)": {
      op: DELETE_INACTIVE, faults: once({ kind: "reset" }), status: 502, error: "APIConnectionError",
      attempts: ["DELETE"], check: apiError(90002),
    },
    "reset on DELETE after processing: the answer is lost": {
      op: DELETE_INACTIVE, faults: once({ op: "delete", kind: "reset", apply: true }), status: 502,
      error: "APIConnectionError", attempts: ["DELETE"], check: all(apiError(90002), deletedOnce),
    },
    "reset mid-body": {
      op: GET, faults: once({ kind: "reset_mid_body" }), status: 502, error: "APIConnectionError", attempts: ["GET"],
      check: apiError(90002),
    },
    "slow drip, within the timeout": {
      op: LIST, account: { seed: "empty" }, faults: once({ kind: "drip", delay_ms: 5 }), status: 200,
      attempts: ["GET"], minMs: 500, check: ({ json }) => assert.deepEqual(json.result, []),
    },
  },
  "server errors": {
    ...Object.fromEntries([502, 503, 504].map((s) => [`HTML ${s}`, {
      op: GET, faults: once({ kind: "html", status: s }), status: s, error: "InternalServerError", attempts: ["GET"],
      check: all(relayError(90000, `InternalServerError: HTTP ${s}: non-JSON response: `), hasRay, ({ json }) => {
        assert.doesNotMatch(json.errors[0].message, /[<>\u0000-\u001f]/);
      }),
    }])),
    "HTML 502 on DELETE of an inactive certificate (the package's GET, then the 502)": {
      op: DELETE_INACTIVE, faults: once({ op: "delete", kind: "html", status: 502 }), status: 502,
      error: "InternalServerError", attempts: ["DELETE", "GET"], check: relayError(90000, "InternalServerError: HTTP 502: "),
    },
    "the API's 500 on DELETE of an active certificate": {
      op: DELETE_ACTIVE, status: 500, error: "CertificateNotInactiveError", final: true, attempts: ["DELETE", "GET"],
      check: all(hasRay, ({ json }) => assert.ok(json.errors.every((e) => e.code >= 1000 && e.code < 90000))),
    },
    "HTML 500 on DELETE of an active certificate": {
      op: DELETE_ACTIVE, faults: once({ op: "delete", kind: "html", status: 500 }), status: 500,
      error: "CertificateNotInactiveError", final: true, attempts: ["DELETE", "GET"],
      check: relayError(90005, "CertificateNotInactiveError: HTTP 500: "),
    },
    "JSON 503 on DELETE of an inactive certificate (one GET)": {
      op: DELETE_INACTIVE, faults: [{ op: "delete", kind: "status", status: 503, headers: { "retry-after-ms": "10" } }],
      status: 503, error: "InternalServerError", attempts: ["DELETE", "GET"],
      check: all(hasRay, passedThrough503, ({ res }) => assert.equal(res.headers.get("retry-after-ms"), "10")),
    },
    ...Object.fromEntries([["GET", GET, ["GET"]], ["DELETE", DELETE_INACTIVE, ["DELETE", "GET"]]].map(([m, op, attempts]) => [
      `503 with x-should-retry: false (${m})`, {
        op, faults: once({ kind: "status", status: 503, headers: { "x-should-retry": "false" } }), status: 503,
        error: "InternalServerError", attempts, check: all(hasRay, passedThrough503),
      },
    ])),
  },
  "rate limits (answered at once, the wait passed on)": {
    "429 Retry-After: 1": {
      op: GET, faults: r429({ "Retry-After": "1" }), status: 429, error: "RateLimitError", attempts: ["GET"],
      check: retryAfter(1, 1, 1000),
    },
    "429 Retry-After: HTTP date in 2 s": {
      op: GET, setup: () => ({ faults: r429({ "Retry-After": httpDateIn(2) }) }), status: 429, error: "RateLimitError",
      attempts: ["GET"], check: retryAfter(1, 2),
    },
    "429 retry-after-ms: 250": {
      op: GET, faults: r429({ "retry-after-ms": "250" }), status: 429, error: "RateLimitError", attempts: ["GET"],
      check: retryAfter(1, 1, 250),
    },
    "429 Ratelimit t=1": {
      op: GET, faults: r429({ Ratelimit: '"default";r=0;t=1' }), status: 429, error: "RateLimitError", attempts: ["GET"],
      check: all(retryAfter(1, 1, 1000), ({ res }) => assert.equal(res.headers.get("ratelimit"), '"default";r=0;t=1')),
    },
    "429 Retry-After: 120": {
      op: GET, faults: r429({ "Retry-After": "120" }), status: 429, error: "RateLimitError", attempts: ["GET"],
      check: retryAfter(120, 120, 120000),
    },
    "429 Retry-After: HTTP date in 120 s": {
      op: GET, setup: () => ({ faults: r429({ "Retry-After": httpDateIn(120) }) }), status: 429,
      error: "RateLimitError", attempts: ["GET"], check: retryAfter(116, 120),
    },
    "429 retry-after-ms: 61000": {
      op: GET, faults: r429({ "retry-after-ms": "61000" }), status: 429, error: "RateLimitError", attempts: ["GET"],
      check: retryAfter(61, 61, 61000),
    },
    "429 Ratelimit t=90": {
      op: GET, faults: r429({ Ratelimit: '"default";r=0;t=90' }), status: 429, error: "RateLimitError",
      attempts: ["GET"], check: retryAfter(90, 90, 90000),
    },
  },
  "2xx that is not a success envelope": Object.fromEntries(
    ["success_false", "malformed_json", "result_null"].flatMap((kind) =>
      [["GET", GET, "GET"], ["list", LIST, "GET"], ["DELETE", DELETE_INACTIVE, "DELETE"]].map(([label, op, method]) => [
        `200 ${kind} (${label})`, {
          op, faults: once({ kind }), status: 502, error: "APIError", final: true, attempts: [method],
          check: kind === "success_false" ? all(hasRay, apiError(1001)) : all(hasRay, relayError(90008, "APIError: HTTP 200: ")),
        },
      ]),
    ),
  ),
};

for (const [group, cases] of Object.entries(CASES)) {
  // Each case has its own account: the cases of a group run concurrently.
  describe(group, { concurrency: true }, () => {
    for (const [name, c] of Object.entries(cases)) {
      test(name, () => run({ ...c, ...c.setup?.() }));
    }
  });
}

describe("timeouts: one attempt of CF_API_TIMEOUT_MS (a Worker with 300 ms)", { concurrency: true }, () => {
  let quick;
  before(async () => { quick = await startWorker({ apiBaseUrl: emu.url, vars: { CF_API_TIMEOUT_MS: "300" } }); });
  after(async () => { await quick?.dispose(); });
  const timeoutCase = (name, faults, op, account = {}) => test(name, () => run({
    op, faults, account, via: quick, status: 504, error: "APIConnectionTimeoutError", attempts: ["GET"], minMs: 290, maxMs: 3000,
    check: relayError(90003, "APIConnectionTimeoutError: no response within 300 ms"),
  }));
  timeoutCase("hang", [{ kind: "hang" }], GET);
  timeoutCase("drip beyond the timeout", [{ kind: "drip", delay_ms: 40 }], LIST, { seed: "empty" });
});
