// The fault matrix (issue 5, item 2) through the relay Worker in workerd (Miniflare), with the
// API emulator behind it: each hostile upstream answer gives the envelope and status the Worker
// promises (worker/relay.js), after the attempts the package's policy says. The Worker keeps the
// package's defaults: maxRetries 2 (3 attempts), timeoutMs 60000. Attempts are the upstream
// requests in the emulator's log for the case's own account.
//
// | case                                         | relayed status, X-Gateway-Certs-Error, errors   | upstream attempts        |
// |----------------------------------------------|-------------------------------------------------|--------------------------|
// | reset before the answer, once                | 200, the certificate                            | GET GET                  |
// | reset, 3 times                               | 502 APIConnectionError [1002]                   | GET GET GET              |
// | reset on DELETE, 3 times                     | 502 APIConnectionError [1002], no follow-up GET | DELETE DELETE DELETE     |
// | reset mid-body, once                         | 200                                             | GET GET                  |
// | reset mid-body, 3 times                      | 502 APIConnectionError [1002]                   | GET GET GET              |
// | drip 5 ms/byte (~0.6 s)                      | 200                                             | GET                      |
// | hang / drip beyond the timeout, 3 times (*)  | 504 APIConnectionTimeoutError [1003]            | GET GET GET              |
// | HTML 502 / 503 / 504, once                   | 200                                             | GET GET                  |
// | HTML 503, 3 times                            | 503 InternalServerError [1000 "...non-JSON..."] | GET GET GET              |
// | HTML 502 on DELETE of an inactive cert, once | 200                                             | DELETE GET DELETE        |
// | the API's 500 on DELETE of an active cert    | 500 CertificateNotInactiveError, API's errors   | DELETE GET               |
// | HTML 500 on DELETE of an active cert         | 500 CertificateNotInactiveError [1005]          | DELETE GET               |
// | JSON 503 x3 on DELETE of an inactive cert    | 503 InternalServerError, API's errors           | DELETE GET DELETE DELETE |
// | 429 Retry-After: 1 / HTTP date in 2 s (not   | 200                                             | GET GET                  |
// | answered before that date) /                 |                                                 |                          |
// | retry-after-ms: 250 / Ratelimit t=1, once    |                                                 |                          |
// | 429 Retry-After: 120                         | 429 RateLimitError, Retry-After 120, [971]      | GET                      |
// | 429 Retry-After: HTTP date in 120 s          | 429, Retry-After 116..120                       | GET                      |
// | 429 retry-after-ms: 61000                    | 429, Retry-After 61, Retry-After-Ms 61000       | GET                      |
// | 429 Ratelimit: "default";r=0;t=90            | 429, Retry-After 90, Retry-After-Ms 90000       | GET                      |
// | 429 retry-after-ms: 10, 3 times              | 429, Retry-After 1, Retry-After-Ms 10           | GET GET GET              |
// | 200 success:false (GET / list / DELETE)      | 502 APIError, the envelope's errors [1001]      | 1, no follow-up GET      |
// | 200 malformed JSON (GET / list / DELETE)     | 502 APIError [1008]                             | 1, no follow-up GET      |
// | 200 result:null (GET / list / DELETE)        | 502 APIError [1008]                             | 1, no follow-up GET      |
// | 503 + x-should-retry: false (GET / DELETE)   | 503 InternalServerError, API's errors           | GET / DELETE GET         |
//
// Every failure also carries `x-should-retry: false`, `cf-ray` when upstream sent one, and no
// credential anywhere. (*) A live hang through the Worker would take 3 x 60 s (the Worker
// does not lower the package's timeout), so the timeout rows run the package in Node with
// timeoutMs 300 against the same emulator faults and hand the real error to the Worker's own
// errorResponse (worker/relay.js), which is what the Worker answers with.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { GatewayCertificates } from "cf-gateway-certs";
import { errorResponse } from "../../worker/relay.js";
import { readJson, startEmulatorAndWorker } from "./harness.mjs";

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
async function run({ op, faults = [], account = {}, status, error, attempts, minMs = 0, doneAfter = 0, check }) {
  const acct = await emu.account({ ...ACCOUNT, ...account });
  if (faults.length) await emu.faults(acct.id, faults);
  const cert = op.role ? acct.certificates[op.role] : undefined;
  const started = Date.now();
  const res = await worker.fetch(certPath(acct.id, cert?.id), {
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
    assert.equal(res.headers.get("x-should-retry"), "false", "the relay already retried");
  } else {
    assert.equal(json.success, true, text.slice(0, 300));
    assert.equal(res.headers.get("x-gateway-certs-error"), null);
    if (cert) assert.equal(json.result.id, cert.id);
  }
  const log = await emu.log(acct.id);
  assert.deepEqual(log.map((r) => r.method), attempts, "upstream attempts");
  assert.deepEqual(await emuPending(acct.id), 0, "every queued fault consumed");
  assert.ok(took >= minMs, `took ${took} ms, expected >= ${minMs}`);
  assert.ok(done >= doneAfter, `ended ${doneAfter - done} ms before the date it was told to wait for`);
  check?.({ res, json, log, cert });
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
  hasRay({ res });
};
/** The API's own error for its JSON 503, as it came (not a relay-written "Name: message"). */
const passedThrough503 = ({ json }) => assert.deepEqual(json.errors, [{ code: 1000, message: "Service Unavailable" }]);
const all = (...checks) => (ctx) => checks.forEach((c) => c(ctx));

const CASES = {
  "connection failures": {
    "reset before the answer, once": {
      op: GET, faults: once({ kind: "reset" }), status: 200, attempts: ["GET", "GET"], minMs: 300,
    },
    "reset, 3 times": {
      op: GET, faults: [{ kind: "reset", times: 3 }], status: 502, error: "APIConnectionError",
      attempts: ["GET", "GET", "GET"], minMs: 375 + 750, check: apiError(1002),
    },
    "reset on DELETE, 3 times (no follow-up GET)": {
      op: DELETE_INACTIVE, faults: [{ kind: "reset", times: 3 }], status: 502, error: "APIConnectionError",
      attempts: ["DELETE", "DELETE", "DELETE"], check: apiError(1002),
    },
    "reset mid-body, once": {
      op: GET, faults: once({ kind: "reset_mid_body" }), status: 200, attempts: ["GET", "GET"],
    },
    "reset mid-body, 3 times": {
      op: GET, faults: [{ kind: "reset_mid_body", times: 3 }], status: 502, error: "APIConnectionError",
      attempts: ["GET", "GET", "GET"], check: apiError(1002),
    },
    "slow drip, within the timeout": {
      op: LIST, account: { seed: "empty" }, faults: once({ kind: "drip", delay_ms: 5 }), status: 200,
      attempts: ["GET"], minMs: 500, check: ({ json }) => assert.deepEqual(json.result, []),
    },
  },
  "server errors": {
    ...Object.fromEntries([502, 503, 504].map((s) => [`HTML ${s}, once`, {
      op: GET, faults: once({ kind: "html", status: s }), status: 200, attempts: ["GET", "GET"], minMs: 375,
    }])),
    "HTML 503, 3 times": {
      op: GET, faults: [{ kind: "html", status: 503, times: 3 }], status: 503, error: "InternalServerError",
      attempts: ["GET", "GET", "GET"], minMs: 375 + 750,
      check: all(relayError(1000, "InternalServerError: HTTP 503: non-JSON response: "), hasRay, ({ json }) => {
        assert.doesNotMatch(json.errors[0].message, /[<>\u0000-\u001f]/);
      }),
    },
    "HTML 502 on DELETE of an inactive certificate, once": {
      op: DELETE_INACTIVE, faults: once({ op: "delete", kind: "html", status: 502 }), status: 200,
      attempts: ["DELETE", "GET", "DELETE"],
    },
    "the API's 500 on DELETE of an active certificate": {
      op: DELETE_ACTIVE, status: 500, error: "CertificateNotInactiveError", attempts: ["DELETE", "GET"],
      check: all(hasRay, ({ json }) => assert.ok(json.errors.every((e) => e.code >= 1000 && e.code !== 1005))),
    },
    "HTML 500 on DELETE of an active certificate": {
      op: DELETE_ACTIVE, faults: once({ op: "delete", kind: "html", status: 500 }), status: 500,
      error: "CertificateNotInactiveError", attempts: ["DELETE", "GET"],
      check: relayError(1005, "CertificateNotInactiveError: HTTP 500: "),
    },
    "JSON 503 x3 on DELETE of an inactive certificate (one GET)": {
      op: DELETE_INACTIVE,
      faults: [{ op: "delete", kind: "status", status: 503, times: 3, headers: { "retry-after-ms": "10" } }],
      status: 503, error: "InternalServerError", attempts: ["DELETE", "GET", "DELETE", "DELETE"],
      check: all(hasRay, passedThrough503),
    },
    ...Object.fromEntries([["GET", GET, ["GET"]], ["DELETE", DELETE_INACTIVE, ["DELETE", "GET"]]].map(([m, op, attempts]) => [
      `503 with x-should-retry: false (${m})`, {
        op, faults: once({ kind: "status", status: 503, headers: { "x-should-retry": "false" } }), status: 503,
        error: "InternalServerError", attempts, check: all(hasRay, passedThrough503),
      },
    ])),
  },
  "rate limits": {
    "429 Retry-After: 1, once": {
      op: GET, faults: r429({ "Retry-After": "1" }), status: 200, attempts: ["GET", "GET"], minMs: 990,
    },
    "429 Retry-After: HTTP date in 2 s, once": {
      op: GET, status: 200, attempts: ["GET", "GET"],
      setup: () => {
        const date = httpDateIn(2);
        return { faults: r429({ "Retry-After": date }), doneAfter: Date.parse(date) };
      },
    },
    "429 retry-after-ms: 250, once": {
      op: GET, faults: r429({ "retry-after-ms": "250" }), status: 200, attempts: ["GET", "GET"], minMs: 245,
    },
    "429 Ratelimit t=1, once": {
      op: GET, faults: r429({ Ratelimit: '"default";r=0;t=1' }), status: 200, attempts: ["GET", "GET"], minMs: 990,
    },
    "429 Retry-After: 120 (not slept)": {
      op: GET, faults: r429({ "Retry-After": "120" }), status: 429, error: "RateLimitError", attempts: ["GET"],
      check: retryAfter(120, 120, 120000),
    },
    "429 Retry-After: HTTP date in 120 s (not slept)": {
      op: GET, setup: () => ({ faults: r429({ "Retry-After": httpDateIn(120) }) }), status: 429,
      error: "RateLimitError", attempts: ["GET"], check: retryAfter(116, 120),
    },
    "429 retry-after-ms: 61000 (not slept)": {
      op: GET, faults: r429({ "retry-after-ms": "61000" }), status: 429, error: "RateLimitError", attempts: ["GET"],
      check: retryAfter(61, 61, 61000),
    },
    "429 Ratelimit t=90 (not slept)": {
      op: GET, faults: r429({ Ratelimit: '"default";r=0;t=90' }), status: 429, error: "RateLimitError",
      attempts: ["GET"], check: retryAfter(90, 90, 90000),
    },
    "429 retry-after-ms: 10, 3 times": {
      op: GET, faults: r429({ "retry-after-ms": "10" }, 3), status: 429, error: "RateLimitError",
      attempts: ["GET", "GET", "GET"], check: retryAfter(1, 1, 10),
    },
  },
  "2xx that is not a success envelope": Object.fromEntries(
    ["success_false", "malformed_json", "result_null"].flatMap((kind) =>
      [["GET", GET, "GET"], ["list", LIST, "GET"], ["DELETE", DELETE_INACTIVE, "DELETE"]].map(([label, op, method]) => [
        `200 ${kind} (${label})`, {
          op, faults: once({ kind }), status: 502, error: "APIError", attempts: [method],
          check: kind === "success_false" ? all(hasRay, apiError(1001)) : all(hasRay, relayError(1008, "APIError: HTTP 200: ")),
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

describe("timeouts (the package's real error, answered by the Worker's errorResponse)", { concurrency: true }, () => {
  const timeoutCase = (name, faults, account = {}) => test(name, async () => {
    const acct = await emu.account({ ...ACCOUNT, ...account });
    await emu.faults(acct.id, faults);
    const client = new GatewayCertificates({ apiToken: emu.api_token, baseUrl: emu.url, timeoutMs: 300, maxRetries: 2 });
    const started = Date.now();
    const err = await client.list({ account_id: acct.id }).then(
      () => assert.fail("expected a timeout"),
      (e) => e,
    );
    assert.ok(Date.now() - started >= 3 * 290 + 375 + 750, "three attempts with backoff");
    assert.equal(err.name, "APIConnectionTimeoutError");
    assert.deepEqual((await emu.log(acct.id)).map((r) => r.method), ["GET", "GET", "GET"]);
    const res = errorResponse(err, [emu.api_token]);
    const { text, json } = await readJson(res);
    assert.equal(res.status, 504);
    assert.equal(res.headers.get("x-gateway-certs-error"), "APIConnectionTimeoutError");
    assert.equal(res.headers.get("x-should-retry"), "false");
    assert.equal(json.success, false);
    assert.equal(json.errors[0].code, 1003);
    assert.match(json.errors[0].message, /^APIConnectionTimeoutError: .*300 ms/);
    assert.ok(!text.includes(emu.api_token));
  });
  timeoutCase("hang, 3 times", [{ kind: "hang", times: 3 }]);
  timeoutCase("drip beyond the timeout, 3 times", [{ kind: "drip", delay_ms: 40, times: 3 }], { seed: "empty" });
});
