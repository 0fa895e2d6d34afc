// Every error name of the contract, produced for real against the emulator.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { GatewayCertificates, deleteCertificate } from "cf-gateway-certs";
import { UNKNOWN_ID, checkError, closedPort, ops, rejection, startEmulator } from "./support.mjs";

let emu;
before(async () => { emu = await startEmulator(); });
after(async () => { await emu?.stop(); });

const client = (extra = {}) => new GatewayCertificates({ apiToken: emu.api_token, baseUrl: emu.url, ...extra });

describe("InvalidInputError: before any request", () => {
  const badOptions = () => [
    {},
    { apiEmail: "a@example.com" },
    { apiKey: "k" },
    { apiToken: "t", apiEmail: emu.email, apiKey: emu.api_key },
    { apiToken: "t\nX-Injected: 1" },
    { apiToken: "t", baseUrl: "ftp://example.com/client/v4" },
    { apiToken: "t", baseUrl: "/client/v4" },
    { apiToken: "t", baseUrl: `http://user:pass@127.0.0.1/client/v4` },
    { apiToken: "t", timeoutMs: -1 },
    { apiToken: "t", timeoutMs: 1.5 },
    { apiToken: "t", maxRetries: -1 },
    { apiToken: "t", maxRetries: 0.5 },
  ];

  test("the constructor throws it for bad options", () => {
    for (const options of badOptions()) {
      let err;
      try {
        new GatewayCertificates(options);
      } catch (e) {
        err = e;
      }
      assert.ok(err, `accepted ${JSON.stringify(options)}`);
      checkError(err, "InvalidInputError", { errors: [] });
    }
  });

  test("deleteCertificate rejects with it (no throw) for the same options", async () => {
    const acct = await emu.account();
    for (const options of badOptions()) {
      const p = deleteCertificate({ baseUrl: emu.url, ...options, accountId: acct.id, certificateId: acct.certificates.inactive.id });
      assert.ok(p instanceof Promise);
      checkError(await rejection(p), "InvalidInputError", { errors: [] });
    }
    assert.equal((await emu.log(acct.id)).length, 0);
  });

  test("bad ids and parameters: rejected, nothing sent", async () => {
    const acct = await emu.account();
    const c = client();
    const id = acct.certificates.inactive.id;
    const p = { account_id: acct.id };
    const cases = [
      c.delete("not-a-uuid", p),
      c.delete(`${id}/deactivate`, p),
      c.get("", p),
      c.delete(id, { account_id: "" }),
      c.delete(id, { account_id: "a".repeat(33) }),
      c.delete(id, { account_id: "../evil" }),
      c.delete(id, { account_id: `${acct.id}?x=1` }),
      c.list({}),
      c.create({ ...p, validity_period_days: 0 }),
      c.create({ ...p, validity_period_days: 10951 }),
      c.create({ ...p, validity_period_days: 1.5 }),
      c.retire("nope", p),
      c.activate("nope", p),
      c.deactivate("nope", p),
    ];
    for (const promise of cases) checkError(await rejection(promise), "InvalidInputError", { errors: [] });
    assert.equal((await emu.log(acct.id)).length, 0, "no request reached the emulator");
    assert.equal((await emu.state(acct.id)).requests, 0);
  });
});

test("BadRequestError (400): create over the daily limit", async () => {
  const acct = await emu.account({ create_limit: 0 });
  const err = checkError(await rejection(client().create({ account_id: acct.id })), "BadRequestError", { status: 400 });
  assert.equal(err.errors[0].code, 1104);
  assert.deepEqual(await ops(emu, acct.id), ["POST create"]);
});

test("AuthenticationError (401): unknown token", async () => {
  const acct = await emu.account();
  const err = await rejection(client({ apiToken: "not-the-token-0000" }).delete(acct.certificates.inactive.id, { account_id: acct.id }));
  checkError(err, "AuthenticationError", { status: 401, errors: [{ code: 10000, message: "Authentication error" }] });
  assert.deepEqual(await ops(emu, acct.id), ["DELETE delete"]);
});

describe("PermissionDeniedError (403)", () => {
  test("a read-only token deleting", async () => {
    const acct = await emu.account();
    const err = await rejection(client({ apiToken: emu.read_only_token }).delete(acct.certificates.inactive.id, { account_id: acct.id }));
    checkError(err, "PermissionDeniedError", { status: 403, errors: [{ code: 10000, message: "Authentication error" }] });
    assert.deepEqual(await ops(emu, acct.id), ["DELETE delete"]);
    assert.equal((await emu.state(acct.id)).certificates.length, 6);
  });
  test("a wrong Global API key", async () => {
    const acct = await emu.account();
    const c = new GatewayCertificates({ apiEmail: emu.email, apiKey: "wrong-key", baseUrl: emu.url });
    checkError(await rejection(c.get(acct.certificates.inactive.id, { account_id: acct.id })), "PermissionDeniedError", { status: 403 });
  });
});

test("NotFoundError (404): get and delete of an unknown certificate", async () => {
  const acct = await emu.account();
  const p = { account_id: acct.id };
  const expected = { status: 404, errors: [{ code: 1101, message: "Certificate not found" }] };
  checkError(await rejection(client().get(UNKNOWN_ID, p)), "NotFoundError", expected);
  checkError(await rejection(client().delete(UNKNOWN_ID, p)), "NotFoundError", expected);
  assert.deepEqual(await ops(emu, acct.id), ["GET get", "DELETE delete"]);
});

test("ConflictError (409), maxRetries 0", async () => {
  const acct = await emu.account();
  await emu.faults(acct.id, [{ op: "get", kind: "status", status: 409 }]);
  const err = await rejection(client({ maxRetries: 0 }).get(acct.certificates.inactive.id, { account_id: acct.id }));
  checkError(err, "ConflictError", { status: 409, errors: [{ code: 1409, message: "Conflict" }] });
  assert.equal((await emu.log(acct.id)).length, 1);
});

test("UnprocessableEntityError (422)", async () => {
  const acct = await emu.account();
  await emu.faults(acct.id, [{ op: "get", kind: "status", status: 422 }]);
  const err = await rejection(client().get(acct.certificates.inactive.id, { account_id: acct.id }));
  checkError(err, "UnprocessableEntityError", { status: 422 });
  assert.equal(err.errors[0].code, 1422);
  assert.equal((await emu.log(acct.id)).length, 1, "422 is not retried");
});

describe("RateLimitError (429)", () => {
  test("Retry-After 120: fails at once with retryAfterMs", async () => {
    const acct = await emu.account();
    await emu.faults(acct.id, [{ op: "delete", kind: "status", status: 429, headers: { "Retry-After": "120" } }]);
    const started = Date.now();
    const err = await rejection(client().delete(acct.certificates.inactive.id, { account_id: acct.id }));
    assert.ok(Date.now() - started < 5000, "did not sleep");
    checkError(err, "RateLimitError", { status: 429, errors: [{ code: 971, message: "Please wait and consider throttling your request speed" }] });
    assert.equal(err.retryAfterMs, 120_000);
    assert.deepEqual(await ops(emu, acct.id), ["DELETE delete"]);
    assert.equal((await emu.state(acct.id)).certificates.length, 6, "nothing deleted");
  });

  test("a short wait is retried, then succeeds", async () => {
    const acct = await emu.account();
    await emu.faults(acct.id, [{ op: "delete", kind: "status", status: 429, headers: { "Retry-After": "1" } }]);
    const cert = acct.certificates.inactive;
    const started = Date.now();
    assert.deepEqual(await client().delete(cert.id, { account_id: acct.id }), cert);
    assert.ok(Date.now() - started >= 900, "waited the Retry-After second");
    const log = await emu.log(acct.id);
    assert.deepEqual(log.map((e) => [e.method, e.status]), [["DELETE", 429], ["DELETE", 200]]);
  });

  test("retries exhausted: RateLimitError", async () => {
    const acct = await emu.account();
    await emu.faults(acct.id, [{ op: "get", kind: "status", status: 429, times: 2, headers: { "retry-after-ms": "10" } }]);
    const err = await rejection(client({ maxRetries: 1 }).get(acct.certificates.inactive.id, { account_id: acct.id }));
    checkError(err, "RateLimitError", { status: 429 });
    assert.equal((await emu.log(acct.id)).length, 2);
  });
});

test("InternalServerError: an HTML 502 page, maxRetries 0", async () => {
  const acct = await emu.account();
  await emu.faults(acct.id, [{ op: "get", kind: "html", status: 502 }]);
  const err = await rejection(client({ maxRetries: 0 }).get(acct.certificates.inactive.id, { account_id: acct.id }));
  checkError(err, "InternalServerError", { status: 502, errors: [] });
  assert.match(err.message, /502 Bad Gateway/, "an excerpt of the page");
  assert.ok(err.message.length < 600, `short: ${err.message.length} chars`);
  assert.doesNotMatch(err.message, /[\u0000-\u001f\u007f]/, "printable");
  assert.equal((await emu.log(acct.id)).length, 1);
});

describe("APIError", () => {
  const bodies = [
    ["success_false", {}],
    ["result_null", {}],
    ["malformed_json", {}],
    ["malformed_json", { body: "<html>not json</html>" }],
  ];
  for (const [kind, extra] of bodies) {
    test(`a 200 ${kind} ${extra.body ? "(html)" : ""}is not retried`, async () => {
      const acct = await emu.account();
      await emu.faults(acct.id, [{ op: "get", kind, ...extra }]);
      const err = await rejection(client().get(acct.certificates.inactive.id, { account_id: acct.id }));
      checkError(err, "APIError", { status: 200 });
      if (kind === "success_false") assert.deepEqual(err.errors.map((e) => e.code), [1001]);
      assert.equal((await emu.log(acct.id)).length, 1, "exactly one request");
    });
  }

  test("list whose result is an object, and get whose result is an array", async () => {
    const acct = await emu.account();
    await emu.faults(acct.id, [
      { op: "list", kind: "result_null", body: { success: true, errors: [], messages: [], result: { id: "x" } } },
      { op: "get", kind: "result_null", body: { success: true, errors: [], messages: [], result: [] } },
    ]);
    checkError(await rejection(client().list({ account_id: acct.id })), "APIError", { status: 200 });
    checkError(await rejection(client().get(acct.certificates.inactive.id, { account_id: acct.id })), "APIError", { status: 200 });
    assert.equal((await emu.log(acct.id)).length, 2);
  });

  test("an unusual status (418)", async () => {
    const acct = await emu.account();
    await emu.faults(acct.id, [{ op: "get", kind: "status", status: 418 }]);
    const err = await rejection(client().get(acct.certificates.inactive.id, { account_id: acct.id }));
    checkError(err, "APIError", { status: 418 });
    assert.equal((await emu.log(acct.id)).length, 1);
  });

  test("a delete answered 200 with success:false deletes once, not retried", async () => {
    const acct = await emu.account();
    await emu.faults(acct.id, [{ op: "delete", kind: "success_false" }]);
    checkError(await rejection(client().delete(acct.certificates.inactive.id, { account_id: acct.id })), "APIError", { status: 200 });
    assert.deepEqual(await ops(emu, acct.id), ["DELETE delete"]);
  });
});

describe("APIConnectionError", () => {
  test("baseUrl at a closed port", async () => {
    const port = await closedPort();
    const c = new GatewayCertificates({ apiToken: emu.api_token, baseUrl: `http://127.0.0.1:${port}/client/v4`, maxRetries: 0 });
    checkError(await rejection(c.delete("f174e90a-fafe-4643-bbbc-4a0ed4fc8415", { account_id: "abc" })), "APIConnectionError", { errors: [] });
  });
  test("a connection reset with no retry left", async () => {
    const acct = await emu.account();
    await emu.faults(acct.id, [{ op: "get", kind: "reset" }]);
    checkError(await rejection(client({ maxRetries: 0 }).get(acct.certificates.inactive.id, { account_id: acct.id })), "APIConnectionError", { errors: [] });
    assert.equal((await emu.log(acct.id)).length, 1);
  });
});

test("APIConnectionTimeoutError: a hanging request, timeoutMs 200, maxRetries 0", async () => {
  const acct = await emu.account();
  await emu.faults(acct.id, [{ op: "get", kind: "hang" }]);
  const started = Date.now();
  const err = await rejection(client({ timeoutMs: 200, maxRetries: 0 }).get(acct.certificates.inactive.id, { account_id: acct.id }));
  const took = Date.now() - started;
  checkError(err, "APIConnectionTimeoutError", { errors: [] });
  assert.ok(took >= 180 && took < 3000, `took ${took} ms`);
  assert.ok((await emu.log(acct.id)).length <= 1, "not retried");
});

describe("APIUserAbortError", () => {
  test("aborting a hanging request", async () => {
    const acct = await emu.account();
    await emu.faults(acct.id, [{ op: "delete", kind: "hang" }]);
    const ctl = new AbortController();
    const pending = rejection(client().delete(acct.certificates.inactive.id, { account_id: acct.id }, { signal: ctl.signal }));
    // Abort once the emulator holds the request.
    while ((await emu.log(acct.id)).length === 0) await new Promise((r) => setTimeout(r, 20));
    const started = Date.now();
    ctl.abort();
    const err = await pending;
    assert.ok(Date.now() - started < 1000, "settled at once");
    checkError(err, "APIUserAbortError", { errors: [] });
    assert.equal((await emu.log(acct.id)).length, 1, "not retried");
  });

  test("aborting during a retry wait", async () => {
    const acct = await emu.account();
    await emu.faults(acct.id, [{ op: "get", kind: "status", status: 503, headers: { "Retry-After": "30" } }]);
    const ctl = new AbortController();
    setTimeout(() => ctl.abort(), 200);
    const started = Date.now();
    const err = await rejection(client().get(acct.certificates.inactive.id, { account_id: acct.id }, { signal: ctl.signal }));
    assert.ok(Date.now() - started < 3000, "did not sleep the whole wait");
    checkError(err, "APIUserAbortError", { errors: [] });
    assert.equal((await emu.log(acct.id)).length, 1);
  });

  test("an already aborted signal sends nothing", async () => {
    const acct = await emu.account();
    const signal = AbortSignal.abort();
    const p = { account_id: acct.id };
    const id = acct.certificates.inactive.id;
    checkError(await rejection(client().delete(id, p, { signal })), "APIUserAbortError", { errors: [] });
    checkError(await rejection(client().retire(id, p, { signal })), "APIUserAbortError", { errors: [] });
    checkError(await rejection(deleteCertificate({ apiToken: emu.api_token, baseUrl: emu.url, accountId: acct.id, certificateId: id, signal })), "APIUserAbortError", { errors: [] });
    assert.equal((await emu.log(acct.id)).length, 0);
  });
});

test("CertificateNotInactiveError: delete of an available certificate (the API's 500)", async () => {
  const acct = await emu.account();
  const cert = acct.certificates.available;
  const err = await rejection(client().delete(cert.id, { account_id: acct.id }));
  checkError(err, "CertificateNotInactiveError", { status: 500, errors: [{ code: 1000, message: "Internal Server Error" }] });
  assert.equal(err.certificate.binding_status, "available");
  assert.equal(err.certificate.id, cert.id);
  assert.equal(Object.getPrototypeOf(err.certificate), Object.prototype);
  const log = await emu.log(acct.id);
  assert.deepEqual(log.map((e) => [e.method, e.status]), [["DELETE", 500], ["GET", 200]], "no retry loop");
});

describe("retire refuses before changing anything", () => {
  test("CertificateInUseError", async () => {
    const acct = await emu.account();
    const cert = acct.certificates.in_use;
    const err = await rejection(client().retire(cert.id, { account_id: acct.id }));
    checkError(err, "CertificateInUseError", { errors: [], api: true });
    assert.equal(err.certificate.in_use, true);
    assert.equal(err.certificate.id, cert.id);
    assert.deepEqual(await ops(emu, acct.id), ["GET get"]);
  });
  test("UnsupportedCertificateError", async () => {
    const acct = await emu.account();
    const cert = acct.certificates.custom;
    const err = await rejection(client().retire(cert.id, { account_id: acct.id }));
    checkError(err, "UnsupportedCertificateError", { errors: [], api: true });
    assert.equal(err.certificate.type, "custom");
    assert.deepEqual(await ops(emu, acct.id), ["GET get"]);
  });
});
