// The relay Worker as the page uses it: the package's node build (js/node.js) with baseUrl = the
// Worker's /client/v4, the Worker in workerd, a recording proxy, the API emulator.
//
// - Rate limit: every relayed answer carries the API's `Ratelimit` / `Ratelimit-Policy` as the
//   API sent them (the last upstream answer of that request), success or error, so the page's
//   client paces itself by the real budget.
// - Retries: the relay makes one upstream attempt per incoming request; the page's client
//   retries end to end. So the upstream attempts are the page's attempts (plus, for a DELETE
//   answered 5xx, the one GET the relay's package makes), and a DELETE whose answer was lost
//   (processed, then the connection reset) is recognised by the page's client: `retire`
//   resolves, `delete` says an earlier attempt may have deleted the certificate (issue 8).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { GatewayCertificates } from "../../js/node.js";
import { readJson, startEmulatorAndWorker, startRecordingProxy, startWorker } from "./harness.mjs";

let emu;
let proxy;
let worker;
let stack;
const realFetch = globalThis.fetch;
/** Every request the page's client sent to a Worker: "METHOD /path". */
let pageRequests = [];

before(async () => {
  stack = await startEmulatorAndWorker({ proxy: startRecordingProxy });
  ({ emu, proxy, worker } = stack);
  globalThis.fetch = (input, init) => {
    // Read without constructing a Request (that would use up a body).
    const url = input instanceof Request ? input.url : String(input);
    const method = (init?.method ?? (input instanceof Request ? input.method : "GET")).toUpperCase();
    if (url.includes("/client/v4/")) pageRequests.push(`${method} ${new URL(url).pathname}`);
    return realFetch(input, init);
  };
});
after(async () => {
  globalThis.fetch = realFetch;
  await stack?.stop();
});

const certPath = (acct, id = "") => `/client/v4/accounts/${acct}/gateway/certificates${id ? `/${id}` : ""}`;
const pageClient = (opts = {}) =>
  new GatewayCertificates({ apiToken: emu.api_token, baseUrl: `${worker.url}/client/v4`, ...opts });
/** What went upstream for this account: "METHOD /path -> status" (null: reset). */
const upstream = (acct) => proxy.exchanges().filter((e) => e.path.includes(acct));
const lines = (exchanges) => exchanges.map((e) => `${e.method} ${e.path}`);
const pageLines = (acct) => pageRequests.filter((l) => l.includes(acct));
const RATE = /^"default";r=(\d+);t=(\d+)$/;

describe("Ratelimit and Ratelimit-Policy passed through", () => {
  test("every answer, success or error, carries the API's last headers; r falls by one per upstream request", async () => {
    const LIMIT = 7;
    const acct = await emu.account({ rate_limit: { limit: LIMIT, window_ms: 60_000 } });
    const headers = { Authorization: `Bearer ${emu.api_token}` };
    const unknown = "00000000-0000-4000-8000-000000000000";
    // [method, path, status the Worker answers, upstream requests it makes]
    const steps = [
      ["GET", certPath(acct.id), 200, 1],
      ["GET", certPath(acct.id, acct.certificates.inactive.id), 200, 1],
      ["GET", certPath(acct.id, unknown), 404, 1],
      ["DELETE", certPath(acct.id, acct.certificates.available.id), 500, 2], // the API's 500, then the package's GET
      ["POST", `${certPath(acct.id, acct.certificates.inactive.id)}/activate`, 202, 1],
      ["GET", certPath(acct.id, acct.certificates.inactive.id), 200, 1],
      ["GET", certPath(acct.id, acct.certificates.inactive.id), 429, 1], // the quota is spent: the lockout
      ["DELETE", certPath(acct.id, unknown), 429, 1],
    ];
    let counted = 0;
    let lastT = Infinity;
    for (const [method, path, status, n] of steps) {
      const seen = upstream(acct.id).length;
      const res = await worker.fetch(path, { method, headers, body: method === "POST" ? "{}" : undefined });
      const { text } = await readJson(res);
      const label = `${method} ${path} -> ${res.status}`;
      assert.equal(res.status, status, `${label}: ${text.slice(0, 200)}`);
      const sent = upstream(acct.id).slice(seen);
      assert.equal(sent.length, n, `${label}: upstream requests`);
      const last = sent[sent.length - 1];
      // Exactly what the API sent on the last upstream answer of this request.
      assert.equal(res.headers.get("ratelimit"), last.headers.ratelimit, label);
      assert.equal(res.headers.get("ratelimit-policy"), last.headers["ratelimit-policy"], label);
      // ... which is the emulator's arithmetic: r = quota - requests counted in the window.
      counted = Math.min(LIMIT, counted + n);
      const [, r, t] = RATE.exec(res.headers.get("ratelimit")).map(Number);
      assert.equal(r, LIMIT - counted, `${label}: r`);
      assert.ok(t >= 1 && t <= 60 && t <= lastT, `${label}: t=${t}`);
      lastT = t;
      assert.equal(res.headers.get("ratelimit-policy"), `"default";q=${LIMIT};w=60`, label);
      if (status === 429) {
        assert.equal(res.headers.get("retry-after"), String(t), `${label}: Retry-After kept`);
        assert.equal(res.headers.get("x-gateway-certs-error"), "RateLimitError");
      }
    }
    const log = await emu.log(acct.id);
    assert.deepEqual(log.map((e) => e.rate), [...Array(LIMIT).fill("allowed"), "limited", "limited"]);
  });

  test("no upstream answer (a reset), no rate-limit headers; refused locally, none either", async () => {
    const acct = await emu.account({ rate_limit: { limit: 100, window_ms: 60_000 } });
    await emu.faults(acct.id, [{ op: "get", kind: "reset" }]);
    const headers = { Authorization: `Bearer ${emu.api_token}` };
    const reset = await worker.fetch(certPath(acct.id, acct.certificates.inactive.id), { headers });
    await reset.arrayBuffer();
    assert.equal(reset.status, 502);
    assert.equal(reset.headers.get("ratelimit"), null);
    const bad = await worker.fetch(certPath(acct.id, "not-a-uuid"), { headers });
    await bad.arrayBuffer();
    assert.equal(bad.status, 400);
    assert.equal(bad.headers.get("ratelimit"), null);
  });

  test("the page's client paces itself by the passed-on headers: no 429 with a tiny quota", async () => {
    const acct = await emu.account({ rate_limit: { limit: 3, window_ms: 1000 } });
    const client = pageClient();
    const started = Date.now();
    for (let i = 0; i < 8; i++) await client.get(acct.certificates.inactive.id, { account_id: acct.id });
    const took = Date.now() - started;
    const log = await emu.log(acct.id);
    assert.equal(log.length, 8);
    assert.ok(log.every((e) => e.rate === "allowed" && e.status === 200), JSON.stringify(log.map((e) => [e.status, e.rate])));
    assert.ok(took >= 1500, `8 requests at 3 per second took only ${took} ms`);
    const last = upstream(acct.id).at(-1);
    assert.deepEqual(client.rateLimitHeaders(), { ratelimit: last.headers.ratelimit, ratelimitPolicy: last.headers["ratelimit-policy"] });
  });
});

describe("a DELETE whose answer is lost (issue 8, part 3)", () => {
  const LOST = { op: "delete", kind: "reset", apply: true }; // processed, then the connection reset

  test("retire resolves with the certificate; it was deleted exactly once", async () => {
    const acct = await emu.account();
    const cert = acct.certificates.inactive;
    await emu.faults(acct.id, [LOST]);
    const steps = [];
    const out = await pageClient().retire(cert.id, { account_id: acct.id }, { onProgress: (e) => steps.push(e.step) });
    assert.equal(out.id, cert.id);
    assert.equal(out.binding_status, "inactive");
    assert.deepEqual(steps, ["checking", "deleting", "done"]);

    const state = await emu.state(acct.id);
    assert.ok(!state.certificates.some((c) => c.id === cert.id), "gone");
    assert.deepEqual(state.deleted, { [cert.id]: 1 }, "deleted exactly once");
    const path = certPath(acct.id, cert.id);
    const expected = [`GET ${path}`, `DELETE ${path}`, `GET ${path}`, `DELETE ${path}`];
    // The page's attempts, one upstream request each: the lost DELETE (502 from the relay), the
    // page's GET after that 5xx (404), its retried DELETE (404: gone after a lost answer).
    assert.deepEqual(pageLines(acct.id), expected);
    assert.deepEqual(lines(upstream(acct.id)), expected);
    assert.deepEqual(upstream(acct.id).map((e) => e.status), [200, null, 404, 404]);
  });

  test("delete rejects with NotFoundError saying an earlier attempt may have deleted it", async () => {
    const acct = await emu.account();
    const cert = acct.certificates.inactive;
    await emu.faults(acct.id, [LOST]);
    const client = pageClient();
    const err = await client.delete(cert.id, { account_id: acct.id }).then(
      () => assert.fail("expected NotFoundError"),
      (e) => e,
    );
    assert.equal(err.name, "NotFoundError");
    assert.equal(err.status, 404);
    assert.match(err.message, /an earlier attempt of this DELETE, whose answer was lost, may have deleted it/);

    const state = await emu.state(acct.id);
    assert.deepEqual(state.deleted, { [cert.id]: 1 }, "exactly one successful DELETE");
    const sent = upstream(acct.id);
    const deletes = sent.filter((e) => e.method === "DELETE");
    assert.equal(deletes.length, 2, "upstream DELETE attempts");
    assert.ok(deletes.length <= 3, "at most maxRetries + 1");
    const pageDeletes = pageLines(acct.id).filter((l) => l.startsWith("DELETE"));
    assert.equal(pageDeletes.length, deletes.length, "one upstream DELETE per DELETE of the page: not multiplied");
    assert.deepEqual(pageLines(acct.id), lines(sent), "every request of the page is exactly one upstream request");
  });
});

describe("end-to-end retries, never multiplied", () => {
  test("connection resets: the page's retries, one upstream attempt each", async () => {
    const acct = await emu.account();
    await emu.faults(acct.id, [{ op: "get", kind: "reset", times: 2 }]);
    const cert = await pageClient().get(acct.certificates.inactive.id, { account_id: acct.id });
    assert.equal(cert.id, acct.certificates.inactive.id);
    assert.equal(pageLines(acct.id).length, 3);
    assert.deepEqual(lines(upstream(acct.id)), pageLines(acct.id));
  });

  test("resets on every attempt: maxRetries + 1 upstream attempts in all (not 9)", async () => {
    const acct = await emu.account();
    await emu.faults(acct.id, [{ op: "get", kind: "reset", times: 5 }]);
    const err = await pageClient().get(acct.certificates.inactive.id, { account_id: acct.id }).then(
      () => assert.fail("expected a failure"),
      (e) => e,
    );
    // The page sees the relay's 502 (the relay's own APIConnectionError, [90002]).
    assert.equal(err.name, "InternalServerError");
    assert.equal(err.status, 502);
    assert.equal(err.errors[0].code, 90002);
    assert.equal(upstream(acct.id).length, 3);
    assert.equal(pageLines(acct.id).length, 3);
  });

  test("a 429 with Retry-After: the page waits and retries once", async () => {
    const acct = await emu.account();
    await emu.faults(acct.id, [{ op: "get", kind: "status", status: 429, headers: { "Retry-After": "1", Ratelimit: '"default";r=0;t=1' } }]);
    const started = Date.now();
    await pageClient().get(acct.certificates.inactive.id, { account_id: acct.id });
    assert.ok(Date.now() - started >= 990, "waited the Retry-After");
    assert.deepEqual(upstream(acct.id).map((e) => e.status), [429, 200]);
    assert.equal(pageLines(acct.id).length, 2);
  });

  test("a 503 on DELETE of an inactive certificate: deleted, with the GETs of relay and page", async () => {
    const acct = await emu.account();
    const cert = acct.certificates.inactive;
    await emu.faults(acct.id, [{ op: "delete", kind: "status", status: 503 }]);
    const out = await pageClient().delete(cert.id, { account_id: acct.id });
    assert.equal(out.id, cert.id);
    const path = certPath(acct.id, cert.id);
    // The relay's package GETs after the 503 (inactive: answer the 503); the page's client,
    // seeing a 5xx on DELETE, GETs too, then retries the DELETE.
    assert.deepEqual(lines(upstream(acct.id)), [`DELETE ${path}`, `GET ${path}`, `GET ${path}`, `DELETE ${path}`]);
    assert.deepEqual(pageLines(acct.id), [`DELETE ${path}`, `GET ${path}`, `DELETE ${path}`]);
    assert.deepEqual((await emu.state(acct.id)).deleted, { [cert.id]: 1 });
  });

  test("an active certificate: CertificateNotInactiveError, no retry", async () => {
    const acct = await emu.account();
    const cert = acct.certificates.available;
    const err = await pageClient().delete(cert.id, { account_id: acct.id }).then(
      () => assert.fail("expected a failure"),
      (e) => e,
    );
    assert.equal(err.name, "CertificateNotInactiveError");
    const path = certPath(acct.id, cert.id);
    assert.deepEqual(pageLines(acct.id), [`DELETE ${path}`, `GET ${path}`]);
    assert.deepEqual(lines(upstream(acct.id)), [`DELETE ${path}`, `GET ${path}`, `GET ${path}`]);
  });

  test("the relay's timeout (CF_API_TIMEOUT_MS) is below the page's: a hang is retried by the page", async () => {
    const quick = await startWorker({ apiBaseUrl: proxy.url, vars: { CF_API_TIMEOUT_MS: "300" } });
    try {
      const acct = await emu.account();
      await emu.faults(acct.id, [{ op: "get", kind: "hang" }]);
      const client = new GatewayCertificates({ apiToken: emu.api_token, baseUrl: `${quick.url}/client/v4`, timeoutMs: 5000 });
      const started = Date.now();
      const cert = await client.get(acct.certificates.inactive.id, { account_id: acct.id });
      assert.equal(cert.id, acct.certificates.inactive.id);
      assert.ok(Date.now() - started < 4000, "the relay gave up first (504) and the page retried");
      assert.equal(upstream(acct.id).length, 2);
      assert.equal(pageLines(acct.id).length, 2);
    } finally {
      await quick.dispose();
    }
  });
});
