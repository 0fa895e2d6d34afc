// No failure path puts a credential into an error's message or properties.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { inspect } from "node:util";
import { GatewayCertificates, deleteCertificate } from "cf-gateway-certs";
import { closedPort, rejection, startEmulator } from "./support.mjs";
import { texts } from "../support/secrets.mjs";

const TOKEN = "SeCrEt-TOKEN-q7Zx9Wv3Lm";
const KEY = "SeCrEt-KEY-k4Rp8Ty2Hn";
let emu;
before(async () => { emu = await startEmulator(["--token", TOKEN, "--key", KEY]); });
after(async () => { await emu?.stop(); });

const SECRETS = [TOKEN, KEY, "q7Zx9Wv3Lm", "k4Rp8Ty2Hn", "SeCrEt"];

function assertClean(err, label) {
  assert.ok(err instanceof Error, label);
  for (const s of texts(err)) {
    for (const secret of SECRETS) {
      assert.ok(!s.includes(secret), `${label} (${err.name}) leaks ${secret}: ${s.slice(0, 200)}`);
    }
  }
}

test("credentials appear in no error, whatever the failure", async () => {
  const acct = await emu.account();
  const p = { account_id: acct.id };
  const certs = acct.certificates;
  const token = (extra = {}) => new GatewayCertificates({ apiToken: TOKEN, baseUrl: emu.url, maxRetries: 0, ...extra });
  const key = (extra = {}) => new GatewayCertificates({ apiEmail: emu.email, apiKey: KEY, baseUrl: emu.url, maxRetries: 0, ...extra });
  const port = await closedPort();
  const faulted = (fault, call) => async () => {
    const a = await emu.account();
    await emu.faults(a.id, [fault]);
    return call(a);
  };
  const cases = {
    "wrong token (401)": () => new GatewayCertificates({ apiToken: `${TOKEN}-wrong`, baseUrl: emu.url }).get(certs.inactive.id, p),
    "wrong key (403)": () => new GatewayCertificates({ apiEmail: emu.email, apiKey: `${KEY}x`, baseUrl: emu.url }).get(certs.inactive.id, p),
    "token with a line break": () => deleteCertificate({ apiToken: `${TOKEN}\r\nX: y`, baseUrl: emu.url, accountId: acct.id, certificateId: certs.inactive.id }),
    "key with a control character": () => deleteCertificate({ apiEmail: emu.email, apiKey: `${KEY}\u0001`, baseUrl: emu.url, accountId: acct.id, certificateId: certs.inactive.id }),
    "token and key both": () => deleteCertificate({ apiToken: TOKEN, apiEmail: emu.email, apiKey: KEY, baseUrl: emu.url, accountId: acct.id, certificateId: certs.inactive.id }),
    "email without key": () => deleteCertificate({ apiEmail: KEY, baseUrl: emu.url, accountId: acct.id, certificateId: certs.inactive.id }),
    "bad certificate id": () => token().delete("nope", p),
    "not found": () => token().get("00000000-0000-4000-8000-000000000000", p),
    "not inactive (token)": () => token().delete(certs.available.id, p),
    "not inactive (key)": () => key().delete(certs.pending_deployment.id, p),
    "in use": () => key().retire(certs.in_use.id, p),
    "custom": () => token().retire(certs.custom.id, p),
    "closed port": () => token({ baseUrl: `http://127.0.0.1:${port}/client/v4` }).get(certs.inactive.id, p),
    // Each fault gets its own account, so a fault left unconsumed cannot leak into another case.
    "html 502": faulted({ op: "get", kind: "html", status: 502 }, (a) => key().get(a.certificates.inactive.id, { account_id: a.id })),
    "timeout": faulted({ op: "get", kind: "hang" }, (a) => token({ timeoutMs: 150 }).get(a.certificates.inactive.id, { account_id: a.id })),
    "abort": () => token().get(certs.inactive.id, p, { signal: AbortSignal.abort() }),
    "rate limited": faulted({ op: "get", kind: "status", status: 429, headers: { "Retry-After": "300" } }, (a) => key().get(a.certificates.inactive.id, { account_id: a.id })),
    "malformed json": faulted({ op: "list", kind: "malformed_json" }, (a) => token().list({ account_id: a.id })),
  };
  for (const [label, run] of Object.entries(cases)) {
    let err;
    try {
      err = await rejection(run());
    } catch (thrown) {
      err = thrown;
    }
    assertClean(err, label);
  }
  // The constructor's own throw, too.
  for (const options of [{ apiToken: `${TOKEN}\n` }, { apiToken: TOKEN, apiKey: KEY, apiEmail: "a@b.c" }, { apiToken: TOKEN, baseUrl: `http://${TOKEN}:${KEY}@example.com` }]) {
    try {
      new GatewayCertificates(options);
      assert.fail("accepted");
    } catch (err) {
      assert.equal(err.name, "InvalidInputError");
      assertClean(err, JSON.stringify(Object.keys(options)));
    }
  }
});

test("the custom credentials really work (so the failures above were not trivial)", async () => {
  const acct = await emu.account();
  const c = new GatewayCertificates({ apiToken: TOKEN, baseUrl: emu.url });
  assert.equal((await c.delete(acct.certificates.inactive.id, { account_id: acct.id })).binding_status, "inactive");
  const k = new GatewayCertificates({ apiEmail: emu.email, apiKey: KEY, baseUrl: emu.url });
  assert.equal((await k.list({ account_id: acct.id })).length, 5);
});

test("a client shows no credential when logged, serialised or enumerated", async () => {
  const clients = [
    new GatewayCertificates({ apiToken: TOKEN, baseUrl: emu.url }),
    new GatewayCertificates({ apiEmail: emu.email, apiKey: KEY, baseUrl: emu.url }),
  ];
  for (const c of clients) {
    const views = [
      inspect(c, { showHidden: true, depth: 10, getters: true }),
      JSON.stringify(c) ?? "",
      String(c),
      Object.getOwnPropertyNames(c).join(" "),
      Object.getOwnPropertySymbols(c).map(String).join(" "),
      JSON.stringify(c.rateLimitHeaders()),
    ];
    for (const view of views) {
      for (const secret of SECRETS) assert.ok(!view.includes(secret), `a client's view leaks ${secret}: ${view.slice(0, 200)}`);
    }
  }
});
