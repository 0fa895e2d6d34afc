// Every command against the emulator: the requests it sends (the emulator's log), what it
// prints (readable, and --json as exactly one document), and its exit status.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { cliEnv, oneDocument, requests, runCli, startCliEmulator, READ_ONLY_TOKEN, WRONG_TOKEN, EMAIL, KEY, UNKNOWN_ID } from "./support.mjs";

let emu;
before(async () => { emu = await startCliEmulator(); });
after(async () => { await emu?.stop(); });

const SLOW = { activate_ms: 600000, deactivate_ms: 600000 }; // pending states stay pending
const certPath = (id) => `/gateway/certificates/${id}`;

/** A fresh account; `run(args, extraEnv)` runs the command line against it. */
async function setup(options = {}) {
  const acct = await emu.account(options);
  const run = (args, extra = {}, more = {}) => runCli(args, { env: cliEnv(emu, acct.id, extra), ...more });
  return { ...acct, run, log: () => requests(emu, acct.id) };
}

describe("list", () => {
  test("a table of every certificate; one GET", async () => {
    const a = await setup({ seed: "fleet", ...SLOW });
    const r = await a.run(["list"]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split("\n");
    assert.match(lines[0], /^ID\s+STATUS\s+IN USE\s+TYPE\s+EXPIRES$/);
    assert.equal(lines.length, 1 + 16);
    const inUse = lines.find((l) => l.startsWith(a.certificates.in_use.id));
    assert.match(inUse, /available\s+yes\s+gateway_managed\s+\d{4}-\d\d-\d\d$/);
    assert.match(lines.find((l) => l.startsWith(a.certificates.custom.id)), /\bcustom\b/);
    assert.match(lines.find((l) => l.startsWith(a.certificates.inactive_expired_1.id)), /inactive\s+no\s+gateway_managed\s+\S+ \(expired\)$/);
    assert.equal(r.stderr, "");
    assert.deepEqual(await a.log(), ["GET /gateway/certificates"]);
  });

  test("--json: the array as the API sent it", async () => {
    const a = await setup({ ...SLOW });
    const r = await a.run(["list", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const list = oneDocument(r.stdout);
    assert.ok(Array.isArray(list));
    assert.deepEqual(new Set(list.map((c) => c.id)), new Set(Object.values(a.certificates).map((c) => c.id)));
    assert.deepEqual(list.find((c) => c.id === a.certificates.inactive.id), a.certificates.inactive);
  });

  test("an empty account; --account wins over CLOUDFLARE_ACCOUNT_ID; the Global API key", async () => {
    const a = await setup({ seed: "empty" });
    const r = await runCli(["list", "--account", a.id], {
      env: cliEnv(emu, "0123456789abcdef0123456789abcdef", { CLOUDFLARE_API_TOKEN: undefined, CLOUDFLARE_EMAIL: EMAIL, CLOUDFLARE_API_KEY: KEY }),
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "No certificates.\n");
    const r2 = await a.run(["list", "--json"]);
    assert.deepEqual(oneDocument(r2.stdout), []);
    assert.deepEqual((await emu.log(a.id)).map((e) => e.auth), ["key", "token"]);
  });
});

describe("get, delete, activate, deactivate", () => {
  test("get: aligned fields, the PEM last; --json the certificate", async () => {
    const a = await setup(SLOW);
    const c = a.certificates.available;
    const r = await a.run(["get", c.id]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^id {14}${c.id}\nbinding_status {2}available\nin_use {10}false\n`));
    assert.match(r.stdout, /\ncertificate {5}-----BEGIN CERTIFICATE-----\n {16}/);
    const j = await a.run(["get", c.id, "--json"]);
    assert.deepEqual(oneDocument(j.stdout), c);
    assert.deepEqual(await a.log(), [`GET ${certPath(c.id)}`, `GET ${certPath(c.id)}`]);
  });

  test("delete an inactive certificate: one DELETE, the deleted certificate", async () => {
    const a = await setup(SLOW);
    const c = a.certificates.inactive;
    const r = await a.run(["delete", c.id, "--json"]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(oneDocument(r.stdout), c);
    assert.deepEqual(await a.log(), [`DELETE ${certPath(c.id)}`]);
    assert.deepEqual((await emu.state(a.id)).deleted, { [c.id]: 1 });
  });

  test("delete an available certificate: exit 1, stdout empty, a hint to use retire", async () => {
    const a = await setup(SLOW);
    const c = a.certificates.available;
    const r = await a.run(["delete", c.id]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /^CertificateNotInactiveError: .*HTTP 500/m);
    assert.match(r.stderr, /^hint: .*cf-gateway-certs retire <id>/m);
    assert.deepEqual(await a.log(), [`DELETE ${certPath(c.id)}`, `GET ${certPath(c.id)}`]);
  });

  test("activate and deactivate: one POST each", async () => {
    const a = await setup(SLOW);
    const r1 = await a.run(["activate", a.certificates.inactive.id, "--json"]);
    assert.equal(r1.code, 0, r1.stderr);
    assert.equal(oneDocument(r1.stdout).binding_status, "pending_deployment");
    const r2 = await a.run(["deactivate", a.certificates.available.id]);
    assert.equal(r2.code, 0, r2.stderr);
    assert.match(r2.stdout, /^binding_status {2}pending_deletion$/m);
    assert.deepEqual(await a.log(), [
      `POST ${certPath(a.certificates.inactive.id)}/activate`,
      `POST ${certPath(a.certificates.available.id)}/deactivate`,
    ]);
  });

  test("get of an unknown certificate: NotFoundError, exit 1", async () => {
    const a = await setup(SLOW);
    const r = await a.run(["get", UNKNOWN_ID]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /^NotFoundError: HTTP 404/m);
  });
});

describe("retire", () => {
  test("one: deactivate, wait, delete; the steps on stderr", async () => {
    const a = await setup({ activate_ms: 50, deactivate_ms: 50 });
    const c = a.certificates.available;
    const r = await a.run(["retire", c.id, "--poll-interval-ms", "20", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(oneDocument(r.stdout).id, c.id);
    for (const step of ["checking", "deactivating", "waiting", "deleting", "done"]) {
      assert.match(r.stderr, new RegExp(`^retire: ${step}`, "m"));
    }
    const log = await a.log();
    assert.equal(log[0], `GET ${certPath(c.id)}`);
    assert.equal(log[1], `POST ${certPath(c.id)}/deactivate`);
    assert.equal(log.at(-1), `DELETE ${certPath(c.id)}`);
    assert.ok(log.slice(2, -1).every((l) => l === `GET ${certPath(c.id)}`));
  });

  test("one in use: refused, exit 1, stdout empty, only a GET", async () => {
    const a = await setup(SLOW);
    const c = a.certificates.in_use;
    const r = await a.run(["retire", c.id, "--json"]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /^CertificateInUseError: /m);
    assert.match(r.stderr, /^hint: .*set-in-use/m);
    assert.deepEqual(await a.log(), [`GET ${certPath(c.id)}`]);
  });

  test("one custom: refused, exit 1", async () => {
    const a = await setup(SLOW);
    const r = await a.run(["retire", a.certificates.custom.id]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /^UnsupportedCertificateError: /m);
  });

  test("several, all deleted: exit 0 and a summary", async () => {
    const a = await setup({ seed: "fleet", activate_ms: 50, deactivate_ms: 50 });
    const ids = [a.certificates.inactive_1.id, a.certificates.available_1.id, a.certificates.inactive_2.id];
    const r = await a.run(["retire", ...ids, "--poll-interval-ms", "20"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Deleted 3, refused 0, failed 0 \(of 3\)\.$/m);
    for (const id of ids) assert.match(r.stdout, new RegExp(`^  deleted  ${id}$`, "m"));
    for (const id of ids) assert.match(r.stderr, new RegExp(`^\\[\\d/3\\] ${id} deleted$`, "m"));
    assert.deepEqual(Object.keys((await emu.state(a.id)).deleted).sort(), [...ids].sort());
  });

  test("several with a refusal and a failure: exit 3; --json errors as {name, message, status}", async () => {
    const a = await setup(SLOW);
    await emu.faults(a.id, [{ op: "delete", kind: "status", status: 403 }]);
    const ids = [a.certificates.inactive.id, a.certificates.in_use.id, a.certificates.custom.id];
    const r = await a.run(["retire", ...ids, "--json", "--concurrency", "1"]);
    assert.equal(r.code, 3, r.stderr);
    const result = oneDocument(r.stdout);
    assert.deepEqual(result.deleted, []);
    assert.deepEqual(result.refused.map((x) => [x.certificateId, x.error.name]), [
      [a.certificates.in_use.id, "CertificateInUseError"],
      [a.certificates.custom.id, "UnsupportedCertificateError"],
    ]);
    assert.equal(result.failed.length, 1);
    const { certificateId, error } = result.failed[0];
    assert.equal(certificateId, a.certificates.inactive.id);
    assert.deepEqual(Object.keys(error).sort(), ["message", "name", "status"]);
    assert.equal(error.name, "PermissionDeniedError");
    assert.equal(error.status, 403);
    assert.match(error.message, /HTTP 403/);
    assert.deepEqual(await a.log(), [
      `GET ${certPath(ids[0])}`, `DELETE ${certPath(ids[0])}`, `GET ${certPath(ids[1])}`, `GET ${certPath(ids[2])}`,
    ]);
  });

  test("Ctrl-C while waiting: abort; several -> the result and exit 3, one -> exit 1", async () => {
    const a = await setup({ seed: "fleet", ...SLOW });
    const ids = [a.certificates.available_1.id, a.certificates.available_2.id];
    let sent = false;
    const interrupt = (text, child) => {
      if (!sent && ids.every((id) => text.includes(`${id} waiting`))) { sent = true; child.kill("SIGINT"); }
    };
    const r = await a.run(["retire", ...ids, "--json", "--poll-interval-ms", "50"], {}, { onStderr: interrupt });
    assert.equal(r.code, 3, r.stderr);
    const result = oneDocument(r.stdout);
    assert.deepEqual(result.failed.map((x) => [x.certificateId, x.error.name]), ids.map((id) => [id, "APIUserAbortError"]));
    assert.match(r.stderr, /^Interrupted: stopping/m);
    assert.match(r.stderr, /^Stopped: 0 deleted, 2 not finished/m);
    assert.ok(!(await a.log()).some((l) => l.startsWith("DELETE")), "nothing deleted");

    let sentOne = false;
    const one = await a.run(["retire", a.certificates.available_3.id, "--poll-interval-ms", "50"], {}, {
      onStderr: (text, child) => { if (!sentOne && text.includes("retire: waiting")) { sentOne = true; child.kill("SIGINT"); } },
    });
    assert.equal(one.code, 1, one.stderr);
    assert.equal(one.stdout, "");
    assert.match(one.stderr, /^APIUserAbortError: /m);
  });
});

describe("cleanup", () => {
  test("without --yes: the plan for every certificate, only GETs sent", async () => {
    const a = await setup({ seed: "fleet", ...SLOW });
    const r = await a.run(["cleanup"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Retire \(6\):$/m);
    assert.match(r.stdout, /^Keep \(10\):$/m);
    const c = a.certificates;
    for (const role of ["inactive_1", "inactive_2", "inactive_3", "inactive_expired_1", "inactive_expired_2", "inactive_expired_3"]) {
      assert.match(r.stdout.split("Keep (")[0], new RegExp(`^    ${c[role].id}  inactive`, "m"), role);
    }
    // Kept certificates are grouped under why they are kept.
    const why = {};
    let heading;
    for (const l of r.stdout.split("Keep (")[1].split("\n")) {
      if (/^  \S.*:$/.test(l)) heading = l.trim().slice(0, -1);
      else if (/^    [0-9a-f]{8}-/.test(l)) why[l.trim().split(" ")[0]] = heading;
    }
    assert.equal(Object.keys(why).length, 10);
    assert.equal(why[c.in_use.id], "in use by Gateway TLS inspection");
    assert.equal(why[c.custom.id], "custom certificate: not deleted through this API");
    assert.equal(why[c.available_1.id], "binding status available: not selected (--status inactive)");
    assert.equal(why[c.pending_deletion_1.id], "binding status pending_deletion: not selected (--status inactive)");
    for (const { id } of Object.values(c)) assert.equal(r.stdout.split(id).length, 2, `${id} listed once`);
    assert.match(r.stderr, /Nothing was changed\. Run again with --yes to retire 6 certificates\./);
    assert.deepEqual(await a.log(), ["GET /gateway/certificates"]);
  });

  test("--json plan: {retire, keep}; --status and --expired select; every certificate once", async () => {
    const a = await setup({ seed: "fleet", ...SLOW });
    const c = a.certificates;
    const r = await a.run(["cleanup", "--json", "--status", "inactive,available", "--expired"]);
    assert.equal(r.code, 0, r.stderr);
    const plan = oneDocument(r.stdout);
    assert.deepEqual(Object.keys(plan).sort(), ["keep", "retire"]);
    const expected = ["available_expired", "inactive_expired_1", "inactive_expired_2", "inactive_expired_3"].map((k) => c[k].id);
    assert.deepEqual(plan.retire.map((x) => x.id).sort(), expected.sort());
    assert.equal(plan.retire.length + plan.keep.length, 16);
    const all = [...plan.retire.map((x) => x.id), ...plan.keep.map((x) => x.certificate.id)];
    assert.deepEqual(all.sort(), Object.values(c).map((x) => x.id).sort());
    const why = Object.fromEntries(plan.keep.map((k) => [k.certificate.id, k.reason]));
    assert.equal(why[c.in_use.id], "in use by Gateway TLS inspection");
    assert.match(why[c.custom.id], /^custom certificate/);
    assert.equal(why[c.inactive_1.id], "not expired (--expired)");
    assert.match(why[c.pending_deletion_1.id], /^binding status pending_deletion/);
    // even --status available,... never selects the one in use or the custom one
    const r2 = await a.run(["cleanup", "--json", "--status", "available,pending_deployment,pending_deletion,inactive"]);
    const plan2 = oneDocument(r2.stdout);
    assert.deepEqual(plan2.keep.map((k) => k.certificate.id).sort(), [c.in_use.id, c.custom.id].sort());
    assert.deepEqual(await a.log(), ["GET /gateway/certificates", "GET /gateway/certificates"]);
  });

  test("--yes: retires the selection, prints the summary; --json the retireMany result", async () => {
    const a = await setup({ seed: "fleet", ...SLOW });
    const c = a.certificates;
    const r = await a.run(["cleanup", "--yes", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const result = oneDocument(r.stdout);
    const selected = ["inactive_1", "inactive_2", "inactive_3", "inactive_expired_1", "inactive_expired_2", "inactive_expired_3"].map((k) => c[k].id);
    assert.deepEqual(result.deleted.map((x) => x.id).sort(), [...selected].sort());
    assert.deepEqual(result.refused, []);
    assert.deepEqual(result.failed, []);
    assert.match(r.stderr, /^Retire \(6\):$/m);
    assert.deepEqual(Object.keys((await emu.state(a.id)).deleted).sort(), [...selected].sort());
    const log = await a.log();
    assert.equal(log[0], "GET /gateway/certificates");
    assert.deepEqual(log.filter((l) => l.startsWith("DELETE")).sort(), selected.map((id) => `DELETE ${certPath(id)}`).sort());
    assert.ok(!log.some((l) => l.includes(c.in_use.id) || l.includes(c.custom.id)), "in use and custom untouched");

    const again = await a.run(["cleanup", "--yes"]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /^Deleted 0, refused 0, failed 0 \(of 0\)\.$/m);
  });

  test("--yes with a failure: exit 3 and the summary names it", async () => {
    const a = await setup({ seed: "fleet", ...SLOW });
    await emu.faults(a.id, [{ op: "delete", kind: "status", status: 403 }]);
    const r = await a.run(["cleanup", "--yes", "--concurrency", "1", "--expired"]);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stdout, /^Deleted 2, refused 0, failed 1 \(of 3\)\.$/m);
    assert.match(r.stdout, /^  failed   [0-9a-f-]{36}  PermissionDeniedError: HTTP 403/m);
  });
});

describe("create and set-in-use", () => {
  test("create: one POST with validity_period_days; --activate waits for available", async () => {
    const a = await setup({ seed: "empty", activate_ms: 50, deactivate_ms: 50 });
    const r = await a.run(["create", "--validity-days", "30", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const cert = oneDocument(r.stdout);
    assert.equal(cert.binding_status, "inactive");
    assert.match(r.stderr, new RegExp(`Next: cf-gateway-certs activate ${cert.id}`));
    const r2 = await a.run(["create", "--activate", "--poll-interval-ms", "20"]);
    assert.equal(r2.code, 0, r2.stderr);
    assert.match(r2.stdout, /^binding_status {2}available$/m);
    for (const step of ["creating", "activating", "done"]) assert.match(r2.stderr, new RegExp(`^create: ${step}`, "m"));
    const log = await a.log();
    assert.deepEqual(log.slice(0, 3), ["POST /gateway/certificates", "POST /gateway/certificates", log[2]]);
    assert.match(log[2], /^POST \/gateway\/certificates\/[0-9a-f-]{36}\/activate$/);
    const bodies = (await emu.log(a.id)).filter((e) => e.op === "create");
    assert.equal(bodies.length, 2);
  });

  test("set-in-use: PATCH of the configuration, waits for in_use", async () => {
    const a = await setup({ activate_ms: 50, deactivate_ms: 50 });
    const c = a.certificates.available;
    const r = await a.run(["set-in-use", c.id, "--poll-interval-ms", "20", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(oneDocument(r.stdout).in_use, true);
    assert.match(r.stderr, /^set-in-use: switching/m);
    const log = await a.log();
    assert.ok(log.includes("PATCH /gateway/configuration"), log.join("\n"));
    assert.equal((await emu.state(a.id)).configuration.settings.certificate.id, c.id);
  });

  test("set-in-use of an inactive certificate: refused before the PATCH, exit 1, hint", async () => {
    const a = await setup(SLOW);
    const r = await a.run(["set-in-use", a.certificates.inactive.id]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /^CertificateNotAvailableError: /m);
    assert.match(r.stderr, /^hint: .*activate/m);
    assert.ok(!(await a.log()).some((l) => l.startsWith("PATCH")));
  });
});

describe("API and network failures: exit 1, stdout empty, <name>: <message> and a hint", () => {
  test("403 with a read-only token", async () => {
    const a = await setup(SLOW);
    const r = await a.run(["delete", a.certificates.inactive.id], { CLOUDFLARE_API_TOKEN: READ_ONLY_TOKEN });
    assert.equal(r.code, 1);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /^PermissionDeniedError: HTTP 403/m);
    assert.match(r.stderr, /^hint: .*Zero Trust Write/m);
  });

  test("401 with an unknown token", async () => {
    const a = await setup(SLOW);
    const r = await a.run(["list", "--json"], { CLOUDFLARE_API_TOKEN: WRONG_TOKEN });
    assert.equal(r.code, 1);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /^AuthenticationError: HTTP 401/m);
    assert.match(r.stderr, /^hint: check CLOUDFLARE_API_TOKEN/m);
  });

  test("429 with a long Retry-After: how long to wait", async () => {
    const a = await setup(SLOW);
    await emu.faults(a.id, [{ op: "list", kind: "status", status: 429, headers: { "Retry-After": "120" } }]);
    const r = await a.run(["list"]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /^RateLimitError: /m);
    assert.match(r.stderr, /^hint: .*wait 2 min 0 s \(until /m);
  });

  test("a 502 HTML page, and no server at all", async () => {
    const a = await setup(SLOW);
    await emu.faults(a.id, [{ op: "get", kind: "html", status: 502 }]);
    const r = await a.run(["get", a.certificates.inactive.id, "--max-retries", "0"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^InternalServerError: HTTP 502/m);
    const r2 = await a.run(["list", "--max-retries", "0"], { CLOUDFLARE_API_BASE_URL: "http://127.0.0.1:9/client/v4" });
    assert.equal(r2.code, 1);
    assert.equal(r2.stdout, "");
    assert.match(r2.stderr, /^APIConnectionError: /m);
    assert.match(r2.stderr, /^hint: check the network/m);
  });
});

describe("--help and --version", () => {
  test("global and per command help on stdout, each with an example; nothing sent", async () => {
    const a = await setup(SLOW);
    const env = cliEnv(emu, a.id, { CLOUDFLARE_API_TOKEN: undefined }); // help needs no credentials
    const g = await runCli(["--help"], { env });
    assert.equal(g.code, 0);
    for (const cmd of ["list", "get", "delete", "retire", "cleanup", "create", "activate", "deactivate", "set-in-use"]) {
      assert.match(g.stdout, new RegExp(`^  ${cmd}\\b`, "m"), cmd);
      for (const args of [[cmd, "--help"], [cmd, "-h"], ["help", cmd]]) {
        const r = await runCli(args, { env });
        assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
        assert.match(r.stdout, new RegExp(`^Usage: cf-gateway-certs ${cmd}`), args.join(" "));
        assert.match(r.stdout, new RegExp(`\nExample:\n  cf-gateway-certs ${cmd}`), args.join(" "));
        assert.match(r.stdout, /CLOUDFLARE_API_TOKEN/);
      }
    }
    assert.match(g.stdout, /\nExample:\n/);
    const v = await runCli(["--version"], { env });
    assert.equal(v.code, 0);
    const { version } = JSON.parse(await (await import("node:fs/promises")).readFile(new URL("../../package.json", import.meta.url), "utf8"));
    assert.equal(v.stdout, `${version}\n`);
    assert.deepEqual(await a.log(), []);
  });
});
