// Many at once and rotation through the package's own name, in Node, against the emulator:
// retireMany within a small rate-limit budget (no 429) and without pacing headers, its
// validation, abort and progress; createAndActivate, setInUse and a whole rotation.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { GatewayCertificates } from "cf-gateway-certs";
import { checkError, rejection, startEmulator, UNKNOWN_ID } from "./support.mjs";

let emu;
before(async () => { emu = await startEmulator(); });
after(async () => { await emu?.stop(); });

const client = (extra = {}) => new GatewayCertificates({ apiToken: emu.api_token, baseUrl: emu.url, ...extra });
const fast = { pollIntervalMs: 20 };

/** A fleet account with `extra` more certificates, half inactive, half available. */
async function fleet(extra = 0, limits) {
  const acct = await emu.account({ seed: "fleet" });
  if (extra > 0) {
    await emu.addCertificates(acct.id, { count: Math.ceil(extra / 2), binding_status: "inactive" });
    await emu.addCertificates(acct.id, { count: Math.floor(extra / 2), binding_status: "available" });
  }
  if (limits) await emu.limits(acct.id, limits);
  const all = (await emu.state(acct.id)).certificates;
  const eligible = all.filter((c) => !c.in_use && c.type !== "custom").map((c) => c.id);
  return { acct, ids: all.map((c) => c.id), eligible, roles: acct.certificates };
}

async function checkDeletedOnce(acct, ids) {
  const { deleted } = await emu.state(acct.id);
  assert.deepEqual(Object.keys(deleted).sort(), [...ids].sort());
  assert.ok(Object.values(deleted).every((n) => n === 1), "each deleted exactly once");
}

describe("retireMany", () => {
  test("a few dozen certificates within a small budget: no 429, each eligible one deleted once", async () => {
    const { acct, ids, eligible, roles } = await fleet(24, { rate_limit: { limit: 20, window_ms: 1000 } });
    assert.equal(ids.length, 40);
    const c = client();
    const result = await c.retireMany(ids, { account_id: acct.id }, { ...fast, concurrency: 8 });
    assert.deepEqual(result.deleted.map((d) => d.id).sort(), [...eligible].sort());
    assert.deepEqual(result.refused.map((r) => [r.certificateId, r.error.name]).sort(), [
      [roles.in_use.id, "CertificateInUseError"],
      [roles.custom.id, "UnsupportedCertificateError"],
    ].sort());
    assert.deepEqual(result.failed, []);
    await checkDeletedOnce(acct, eligible);
    const log = await emu.log(acct.id);
    assert.equal(log.filter((e) => e.status === 429).length, 0, "no request over the budget");
    // The budget was the limit: it took more than one window.
    const windows = new Set(log.map((e) => e.window_start_us));
    assert.ok(windows.size >= Math.ceil(log.length / 20), `${log.length} requests in ${windows.size} windows`);
    const { ratelimit, ratelimitPolicy } = c.rateLimitHeaders();
    assert.match(ratelimit, /^"default";r=\d+;t=\d+$/);
    assert.equal(ratelimitPolicy, '"default";q=20;w=1');
  });

  test("the same fleet without pacing headers: still every eligible one deleted once", async () => {
    const { acct, ids, eligible } = await fleet(24, { ratelimit_headers: false, rate_limit: { limit: 1000, window_ms: 60000 } });
    const result = await client().retireMany(ids, { account_id: acct.id }, { ...fast, concurrency: 8 });
    assert.equal(result.deleted.length, eligible.length);
    assert.equal(result.refused.length, 2);
    assert.deepEqual(result.failed, []);
    await checkDeletedOnce(acct, eligible);
    const log = await emu.log(acct.id);
    assert.equal(log.filter((e) => e.status === 429).length, 0);
    assert.deepEqual(client().rateLimitHeaders(), {}, "a fresh client has seen none");
  });

  test("without pacing headers and over the limit: 429s are retried by Retry-After", async () => {
    const { acct, ids, eligible } = await fleet(0, { ratelimit_headers: false, rate_limit: { limit: 25, window_ms: 1000 } });
    const result = await client({ maxRetries: 4 }).retireMany(ids, { account_id: acct.id }, { ...fast, concurrency: 8 });
    // What a client without the headers can promise: nothing lost, nothing deleted twice.
    assert.equal(result.deleted.length + result.failed.length, eligible.length);
    const deleted = (await emu.state(acct.id)).deleted;
    assert.ok(Object.values(deleted).every((n) => n === 1));
    for (const f of result.failed) assert.equal(f.error.name, "RateLimitError");
  });

  test("every id in exactly one list, in the order given; progress counts to the total", async () => {
    const { acct, ids, roles } = await fleet();
    const given = [roles.custom.id, ...ids, UNKNOWN_ID, ids[3], ids[5].toUpperCase()];
    const events = [];
    const result = await client().retireMany(given, { account_id: acct.id }, { ...fast, onProgress: (e) => events.push(e) });
    const seen = [...result.deleted.map((d) => d.id), ...result.refused.map((r) => r.certificateId), ...result.failed.map((f) => f.certificateId)];
    assert.equal(seen.length, 17, "16 + the unknown one; the duplicates once");
    assert.equal(new Set(seen).size, 17);
    assert.deepEqual(result.failed.map((f) => [f.certificateId, f.error.name]), [[UNKNOWN_ID, "NotFoundError"]]);
    checkError(result.failed[0].error, "NotFoundError", { status: 404 });
    assert.deepEqual(result.refused.map((r) => r.certificateId), [roles.custom.id, roles.in_use.id], "the order given");
    assert.equal(result.refused[0].error.certificate.type, "custom");
    assert.match(result.refused[0].error.cfRay, /-EMU$/);
    assert.ok(events.every((e) => e.total === 17 && typeof e.certificateId === "string"));
    assert.deepEqual(events.map((e) => e.done), [...events.map((e) => e.done)].sort((a, b) => a - b), "done never goes back");
    assert.equal(events.at(-1).done, 17);
    const ends = events.filter((e) => ["done", "refused", "failed"].includes(e.step));
    assert.equal(ends.length, 17);
  });

  test("concurrency 1: one certificate at a time, in the order given", async () => {
    const { acct, ids, eligible, roles } = await fleet(4);
    const events = [];
    const result = await client().retireMany(ids, { account_id: acct.id }, { ...fast, concurrency: 1, onProgress: (e) => events.push(e) });
    assert.deepEqual(result.deleted.map((d) => d.id), eligible.filter((id) => ids.includes(id)));
    assert.deepEqual(result.refused.map((r) => r.certificateId).sort(), [roles.custom.id, roles.in_use.id].sort());
    assert.deepEqual(result.failed, []);
    await checkDeletedOnce(acct, eligible);
    // One lane: a certificate's events all come before the next one's.
    const order = events.map((e) => e.certificateId).filter((id, i, all) => i === 0 || all[i - 1] !== id);
    assert.deepEqual(order, ids, "each certificate's events in one run, in the order given");
    const log = await emu.log(acct.id);
    assert.ok(log.every((r) => r.method !== "PATCH" && r.method !== "PUT"), "nothing but GET, POST deactivate and DELETE");
  });

  test("validates every id and option before sending anything", async () => {
    const acct = await emu.account();
    const good = acct.certificates.inactive.id;
    const params = { account_id: acct.id };
    for (const [ids, options] of [
      [[good, "not-a-uuid"], undefined],
      [[good, 42], undefined],
      [good, undefined],
      [[good], { concurrency: 0 }],
      [[good], { concurrency: 33 }],
      [[good], { concurrency: "4" }],
      [[good], { pollIntervalMs: 5 }],
      [[good], { onProgress: "x" }],
    ]) {
      checkError(await rejection(client().retireMany(ids, params, options)), "InvalidInputError");
    }
    checkError(await rejection(client().retireMany([good], { account_id: "" })), "InvalidInputError");
    assert.deepEqual(await client().retireMany([], params), { deleted: [], refused: [], failed: [] });
    assert.deepEqual(await emu.log(acct.id), [], "nothing was sent");
  });

  test("abort: nothing new starts, the call resolves with what happened", async () => {
    const { acct, ids } = await fleet();
    const controller = new AbortController();
    const last = new Map();
    const result = await client().retireMany(ids, { account_id: acct.id }, {
      ...fast,
      concurrency: 2,
      signal: controller.signal,
      onProgress: (e) => {
        if (!["done", "refused", "failed"].includes(e.step)) last.set(e.certificateId, e.step);
        if (e.step === "done") controller.abort();
      },
    });
    const total = result.deleted.length + result.refused.length + result.failed.length;
    assert.equal(total, 16);
    assert.ok(result.deleted.length >= 1);
    const aborted = result.failed.filter((f) => f.error.name === "APIUserAbortError");
    assert.ok(aborted.length >= 12, `${aborted.length} aborted`);
    // Unfinished ones were not deleted, but for one whose DELETE was already on its way when
    // the abort came: the API may have done it (the answer was not waited for).
    const { deleted } = await emu.state(acct.id);
    for (const f of result.failed) {
      if (last.get(f.certificateId) === "deleting") assert.ok((deleted[f.certificateId] ?? 0) <= 1);
      else assert.equal(deleted[f.certificateId], undefined, `${f.certificateId} after ${last.get(f.certificateId)}`);
    }
  });
});

describe("rotation", () => {
  test("createAndActivate, setInUse, retire the old one: the emulator's state at each step", async () => {
    const acct = await emu.account();
    const params = { account_id: acct.id };
    const old = acct.certificates.in_use;
    const c = client();
    const steps = [];
    const fresh = await c.createAndActivate({ ...params, validity_period_days: 730 }, { ...fast, onProgress: (e) => steps.push(e.step) });
    assert.equal(fresh.binding_status, "available");
    assert.deepEqual(steps.slice(0, 2), ["creating", "activating"]);
    assert.equal(steps.at(-1), "done");
    let state = await emu.state(acct.id);
    assert.equal(state.certificates.find((x) => x.id === fresh.id).binding_status, "available");
    assert.equal(state.configuration.settings.certificate.id, old.id, "not turned on yet");

    checkError(await rejection(c.retire(old.id, params)), "CertificateInUseError", { api: true });
    const used = await c.setInUse(fresh.id, params, fast);
    assert.equal(used.in_use, true);
    state = await emu.state(acct.id);
    assert.equal(state.configuration.settings.certificate.id, fresh.id);
    assert.equal(state.certificates.find((x) => x.id === old.id).in_use, false);
    const patch = (await emu.log(acct.id)).filter((e) => e.method === "PATCH");
    assert.equal(patch.length, 1);
    assert.equal(patch[0].path, `/client/v4/accounts/${acct.id}/gateway/configuration`);

    const gone = await c.retire(old.id, params, fast);
    assert.equal(gone.id, old.id);
    state = await emu.state(acct.id);
    assert.deepEqual(state.deleted, { [old.id]: 1 });
  });

  test("setInUse refuses a certificate that is not available, before any PATCH", async () => {
    const acct = await emu.account();
    const err = await rejection(client().setInUse(acct.certificates.inactive.id, { account_id: acct.id }));
    checkError(err, "CertificateNotAvailableError", { api: true });
    assert.equal(err.certificate.binding_status, "inactive");
    assert.deepEqual((await emu.log(acct.id)).map((e) => e.method), ["GET"]);
  });

  test("create is sent once: the 3-per-day limit is a BadRequestError, not a retry", async () => {
    const acct = await emu.account();
    for (let i = 0; i < 3; i++) await client().create({ account_id: acct.id });
    const err = await rejection(client().createAndActivate({ account_id: acct.id }, fast));
    checkError(err, "BadRequestError", { status: 400 });
    assert.match(err.message, /Up to 3 certificates may be created in a 24 hour period/);
    assert.deepEqual((await emu.log(acct.id)).map((e) => e.method), ["POST", "POST", "POST", "POST"]);
  });
});
