// The page in headless Chromium (playwright-core + Debian's /usr/bin/chromium) against the
// Worker in workerd (Miniflare from wrangler.toml) with the API emulator behind it.
// Screenshots of each state go to test-results/page/.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { launchChromium } from "../support/browser.mjs";
import { CSP, root, startEmulatorAndWorker } from "../worker/harness.mjs";

const SHOTS = `${root}test-results/page`;
mkdirSync(SHOTS, { recursive: true });

let emu;
let worker;
let browser;
let stack;

before(async () => {
  stack = await startEmulatorAndWorker();
  ({ emu, worker } = stack);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await stack?.stop();
});

const firstId = (certs) => (Array.isArray(certs) ? certs[0] : certs).id;

/** A fresh page on the Worker, with an emulator account, its form filled in. */
async function openPage({ account, scheme = "token", token, viewport } = {}) {
  const acct = account ?? (await emu.account());
  const context = await browser.newContext({ viewport: viewport ?? { width: 1000, height: 900 } });
  const page = await context.newPage();
  const problems = [];
  page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
  page.on("console", (m) => { if (m.type() === "error") problems.push(`console: ${m.text()}`); });
  const requests = [];
  page.on("request", (r) => requests.push({ url: r.url(), method: r.method(), headers: r.headers() }));
  const response = await page.goto(worker.url);
  await page.waitForSelector("html[data-ready=true]");
  await page.getByLabel("Account ID").fill(acct.id);
  if (scheme === "token") {
    await page.getByLabel("API token").fill(token ?? emu.api_token);
  } else {
    await page.getByLabel("Use Global API key").check();
    await page.getByLabel("Email").fill(emu.email);
    await page.getByLabel("Global API key", { exact: true }).fill(emu.api_key);
  }
  return { acct, context, page, response, problems, requests };
}

const button = (page, name) => page.getByRole("button", { name, exact: true });
const shot = (page, name) => page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
const alertText = (page) => page.getByRole("alert").innerText();

/** Nothing the page does may leave a credential in storage, cookies or the URL. */
async function assertNothingStored(page, context) {
  const stored = await page.evaluate(() => ({
    local: localStorage.length,
    session: sessionStorage.length,
    cookie: document.cookie,
    url: location.href,
    history: history.length,
  }));
  assert.equal(stored.local, 0, "localStorage is empty");
  assert.equal(stored.session, 0, "sessionStorage is empty");
  assert.equal(stored.cookie, "", "no cookies");
  assert.deepEqual(await context.cookies(), []);
  for (const secret of [emu.api_token, emu.api_key, emu.email]) {
    assert.ok(!stored.url.includes(secret), "the URL holds no credential");
    assert.ok(!page.url().includes(secret));
  }
  assert.equal(new URL(stored.url).search, "");
  assert.equal(new URL(stored.url).hash, "");
}

describe("the page", () => {
  test("serves the CSP (header and meta), labelled fields, password inputs with autocomplete off", async () => {
    const { page, context, response, problems } = await openPage();
    assert.equal(response.headers()["content-security-policy"], CSP);
    const meta = await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute("content");
    // A <meta> CSP cannot carry frame-ancestors (browsers ignore it there, with a console
    // error): the header has it, the meta has everything else.
    assert.equal(meta, CSP.replace("; frame-ancestors 'none'", ""));
    for (const label of ["Account ID", "Certificate ID", "API token", "API base URL"]) {
      await page.getByLabel(label, { exact: true }).waitFor();
    }
    for (const id of ["api-token", "api-key"]) {
      assert.equal(await page.locator(`#${id}`).getAttribute("type"), "password");
      assert.equal(await page.locator(`#${id}`).getAttribute("autocomplete"), "off");
    }
    assert.equal(await page.getByLabel("API base URL").inputValue(), `${worker.url}/client/v4`);
    for (const name of ["List certificates", "Look up", "Delete", "Deactivate and delete"]) {
      await button(page, name).waitFor();
    }
    // The Global API key switch swaps the token for email + key.
    assert.equal(await page.getByLabel("Email").isVisible(), false);
    await page.getByLabel("Use Global API key").check();
    assert.equal(await page.getByLabel("Email").isVisible(), true);
    assert.equal(await page.getByLabel("Global API key", { exact: true }).isVisible(), true);
    assert.equal(await page.getByLabel("API token").isVisible(), false);
    // Nothing is prefilled from the URL.
    await page.goto(`${worker.url}/?account=evil&token=evil#certificate=evil`);
    await page.waitForSelector("html[data-ready=true]");
    assert.equal(await page.getByLabel("Account ID").inputValue(), "");
    assert.equal(await page.getByLabel("API token").inputValue(), "");
    assert.equal(await page.getByLabel("Certificate ID").inputValue(), "");
    assert.deepEqual(problems, []);
    await context.close();
  });

  test("List certificates shows a table; Pick looks one up", async () => {
    const { acct, page, context, problems } = await openPage();
    await button(page, "List certificates").click();
    const rows = page.locator("#certificates tbody tr");
    const total = Object.values(acct.certificates).flat().length;
    await page.waitForFunction((n) => document.querySelectorAll("#certificates tbody tr").length === n, total);
    assert.equal(await rows.count(), total);
    await shot(page, "01-list");
    const id = firstId(acct.certificates.inactive);
    await page.getByRole("button", { name: `Pick ${id}` }).click();
    await page.locator('#result [data-field="id"]', { hasText: id }).waitFor();
    assert.equal(await page.getByLabel("Certificate ID").inputValue(), id);
    assert.equal(await page.locator('#result [data-field="binding_status"]').innerText(), "inactive");
    for (const f of ["id", "binding_status", "fingerprint", "expires_on", "in_use"]) {
      assert.equal(await page.locator(`#result [data-field="${f}"]`).count(), 1, f);
    }
    await shot(page, "02-look-up");
    assert.deepEqual(problems, []);
    await context.close();
  });

  test("Look up with the Global API key", async () => {
    const { acct, page, context } = await openPage({ scheme: "key" });
    const id = firstId(acct.certificates.available);
    await page.getByLabel("Certificate ID").fill(id);
    await button(page, "Look up").click();
    await page.locator('#result [data-field="binding_status"]', { hasText: "available" }).waitFor();
    const log = await emu.log(acct.id);
    assert.deepEqual(log.map((r) => [r.op, r.auth]), [["get", "key"]]);
    await context.close();
  });

  test("Delete an inactive certificate after a confirmation; nothing stored", async () => {
    const { acct, page, context, requests, problems } = await openPage();
    const id = firstId(acct.certificates.inactive);
    await page.getByLabel("Certificate ID").fill(id);
    await button(page, "Delete").click();
    const dialog = page.getByRole("dialog");
    await dialog.waitFor();
    assert.match(await dialog.innerText(), new RegExp(id));
    await shot(page, "03-delete-confirm");
    // Nothing was deleted before the confirmation.
    assert.ok((await emu.state(acct.id)).certificates.some((c) => c.id === id));
    await button(page, "Confirm").click();
    await page.locator("#result-heading", { hasText: "Deleted certificate" }).waitFor();
    assert.equal(await page.locator('#result [data-field="id"]').innerText(), id);
    assert.ok(!(await emu.state(acct.id)).certificates.some((c) => c.id === id), "deleted in the API");
    await shot(page, "04-deleted");
    await assertNothingStored(page, context);
    // The credential only ever travelled in a header to this origin's relay, never in a URL.
    for (const r of requests) {
      assert.ok(!r.url.includes(emu.api_token));
      assert.ok(new URL(r.url).origin === worker.url);
    }
    assert.ok(requests.some((r) => r.method === "DELETE" && r.headers.authorization === `Bearer ${emu.api_token}`));
    assert.deepEqual(problems, []);
    await context.close();
  });

  test("Cancel at the confirmation deletes nothing", async () => {
    const { acct, page, context } = await openPage();
    const id = firstId(acct.certificates.inactive);
    await page.getByLabel("Certificate ID").fill(id);
    await button(page, "Delete").click();
    await page.getByRole("dialog").getByRole("button", { name: "Cancel", exact: true }).click();
    await page.locator("#status", { hasText: "Not deleted" }).waitFor();
    assert.ok((await emu.state(acct.id)).certificates.some((c) => c.id === id));
    assert.ok(!(await emu.log(acct.id)).some((r) => r.method === "DELETE"));
    await context.close();
  });

  test("Deactivate and delete an available certificate, watching the progress steps", async () => {
    const { acct, page, context, problems } = await openPage();
    const id = firstId(acct.certificates.available);
    await page.getByLabel("Certificate ID").fill(id);
    // Record every step the live region shows, as it happens.
    await page.evaluate(() => {
      window.__steps = [];
      new MutationObserver(() => {
        for (const li of document.querySelectorAll("#progress li")) {
          const entry = `${li.dataset.step}: ${li.querySelector(".step-text").textContent}`;
          if (!window.__steps.includes(entry)) window.__steps.push(entry);
        }
      }).observe(document.getElementById("progress"), { subtree: true, childList: true, characterData: true });
    });
    assert.equal(await page.locator("#progress").getAttribute("aria-live"), "polite");
    await button(page, "Deactivate and delete").click();
    await page.getByRole("dialog").waitFor();
    await button(page, "Confirm").click();
    await page.locator('#progress li[data-step="deactivating"], #progress li[data-step="waiting"]').first().waitFor();
    await shot(page, "05-retire-in-progress");
    await page.locator('#progress li[data-step="done"]').waitFor({ timeout: 20_000 });
    await shot(page, "06-retire-done");
    const steps = await page.evaluate(() => window.__steps.map((s) => s.split(":")[0]));
    const order = [...new Set(steps)];
    assert.deepEqual(order.filter((s) => s !== "waiting"), ["checking", "deactivating", "deleting", "done"]);
    assert.ok(!(await emu.state(acct.id)).certificates.some((c) => c.id === id), "deleted in the API");
    const ops = (await emu.log(acct.id)).map((r) => r.op);
    assert.ok(ops.indexOf("deactivate") < ops.lastIndexOf("delete"));
    await assertNothingStored(page, context);
    assert.deepEqual(problems, []);
    await context.close();
  });

  test("Deactivate and delete can be cancelled while it waits", async () => {
    const acct = await emu.account({ deactivate_ms: 60_000 });
    const { page, context } = await openPage({ account: acct });
    const id = firstId(acct.certificates.available);
    await page.getByLabel("Certificate ID").fill(id);
    await button(page, "Deactivate and delete").click();
    await button(page, "Confirm").click();
    await page.locator('#progress li[data-step="waiting"], #progress li[data-step="deactivating"]').first().waitFor();
    await button(page, "Cancel").click();
    await page.getByRole("alert").getByText("APIUserAbortError").waitFor();
    await page.locator("#progress li.cancelled").waitFor();
    await shot(page, "07-retire-cancelled");
    assert.ok((await emu.state(acct.id)).certificates.some((c) => c.id === id), "not deleted");
    assert.ok(!(await emu.log(acct.id)).some((r) => r.method === "DELETE"));
    await context.close();
  });

  test("an in-use certificate is refused with the reason, before anything changes", async () => {
    const { acct, page, context } = await openPage();
    const id = firstId(acct.certificates.in_use);
    await page.getByLabel("Certificate ID").fill(id);
    await button(page, "Deactivate and delete").click();
    await page.getByRole("alert").getByText("CertificateInUseError").waitFor();
    assert.match(await alertText(page), /in use by Gateway TLS inspection/i);
    assert.equal(await page.getByRole("dialog").isVisible(), false, "no confirmation offered");
    await shot(page, "08-refused-in-use");
    const log = await emu.log(acct.id);
    assert.deepEqual(log.map((r) => r.op), ["get"], "only looked at");
    // A custom one too.
    await page.getByLabel("Certificate ID").fill(firstId(acct.certificates.custom));
    await button(page, "Delete").click();
    await page.getByRole("alert").getByText("UnsupportedCertificateError").waitFor();
    assert.ok(!(await emu.log(acct.id)).some((r) => r.method !== "GET"));
    await context.close();
  });

  test("an API error shows name, status, every [code] message and a hint", async () => {
    const { acct, page, context } = await openPage();
    const id = firstId(acct.certificates.available);
    await page.getByLabel("Certificate ID").fill(id);
    await button(page, "Delete").click();
    await page.getByRole("dialog").waitFor();
    assert.match(await page.locator("#confirm-warning").innerText(), /only inactive/);
    await button(page, "Confirm").click();
    await page.getByRole("alert").getByText("CertificateNotInactiveError").waitFor();
    const text = await alertText(page);
    assert.match(text, /HTTP 500/);
    assert.match(text, /\[\d{4,}\] /, "the API's [code] message");
    assert.match(text, /Deactivate and delete/);
    await button(page, "Deactivate first, then delete").waitFor();
    await shot(page, "09-error-not-inactive");
    await context.close();
  });

  test("403: the token needs Zero Trust Write", async () => {
    const { acct, page, context } = await openPage({ token: emu.read_only_token });
    await page.getByLabel("Certificate ID").fill(firstId(acct.certificates.inactive));
    await button(page, "Delete").click();
    await button(page, "Confirm").click();
    await page.getByRole("alert").getByText("PermissionDeniedError").waitFor();
    const text = await alertText(page);
    assert.match(text, /HTTP 403/);
    assert.match(text, /\[10000\] Authentication error/);
    assert.match(text, /Zero Trust Write/);
    await shot(page, "10-error-403");
    await context.close();
  });

  test("429 is shown with its wait", async () => {
    const { acct, page, context } = await openPage();
    await emu.faults(acct.id, [{ op: "delete", kind: "status", status: 429, headers: { "Retry-After": "120" } }]);
    await page.getByLabel("Certificate ID").fill(firstId(acct.certificates.inactive));
    await button(page, "Delete").click();
    await button(page, "Confirm").click();
    await page.getByRole("alert").getByText("RateLimitError").waitFor();
    const text = await alertText(page);
    assert.match(text, /HTTP 429/);
    assert.match(text, /\[971\] Please wait/);
    assert.match(text, /wait 120 s/);
    assert.match(text, /Retry after \d/);
    await shot(page, "11-error-429");
    await context.close();
  });

  test("XSS: API text renders as text and runs nothing", async () => {
    const acct = await emu.account();
    const img = '<img src=x onerror="window.__xss=(window.__xss||0)+1">';
    const script = "<script>window.__xss=(window.__xss||0)+1</script>";
    const added = await emu.addCertificates(acct.id, { issuer_org: img, issuer_raw: script, binding_status: img, type: script });
    const evil = added.certificates[0].id;
    const { page, context } = await openPage({ account: acct });
    await button(page, "List certificates").click();
    await page.locator(`#certificates tbody tr[data-id="${evil}"]`).waitFor();
    await page.getByRole("button", { name: `Pick ${evil}` }).click();
    await page.locator('#result [data-field="issuer_org"]').waitFor();
    assert.equal(await page.locator('#result [data-field="issuer_org"]').innerText(), img);
    assert.equal(await page.locator('#result [data-field="issuer_raw"]').innerText(), script);
    // An API error message holding the payloads.
    await emu.faults(acct.id, [{
      op: "get", kind: "status", status: 400,
      body: JSON.stringify({ success: false, errors: [{ code: 1003, message: `bad ${img} ${script}` }], messages: [], result: null }),
    }]);
    await button(page, "Look up").click();
    await page.getByRole("alert").getByText("BadRequestError").waitFor();
    assert.match(await alertText(page), /\[1003\] bad <img src=x onerror=/);
    await page.waitForTimeout(200);
    await shot(page, "12-xss-as-text");
    const found = await page.evaluate(() => ({
      xss: window.__xss,
      imgs: document.querySelectorAll("main img, #error img, dialog img").length,
      scripts: [...document.scripts].map((s) => s.src || "inline"),
    }));
    assert.equal(found.xss, undefined, "nothing ran");
    assert.equal(found.imgs, 0, "no element was made from API text");
    assert.deepEqual(found.scripts, [`${worker.url}/app.js`]);
    await context.close();
  });

  test("warns when the API base URL is another origin", async () => {
    const { page, context } = await openPage();
    const warning = page.locator("#base-url-warning");
    assert.equal(await warning.isVisible(), false);
    await page.getByLabel("API base URL").fill("https://relay.example.net/client/v4");
    await warning.waitFor();
    assert.match(await warning.innerText(), /will be sent to https:\/\/relay\.example\.net/);
    await shot(page, "13-other-origin-warning");
    await page.getByLabel("API base URL").fill(`${worker.url}/client/v4`);
    await warning.waitFor({ state: "hidden" });
    await context.close();
  });

  test("works at phone width", async () => {
    const { acct, page, context } = await openPage({ viewport: { width: 375, height: 740 } });
    await button(page, "List certificates").click();
    await page.locator("#certificates tbody tr").first().waitFor();
    await page.getByLabel("Certificate ID").fill(firstId(acct.certificates.inactive));
    await button(page, "Look up").click();
    await page.locator('#result [data-field="id"]').waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `no horizontal scrolling of the page (${overflow}px)`);
    await shot(page, "14-phone");
    await context.close();
  });
});
