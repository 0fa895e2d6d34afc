// Bad input: every case exits 2, prints nothing on stdout, names the problem on stderr and
// sends no request. And no credential reaches stdout or stderr on any path (runCli checks
// every run), with either scheme.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { cliEnv, runCli, startCliEmulator, EMAIL, KEY, TOKEN, UNKNOWN_ID, WRONG_TOKEN } from "./support.mjs";

let emu;
before(async () => { emu = await startCliEmulator(); });
after(async () => { await emu?.stop(); });

const ID = UNKNOWN_ID;
const KEY_ENV = { CLOUDFLARE_API_TOKEN: undefined, CLOUDFLARE_EMAIL: EMAIL, CLOUDFLARE_API_KEY: KEY };

// [label, args, extra environment, what stderr must say]
const CASES = [
  ["no command", [], {}, /^UsageError: no command given/],
  ["unknown command", ["remove", ID], {}, /^UsageError: unknown command "remove"/],
  ["unknown option", ["list", "--colour"], {}, /^UsageError: unknown option --colour/],
  ["unknown short option", ["list", "-x"], {}, /^UsageError: unknown option -x/],
  ["option of another command", ["list", "--expired"], {}, /^UsageError: option --expired does not apply to list/],
  ["value for a boolean option", ["list", "--json=yes"], {}, /^UsageError: Option '--json' does not take an argument/],
  ["option without its value", ["list", "--account"], {}, /^UsageError: Option '--account <value>' argument missing/],
  ["missing id", ["get"], {}, /^UsageError: get needs a certificate id/],
  ["missing ids", ["retire"], {}, /^UsageError: retire needs at least one certificate id/],
  ["extra id", ["delete", ID, ID], {}, /^UsageError: delete takes one certificate id, got 2/],
  ["an id where none is taken", ["list", ID], {}, /^UsageError: list takes no certificate id/],
  ["non-UUID id", ["get", "not-a-uuid"], {}, /^InvalidInputError: certificateId must be a UUID/],
  ["non-UUID id among several", ["retire", ID, "f174e90a-fafe-4643-bbbc"], {}, /^InvalidInputError: certificateId must be a UUID/],
  ["no account", ["list"], { CLOUDFLARE_ACCOUNT_ID: undefined }, /^UsageError: no account: give --account <id> or set CLOUDFLARE_ACCOUNT_ID/],
  ["bad account", ["list", "--account", "not/an-account"], {}, /^InvalidInputError: account_id must be/],
  ["bad --timeout-ms", ["list", "--timeout-ms", "soon"], {}, /^UsageError: --timeout-ms must be a whole number/],
  ["negative --max-retries", ["list", "--max-retries=-1"], {}, /^UsageError: --max-retries must be a whole number/],
  ["fractional --concurrency", ["retire", ID, ID, "--concurrency", "1.5"], {}, /^UsageError: --concurrency must be a whole number/],
  ["--concurrency 0 (cleanup lists nothing first)", ["cleanup", "--yes", "--concurrency", "0"], {}, /^InvalidInputError: concurrency/],
  ["--concurrency 33", ["retire", ID, ID, "--concurrency", "33"], {}, /^InvalidInputError: concurrency/],
  ["bad --poll-interval-ms", ["retire", ID, "--poll-interval-ms", "1e3"], {}, /^UsageError: --poll-interval-ms must be a whole number/],
  ["--validity-days 0", ["create", "--validity-days", "0"], {}, /^InvalidInputError: validity_period_days/],
  ["--validity-days too large", ["create", "--validity-days", "10951"], {}, /^InvalidInputError: validity_period_days/],
  ["bad --status", ["cleanup", "--status", "inactive,gone"], {}, /^UsageError: --status: unknown binding status "gone"/],
  ["bad base URL", ["list", "--base-url", "ftp://example.com"], {}, /^InvalidInputError: baseUrl/],
  ["base URL with user info", ["list"], { CLOUDFLARE_API_BASE_URL: "https://user:pass@example.com/client/v4" }, /^InvalidInputError: baseUrl/],
  ["no credentials", ["list"], { CLOUDFLARE_API_TOKEN: undefined }, /^UsageError: no credentials: set CLOUDFLARE_API_TOKEN/],
  ["empty token", ["list"], { CLOUDFLARE_API_TOKEN: "" }, /^UsageError: no credentials/],
  ["two schemes", ["list"], { CLOUDFLARE_EMAIL: EMAIL, CLOUDFLARE_API_KEY: KEY }, /^UsageError: two credential schemes/],
  ["token and email", ["list"], { CLOUDFLARE_EMAIL: EMAIL }, /^UsageError: two credential schemes/],
  ["email without key", ["list"], { CLOUDFLARE_API_TOKEN: undefined, CLOUDFLARE_EMAIL: EMAIL }, /^UsageError: CLOUDFLARE_API_KEY is not set/],
  ["key without email", ["list"], { CLOUDFLARE_API_TOKEN: undefined, CLOUDFLARE_API_KEY: KEY }, /^UsageError: CLOUDFLARE_EMAIL is not set/],
  ["a token with a line break", ["list"], { CLOUDFLARE_API_TOKEN: `${TOKEN}\nX-Other: 1` }, /^InvalidInputError: /],
  ["--token flag", ["list", "--token", WRONG_TOKEN], {}, /^UsageError: --token: credentials are not taken from flags.*set CLOUDFLARE_API_TOKEN/],
  ["--token= flag", ["list", `--token=${WRONG_TOKEN}`], {}, /^UsageError: --token: .*CLOUDFLARE_API_TOKEN/],
  ["--api-token flag", ["list", "--api-token", WRONG_TOKEN], {}, /^UsageError: --api-token: .*CLOUDFLARE_API_TOKEN/],
  ["--api-key flag", ["list", "--api-key", KEY], KEY_ENV, /^UsageError: --api-key: .*CLOUDFLARE_EMAIL and CLOUDFLARE_API_KEY/],
  ["--key flag", ["list", "--key", KEY], KEY_ENV, /^UsageError: --key: .*CLOUDFLARE_API_KEY/],
  ["--email flag", ["list", "--email", EMAIL], KEY_ENV, /^UsageError: --email: .*CLOUDFLARE_EMAIL/],
  ["--email= flag after the id", ["get", ID, `--email=${EMAIL}`], KEY_ENV, /^UsageError: --email: .*CLOUDFLARE_EMAIL/],
];

test(`${CASES.length} bad inputs: exit 2, stdout empty, nothing sent (with a token, then with a Global API key)`, async () => {
  const acct = await emu.account({ seed: "fleet" });
  for (const scheme of [{}, KEY_ENV]) {
    for (const [label, args, extra, expected] of CASES) {
      const credentialCase = Object.keys(extra).some((k) => k.startsWith("CLOUDFLARE_") && k !== "CLOUDFLARE_ACCOUNT_ID" && k !== "CLOUDFLARE_API_BASE_URL");
      const env = cliEnv(emu, acct.id, { ...(credentialCase ? {} : scheme), ...extra });
      const r = await runCli(args, { env });
      assert.equal(r.code, 2, `${label}: exit status (stderr: ${r.stderr})`);
      assert.equal(r.stdout, "", `${label}: stdout`);
      assert.match(r.stderr, expected, label);
      assert.match(r.stderr, /^hint: nothing was sent/m, `${label}: hint`);
    }
  }
  assert.deepEqual(await emu.log(acct.id), [], "no request reached the API");
});

test("secrets never printed: every command's failure and success paths, both schemes", async () => {
  // runCli asserts on every run that no part of TOKEN, EMAIL, KEY or the other test tokens
  // appears on stdout or stderr; here the failures that carry the most text.
  for (const scheme of [{}, KEY_ENV]) {
    const a = await emu.account({ activate_ms: 50, deactivate_ms: 50 });
    const run = (args, extra = {}) => runCli(args, { env: cliEnv(emu, a.id, { ...scheme, ...extra }) });
    // An API (or proxy) that echoes the credentials this run sends.
    const sent = scheme.CLOUDFLARE_EMAIL ? `${EMAIL} ${KEY}` : TOKEN;
    await emu.faults(a.id, [
      { op: "get", kind: "status", status: 400, body: `{"success":false,"errors":[{"code":1001,"message":"echo ${sent}"}],"messages":[],"result":null}` },
    ]);
    const echoed = await run(["get", a.certificates.available.id]);
    assert.equal(echoed.code, 1);
    assert.match(echoed.stderr, /^BadRequestError: .*\[redacted\]/m, "a message holding a credential is scrubbed");
    await emu.faults(a.id, [{ op: "list", kind: "html", status: 502, body: `<html>${sent}</html>` }]);
    assert.equal((await run(["list", "--max-retries", "0"])).code, 1);
    for (const args of [["list"], ["list", "--json"], ["get", a.certificates.in_use.id, "--json"], ["retire", a.certificates.in_use.id],
      ["retire", a.certificates.in_use.id, a.certificates.custom.id, a.certificates.inactive.id, "--json"], ["cleanup"], ["cleanup", "--yes", "--json"],
      ["delete", UNKNOWN_ID], ["set-in-use", a.certificates.pending_deletion.id]]) {
      const r = await run(args);
      assert.ok([0, 1, 3].includes(r.code), `${args.join(" ")}: ${r.code} ${r.stderr}`);
    }
    assert.equal((await run(["list"], { CLOUDFLARE_API_TOKEN: scheme.CLOUDFLARE_EMAIL ? undefined : WRONG_TOKEN, ...(scheme.CLOUDFLARE_EMAIL ? { CLOUDFLARE_API_KEY: WRONG_TOKEN } : {}) })).code, 1);
  }
});
