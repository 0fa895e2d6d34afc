// The page's many-at-once and rotation features in headless Chromium against the relay Worker
// (workerd via Miniflare) and the API emulator: Retire selected (retireMany) over the emulator's
// `fleet` seed, its Cancel, its pacing within a small rate-limit budget, and a whole rotation
// (Generate and activate, Turn on for TLS inspection, Deactivate and delete the old one).
// Screenshots go to test-results/page/ (2x-*.png: many at once, 3x-*.png: rotation).
//
// Both go through the Worker's relay: its Gateway configuration PATCH (Turn on) and the
// Ratelimit headers it passes on (the page's client paces itself by them).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { launchChromium } from "../support/browser.mjs";
import { root, startEmulatorAndWorker } from "../worker/harness.mjs";

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

/** A fresh page on the Worker (the page's API base URL is its relay) with `account` filled in. */
async function openPage({ account, viewport }) {
  const context = await browser.newContext({ viewport: viewport ?? { width: 1000, height: 900 } });
  const page = await context.newPage();
  const problems = [];
  page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
  page.on("console", (m) => { if (m.type() === "error") problems.push(`console: ${m.text()}`); });
  await page.goto(worker.url);
  await page.waitForSelector("html[data-ready=true]");
  await page.getByLabel("Account ID").fill(account.id);
  await page.getByLabel("API token").fill(emu.api_token);
  return { context, page, problems };
}

const button = (page, name) => page.getByRole("button", { name, exact: true });
const dialogButton = (page, name) => page.getByRole("dialog").getByRole("button", { name, exact: true });
const shot = (page, name) => page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
const select = (page, id) => page.getByRole("checkbox", { name: `Select ${id}`, exact: true });
const byId = (state) => new Map(state.certificates.map((c) => [c.id, c]));

async function listAll(page, n) {
  await button(page, "List certificates").click();
  await page.waitForFunction((count) => document.querySelectorAll("#certificates tbody tr").length === count, n);
}

/** Record, in the page, every value the bar takes and every text the live region is given. */
async function watchBulk(page) {
  await page.evaluate(() => {
    window.__bar = [];
    window.__live = [];
    const bar = document.getElementById("bulk-bar");
    const live = document.getElementById("bulk-live");
    new MutationObserver(() => window.__bar.push([bar.value, bar.max])).observe(bar, { attributes: true });
    new MutationObserver(() => window.__live.push(live.textContent)).observe(live, { childList: true, characterData: true, subtree: true });
  });
}

const summaryText = (page) => page.locator("#result-summary").innerText();

describe("Retire selected", () => {
  test("the fleet: in-use and custom refused, the rest deleted once each, progress to the total", async (t) => {
    const acct = await emu.account({ seed: "fleet" });
    const C = acct.certificates;
    const { page, context, problems } = await openPage({ account: acct });
    await listAll(page, 16);
    // The list shows which certificate is in use, and the type, and says those are refused.
    const inUseRow = page.locator(`#certificates tbody tr[data-id="${C.in_use.id}"]`);
    assert.equal(await inUseRow.locator('[data-col="in_use"]').innerText(), "yes");
    assert.match(await inUseRow.innerText(), /in use by TLS inspection: refused if selected/);
    const customRow = page.locator(`#certificates tbody tr[data-id="${C.custom.id}"]`);
    assert.equal(await customRow.locator('[data-col="type"]').innerText(), "custom");
    assert.match(await customRow.innerText(), /custom: refused if selected/);
    // Expired certificates say so (the fleet's expires_on are relative to now).
    const expiredRow = page.locator(`#certificates tbody tr[data-id="${C.inactive_expired_1.id}"]`);
    assert.match(await expiredRow.innerText(), /\(expired\)/);
    assert.doesNotMatch(await page.locator(`#certificates tbody tr[data-id="${C.inactive_1.id}"]`).innerText(), /expired/);

    const eligible = ["available_1", "available_2", "inactive_1", "inactive_expired_1", "pending_deletion_1", "pending_deployment"]
      .map((role) => C[role].id);
    const refused = [C.in_use.id, C.custom.id];
    for (const id of [...refused, ...eligible.slice(1)]) await select(page, id).check();
    // One by keyboard: focus and Space.
    await select(page, eligible[0]).focus();
    await page.keyboard.press("Space");
    assert.equal(await select(page, eligible[0]).isChecked(), true);
    assert.match(await page.locator("#selection-count").innerText(), /^8 of 16 selected$/);
    await shot(page, "20-bulk-before");
    const before = byId(await emu.state(acct.id));

    await watchBulk(page);
    await button(page, "Retire selected").click();
    const dialog = page.getByRole("dialog");
    await dialog.waitFor();
    const asked = await dialog.innerText();
    assert.match(asked, /Retire 8 certificates\?/, "the confirmation names the count");
    assert.match(asked, /2 of them are in use or custom/);
    await shot(page, "21-bulk-confirm");
    assert.deepEqual(await emu.log(acct.id).then((l) => l.filter((r) => r.method !== "GET")), [], "nothing before the confirmation");
    await dialogButton(page, "Retire 8 certificates").click();

    // During: a row deactivating or waiting, the bar part way.
    await page.locator('#certificates .step[data-step="waiting"]').first().waitFor();
    await shot(page, "22-bulk-during");
    await page.locator("#result-heading", { hasText: "Retire selected: summary" }).waitFor({ timeout: 30_000 });
    await shot(page, "23-bulk-after");

    assert.equal(await summaryText(page), "Deleted 6, refused 2, failed 0.");
    const bar = await page.evaluate(() => ({ value: document.getElementById("bulk-bar").value, max: document.getElementById("bulk-bar").max }));
    assert.deepEqual(bar, { value: 8, max: 8 }, "the bar reached the total");
    assert.match(await page.locator("#bulk-count").innerText(), /^8 of 8 certificates finished/);
    const seen = await page.evaluate(() => ({ bar: window.__bar, live: window.__live }));
    const values = seen.bar.map(([v]) => v);
    assert.deepEqual(values, [...values].sort((a, b) => a - b), "the bar only moves forward");
    assert.ok(values.includes(4), "the bar showed a count part way");
    // The live region: the start, a few milestones and the end, not every event.
    assert.ok(seen.live.length <= 8 && seen.live.length < seen.bar.length / 2,
      `announced ${seen.live.length} times for ${seen.bar.length} bar updates: ${JSON.stringify(seen.live)}`);
    assert.equal(seen.live.at(-1), "Deleted 6, refused 2, failed 0.");
    assert.equal(await page.locator("#bulk-live").getAttribute("aria-live"), "polite");

    // Refused, each with its reason.
    const refusedList = await page.locator("#result ul.refused").innerText();
    assert.match(refusedList, new RegExp(`${C.in_use.id}: CertificateInUseError — in use by Gateway TLS inspection`));
    assert.match(refusedList, new RegExp(`${C.custom.id}: UnsupportedCertificateError — a custom certificate`));
    // The rows: deleted ones struck out and disabled, refused ones say so.
    for (const id of eligible) {
      const row = page.locator(`#certificates tbody tr[data-id="${id}"]`);
      assert.match(await row.getAttribute("class"), /deleted/);
      assert.equal(await row.locator(".step").textContent(), "deleted");
      assert.equal(await select(page, id).isDisabled(), true);
    }
    assert.equal(await inUseRow.locator(".step").textContent(), "refused: in use");
    assert.equal(await customRow.locator(".step").textContent(), "refused: custom");

    // The API: each eligible one deleted exactly once, the refused ones untouched.
    const state = await emu.state(acct.id);
    const now = byId(state);
    for (const id of eligible) {
      assert.equal(state.deleted[id], 1, `${id} deleted once`);
      assert.ok(!now.has(id));
    }
    for (const id of refused) assert.deepEqual(now.get(id), before.get(id), `${id} untouched`);
    assert.equal(state.certificates.length, 10);
    const log = await emu.log(acct.id);
    for (const id of refused) {
      assert.deepEqual(log.filter((r) => r.path.includes(id)).map((r) => r.method), ["GET"], `${id}: only looked at`);
    }
    assert.ok(!log.some((r) => r.status === 429));
    assert.deepEqual(problems, []);
    t.diagnostic(`${log.length} API requests; live region told ${seen.live.length} times, bar moved ${seen.bar.length} times`);
    await context.close();
  });

  test("Cancel mid-run: what finished stays finished, the rest is failed with APIUserAbortError", async () => {
    // Deactivation takes a minute here, so four certificates sit waiting when Cancel is pressed.
    const acct = await emu.account({ seed: "fleet", deactivate_ms: 60_000 });
    const C = acct.certificates;
    const { page, context, problems } = await openPage({ account: acct });
    await listAll(page, 16);
    const slow = ["available_1", "available_2", "available_3", "available_4", "available_expired"].map((r) => C[r].id);
    const fast = ["inactive_1", "inactive_2", "inactive_3"].map((r) => C[r].id);
    for (const id of [...slow, ...fast]) await select(page, id).check();
    await button(page, "Retire selected").click();
    await dialogButton(page, "Retire 8 certificates").click();
    // The package runs 4 at once: once 4 wait, nothing more can start until one finishes.
    await page.waitForFunction(() => document.querySelectorAll('#certificates .step[data-step="waiting"]').length === 4);
    await shot(page, "24-bulk-cancel-pressed");
    await button(page, "Cancel").click();
    await page.locator("#result-heading", { hasText: "Retire selected: cancelled" }).waitFor();
    await shot(page, "25-bulk-cancelled");

    const summary = await summaryText(page);
    const [, deleted, refused, failed] = /^Deleted (\d+), refused (\d+), failed (\d+)\. Cancelled/.exec(summary).map(Number);
    assert.equal(refused, 0);
    assert.equal(deleted + failed, 8, summary);
    assert.ok(failed >= 5, "the five slow ones (four waiting, one never started)");
    const names = await page.locator("#result ul.failed [data-error-name]").allInnerTexts();
    assert.equal(names.length, failed);
    assert.ok(names.every((n) => n === "APIUserAbortError"), names.join());
    assert.match(await page.locator("#result ul.failed").innerText(), /\(not started\)/);
    const failedIds = await page.locator("#result ul.failed li").evaluateAll((lis) => lis.map((li) => li.dataset.id));
    for (const id of slow) assert.ok(failedIds.includes(id), `${id} is failed`);
    // The API agrees: the failed ones are all still there, the deleted ones went once.
    const state = await emu.state(acct.id);
    const now = byId(state);
    for (const id of failedIds) {
      assert.ok(now.has(id), `${id} still exists`);
      assert.equal(state.deleted[id], undefined);
    }
    for (const id of fast.filter((i) => !failedIds.includes(i))) assert.equal(state.deleted[id], 1);
    // Failed ones stay selected to try again; the page is usable again.
    for (const id of failedIds) assert.equal(await select(page, id).isChecked(), true);
    assert.equal(await button(page, "Retire selected").isEnabled(), true);
    assert.equal(await button(page, "Cancel").isVisible(), false);
    assert.deepEqual(problems, []);
    await context.close();
  });

  test("a small rate-limit budget: no 429, all deleted", async (t) => {
    // 30 requests per 3 s for this account; retiring 14 takes about 45.
    const acct = await emu.account({ seed: "fleet", rate_limit: { limit: 30, window_ms: 3_000 } });
    const { page, context, problems } = await openPage({ account: acct });
    await listAll(page, 16);
    await page.getByRole("checkbox", { name: "Select all", exact: true }).check();
    assert.match(await page.locator("#selection-count").innerText(), /^16 of 16 selected$/);
    await button(page, "Retire selected").click();
    assert.match(await page.getByRole("dialog").innerText(), /Retire 16 certificates\?/);
    await dialogButton(page, "Retire 16 certificates").click();
    await page.locator("#result-heading", { hasText: "Retire selected: summary" }).waitFor({ timeout: 60_000 });
    assert.equal(await summaryText(page), "Deleted 14, refused 2, failed 0.");
    const log = await emu.log(acct.id);
    const limited = log.filter((r) => r.status === 429 || r.rate === "limited");
    assert.deepEqual(limited, [], "no request was answered 429");
    assert.ok(log.length > 30, `the budget was binding (${log.length} requests)`);
    const state = await emu.state(acct.id);
    assert.equal(state.certificates.length, 2);
    assert.ok(Object.values(state.deleted).every((n) => n === 1));
    assert.equal(Object.keys(state.deleted).length, 14);
    const spanS = (log.at(-1).t_us - log[0].t_us) / 1e6;
    t.diagnostic(`${log.length} requests in ${spanS.toFixed(1)} s, none limited`);
    assert.deepEqual(problems, []);
    await context.close();
  });

  test("at phone width (390 px), by keyboard", async () => {
    const acct = await emu.account({ seed: "fleet" });
    const C = acct.certificates;
    const { page, context, problems } = await openPage({ account: acct, viewport: { width: 390, height: 844 } });
    await listAll(page, 16);
    const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(await overflow() <= 0, "no horizontal scrolling with the list");
    await shot(page, "26-bulk-phone-list");
    for (const id of [C.inactive_1.id, C.inactive_2.id, C.in_use.id]) {
      await select(page, id).focus();
      await page.keyboard.press("Space");
    }
    await button(page, "Retire selected").focus();
    await page.keyboard.press("Enter");
    await page.getByRole("dialog").waitFor();
    await shot(page, "27-bulk-phone-confirm");
    // Focus starts on the dialog's Cancel; Tab reaches the confirm button.
    await page.keyboard.press("Tab");
    assert.equal(await page.evaluate(() => document.activeElement.textContent), "Retire 3 certificates");
    await page.keyboard.press("Enter");
    await page.locator("#result-heading", { hasText: "Retire selected: summary" }).waitFor({ timeout: 30_000 });
    assert.equal(await summaryText(page), "Deleted 2, refused 1, failed 0.");
    assert.ok(await overflow() <= 0, "no horizontal scrolling with the summary");
    await shot(page, "28-bulk-phone-after");
    assert.deepEqual(problems, []);
    await context.close();
  });
});

describe("Rotation", () => {
  test("Generate and activate, Turn on for TLS inspection, Deactivate and delete the old one", async (t) => {
    const acct = await emu.account();
    const old = acct.certificates.in_use.id;
    const { page, context, problems } = await openPage({ account: acct });
    // The limit is visible before anything is clicked.
    assert.match(await page.locator("#generate-limit").innerText(), /Only 3 certificates can be generated per account per day/);
    assert.equal(await page.locator("#generate-limit").isVisible(), true);

    // 1. Generate and activate.
    await button(page, "Generate and activate").click();
    const dialog = page.getByRole("dialog");
    await dialog.waitFor();
    assert.match(await dialog.innerText(), /Only 3 certificates can be generated per account per day/);
    await shot(page, "30-rotation-generate-confirm");
    assert.deepEqual(await emu.log(acct.id), [], "nothing sent before the confirmation");
    await dialogButton(page, "Generate and activate").click();
    await page.locator('#progress li[data-step="done"]').waitFor({ timeout: 30_000 });
    const steps = await page.locator("#progress li").evaluateAll((lis) => lis.map((li) => li.dataset.step));
    assert.deepEqual(steps.filter((s) => s !== "waiting"), ["creating", "activating", "done"]);
    const fresh = await page.locator('#result [data-field="id"]').innerText();
    assert.equal(await page.locator('#result [data-field="binding_status"]').innerText(), "available");
    let state = await emu.state(acct.id);
    let now = byId(state);
    assert.equal(now.get(fresh)?.binding_status, "available", "the new one is available in the API");
    assert.equal(now.get(fresh)?.in_use, false);
    assert.equal(now.get(old)?.in_use, true);
    assert.equal(state.limits.creations_24h, 1);
    await shot(page, "31-rotation-generated");

    // 2. Turn it on for TLS inspection.
    await page.getByLabel("Certificate ID").fill(fresh);
    await button(page, "Turn on for TLS inspection").click();
    await dialog.waitFor();
    const asked = await dialog.innerText();
    assert.match(asked, /Devices must already have received this certificate/);
    assert.match(asked, /up to 24 hours/);
    assert.match(asked, new RegExp(fresh));
    await shot(page, "32-rotation-turn-on-confirm");
    assert.ok(!(await emu.log(acct.id)).some((r) => r.method === "PATCH"), "no PATCH before the confirmation");
    await dialogButton(page, "Turn on").click();
    await page.locator('#progress li[data-step="done"]', { hasText: "TLS inspection uses this certificate" }).waitFor({ timeout: 30_000 });
    state = await emu.state(acct.id);
    now = byId(state);
    assert.equal(now.get(fresh)?.in_use, true, "the new one is in use");
    assert.equal(now.get(old)?.in_use, false, "the old one is not");
    assert.equal(state.configuration.settings.certificate.id, fresh);
    assert.equal((await emu.log(acct.id)).filter((r) => r.op === "patch_configuration").length, 1);
    assert.equal(await page.locator("#result-heading").innerText(), "Certificate in use");
    await shot(page, "33-rotation-turned-on");

    // 3. Deactivate and delete the old one.
    await page.getByLabel("Certificate ID").fill(old);
    await button(page, "Deactivate and delete").click();
    await dialog.waitFor();
    await dialogButton(page, "Confirm").click();
    await page.locator('#progress li[data-step="done"]', { hasText: "deleted" }).waitFor({ timeout: 30_000 });
    state = await emu.state(acct.id);
    now = byId(state);
    assert.ok(!now.has(old), "the old one is deleted");
    assert.equal(state.deleted[old], 1);
    assert.equal(now.get(fresh)?.in_use, true, "the new one is still in use");
    await shot(page, "34-rotation-old-retired");
    assert.deepEqual(problems, []);
    await context.close();
  });

  test("Turn on refuses a certificate that is not available, before any PATCH", async () => {
    const acct = await emu.account();
    const { page, context, problems } = await openPage({ account: acct });
    await page.getByLabel("Certificate ID").fill(acct.certificates.inactive.id);
    await button(page, "Turn on for TLS inspection").click();
    await page.getByRole("alert").getByText("CertificateNotAvailableError").waitFor();
    assert.match(await page.getByRole("alert").innerText(), /only an available certificate/i);
    assert.equal(await page.getByRole("dialog").isVisible(), false, "no confirmation offered");
    assert.equal(await page.locator("#result-heading").innerText(), "Certificate (not turned on)");
    await shot(page, "35-rotation-turn-on-refused");
    assert.deepEqual((await emu.log(acct.id)).map((r) => r.method), ["GET"], "only looked at: no PATCH");
    assert.deepEqual(problems, []);
    await context.close();
  });
});
