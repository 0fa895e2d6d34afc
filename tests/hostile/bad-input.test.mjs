// Issue 5, item 4: bad input everywhere, through the package (imported by name). Every case is
// refused with InvalidInputError (the constructor throws it for options; a method or
// deleteCertificate rejects with it), the message names the offending field and does not echo
// the value, and nothing is sent: a counting proxy sits between the package and the emulator,
// and both the proxy's count and the emulator account's log stay at 0.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { GatewayCertificates, deleteCertificate } from "cf-gateway-certs";
import { failureOf, startCountingProxy, startEmulator } from "./support.mjs";

let emu;
let proxy;
let acct;
before(async () => {
  emu = await startEmulator();
  proxy = await startCountingProxy(emu.origin);
  acct = await emu.account();
});
after(async () => {
  await proxy?.close();
  await emu?.stop();
});

const LONG = "x".repeat(5000);

/** Bad certificate ids: [label, value]. */
const badCertificateIds = (id) => [
  ["slash", `${id}/deactivate`],
  ["slash inside (36 chars)", `${id.slice(0, 23)}/${id.slice(24)}`],
  ["dot-dot prefix", `../${id}`],
  ["dot-dot only", ".."],
  ["dot-dot segment (36 chars)", `${id.slice(0, 30)}/../x`],
  ["encoded slash %2F (36 chars)", `${id.slice(0, 33)}%2F`],
  ["encoded slash %2f", `${id}%2f`],
  ["question mark", `${id.slice(0, 35)}?`],
  ["query", `${id}?x=1`],
  ["hash", `${id.slice(0, 35)}#`],
  ["trailing space", `${id.slice(0, 35)} `],
  ["leading space", ` ${id}`],
  ["inner space", `${id.slice(0, 8)} ${id.slice(9)}`],
  ["tab", `${id.slice(0, 35)}\t`],
  ["newline", `${id}\n`],
  ["NUL", `${id.slice(0, 35)}\0`],
  ["U+2010 hyphen", `${id.slice(0, 8)}\u2010${id.slice(9)}`],
  ["U+2212 minus", `${id.slice(0, 13)}\u2212${id.slice(14)}`],
  ["full-width digits", `${id.slice(0, 33)}\uff18\uff14\uff11`],
  ["Cyrillic a in a hex position", `\u0430${id.slice(1)}`],
  ["Cyrillic e/c in hex positions", `${id.slice(0, 34)}\u0435\u0441`],
  ["35 characters", id.slice(0, 35)],
  ["37 characters", `${id}0`],
  ["no dashes (36 hex)", `${id.replaceAll("-", "")}0000`],
  ["non-hex letter", `g${id.slice(1)}`],
  ["empty", ""],
  ["number", 1234],
  ["object", { id }],
  ["array", [id]],
  ["null", null],
  ["undefined", undefined],
];

/** Bad account ids: [label, value]. */
const badAccountIds = (a) => [
  ["empty", ""],
  ["33 characters", `${a}0`],
  ["slash", `${a.slice(0, 16)}/${a.slice(17)}`],
  ["dot-dot", ".."],
  ["dot-dot segment", `${a}/..`],
  ["encoded slash %2F", `${a.slice(0, 29)}%2F`],
  ["question mark", `${a.slice(0, 31)}?`],
  ["query", `${a}?x=1`],
  ["hash", `${a.slice(0, 31)}#`],
  ["space", `${a.slice(0, 16)} ${a.slice(17)}`],
  ["trailing space", `${a} `],
  ["newline", `${a}\n`],
  ["NUL", `${a.slice(0, 31)}\0`],
  ["dash", `${a.slice(0, 8)}-${a.slice(9)}`],
  ["U+2010 hyphen", `${a.slice(0, 8)}\u2010${a.slice(9)}`],
  ["full-width digits", `${a.slice(0, 29)}\uff10\uff11\uff12`],
  ["Cyrillic a", `\u0430${a.slice(1)}`],
  ["number", 12345],
  ["object", { id: a }],
  ["null", null],
  ["undefined", undefined],
];

/** Bad client options: [label, options (merged over a valid token + baseUrl), field regex, echo]. */
const badOptions = () => {
  const T = "tok-VALUE-9zQw";
  const cred = (name, value) => ({ apiToken: undefined, [name]: value, ...(name === "apiToken" ? {} : name === "apiKey" ? { apiEmail: "someone@example.com" } : { apiKey: "key-VALUE-8yPx" }) });
  const rows = [];
  for (const [name, base] of [["apiToken", T], ["apiKey", "key-VALUE-8yPx"], ["apiEmail", "someone@example.com"]]) {
    for (const [what, value] of [
      ["CR/LF", `${base}\r\nX-Injected: 1`], ["LF", `${base}\n`], ["CR", `${base}\r`], ["NUL", `${base}\0`],
      ["tab", `${base}\tx`], ["non-ASCII (Latin-1)", `${base}é`], ["non-ASCII (Cyrillic)", `${base}\u0436`],
      ["emoji", `${base}\u{1f511}`], ["DEL", `${base}\u007f`], ["U+2028", `${base}\u2028`],
      ["5000 characters", `${base}${LONG}`], ["leading space", ` ${base}`], ["a number", 12345], ["an object", { v: base }],
    ]) rows.push([`${name} with ${what}`, cred(name, value), new RegExp(name), typeof value === "string" ? value : undefined]);
  }
  rows.push(
    ["token and key both", { apiEmail: "someone@example.com", apiKey: "key-VALUE-8yPx" }, /apiToken.*apiKey|apiKey.*apiToken/, "key-VALUE-8yPx"],
    ["token and key without email", { apiKey: "key-VALUE-8yPx" }, /apiToken|apiKey/, "key-VALUE-8yPx"],
    ["token and email", { apiEmail: "someone@example.com" }, /apiToken|apiEmail/, "someone@example.com"],
    ["email without key", { apiToken: undefined, apiEmail: "someone@example.com" }, /apiEmail/, "someone@example.com"],
    ["key without email", { apiToken: undefined, apiKey: "key-VALUE-8yPx" }, /apiEmail|apiKey/, "key-VALUE-8yPx"],
    ["no credential", { apiToken: undefined }, /apiToken/],
    ["empty token", { apiToken: "" }, /apiToken/],
  );
  for (const [name, values] of [
    ["timeoutMs", [-1, 1.5, NaN, Infinity, -Infinity, 1e12, "100", true]],
    ["maxRetries", [-1, 2.5, 1e9, NaN, Infinity, 11, "2"]],
  ]) {
    for (const v of values) rows.push([`${name} ${typeof v === "string" ? JSON.stringify(v) : String(v)}`, { [name]: v }, new RegExp(name)]);
  }
  for (const [what, url] of [
    ["user:pass@", "http://user:pa55w0rd@127.0.0.1:9/client/v4"],
    ["token@", `https://${T}@api.cloudflare.com/client/v4`],
    ["user@ only", "https://user@api.cloudflare.com/client/v4"],
    ["javascript:", "javascript:alert(1)"],
    ["javascript: with slashes", "javascript://api.cloudflare.com/%0aalert(1)"],
    ["data:", "data:text/plain,hello"],
    ["file:///", "file:///etc/passwd"],
    ["ftp://", "ftp://api.cloudflare.com/client/v4"],
    ["ws://", "ws://api.cloudflare.com/client/v4"],
    ["relative /client/v4", "/client/v4"],
    ["scheme-relative", "//api.cloudflare.com/client/v4"],
    ["no scheme", "api.cloudflare.com/client/v4"],
    ["query ?x=1", "https://api.cloudflare.com/client/v4?x=1"],
    ["fragment #frag", "https://api.cloudflare.com/client/v4#frag"],
    ["leading space", " https://api.cloudflare.com/client/v4"],
    ["trailing newline", "https://api.cloudflare.com/client/v4\n"],
    ["space in host", "https://api.cloud flare.com/client/v4"],
    ["tab in path", "https://api.cloudflare.com/client\t/v4"],
    [".. segment", "https://api.cloudflare.com/client/../v4"],
    ["trailing ..", "https://api.cloudflare.com/client/v4/.."],
    [". segment", "https://api.cloudflare.com/./client/v4"],
    ["backslash", "https://api.cloudflare.com\\@evil.example/client/v4"],
    ["non-ASCII host", "https://аpi.cloudflare.com/client/v4"],
    ["empty host", "https:///client/v4"],
    ["bad port", "https://api.cloudflare.com:99999999/client/v4"],
    ["empty", ""],
    ["a number", 443],
  ]) rows.push([`baseUrl ${what}`, { baseUrl: url }, /baseUrl/, typeof url === "string" && url.length >= 4 ? url : undefined]);
  rows.push(["options null", null, /options/], ["options a string", "tok-VALUE-9zQw", /options/, "tok-VALUE-9zQw"]);
  return rows;
};

// Text the messages quote as examples: a value that is part of it is not an echo.
const EXAMPLES = ["https://api.cloudflare.com/client/v4", "f174e90a-fafe-4643-bbbc-4a0ed4fc8415"];

/** Checks one refusal; returns nothing, throws with the label. */
function checkRefusal(err, label, field, echo) {
  assert.ok(err instanceof Error, `${label}: not an Error: ${err}`);
  assert.equal(err.name, "InvalidInputError", `${label}: ${err.name}: ${err.message}`);
  assert.equal(err.status, undefined, `${label}: status`);
  assert.deepEqual(err.errors, [], `${label}: errors`);
  assert.equal(err.cfRay, undefined, `${label}: cfRay`);
  assert.match(err.message, field, `${label}: the message names the field: ${err.message}`);
  assert.ok(err.message.length > 10 && err.message.length < 300, `${label}: a short, clear message: ${err.message}`);
  if (typeof echo === "string" && echo.length >= 4) {
    const own = EXAMPLES.reduce((m, e) => m.split(e).join("<example>"), err.message);
    for (const probe of [echo, echo.trim(), echo.slice(0, 24)]) {
      if (probe.length >= 4 && !EXAMPLES.some((e) => e.includes(probe))) assert.ok(!own.includes(probe), `${label}: the message echoes the value: ${err.message}`);
    }
  }
}

test("bad input is refused before any request, with a clear message that does not echo it", async (t) => {
  const id = acct.certificates.inactive.id;
  const p = { account_id: acct.id };
  const c = new GatewayCertificates({ apiToken: emu.api_token, baseUrl: proxy.url, maxRetries: 0 });
  let total = 0;
  const counts = {};
  const refused = async (group, label, run, field, echo) => {
    const err = await failureOf(run, `${group}: ${label}`);
    checkRefusal(err, `${group}: ${label}`, field, echo);
    assert.equal(proxy.count(), 0, `${group}: ${label}: a request was sent: ${proxy.requests()}`);
    total += 1;
    counts[group] = (counts[group] ?? 0) + 1;
  };
  /** A method call must reject (return a rejected promise), never throw synchronously. */
  const rejects = (call) => () => {
    let promise;
    assert.doesNotThrow(() => { promise = call(); }, "a method throws synchronously");
    assert.ok(promise instanceof Promise, "a method returns a Promise");
    return promise;
  };

  // Certificate ids, through every method that takes one, and deleteCertificate.
  const idMethods = {
    delete: (v) => c.delete(v, p),
    get: (v) => c.get(v, p),
    activate: (v) => c.activate(v, p),
    deactivate: (v) => c.deactivate(v, p),
    retire: (v) => c.retire(v, p),
    deleteCertificate: (v) => deleteCertificate({ apiToken: emu.api_token, baseUrl: proxy.url, accountId: acct.id, certificateId: v }),
  };
  for (const [label, value] of badCertificateIds(id)) {
    for (const [method, call] of Object.entries(idMethods)) {
      await refused("certificate id", `${method}(${label})`, rejects(() => call(value)), /certificateId/, value);
    }
  }

  // Account ids, through every method, and deleteCertificate's accountId.
  const accountMethods = {
    list: (v) => c.list({ account_id: v }),
    create: (v) => c.create({ account_id: v }),
    get: (v) => c.get(id, { account_id: v }),
    delete: (v) => c.delete(id, { account_id: v }),
    activate: (v) => c.activate(id, { account_id: v }),
    deactivate: (v) => c.deactivate(id, { account_id: v }),
    retire: (v) => c.retire(id, { account_id: v }),
    // The message says account_id (the core's name) even here: see the report.
    deleteCertificate: (v) => deleteCertificate({ apiToken: emu.api_token, baseUrl: proxy.url, accountId: v, certificateId: id }),
  };
  for (const [label, value] of badAccountIds(acct.id)) {
    for (const [method, call] of Object.entries(accountMethods)) {
      await refused("account id", `${method}(${label})`, rejects(() => call(value)), /account_id|accountId/, value);
    }
  }
  // params that are not an object at all.
  for (const [label, params] of [["null", null], ["a string", acct.id], ["a number", 7], ["undefined", undefined]]) {
    for (const [method, call] of Object.entries({
      list: () => c.list(params), create: () => c.create(params), get: () => c.get(id, params), delete: () => c.delete(id, params),
      activate: () => c.activate(id, params), deactivate: () => c.deactivate(id, params), retire: () => c.retire(id, params),
    })) {
      await refused("params", `${method}(${label})`, rejects(call), /params|account_id/);
    }
  }

  // Client options: the constructor throws; deleteCertificate rejects with the same.
  for (const [label, extra, field, echo] of badOptions()) {
    const options = extra === null || typeof extra !== "object" ? extra : { apiToken: emu.api_token, baseUrl: proxy.url, ...extra };
    await refused("options", `new GatewayCertificates(${label})`, () => new GatewayCertificates(options), field, echo);
    if (options === null || typeof options !== "object") continue; // deleteCertificate takes one object
    await refused("options", `deleteCertificate(${label})`,
      rejects(() => deleteCertificate({ ...options, accountId: acct.id, certificateId: id })), field, echo);
  }

  // validity_period_days (create only).
  for (const v of [0, 10951, 1.5, -1, NaN, Infinity, 1e12, "30", true, {}]) {
    await refused("validity_period_days", `create(${typeof v === "string" ? JSON.stringify(v) : String(v)})`,
      rejects(() => c.create({ ...p, validity_period_days: v })), /validity_period_days/);
  }

  // retire's own options.
  for (const [name, values] of [["pollIntervalMs", [-1, NaN, 1.5, Infinity, 5, "100"]], ["waitTimeoutMs", [-1, NaN, 1.5, Infinity, 1e12, "100"]]]) {
    for (const v of values) {
      await refused("retire options", `${name} ${String(v)}`, rejects(() => c.retire(id, p, { [name]: v })), new RegExp(name));
    }
  }
  for (const v of [5, "function () {}", {}, [], true]) {
    await refused("retire options", `onProgress ${typeof v}`, rejects(() => c.retire(id, p, { onProgress: v })), /onProgress/);
  }

  // A signal that is not an AbortSignal, through every method and deleteCertificate.
  const notSignals = [["an object", {}], ["{ aborted: true }", { aborted: true, addEventListener() {} }], ["a string", "abort"],
    ["a number", 1], ["an AbortController", new AbortController()], ["an EventTarget", new EventTarget()]];
  for (const [label, signal] of notSignals) {
    for (const [method, call] of Object.entries({
      list: () => c.list(p, { signal }), create: () => c.create(p, { signal }), get: () => c.get(id, p, { signal }),
      delete: () => c.delete(id, p, { signal }), activate: () => c.activate(id, p, { signal }),
      deactivate: () => c.deactivate(id, p, { signal }), retire: () => c.retire(id, p, { signal }),
      deleteCertificate: () => deleteCertificate({ apiToken: emu.api_token, baseUrl: proxy.url, accountId: acct.id, certificateId: id, signal }),
    })) {
      await refused("signal", `${method}(${label})`, rejects(call), /signal/);
    }
  }
  // Request options that are not an object.
  for (const [method, call] of Object.entries({
    list: () => c.list(p, "x"), get: () => c.get(id, p, 5), delete: () => c.delete(id, p, "x"), retire: () => c.retire(id, p, true),
  })) {
    await refused("request options", method, rejects(call), /options/);
  }

  assert.equal(proxy.count(), 0, "no request left the package");
  assert.deepEqual(await emu.log(acct.id), [], "the emulator saw nothing for the account");
  assert.equal((await emu.state(acct.id)).requests, 0);
  assert.equal((await emu.state(acct.id)).certificates.length, 6, "nothing changed");
  t.diagnostic(`by group: ${JSON.stringify(counts)}`);
  t.diagnostic(`${total} bad inputs, all refused, ${proxy.count()} requests sent`);
});

test("the same client still works afterwards (the refusals were not a broken setup)", async () => {
  const c = new GatewayCertificates({ apiToken: emu.api_token, baseUrl: proxy.url, maxRetries: 0 });
  const other = await emu.account();
  assert.equal((await c.get(other.certificates.inactive.id, { account_id: other.id })).id, other.certificates.inactive.id);
  assert.equal(proxy.count(), 1, "the proxy counts a real request");
});
