// Issue 5, items 4 and 5, through the page in headless Chromium (playwright-core + Debian's
// chromium) against the relay Worker in workerd, with a counting proxy between the Worker and
// the API emulator: bad ids, account ids, base URLs and credentials typed into the form are
// refused in the page (InvalidInputError, or the browser's CSP for another origin) with nothing
// sent; and after every failure path no credential is anywhere in the page's text, its
// non-secret inputs, its storage, its cookies or its URL.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { launchChromium } from "../support/browser.mjs";
import { startCountingProxy } from "../hostile/support.mjs";
import { EMAIL, EMULATOR_ARGS, KEY, SECRETS, TOKEN } from "../support/secrets.mjs";
import { startEmulatorAndWorker } from "../worker/harness.mjs";

const UNKNOWN_ID = "00000000-0000-4000-8000-000000000000";

let emu;
let proxy;
let worker;
let browser;
let stack;
before(async () => {
  stack = await startEmulatorAndWorker({ emulatorArgs: EMULATOR_ARGS, proxy: (e) => startCountingProxy(e.origin) });
  ({ emu, proxy, worker } = stack);
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await stack?.stop();
});

const button = (page, name) => page.getByRole("button", { name, exact: true });

async function openPage() {
  const context = await browser.newContext({ viewport: { width: 1000, height: 900 } });
  const page = await context.newPage();
  const problems = [];
  page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
  const apiRequests = [];
  page.on("request", (r) => { if (new URL(r.url()).pathname.startsWith("/client/v4")) apiRequests.push(`${r.method()} ${r.url()}`); });
  await page.goto(worker.url);
  await page.waitForSelector("html[data-ready=true]");
  return { context, page, problems, apiRequests };
}

/**
 * Fill the form in one round trip (the page reads the fields when a button is clicked);
 * `scheme` "token" or "key"; undefined fields are left as they are.
 */
async function fill(page, { account, certificate, token, email, key, baseUrl, scheme = "token" }) {
  await page.evaluate((f) => {
    const set = (id, value) => {
      if (value === undefined || value === null) return;
      const input = document.getElementById(id);
      input.value = value;
      input.dispatchEvent(new Event("input", { bubbles: true }));
    };
    const box = document.getElementById("use-global-key");
    if (box.checked !== (f.scheme === "key")) box.click();
    set("account-id", f.account);
    set("certificate-id", f.certificate);
    if (f.scheme === "token") set("api-token", f.token);
    else { set("api-email", f.email); set("api-key", f.key); }
    set("base-url", f.baseUrl);
  }, { account, certificate, token, email, key, baseUrl, scheme });
}

/** Click `name` and wait for the alert's error name (confirming a dialog if one opens). */
async function failWith(page, name, { confirm = false, cancelAfter } = {}) {
  await page.evaluate(() => document.getElementById("error").replaceChildren());
  await button(page, name).click();
  if (confirm) {
    await page.getByRole("dialog").waitFor();
    await button(page, "Confirm").click();
  }
  if (cancelAfter) {
    await page.locator(cancelAfter).first().waitFor();
    await button(page, "Cancel").click();
  }
  const el = page.locator('[role="alert"] [data-error-name]');
  await el.waitFor({ timeout: 20_000 });
  return { name: await el.innerText(), text: await page.getByRole("alert").innerText() };
}

test("bad input typed into the form is refused in the page, nothing sent", async (t) => {
  const acct = await emu.account();
  const id = acct.certificates.inactive.id;
  const A = acct.id;
  const { context, page, problems, apiRequests } = await openPage();
  const own = `${worker.url}/client/v4`;
  const cases = [
    ...[["not a UUID", "not-a-uuid"], ["slash", `${id}/deactivate`], ["dot-dot", `../${id}`],
      ["%2F", `${id.slice(0, 33)}%2F`], ["?", `${id.slice(0, 35)}?`], ["#", `${id.slice(0, 35)}#`],
      ["inner space", `${id.slice(0, 8)} ${id.slice(9)}`], ["U+2010 hyphen", `${id.slice(0, 8)}\u2010${id.slice(9)}`],
      ["full-width digits", `${id.slice(0, 33)}\uff18\uff14\uff11`], ["Cyrillic a", `\u0430${id.slice(1)}`],
      ["35 chars", id.slice(0, 35)], ["37 chars", `${id}0`]]
      .map(([label, v]) => [`certificate id: ${label}`, { account: A, certificate: v, baseUrl: own }, /InvalidInputError/, /certificateId/]),
    ...[["empty", ""], ["33 chars", `${A}0`], ["slash", `${A.slice(0, 16)}/${A.slice(17)}`], ["dot-dot", ".."],
      ["%2F", `${A.slice(0, 29)}%2F`], ["?x=1", `${A}?x=1`], ["U+2010", `${A.slice(0, 8)}\u2010${A.slice(9)}`],
      ["Cyrillic a", `\u0430${A.slice(1)}`], ["full-width", `${A.slice(0, 29)}\uff10\uff11\uff12`]]
      .map(([label, v]) => [`account id: ${label}`, { account: v, certificate: id, baseUrl: own }, /InvalidInputError/, /account_id/]),
    ...[["javascript:", "javascript:alert(1)"], ["data:", "data:text/plain,hello"], ["file:///", "file:///etc/passwd"],
      ["ftp://", "ftp://127.0.0.1/client/v4"], ["user:pass@", own.replace("://", "://user:pass@")],
      ["token@", own.replace("://", "://tok@")], ["relative", "/client/v4"], ["?x=1", `${own}?x=1`],
      ["#frag", `${own}#frag`], [".. segment", `${worker.url}/x/../client/v4`], ["inner space", `${worker.url}/client /v4`]]
      .map(([label, v]) => [`base URL: ${label}`, { account: A, certificate: id, baseUrl: v }, /InvalidInputError/, /baseUrl/]),
    ["token: non-ASCII", { account: A, certificate: id, baseUrl: own, token: "t\u00f6k\u00e9n" }, /InvalidInputError/, /apiToken/],
    ["token: 5000 chars", { account: A, certificate: id, baseUrl: own, token: "x".repeat(5000) }, /InvalidInputError/, /apiToken/],
    ["token: empty", { account: A, certificate: id, baseUrl: own, token: "" }, /InvalidInputError/, /apiToken/],
    ["key: email without key", { account: A, certificate: id, baseUrl: own, scheme: "key", email: "a@example.com", key: "" }, /InvalidInputError/, /apiEmail|apiKey/],
    ["key: non-ASCII email", { account: A, certificate: id, baseUrl: own, scheme: "key", email: "\u00e4@example.com", key: "k" }, /InvalidInputError/, /apiEmail/],
    // Another origin is a valid URL: the page warns, and the browser's CSP (connect-src 'self')
    // blocks the request before it leaves; the proxy (that origin) sees nothing.
    ["base URL: another origin (CSP)", { account: A, certificate: id, baseUrl: proxy.url }, /APIConnectionError/, /./],
  ];
  let n = 0;
  for (const [label, form, nameRe, fieldRe] of cases) {
    for (const action of ["Look up", "Delete"]) {
      await fill(page, { token: "some-token", email: "a@example.com", key: "k", ...form });
      // Once per value, the bad field is typed for real (Playwright's fill: focus, input events).
      const typed = { "certificate id": ["#certificate-id", form.certificate], "account id": ["#account-id", form.account],
        "base URL": ["#base-url", form.baseUrl], token: ["#api-token", form.token] }[label.split(":")[0]];
      if (action === "Look up" && typed) await page.locator(typed[0]).fill(typed[1]);
      const { name, text } = await failWith(page, action);
      assert.match(name, nameRe, `${label} / ${action}: ${text}`);
      assert.match(text, fieldRe, `${label} / ${action}: the message names the field: ${text}`);
      if (/InvalidInputError/.test(name)) assert.match(text, /Nothing was sent/, `${label}: the hint`);
      assert.equal(await page.getByRole("dialog").isVisible(), false, `${label}: no confirmation offered`);
      assert.deepEqual(apiRequests, [], `${label} / ${action}: the page sent a request`);
      assert.equal(proxy.count(), 0, `${label} / ${action}: a request reached the upstream side`);
      n += 1;
    }
    if (/another origin/.test(label)) assert.ok(await page.locator("#base-url-warning").isVisible(), "the other-origin warning shows");
  }
  assert.deepEqual(await emu.log(A), []);
  assert.equal((await emu.state(A)).certificates.length, 6, "nothing changed");
  assert.deepEqual(problems, []);
  t.diagnostic(`${n} bad inputs through the page's form (${cases.length} values x Look up and Delete), all refused, ${apiRequests.length + proxy.count()} requests sent`);
  await context.close();
});

/** Everything the page shows or keeps that is not a secret field. */
async function pageState(page, context) {
  const state = await page.evaluate(() => ({
    text: document.body.innerText,
    html: document.documentElement.outerHTML.replace(/<input[^>]*>/g, ""),
    inputs: [...document.querySelectorAll("input, textarea, select")]
      .filter((i) => i.type !== "password" && i.id !== "api-email")
      .map((i) => `${i.id}=${i.value}`),
    local: JSON.stringify({ ...localStorage }),
    session: JSON.stringify({ ...sessionStorage }),
    cookie: document.cookie,
    href: location.href,
    title: document.title,
  }));
  state.cookies = JSON.stringify(await context.cookies());
  return state;
}

test("no credential in the page after any failure", async (t) => {
  const { context, page, problems } = await openPage();
  const own = (scheme) => (scheme === "token" ? [TOKEN, TOKEN] : [KEY, EMAIL]);
  const echoEnvelope = (status, scheme) => JSON.stringify({
    success: false, errors: [{ code: status * 10, message: `bad credential ${own(scheme).join(" / ")}` }], messages: [], result: null,
  });
  const rows = [];
  for (const scheme of ["token", "key"]) {
    const add = (label, expect, prepare, opts) => rows.push([`${label} (${scheme})`, expect, scheme, prepare, opts ?? {}]);
    add("bad id", /InvalidInputError/, async (a) => ({ certificate: "nope" }));
    add("not found", /NotFoundError/, async (a) => ({ certificate: UNKNOWN_ID }));
    for (const [status, re] of [[400, /BadRequestError/], [401, /AuthenticationError/], [403, /PermissionDeniedError/],
      [409, /ConflictError/], [422, /UnprocessableEntityError/], [429, /RateLimitError/], [503, /InternalServerError/], [418, /APIError/]]) {
      add(`${status} echoing the credentials`, re, async (a) => {
        await emu.faults(a.id, [{ op: "get", kind: "status", status, times: 3, body: echoEnvelope(status, scheme),
          headers: { "cf-ray": `${own(scheme)[0]}-EMU`, ...(status === 429 ? { "Retry-After": "300" } : { "retry-after-ms": "1" }) } }]);
        return { certificate: a.certificates.inactive.id };
      });
    }
    add("HTML 502 echoing the credentials", /InternalServerError/, async (a) => {
      await emu.faults(a.id, [{ op: "get", kind: "html", status: 502, times: 3, headers: { "retry-after-ms": "1" }, body: `<html><title>${own(scheme)[0]}</title><p>${own(scheme).join(" ")}</p></html>` }]);
      return { certificate: a.certificates.inactive.id };
    });
    add("200 success:false echoing the credentials", /Error/, async (a) => {
      await emu.faults(a.id, [{ op: "get", kind: "success_false", body: JSON.stringify({ success: false, errors: [{ code: 1, message: own(scheme).join(" ") }], messages: [], result: null }) }]);
      return { certificate: a.certificates.inactive.id };
    });
    add("200 malformed JSON echoing the credentials", /Error/, async (a) => {
      await emu.faults(a.id, [{ op: "get", kind: "malformed_json", body: `{"x": "${own(scheme).join(" ")}"` }]);
      return { certificate: a.certificates.inactive.id };
    });
    add("connection resets", /Error/, async (a) => {
      await emu.faults(a.id, [{ op: "get", kind: "reset", times: 3 }]);
      return { certificate: a.certificates.inactive.id };
    });
    add("not inactive", /CertificateNotInactiveError/, async (a) => ({ certificate: a.certificates.available.id }), { button: "Delete", confirm: true });
    add("in use", /CertificateInUseError/, async (a) => ({ certificate: a.certificates.in_use.id }), { button: "Deactivate and delete" });
    add("custom", /UnsupportedCertificateError/, async (a) => ({ certificate: a.certificates.custom.id }), { button: "Delete" });
    add("cancelled while waiting", /APIUserAbortError/, async (a) => ({ certificate: a.certificates.available.id }),
      { button: "Deactivate and delete", confirm: true, cancelAfter: '#progress li[data-step="waiting"], #progress li[data-step="deactivating"]', account: { deactivate_ms: 60_000 } });
  }
  rows.push(["a wrong token holding the real one", /AuthenticationError/, "token",
    async (a) => ({ certificate: a.certificates.inactive.id, token: `${TOKEN}0` }), {}]);
  rows.push(["a wrong key holding the real one", /PermissionDeniedError/, "key",
    async (a) => ({ certificate: a.certificates.inactive.id, key: `${KEY}0` }), {}]);
  rows.push(["a token with non-ASCII", /InvalidInputError/, "token",
    async (a) => ({ certificate: a.certificates.inactive.id, token: `${TOKEN}\u00e9` }), {}]);

  const names = new Set();
  for (const [label, re, scheme, prepare, opts] of rows) {
    const a = await emu.account(opts.account);
    const form = { account: a.id, scheme, token: TOKEN, email: EMAIL, key: KEY, baseUrl: `${worker.url}/client/v4`, ...(await prepare(a)) };
    await fill(page, form);
    const { name, text } = await failWith(page, opts.button ?? "Look up", opts);
    assert.match(name, re, `${label}: ${text}`);
    names.add(name);
    const state = await pageState(page, context);
    for (const [where, value] of Object.entries(state)) {
      for (const s of SECRETS) {
        const strings = Array.isArray(value) ? value : [value];
        for (const v of strings) assert.ok(!v.includes(s), `${label}: ${where} holds ${s}: ${v.slice(0, 300)}`);
      }
    }
    assert.equal(state.local, "{}", `${label}: localStorage`);
    assert.equal(state.session, "{}", `${label}: sessionStorage`);
    assert.equal(state.cookie, "", `${label}: cookie`);
    assert.equal(state.href, `${worker.url}/`, `${label}: the URL`);
    if (/echoing/.test(label)) assert.match(state.text, /\[redacted\]/, `${label}: redacted, not dropped`);
  }
  const out = worker.output();
  for (const s of SECRETS) assert.ok(!out.includes(s), `the Worker's log holds ${s}`);
  assert.deepEqual(problems, []);
  t.diagnostic(`${rows.length} failure paths through the page (${[...names].sort().join(", ")}); no credential in its text, inputs, storage, cookies or URL`);
  await context.close();
});
