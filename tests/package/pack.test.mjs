// `npm pack` → install the tarball into a fresh project → import by name and delete a
// certificate on the emulator: what a user of the published package gets.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { after, before, test } from "node:test";
import { startEmulator } from "./support.mjs";

const run = promisify(execFile);
const root = fileURLToPath(new URL("../..", import.meta.url));
const npmEnv = { ...process.env, npm_config_update_notifier: "false", npm_config_fund: "false", npm_config_audit: "false" };

let emu;
let dir;
before(async () => {
  emu = await startEmulator();
  dir = await mkdtemp(join(tmpdir(), "cf-gateway-certs-pack-"));
});
after(async () => {
  await emu?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test("the packed tarball installs and works by name", { timeout: 120_000 }, async () => {
  const { stdout } = await run("npm", ["pack", "--json", "--pack-destination", dir], { cwd: root, env: npmEnv, maxBuffer: 16 << 20 });
  const [info] = JSON.parse(stdout.slice(stdout.indexOf("[")));
  const files = info.files.map((f) => f.path);
  for (const f of ["package.json", "js/index.d.ts", "js/node.js", "js/browser.js", "js/workerd.js", "js/inline.js",
    "pkg/cf_gateway_certs.js", "pkg/cf_gateway_certs_bg.wasm", "pkg/cf_gateway_certs_bg_inline.js",
    "bin/cf-gateway-certs.js"]) {
    assert.ok(files.includes(f), `tarball lists ${f} (has: ${files.join(", ")})`);
  }
  assert.ok(!files.some((f) => f.startsWith("src/") || f.startsWith("tests/") || f.startsWith("target/")), "no sources or tests");

  const project = join(dir, "app");
  await run("mkdir", ["-p", project]);
  await writeFile(join(project, "package.json"), JSON.stringify({ name: "app", version: "1.0.0", private: true, type: "module" }));
  await run("npm", ["install", join(dir, info.filename), "--no-audit", "--no-fund", "--offline", "--no-package-lock"], { cwd: project, env: npmEnv });
  const installed = JSON.parse(await readFile(join(project, "node_modules/cf-gateway-certs/package.json"), "utf8"));
  assert.equal(installed.name, "cf-gateway-certs");

  const acct = await emu.account();
  const cert = acct.certificates.inactive;
  const { certificates: [cert2] } = await emu.addCertificates(acct.id, { binding_status: "inactive" });
  await writeFile(join(project, "main.js"), `
    import { GatewayCertificates, deleteCertificate } from "cf-gateway-certs";
    const [url, token, account, id, id2] = process.argv.slice(2);
    const deleted = await deleteCertificate({ apiToken: token, baseUrl: url, accountId: account, certificateId: id });
    let name;
    try { await new GatewayCertificates({ apiToken: token, baseUrl: url }).get(id, { account_id: account }); }
    catch (e) { name = e.name; }
    const inline = await import("cf-gateway-certs/inline");
    const deletedInline = await new inline.GatewayCertificates({ apiToken: token, baseUrl: url }).delete(id2, { account_id: account });
    console.log(JSON.stringify({ deleted, name, deletedInline, url: import.meta.resolve("cf-gateway-certs"),
      inlineUrl: import.meta.resolve("cf-gateway-certs/inline") }));
  `);
  const out = await run(process.execPath, ["main.js", emu.url, emu.api_token, acct.id, cert.id, cert2.id], { cwd: project });
  const result = JSON.parse(out.stdout);
  assert.deepEqual(result.deleted, cert);
  assert.equal(result.name, "NotFoundError");
  assert.match(result.url, /node_modules\/cf-gateway-certs\/js\/node\.js$/, "the node condition was chosen");
  assert.equal(result.deletedInline.id, cert2.id, "cf-gateway-certs/inline works in Node");
  assert.match(result.inlineUrl, /node_modules\/cf-gateway-certs\/js\/inline\.js$/);
  assert.deepEqual((await emu.state(acct.id)).deleted, { [cert.id]: 1, [cert2.id]: 1 });

  // The command line, as `npx cf-gateway-certs` finds it: the linked bin of the installed package.
  const cli = await run(join(project, "node_modules/.bin/cf-gateway-certs"), ["list", "--json"], {
    cwd: project,
    env: { PATH: process.env.PATH, CLOUDFLARE_API_TOKEN: emu.api_token, CLOUDFLARE_ACCOUNT_ID: acct.id, CLOUDFLARE_API_BASE_URL: emu.url },
  });
  assert.deepEqual(JSON.parse(cli.stdout).map((c) => c.id).sort(),
    Object.values(acct.certificates).filter((c) => c.id !== cert.id && c.id !== cert2.id).map((c) => c.id).sort());
});
