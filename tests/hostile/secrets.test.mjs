// Issue 5, item 5, through the package in Node: every error name of the contract, produced for
// real with a recognisable token and email + Global API key (an emulator started to accept
// exactly those), and none of them appears anywhere in the error: message, String(err), stack,
// JSON, or any own property however deep (errors[], certificate, ...). Faults whose body or
// headers echo the credential must come out redacted.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createServer } from "node:net";
import { GatewayCertificates, deleteCertificate } from "cf-gateway-certs";
import { assertNoSecrets, failureOf, startEmulator, texts } from "./support.mjs";
import { EMAIL, EMULATOR_ARGS, KEY, SECRETS, TOKEN } from "../support/secrets.mjs";

const UNKNOWN_ID = "00000000-0000-4000-8000-000000000000";

let emu;
before(async () => { emu = await startEmulator(EMULATOR_ARGS); });
after(async () => { await emu?.stop(); });

async function closedPort() {
  const srv = createServer();
  await new Promise((r) => srv.listen(0, "127.0.0.1", r));
  const { port } = srv.address();
  await new Promise((r) => srv.close(r));
  return port;
}

const SCHEMES = {
  token: { apiToken: TOKEN },
  key: { apiEmail: EMAIL, apiKey: KEY },
};
const client = (scheme, extra = {}) => new GatewayCertificates({ ...SCHEMES[scheme], baseUrl: emu.url, maxRetries: 0, ...extra });

/** A fresh account with `faults` armed. */
async function faulted(faults, options) {
  const a = await emu.account(options);
  if (faults) await emu.faults(a.id, faults);
  return a;
}

/** The credentials a client of `scheme` holds (it can redact only what it knows). */
const own = (scheme) => (scheme === "token" ? [TOKEN, TOKEN, TOKEN] : [KEY, EMAIL, KEY]);

/** An envelope whose every text echoes the client's credentials. */
const echoEnvelope = (code, scheme) => {
  const [a, b, c] = own(scheme);
  return JSON.stringify({
    success: false,
    errors: [{
      code, message: `rejected credential ${a} for ${b} with ${c}`,
      documentation_url: `https://docs.example/${a}/${b}`, source: { pointer: `/headers/${c}` },
    }, { code: code + 1, message: `Bearer ${a}; X-Auth-Key: ${c}; X-Auth-Email: ${b}` }],
    messages: [{ code: 1, message: a }], result: null,
  });
};
const echoHtml = (scheme) => {
  const [a, b, c] = own(scheme);
  return `<!DOCTYPE html><html><head><title>502 ${a}</title><style>p{}</style></head>` +
    `<body><h1>Bad gateway</h1><p>Authorization: Bearer ${a}</p><p>X-Auth-Key: ${c}</p><p>X-Auth-Email: ${b}</p></body></html>`;
};

/** [label, expected name, scheme, run(scheme) -> promise] for every failure path reachable. */
function cases() {
  const rows = [];
  const both = (label, name, run) => { for (const s of Object.keys(SCHEMES)) rows.push([`${label} (${s})`, name, s, () => run(s)]); };

  // InvalidInputError: the credential itself malformed, or misplaced.
  const validId = "f174e90a-fafe-4643-bbbc-4a0ed4fc8415";
  for (const [label, options] of [
    ["token with CR/LF", { apiToken: `${TOKEN}\r\nX-Injected: 1` }],
    ["token with NUL", { apiToken: `${TOKEN}\0` }],
    ["token with non-ASCII", { apiToken: `${TOKEN}\u00e9` }],
    ["token of 5000 chars", { apiToken: `${TOKEN}${"x".repeat(5000)}` }],
    ["key with LF", { apiEmail: EMAIL, apiKey: `${KEY}\n` }],
    ["email with CR/LF", { apiEmail: `${EMAIL}\r\n`, apiKey: KEY }],
    ["token and key both", { apiToken: TOKEN, apiEmail: EMAIL, apiKey: KEY }],
    ["email without key", { apiEmail: EMAIL }],
    ["key without email", { apiKey: KEY }],
    ["token in baseUrl user info", { apiToken: TOKEN, baseUrl: `https://${TOKEN}@api.cloudflare.com/client/v4` }],
    ["email:key in baseUrl user info", { apiToken: "other", baseUrl: `https://${encodeURIComponent(EMAIL)}:${KEY}@example.com/client/v4` }],
    ["token in a baseUrl query", { apiToken: "other", baseUrl: `https://example.com/client/v4?token=${TOKEN}` }],
    ["token as the baseUrl", { apiToken: "other", baseUrl: TOKEN }],
    ["token as timeoutMs", { apiToken: "other", timeoutMs: TOKEN }],
  ]) {
    rows.push([`constructor: ${label}`, "InvalidInputError", "-", () => new GatewayCertificates(options)]);
    rows.push([`deleteCertificate: ${label}`, "InvalidInputError", "-", () => deleteCertificate({ baseUrl: emu.url, ...options, accountId: "abc", certificateId: validId })]);
  }
  both("token pasted as the certificate id", "InvalidInputError", (s) => client(s).get(TOKEN, { account_id: "abc" }));
  both("key pasted as the account id", "InvalidInputError", (s) => client(s).list({ account_id: KEY }));
  both("email as the account id", "InvalidInputError", (s) => client(s).delete(validId, { account_id: EMAIL }));

  // The status errors.
  both("BadRequestError: create over the daily limit", "BadRequestError", async (s) => {
    const a = await faulted(null, { create_limit: 0 });
    return client(s).create({ account_id: a.id });
  });
  rows.push(["AuthenticationError: a wrong token holding the real one (token)", "AuthenticationError", "token", async () => {
    const a = await emu.account();
    return client("token", { apiToken: `${TOKEN}0` }).get(a.certificates.inactive.id, { account_id: a.id });
  }]);
  rows.push(["PermissionDeniedError: a wrong key holding the real one (key)", "PermissionDeniedError", "key", async () => {
    const a = await emu.account();
    return client("key", { apiKey: `${KEY}0` }).get(a.certificates.inactive.id, { account_id: a.id });
  }]);
  both("PermissionDeniedError: a 403 on delete", "PermissionDeniedError", async (s) => {
    const a = await faulted([{ op: "delete", kind: "status", status: 403 }]);
    return client(s).delete(a.certificates.inactive.id, { account_id: a.id });
  });
  both("NotFoundError", "NotFoundError", async (s) => {
    const a = await emu.account();
    return client(s).get(UNKNOWN_ID, { account_id: a.id });
  });
  for (const [status, name] of [[400, "BadRequestError"], [401, "AuthenticationError"], [403, "PermissionDeniedError"],
    [404, "NotFoundError"], [409, "ConflictError"], [422, "UnprocessableEntityError"], [429, "RateLimitError"],
    [500, "InternalServerError"], [503, "InternalServerError"], [418, "APIError"]]) {
    both(`${name}: ${status} whose envelope echoes the credentials`, name, async (s) => {
      const a = await faulted([{ op: "get", kind: "status", status, body: echoEnvelope(status * 10, s), headers: { "cf-ray": `${own(s)[0]}-EMU` } }]);
      return client(s).get(a.certificates.inactive.id, { account_id: a.id });
    });
  }
  both("RateLimitError: Retry-After 300 (not slept)", "RateLimitError", async (s) => {
    const a = await faulted([{ op: "delete", kind: "status", status: 429, headers: { "Retry-After": "300" } }]);
    return client(s, { maxRetries: 2 }).delete(a.certificates.inactive.id, { account_id: a.id });
  });
  both("RateLimitError: retries exhausted", "RateLimitError", async (s) => {
    const a = await faulted([{ op: "list", kind: "status", status: 429, times: 3, headers: { "retry-after-ms": "5" } }]);
    return client(s, { maxRetries: 2 }).list({ account_id: a.id });
  });
  both("InternalServerError: an HTML 502", "InternalServerError", async (s) => {
    const a = await faulted([{ op: "get", kind: "html", status: 502 }]);
    return client(s).get(a.certificates.inactive.id, { account_id: a.id });
  });
  both("InternalServerError: an HTML 502 echoing the credentials", "InternalServerError", async (s) => {
    const a = await faulted([{ op: "get", kind: "html", status: 502, body: echoHtml(s) }]);
    return client(s).get(a.certificates.inactive.id, { account_id: a.id });
  });
  both("InternalServerError: a text/plain 503 echoing the credentials", "InternalServerError", async (s) => {
    const a = await faulted([{ op: "list", kind: "status", status: 503, body: `upstream said: ${own(s).join(" ")}`, headers: { "content-type": "text/plain" } }]);
    return client(s).list({ account_id: a.id });
  });

  // APIError: 2xx that is not a success envelope.
  for (const [kind, extra] of [["success_false", {}], ["result_null", {}], ["malformed_json", {}],
    ["malformed_json", { body: (s) => `{"a": "${own(s)[0]}", "b": "${own(s)[1]}"` }],
    ["success_false", { body: (s) => JSON.stringify({ success: false, errors: [{ code: 1, message: own(s).join(" ") }], messages: [], result: null }) }],
    ["result_null", { body: (s) => JSON.stringify({ success: true, errors: [{ code: 2, message: own(s)[1] }], messages: [own(s)[0]], result: own(s)[0] }) }]]) {
    both(`APIError: 200 ${kind}${extra.body ? " echoing the credentials" : ""}`, "APIError", async (s) => {
      const a = await faulted([{ op: "get", kind, ...(extra.body ? { body: extra.body(s) } : {}) }]);
      return client(s).get(a.certificates.inactive.id, { account_id: a.id });
    });
  }

  // No response.
  both("APIConnectionError: a reset", "APIConnectionError", async (s) => {
    const a = await faulted([{ op: "get", kind: "reset" }]);
    return client(s).get(a.certificates.inactive.id, { account_id: a.id });
  });
  both("APIConnectionError: a reset mid-body", "APIConnectionError", async (s) => {
    const a = await faulted([{ op: "get", kind: "reset_mid_body" }]);
    return client(s).get(a.certificates.inactive.id, { account_id: a.id });
  });
  both("APIConnectionError: a closed port, retried", "APIConnectionError", async (s) => {
    const port = await closedPort();
    return client(s, { baseUrl: `http://127.0.0.1:${port}/client/v4`, maxRetries: 1 }).get(validId, { account_id: "abc" });
  });
  both("APIConnectionTimeoutError: a hang", "APIConnectionTimeoutError", async (s) => {
    const a = await faulted([{ op: "get", kind: "hang" }]);
    return client(s, { timeoutMs: 150 }).get(a.certificates.inactive.id, { account_id: a.id });
  });
  both("APIUserAbortError: already aborted", "APIUserAbortError", async (s) => {
    const a = await emu.account();
    return client(s).delete(a.certificates.inactive.id, { account_id: a.id }, { signal: AbortSignal.abort(`reason ${TOKEN}`) });
  });
  both("APIUserAbortError: aborted while hanging, with a reason holding the token", "APIUserAbortError", async (s) => {
    const a = await faulted([{ op: "get", kind: "hang" }]);
    const ctl = new AbortController();
    setTimeout(() => ctl.abort(new Error(`abort ${TOKEN} ${KEY}`)), 100);
    return client(s).get(a.certificates.inactive.id, { account_id: a.id }, { signal: ctl.signal });
  });

  // The package's own refusals and follow-ups.
  both("CertificateNotInactiveError: delete of an available one", "CertificateNotInactiveError", async (s) => {
    const a = await emu.account();
    return client(s).delete(a.certificates.available.id, { account_id: a.id });
  });
  both("CertificateNotInactiveError: retire waited too long", "CertificateNotInactiveError", async (s) => {
    const a = await emu.account({ deactivate_ms: 60_000 });
    return client(s).retire(a.certificates.available.id, { account_id: a.id }, { pollIntervalMs: 20, waitTimeoutMs: 100 });
  });
  both("CertificateInUseError", "CertificateInUseError", async (s) => {
    const a = await emu.account();
    return client(s).retire(a.certificates.in_use.id, { account_id: a.id });
  });
  both("UnsupportedCertificateError", "UnsupportedCertificateError", async (s) => {
    const a = await emu.account();
    return client(s).retire(a.certificates.custom.id, { account_id: a.id });
  });
  both("deleteCertificate: CertificateNotInactiveError", "CertificateNotInactiveError", async (s) => {
    const a = await emu.account();
    return deleteCertificate({ ...SCHEMES[s], baseUrl: emu.url, accountId: a.id, certificateId: a.certificates.pending_deployment.id });
  });
  return rows;
}

test("no credential in any error, on every failure path", async (t) => {
  const seenNames = new Set();
  let n = 0;
  for (const [label, name, , run] of cases()) {
    const err = await failureOf(run, label);
    assert.ok(err instanceof Error, `${label}: an Error`);
    assert.equal(err.name, name, `${label}: ${err.message}`);
    assertNoSecrets(texts(err), SECRETS, label);
    // What a careless app would print.
    assertNoSecrets([String(err), `${err}`, err.stack ?? "", JSON.stringify(err, Object.getOwnPropertyNames(err)),
      JSON.stringify({ ...err }), (await import("node:util")).inspect(err, { depth: 10, showHidden: true })], SECRETS, `${label} (printed)`);
    if (/echoing/.test(label)) assert.match(err.message + JSON.stringify(err.errors), /\[redacted\]/, `${label}: redacted, not dropped`);
    seenNames.add(name);
    n += 1;
  }
  const contract = ["InvalidInputError", "BadRequestError", "AuthenticationError", "PermissionDeniedError", "NotFoundError",
    "ConflictError", "UnprocessableEntityError", "RateLimitError", "InternalServerError", "APIError", "APIConnectionError",
    "APIConnectionTimeoutError", "APIUserAbortError", "CertificateNotInactiveError", "CertificateInUseError", "UnsupportedCertificateError"];
  assert.deepEqual(contract.filter((x) => !seenNames.has(x)), [], "every error name of the contract was produced");
  t.diagnostic(`${n} failure paths, ${seenNames.size} error names, no credential in any error`);
});

test("the credentials really work (so the failures above were not trivial)", async () => {
  const a = await emu.account();
  assert.equal((await client("token").get(a.certificates.inactive.id, { account_id: a.id })).id, a.certificates.inactive.id);
  assert.equal((await client("key").delete(a.certificates.inactive.id, { account_id: a.id })).id, a.certificates.inactive.id);
  assert.deepEqual((await emu.log(a.id)).map((e) => e.auth), ["token", "key"]);
});

// Redaction runs after the message was cut to length: a credential that straddles the cut
// (the 160-character excerpt of a non-JSON body, or the 1000-byte cap on an API message) is
// cut in two and its first part is no longer recognised. See the report for the fix in
// src/envelope.rs + src/client.rs; this turns into a plain pass once it is fixed.
test("a credential straddling the excerpt's cut is not partly leaked", async () => {
  const leaks = [];
  for (const [kind, status, body] of [
    ["html", 502, `<p>${"x".repeat(150)} ${TOKEN} tail</p>`],
    ["malformed_json", undefined, `${"z".repeat(150)} ${TOKEN}`],
    ["status", 400, JSON.stringify({ success: false, errors: [{ code: 1, message: `${"y".repeat(990)} ${TOKEN}` }], messages: [], result: null })],
  ]) {
    const a = await faulted([{ op: "get", kind, status, body }]);
    const err = await failureOf(() => client("token").get(a.certificates.inactive.id, { account_id: a.id }), kind);
    for (const s of texts(err)) if (s.includes("SECRET-TO")) leaks.push(`${kind}: …${s.slice(s.indexOf("SECRET-TO") - 10, s.indexOf("SECRET-TO") + 20)}`);
  }
  assert.deepEqual([...new Set(leaks)], []);
});

// retire builds its own errors (CertificateInUseError, UnsupportedCertificateError, and
// CertificateNotInactiveError after waitTimeoutMs) from the certificate's id and
// binding_status outside client::execute, so they skip its redaction. An API that echoed the
// credential into binding_status would leak it into the message. See the report.
test("retire's own errors are redacted too", async () => {
  const a = await emu.account();
  await emu.patchCertificate(a.id, a.certificates.in_use.id, { binding_status: `echo ${TOKEN}` });
  const err = await failureOf(() => client("token").retire(a.certificates.in_use.id, { account_id: a.id }), "retire");
  assert.equal(err.name, "CertificateInUseError");
  assert.ok(!err.message.includes(TOKEN), err.message);
});
