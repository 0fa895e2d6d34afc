// The packed package in production builds of real bundlers, each run in headless Chromium:
// `npm pack` once; then per bundler a fresh project installs the tarball and that bundler
// (exact versions below), builds a tiny app that imports the package by name, and the built
// output, served from 127.0.0.1, deletes a certificate on the API emulator from the page.
//
//   Vite 7, webpack 5: import "cf-gateway-certs" (the wasm is emitted as an asset);
//   Rollup 4 (+ node-resolve), esbuild: import "cf-gateway-certs/inline" (the wasm is in the JS);
//   Vite 7's dev server: import "cf-gateway-certs" (the "development" condition: inline);
//   Rollup 4 with the main entry: the page is told to use /inline (Rollup copies no assets),
//   and with @web/rollup-plugin-import-meta-assets it works (the wasm as an asset).
//
// Needs the npm registry (or a warm npm cache) and Chromium. Prints each bundle's size.
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { createReadStream } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { extname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";
import { after, before, describe, test } from "node:test";
import { launchChromium } from "../support/browser.mjs";
import { startEmulator } from "../support/emulator.mjs";

const run = promisify(execFile);
const root = fileURLToPath(new URL("../..", import.meta.url));
const npmEnv = {
  ...process.env,
  npm_config_update_notifier: "false",
  npm_config_fund: "false",
  npm_config_audit: "false",
  npm_config_loglevel: "error",
};
delete npmEnv.NODE_ENV; // npm would leave the bundlers (devDependencies) out

// Exact versions: a new release of a bundler must not change what this suite proves.
const VERSIONS = {
  vite: "7.3.8", // Vite 8 needs a newer Node than 20
  webpack: "5.113.0",
  "webpack-cli": "7.3.1",
  rollup: "4.68.8",
  "@rollup/plugin-node-resolve": "16.0.3",
  "@web/rollup-plugin-import-meta-assets": "2.3.3",
  esbuild: "0.28.2",
};

// The app: one real delete from the page; the outcome lands in <pre id="out"> as JSON.
// No top-level await in the app itself, so it also builds as an IIFE (esbuild's default).
const app = (specifier) => `
import { GatewayCertificates } from "${specifier}";

const q = new URLSearchParams(location.search);
const done = (result) => {
  document.getElementById("out").textContent = JSON.stringify(result);
  document.documentElement.dataset.done = "true";
};
Promise.resolve()
  .then(() => new GatewayCertificates({ apiToken: q.get("token"), baseUrl: q.get("base") })
    .delete(q.get("id"), { account_id: q.get("account") }))
  .then((deleted) => done({ ok: true, deleted }), (e) => done({ ok: false, name: e?.name, message: String(e?.message ?? e) }));
`;
const html = (script) => `<!doctype html>
<html><head><meta charset="utf-8"><title>bundler test</title></head>
<body><pre id="out"></pre>${script}</body></html>
`;

/** Each bundler: its dev dependencies, the files of its project, and the build command. */
const BUNDLERS = {
  vite: {
    label: "Vite 7",
    deps: ["vite"],
    files: {
      "index.html": html('<script type="module" src="/src/main.js"></script>'),
      "src/main.js": app("cf-gateway-certs"),
    },
    build: ["node_modules/.bin/vite", ["build", "--logLevel", "warn"]],
    wasmAsset: true,
  },
  webpack: {
    label: "webpack 5",
    deps: ["webpack", "webpack-cli"],
    files: {
      "src/index.js": app("cf-gateway-certs"),
      // webpack builds the JS only (no HTML plugin): the page is written next to it.
      "dist/index.html": html('<script src="main.js"></script>'),
    },
    build: ["node_modules/.bin/webpack", ["--mode", "production", "--no-color"]],
    wasmAsset: true,
  },
  rollup: {
    label: "Rollup 4 (/inline)",
    deps: ["rollup", "@rollup/plugin-node-resolve", "@web/rollup-plugin-import-meta-assets"],
    files: {
      // The minimal config every npm import needs in Rollup.
      "rollup.config.mjs": `import { nodeResolve } from "@rollup/plugin-node-resolve";
export default { input: "src/main.js", output: { dir: "dist", format: "es" }, plugins: [nodeResolve({ browser: true })] };
`,
      "src/main.js": app("cf-gateway-certs/inline"),
      "dist/index.html": html('<script type="module" src="main.js"></script>'),
    },
    build: ["node_modules/.bin/rollup", ["-c", "--silent"]],
    wasmAsset: false,
  },
  esbuild: {
    label: "esbuild (/inline)",
    deps: ["esbuild"],
    files: {
      "src/main.js": app("cf-gateway-certs/inline"),
      "dist/index.html": html('<script src="main.js"></script>'),
    },
    // Defaults otherwise: platform browser, format IIFE.
    build: ["node_modules/.bin/esbuild", ["src/main.js", "--bundle", "--minify", "--outfile=dist/main.js", "--log-level=warning"]],
    wasmAsset: false,
  },
};

let work;
let tarball;
let emu;
let browser;
const sizes = [];

before(async () => {
  work = await mkdtemp(join(tmpdir(), "cf-gateway-certs-bundlers-"));
  const [{ stdout }, emulator, chromium] = await Promise.all([
    run("npm", ["pack", "--json", "--pack-destination", work], { cwd: root, env: npmEnv, maxBuffer: 16 << 20 }),
    startEmulator(),
    launchChromium(),
  ]);
  emu = emulator;
  browser = chromium;
  const [info] = JSON.parse(stdout.slice(stdout.indexOf("[")));
  tarball = join(work, info.filename);
});

after(async () => {
  if (sizes.length) {
    const kb = (n) => n.toLocaleString("en-US");
    const rows = sizes.map((s) => `| ${s.label} | ${kb(s.js)} | ${kb(s.jsGzip)} | ${kb(s.wasm)} | ${kb(s.wasmGzip)} | ${kb(s.js + s.wasm)} | ${kb(s.jsGzip + s.wasmGzip)} |`);
    console.log(["bundle sizes, bytes (gzip -9):",
      "| bundler | JS | JS gzip | wasm | wasm gzip | total | total gzip |",
      "| --- | ---: | ---: | ---: | ---: | ---: | ---: |", ...rows].join("\n"));
  }
  await browser?.close();
  await emu?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

const projects = {};
/** The project for `name`, built once (see buildProject). */
const project = (name) => (projects[name] ??= buildProject(name));

/** A fresh project for `name`: the tarball and the bundler installed, the app written, built. */
async function buildProject(name) {
  const b = BUNDLERS[name];
  const dir = join(work, name);
  await mkdir(join(dir, "src"), { recursive: true });
  const devDependencies = Object.fromEntries(b.deps.map((d) => [d, VERSIONS[d]]));
  await writeFile(join(dir, "package.json"), JSON.stringify({
    name: `app-${name}`, version: "1.0.0", private: true, type: "module",
    dependencies: { "cf-gateway-certs": `file:${tarball}` }, devDependencies,
  }, null, 2));
  for (const [file, text] of Object.entries(b.files)) {
    await mkdir(join(dir, file, ".."), { recursive: true });
    await writeFile(join(dir, file), text);
  }
  await run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", "--no-package-lock"], { cwd: dir, env: npmEnv, maxBuffer: 16 << 20 });
  const installed = JSON.parse(await readFile(join(dir, "node_modules/cf-gateway-certs/package.json"), "utf8"));
  assert.equal(installed.name, "cf-gateway-certs", "the tarball is installed");
  const [cmd, args] = b.build;
  try {
    await run(join(dir, cmd), args, { cwd: dir, env: npmEnv, maxBuffer: 16 << 20 });
  } catch (e) {
    assert.fail(`${b.label} build failed:\n${e.stdout}\n${e.stderr}`);
  }
  return dir;
}

/** Sizes of the built output: every .js and .wasm file, raw and gzip -9. */
async function measure(distDir) {
  const out = { js: 0, jsGzip: 0, wasm: 0, wasmGzip: 0, wasmFiles: [] };
  for (const entry of await readdir(distDir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath ?? entry.path, entry.name);
    const ext = extname(entry.name);
    if (ext !== ".js" && ext !== ".wasm") continue;
    const bytes = await readFile(path);
    const kind = ext === ".js" ? "js" : "wasm";
    out[kind] += bytes.length;
    out[`${kind}Gzip`] += gzipSync(bytes, { level: 9 }).length;
    if (kind === "wasm") out.wasmFiles.push(relative(distDir, path));
  }
  return out;
}

const TYPES = { ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".wasm": "application/wasm", ".css": "text/css" };

/** A static file server for `dir` on 127.0.0.1 (a free port). */
async function serve(dir) {
  const base = resolve(dir);
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url, "http://x").pathname);
    const file = resolve(base, `.${path.endsWith("/") ? `${path}index.html` : path}`);
    const ok = file.startsWith(base + sep) && (await stat(file).then((s) => s.isFile(), () => false));
    if (!ok) { res.writeHead(404, { "content-type": "text/plain" }).end("not found"); return; }
    res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream", "cache-control": "no-store" });
    createReadStream(file).pipe(res);
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${server.address().port}/`, close: () => new Promise((r) => server.close(r)) };
}

/**
 * Opens the built app (`distDir` served from 127.0.0.1, or a running server's `siteUrl`) with a
 * fresh inactive certificate to delete; returns what happened.
 */
async function runInChromium(distDir, siteUrl) {
  const acct = await emu.account({ seed: "empty" });
  const { certificates: [cert] } = await emu.addCertificates(acct.id, { binding_status: "inactive" });
  assert.equal(cert.binding_status, "inactive");
  const site = distDir ? await serve(distDir) : { url: siteUrl, close: async () => {} };
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const requests = [];
    page.on("response", (r) => requests.push({ url: r.url(), status: r.status(), method: r.request().method() }));
    const errors = [];
    const failed = new Promise((_, reject) => page.on("pageerror", (e) => { errors.push(e); reject(e); }));
    failed.catch(() => {});
    const q = new URLSearchParams({ base: emu.url, token: emu.api_token, account: acct.id, id: cert.id });
    await page.goto(`${site.url}?${q}`);
    let result;
    try {
      await Promise.race([page.waitForFunction(() => document.documentElement.dataset.done === "true", null, { timeout: 60_000 }), failed]);
      result = JSON.parse(await page.locator("#out").textContent());
    } catch (e) {
      result = { ok: false, pageError: String(e?.message ?? e) };
    }
    return { acct, cert, result, errors, requests, siteUrl: site.url };
  } finally {
    await context.close();
    await site.close();
  }
}

/** The delete reached the emulator once, and the page got the deleted certificate back. */
async function assertDeleted({ acct, cert, result, errors }, label) {
  assert.deepEqual(errors.map(String), [], `${label}: no page errors`);
  assert.equal(result.ok, true, `${label}: the delete succeeded in the page: ${JSON.stringify(result)}`);
  assert.deepEqual(result.deleted, cert, `${label}: the page got the deleted certificate`);
  const state = await emu.state(acct.id);
  assert.deepEqual(state.deleted, { [cert.id]: 1 }, `${label}: the emulator deleted it once`);
  assert.deepEqual(state.certificates, [], `${label}: nothing is left`);
  const log = (await emu.log(acct.id)).map((e) => `${e.method} ${e.path} ${e.status}`);
  assert.deepEqual(log, [`DELETE /client/v4/accounts/${acct.id}/gateway/certificates/${cert.id} 200`], `${label}: one DELETE`);
}

describe("the packed package in bundlers, in Chromium", { timeout: 600_000 }, () => {
  for (const name of Object.keys(BUNDLERS)) {
    const b = BUNDLERS[name];
    test(`${b.label}: the built app deletes a certificate`, { timeout: 300_000 }, async () => {
      const dir = await project(name);
      const dist = join(dir, "dist");
      const size = await measure(dist);
      sizes.push({ label: b.label, ...size });
      const outcome = await runInChromium(dist);
      await assertDeleted(outcome, b.label);
      const wasmLoads = outcome.requests.filter((r) => r.url.startsWith(outcome.siteUrl) && r.url.endsWith(".wasm"));
      if (b.wasmAsset) {
        assert.equal(size.wasmFiles.length, 1, `${b.label} emitted the wasm as one asset: ${size.wasmFiles}`);
        assert.equal(wasmLoads.length, 1, `${b.label}: the page loaded the emitted wasm`);
        assert.equal(wasmLoads[0].status, 200);
        assert.ok(wasmLoads[0].url.endsWith(`/${size.wasmFiles[0].split(sep).join("/")}`), `the emitted asset was loaded: ${wasmLoads[0].url}`);
      } else {
        assert.deepEqual(size.wasmFiles, [], `${b.label}: no separate wasm file`);
        assert.deepEqual(wasmLoads, [], `${b.label}: no wasm request`);
        assert.ok(size.js > size.wasm + 60_000, `${b.label}: the wasm is in the JS (${size.js} bytes)`);
      }
    });
  }

  // Vite's dev server pre-bundles dependencies with esbuild, which moves the glue away from
  // the .wasm its URL points at: the "development" condition gives it the inline entry.
  test("Vite 7 dev server: the app deletes a certificate", { timeout: 120_000 }, async () => {
    const dir = await project("vite");
    const server = spawn(join(dir, "node_modules/.bin/vite"), ["--host", "127.0.0.1", "--port", "5173", "--clearScreen", "false"],
      { cwd: dir, env: npmEnv, stdio: ["ignore", "pipe", "pipe"] });
    try {
      let out = "";
      const origin = await new Promise((resolveUrl, reject) => {
        const onData = (d) => {
          out += d;
          const m = out.replace(/\x1b\[[0-9;]*m/g, "").match(/Local:\s+(http:\/\/127\.0\.0\.1:\d+)\//);
          if (m) resolveUrl(m[1]);
        };
        server.stdout.on("data", onData);
        server.stderr.on("data", onData);
        server.once("exit", (code) => reject(new Error(`vite exited (${code}): ${out}`)));
      });
      const outcome = await runInChromium(null, `${origin}/`);
      await assertDeleted(outcome, "Vite dev server");
      const wasmLoads = outcome.requests.filter((r) => r.url.endsWith(".wasm"));
      assert.deepEqual(wasmLoads, [], "the inline entry was used: no wasm request");
    } finally {
      await new Promise((r) => { if (server.exitCode !== null) r(); else { server.once("exit", r); server.kill("SIGTERM"); } });
    }
  });

  // Rollup has no asset handling: `new URL("….wasm", import.meta.url)` is left pointing at a
  // file that is not in the output. The main entry then fails with an error that says so.
  test("Rollup 4 with the main entry: the page is told to use /inline", { timeout: 120_000 }, async () => {
    const dir = await project("rollup");
    const dist = await rollupMainEntry(dir, "dist-main", "");
    const { errors, acct } = await runInChromium(dist);
    assert.equal(errors.length, 1, "the import fails once");
    assert.match(errors[0].message, /cf-gateway-certs could not load its WebAssembly from .*\/pkg\/cf_gateway_certs_bg\.wasm/);
    assert.match(errors[0].message, /import from "cf-gateway-certs\/inline" instead/);
    assert.deepEqual(await emu.log(acct.id), [], "no API request was sent");
  });

  // With an asset plugin for `new URL(…, import.meta.url)`, Rollup handles the main entry.
  test("Rollup 4 + @web/rollup-plugin-import-meta-assets: the main entry, the wasm as an asset", { timeout: 120_000 }, async () => {
    const dir = await project("rollup");
    const dist = await rollupMainEntry(dir, "dist-assets", "importMetaAssets()");
    const size = await measure(dist);
    sizes.push({ label: "Rollup 4 + importMetaAssets", ...size });
    assert.equal(size.wasmFiles.length, 1, `the wasm was emitted as one asset: ${size.wasmFiles}`);
    const outcome = await runInChromium(dist);
    await assertDeleted(outcome, "Rollup + importMetaAssets");
    assert.equal(outcome.requests.filter((r) => r.url.endsWith(".wasm") && r.status === 200).length, 1, "the emitted wasm was loaded");
  });
});

/** Builds the app importing the main entry with Rollup into `dir/out`, `plugin` added. */
async function rollupMainEntry(dir, out, plugin) {
  await writeFile(join(dir, "src/main-entry.js"), app("cf-gateway-certs"));
  await writeFile(join(dir, `rollup.${out}.config.mjs`), `import { nodeResolve } from "@rollup/plugin-node-resolve";
import { importMetaAssets } from "@web/rollup-plugin-import-meta-assets";
export default { input: "src/main-entry.js", output: { dir: "${out}", format: "es" }, plugins: [nodeResolve({ browser: true }), ${plugin}] };
`);
  await mkdir(join(dir, out), { recursive: true });
  await writeFile(join(dir, out, "index.html"), html('<script type="module" src="main-entry.js"></script>'));
  await run(join(dir, "node_modules/.bin/rollup"), ["-c", `rollup.${out}.config.mjs`, "--silent"], { cwd: dir, env: npmEnv });
  return join(dir, out);
}
