// `import ... from "cf-gateway-certs"` in a Worker: bundled the way wrangler does (esbuild,
// conditions workerd/worker/browser, the .wasm left as a module import), run in workerd.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";
import { build } from "esbuild";
import { startEmulator } from "../support/emulator.mjs";
import { startPackageWorker } from "./support.mjs";

let emu;
let mf;
let dir;
let inputs;

before(async () => {
  emu = await startEmulator();
  dir = await mkdtemp(join(tmpdir(), "cf-gateway-certs-workerd-"));
  const outfile = join(dir, "worker.js");
  const result = await build({
    entryPoints: [fileURLToPath(new URL("./by-name.js", import.meta.url))],
    outfile,
    bundle: true,
    format: "esm",
    platform: "neutral",
    conditions: ["workerd", "worker", "browser"],
    metafile: true,
    logLevel: "silent",
    absWorkingDir: fileURLToPath(new URL("../..", import.meta.url)),
    plugins: [{
      name: "wasm-module",
      setup(b) {
        b.onResolve({ filter: /\.wasm$/ }, (a) => ({ path: relative(dirname(outfile), join(a.resolveDir, a.path)), external: true }));
      },
    }],
  });
  inputs = Object.keys(result.metafile.inputs);
  mf = await startPackageWorker({ scriptPath: outfile, modulesRoot: "/", emu });
});
after(async () => {
  await mf?.dispose();
  await emu?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test("the exports map's workerd condition is chosen", () => {
  assert.ok(inputs.includes("js/workerd.js"), `bundled: ${inputs}`);
  assert.ok(!inputs.includes("js/browser.js") && !inputs.includes("js/node.js"));
});

test("deleteCertificate by package name inside workerd", async () => {
  const acct = await emu.account();
  const cert = acct.certificates.inactive;
  const res = await mf.dispatchFetch("http://worker.test/", { method: "POST", body: JSON.stringify({ accountId: acct.id, certificateId: cert.id }) });
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  assert.deepEqual(body.certificate, cert);
  const again = await mf.dispatchFetch("http://worker.test/", { method: "POST", body: JSON.stringify({ accountId: acct.id, certificateId: cert.id }) });
  assert.deepEqual(await again.json(), { ok: false, name: "NotFoundError", status: 404 });
});
