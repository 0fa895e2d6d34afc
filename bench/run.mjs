#!/usr/bin/env node
// cf-gateway-certs benchmark: size, cold start, client CPU per call and memory, side by side
// with a plain-fetch floor, the same contract hand-written in plain JS and the official
// `cloudflare` SDK. One command:
//
//     node bench/run.mjs            (full run, ~2-3 min on 2 cores)
//     node bench/run.mjs --quick    (fewer samples, for checking the harness)
//
// Installs what it needs (npm install if node_modules lacks esbuild/cloudflare, npm run build if
// pkg/ is missing), prints a table and writes bench/results/latest.md and latest.json.
// See bench/README.md for what each figure means.
import { spawn, spawnSync, execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync, mkdirSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import zlib from "node:zlib";

const BENCH = dirname(fileURLToPath(import.meta.url));
const ROOT = join(BENCH, "..");
const PKG_ROOT = process.env.BENCH_PKG_ROOT || ROOT;
const OUT = join(BENCH, "results");
const BUILD = join(OUT, "build");
const args = new Set(process.argv.slice(2));
const QUICK = args.has("--quick");

const P = QUICK
  ? { coldSamples: 5, rounds: 3, blocks: 2, seqBlock: 100, concBlock: 256, inFlight: 64, warm: 200, memWarm: 1000, memCalls: 4000, memSamples: 2 }
  : { coldSamples: 11, rounds: 7, blocks: 4, seqBlock: 100, concBlock: 384, inFlight: 64, warm: 400, memWarm: 2000, memCalls: 20000, memSamples: 4 };
P.nSeq = P.blocks * P.seqBlock;
P.nConc = P.blocks * P.concBlock;

const T0 = Date.now();
const log = (...a) => process.stderr.write(`[${((Date.now() - T0) / 1000).toFixed(0).padStart(3)}s] ` + a.join(" ") + "\n");
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length & 1 ? s[m] : (s[m - 1] + s[m]) / 2; };
const quantile = (xs, q) => { const s = [...xs].sort((a, b) => a - b); const i = (s.length - 1) * q; const lo = Math.floor(i); return s[lo] + (s[Math.ceil(i)] - s[lo]) * (i - lo); };
const kib = (b) => (b / 1024).toFixed(2);

// ---------------------------------------------------------------- setup (idempotent)
function ensureDeps() {
  const need = ["esbuild/package.json", "cloudflare/package.json"].filter((p) => !existsSync(join(ROOT, "node_modules", p)));
  if (need.length) {
    log(`[setup] missing ${need.join(", ")}: npm install`);
    execFileSync("npm", ["install", "--no-audit", "--no-fund"], { cwd: ROOT, stdio: ["ignore", 2, 2] });
  }
}
const WASM = join(PKG_ROOT, "pkg", "cf_gateway_certs_bg.wasm");
const GLUE = join(PKG_ROOT, "pkg", "cf_gateway_certs.js");
const NODE_ENTRY = join(PKG_ROOT, "js", "node.js");
const BROWSER_ENTRY = join(PKG_ROOT, "js", "browser.js");
function ensurePkg() {
  if (existsSync(WASM) && existsSync(GLUE) && existsSync(NODE_ENTRY)) return true;
  if (PKG_ROOT !== ROOT || args.has("--no-build")) return false;
  log("[setup] pkg/ missing: npm run build");
  const r = spawnSync("npm", ["run", "build"], { cwd: ROOT, stdio: ["ignore", 2, 2] });
  return r.status === 0 && existsSync(WASM) && existsSync(GLUE) && existsSync(NODE_ENTRY);
}

// ---------------------------------------------------------------- size
const requireRoot = createRequire(join(ROOT, "package.json"));
const pkgVersion = (name) => JSON.parse(readFileSync(join(ROOT, "node_modules", name, "package.json"), "utf8")).version;
function sizes(buf) {
  return {
    raw: buf.length,
    gzip: zlib.gzipSync(buf, { level: 9 }).length,
    brotli: zlib.brotliCompressSync(buf, {
      params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: buf.length },
    }).length,
  };
}
const add = (a, b) => ({ raw: a.raw + b.raw, gzip: a.gzip + b.gzip, brotli: a.brotli + b.brotli });

async function bundle(name, entry) {
  const esbuild = requireRoot("esbuild");
  const outfile = join(BUILD, `${name}.mjs`);
  const r = await esbuild.build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    minify: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    metafile: true,
    logLevel: "silent",
    loader: { ".wasm": "file" },
    absWorkingDir: ROOT,
  });
  writeFileSync(join(BUILD, `${name}.meta.json`), JSON.stringify(r.metafile));
  return outfile;
}

// ---------------------------------------------------------------- processes
// On Linux with two or more cores and `taskset`, the CPU-per-call and memory processes run on
// CPU 0 and the local API on CPU 1, so neither's scheduling shows up in the other's CPU time.
// Cold starts are not pinned: V8 compiles wasm with helper threads. Elsewhere: unpinned.
const PIN = (() => {
  if (process.platform !== "linux" || (os.availableParallelism?.() ?? os.cpus().length) < 2 || process.env.BENCH_NO_PIN) return null;
  try { execFileSync("taskset", ["-c", "0", "true"], { stdio: "ignore" }); return true; } catch { return null; }
})();
const node = (cpu, args) => (PIN ? ["taskset", ["-c", String(cpu), process.execPath, ...args]] : [process.execPath, args]);

function runNode(flags, script, cfg) {
  return new Promise((resolve, reject) => {
    const args = [...flags, join(BENCH, script), JSON.stringify(cfg)];
    const p = spawn(...(script === "cold-child.mjs" ? [process.execPath, args] : node(0, args)), { stdio: ["ignore", "pipe", "pipe"] });
    let out = "", err = "";
    p.stdout.on("data", (d) => (out += d));
    p.stderr.on("data", (d) => (err += d));
    p.on("close", (code) => {
      if (code !== 0) return reject(new Error(`${script} ${JSON.stringify(cfg).slice(0, 120)} exited ${code}: ${err.slice(0, 2000)}`));
      try { resolve(JSON.parse(out.trim().split("\n").pop())); } catch (e) { reject(new Error(`${script}: bad output ${out.slice(0, 300)} ${err.slice(0, 500)}`)); }
    });
  });
}

function startServer() {
  return new Promise((resolve, reject) => {
    const p = spawn(...node(1, [join(BENCH, "server.mjs")]), { stdio: ["ignore", "pipe", "inherit", "ipc"] });
    let buf = "";
    p.stdout.on("data", (d) => {
      buf += d;
      const line = buf.split("\n")[0];
      if (buf.includes("\n")) resolve({ proc: p, port: JSON.parse(line).port });
    });
    p.on("error", reject);
    p.on("exit", (c) => reject(new Error(`server exited ${c}`)));
  });
}

// ---------------------------------------------------------------- main
async function main() {
  const started = Date.now();
  mkdirSync(BUILD, { recursive: true });
  ensureDeps();
  const havePkg = ensurePkg();
  if (!havePkg) log("[warn] the package is not built (pkg/ or js/node.js missing): package columns are skipped");

  const versions = {
    node: process.version,
    cloudflare: pkgVersion("cloudflare"),
    esbuild: pkgVersion("esbuild"),
    package: JSON.parse(readFileSync(join(PKG_ROOT, "package.json"), "utf8")).version,
  };
  try { versions.rustc = execFileSync("rustc", ["--version"], { encoding: "utf8" }).trim(); } catch {}
  try { versions.wasmBindgen = execFileSync("wasm-bindgen", ["--version"], { encoding: "utf8" }).trim(); } catch {}
  try { versions.binaryen = pkgVersion("binaryen"); } catch {}
  if (havePkg) versions.packageBuilt = statSync(WASM).mtime.toISOString();
  const cpus = os.cpus();
  const machine = {
    nproc: os.availableParallelism?.() ?? cpus.length,
    pinned: Boolean(PIN),
    cpu: cpus[0]?.model ?? "unknown",
    memGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
    loadavg: os.loadavg().map((x) => +x.toFixed(2)),
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
  };

  // ---- size
  log("[size] bundling with esbuild");
  const b = {
    floor: await bundle("floor", join(BENCH, "impl/floor.mjs")),
    plainJs: await bundle("plain-js", join(BENCH, "impl/plain-js.mjs")),
    sdkFull: await bundle("sdk-full", join(BENCH, "impl/sdk-full.mjs")),
    sdkTree: await bundle("sdk-tree", join(BENCH, "impl/sdk-tree.mjs")),
    empty: await bundle("empty", join(BENCH, "impl/empty.mjs")),
  };
  const size = {};
  size.floor = sizes(readFileSync(b.floor));
  size.plainJs = sizes(readFileSync(b.plainJs));
  size.sdkFull = sizes(readFileSync(b.sdkFull));
  size.sdkTree = sizes(readFileSync(b.sdkTree));
  if (havePkg) {
    size.pkgWasm = sizes(readFileSync(WASM));
    size.pkgGlue = sizes(readFileSync(GLUE));
    size.pkgNodeEntry = sizes(readFileSync(NODE_ENTRY));
    size.pkgWasmGlue = add(size.pkgWasm, size.pkgGlue);
    if (existsSync(BROWSER_ENTRY)) {
      try {
        const out = await bundle("pkg-browser", join(BENCH, "impl/pkg-browser.mjs"));
        size.pkgBundledJs = sizes(readFileSync(out));
        size.pkgBundled = add(size.pkgBundledJs, size.pkgWasm);
      } catch (e) { log(`[size] could not bundle js/browser.js: ${e.message.split("\n")[0]}`); }
    }
  }

  const server = await startServer();
  const baseUrl = `http://127.0.0.1:${server.port}/client/v4`;
  const url = (p) => pathToFileURL(p).href;
  const impls = { floor: url(b.floor), plainJs: url(b.plainJs), sdkFull: url(b.sdkFull), sdkTree: url(b.sdkTree) };
  if (havePkg) impls.pkg = url(join(BENCH, "impl/pkg-node.mjs"));
  const env = PKG_ROOT !== ROOT ? { BENCH_PKG_ROOT: PKG_ROOT } : {};
  Object.assign(process.env, env);

  try {
    // ---- cold start
    log(`[cold] ${P.coldSamples} fresh processes per variant, interleaved`);
    const coldKinds = { empty: { kind: "import", url: url(b.empty) }, floor: { kind: "import", url: impls.floor },
      plainJs: { kind: "import", url: impls.plainJs },
      sdkTree: { kind: "import", url: impls.sdkTree }, sdkFull: { kind: "import", url: impls.sdkFull } };
    if (havePkg) {
      coldKinds.pkg = { kind: "import", url: impls.pkg };
      coldKinds.pkgParts = { kind: "wasm", glue: url(GLUE), wasm: url(WASM) };
    }
    const coldRaw = Object.fromEntries(Object.keys(coldKinds).map((k) => [k, []]));
    for (let i = 0; i < P.coldSamples; i++) {
      for (const [k, cfg] of Object.entries(coldKinds)) coldRaw[k].push(await runNode([], "cold-child.mjs", cfg));
    }
    const cold = {};
    for (const [k, samples] of Object.entries(coldRaw)) {
      cold[k] = {};
      for (const f of Object.keys(samples[0])) cold[k][f] = median(samples.map((s) => s[f]));
      cold[k].min = Math.min(...samples.map((s) => s.total));
      cold[k].max = Math.max(...samples.map((s) => s.total));
    }
    if (cold.pkgParts) {
      cold.pkgParts.wasmOnly = median(coldRaw.pkgParts.map((s) => s.read + s.compile + s.init));
      cold.pkgParts.compileInit = median(coldRaw.pkgParts.map((s) => s.compile + s.init));
    }

    // ---- per call
    log(`[cpu] ${P.rounds} rounds x ${P.blocks} interleaved blocks x (${P.seqBlock} sequential + ${P.concBlock} at ${P.inFlight} in flight) per implementation`);
    // The tree-shakable SDK runs the same request code as the full client; it is left out here
    // to keep the run short (its size and cold start are measured above).
    const pcImpls = { floor: impls.floor, floorAA: impls.floor + "?aa", plainJs: impls.plainJs, sdkFull: impls.sdkFull };
    if (args.has("--with-sdk-tree")) pcImpls.sdkTree = impls.sdkTree;
    if (havePkg) pcImpls.pkg = impls.pkg;
    if (havePkg) pcImpls.pkgNoTimeout = impls.pkg + "?no-timeout";
    const pc = await runNode(["--expose-gc"], "percall-child.mjs",
      { baseUrl, impls: pcImpls, rounds: P.rounds, blocks: P.blocks, seqBlock: P.seqBlock, concBlock: P.concBlock, inFlight: P.inFlight, warm: P.warm });
    const perCall = {};
    for (const name of Object.keys(pcImpls)) {
      const row = { raw: { seq: pc.seq[name], conc: pc.conc[name], blockSeq: pc.blockSeq[name], blockConc: pc.blockConc[name] } };
      for (const mode of ["seq", "conc"]) {
        // ratio: median over all (round, block) pairs of this implementation's block over the
        // floor's block of the same round and position (adjacent in time), so drift cancels
        const bk = mode === "seq" ? "blockSeq" : "blockConc";
        const ratios = pc[bk][name].map((v, i) => v / pc[bk].floor[i]);
        row[`${mode}RoundRatio`] = median(pc[mode][name].map((v, r) => v / pc[mode].floor[r]));
        row[mode] = median(pc[mode][name]);
        row[`${mode}Ratio`] = median(ratios);
        row[`${mode}RatioMin`] = quantile(ratios, 0.25);
        row[`${mode}RatioMax`] = quantile(ratios, 0.75);
      }
      row.wallSeq = median(pc.wallSeq[name]);
      row.wallConc = median(pc.wallConc[name]);
      perCall[name] = row;
    }

    // ---- memory
    log(`[mem] heap after GC across ${P.memCalls} calls per implementation`);
    const memory = {};
    const memImpls = { plainJs: impls.plainJs, sdkFull: impls.sdkFull };
    if (args.has("--mem-floor")) memImpls.floor = impls.floor;
    if (havePkg) memImpls.pkg = impls.pkg;
    for (const [name, impl] of Object.entries(memImpls)) {
      const series = await runNode(["--expose-gc"], "mem-child.mjs",
        { baseUrl, impl, warm: P.memWarm, calls: P.memCalls, inFlight: P.inFlight, samples: P.memSamples, wasmGlue: name === "pkg" ? url(GLUE) : null });
      const first = series[0], last = series[series.length - 1];
      memory[name] = { series, heapBefore: first.heapUsed, heapAfter: last.heapUsed, growth: last.heapUsed - first.heapUsed,
        perCall: (last.heapUsed - first.heapUsed) / P.memCalls, wasmBefore: first.wasm, wasmAfter: last.wasm,
        rssBefore: first.rss, rssAfter: last.rss };
    }

    const result = { date: new Date().toISOString(), quick: QUICK, params: P, versions, machine, size, cold, perCall, memory,
      seconds: Math.round((Date.now() - started) / 1000) };
    const md = render(result, havePkg);
    process.stdout.write(md);
    writeFileSync(join(OUT, "latest.json"), JSON.stringify(result, null, 2) + "\n");
    writeFileSync(join(OUT, "latest.md"), md);
    log(`[done] ${result.seconds}s; wrote ${relative(process.cwd(), join(OUT, "latest.md"))} and latest.json`);
  } finally {
    server.proc.removeAllListeners("exit");
    server.proc.kill("SIGTERM");
  }
}

// ---------------------------------------------------------------- report
// Issue 12's three targets: wasm + glue ≤ 25 KiB gzip; CPU per delete ≤ 1.15× the floor,
// sequential and 64 in flight; compile + instantiate (read + compile + instantiate + init) ≤ 2.5 ms.
const TARGETS = { gzipKiB: 25, cpuRatio: 1.15, coldMs: 2.5 };
const PLAIN = "plain JS: same contract for delete (validation, timeout, retries, typed errors)";
function render(r, havePkg) {
  const L = [];
  const s = r.size, c = r.cold, p = r.perCall, m = r.memory;
  const sz = (label, x) => x && L.push(`| ${label} | ${x.raw} | ${x.gzip} (${kib(x.gzip)} KiB) | ${x.brotli} (${kib(x.brotli)} KiB) |`);
  L.push(`# cf-gateway-certs benchmark${r.quick ? " (QUICK run: fewer samples)" : ""}`, "");
  L.push(`${r.date} · Node ${r.versions.node} · cloudflare ${r.versions.cloudflare} · esbuild ${r.versions.esbuild} · cf-gateway-certs ${r.versions.package}` +
    (r.versions.packageBuilt ? ` (wasm built ${r.versions.packageBuilt})` : " (NOT BUILT)") +
    (r.versions.wasmBindgen ? ` · ${r.versions.wasmBindgen}` : "") + (r.versions.binaryen ? ` · binaryen ${r.versions.binaryen}` : "") +
    (r.versions.rustc ? ` · ${r.versions.rustc}` : ""));
  L.push(`Machine: ${r.machine.nproc} × ${r.machine.cpu}, ${r.machine.memGiB} GiB, ${r.machine.platform}, load ${r.machine.loadavg.join(" ")} · ${r.machine.pinned ? "CPU per call and memory: client on CPU 0, local API on CPU 1 (taskset)" : "processes not pinned"} · run took ${r.seconds} s`, "");

  L.push("## Size (bytes; gzip -9, brotli q11; esbuild --bundle --minify --format=esm --platform=browser)", "");
  L.push("| artifact | raw | gzip | brotli |", "| --- | ---: | ---: | ---: |");
  sz("floor: plain fetch delete + envelope check", s.floor);
  sz(PLAIN, s.plainJs);
  sz("SDK full client, one delete", s.sdkFull);
  sz("SDK tree-shakable (`createClient` + `BaseCertificates`), one delete", s.sdkTree);
  if (havePkg) {
    sz("package `_bg.wasm`", s.pkgWasm);
    sz("package glue `pkg/cf_gateway_certs.js` (as shipped)", s.pkgGlue);
    sz("package entry `js/node.js`", s.pkgNodeEntry);
    sz(`**package wasm + glue** (as shipped; target ≤ ${TARGETS.gzipKiB} KiB gzip)`, s.pkgWasmGlue);
    sz("package one delete via `js/browser.js`, esbuild-minified JS + wasm", s.pkgBundled);
  }
  L.push("");

  const ms = (x) => (x == null ? "" : x.toFixed(2));
  L.push(`## Cold start (ms, median of ${r.params.coldSamples} fresh Node processes; [min–max] of total)`, "");
  L.push("| variant | import() | new client | total |", "| --- | ---: | ---: | ---: |");
  const crow = (label, x) => x && L.push(`| ${label} | ${ms(x.import)} | ${ms(x.construct)} | ${ms(x.total)} [${ms(x.min)}–${ms(x.max)}] |`);
  crow("baseline: import() of an empty module", c.empty);
  crow("floor (bundle)", c.floor);
  crow(`${PLAIN} (bundle)`, c.plainJs);
  crow("SDK tree-shakable (bundle)", c.sdkTree);
  crow("SDK full (bundle)", c.sdkFull);
  crow("package: import `js/node.js` (glue + read + compile + instantiate + init)", c.pkg);
  if (c.pkgParts) {
    L.push("", `| package in parts | import glue | read .wasm | compile | instantiate + init | **compile + instantiate + init** (target ≤ ${TARGETS.coldMs} ms) | read + compile + instantiate + init | total |`,
      "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
      `| \`initSync\` path | ${ms(c.pkgParts.glue)} | ${ms(c.pkgParts.read)} | ${ms(c.pkgParts.compile)} | ${ms(c.pkgParts.init)} | **${ms(c.pkgParts.compileInit)}** | ${ms(c.pkgParts.wasmOnly)} | ${ms(c.pkgParts.total)} |`);
  }
  L.push("");

  const us = (x) => x.toFixed(1);
  const rt = (row, mode) => `${row[mode + "Ratio"].toFixed(3)}× [${row[mode + "RatioMin"].toFixed(2)}–${row[mode + "RatioMax"].toFixed(2)}]`;
  L.push(`## Client CPU per delete (µs of process.cpuUsage() in the client; server in its own process; median of ${r.params.rounds} alternating rounds)`, "");
  L.push(`Per round and implementation: ${r.params.nSeq} sequential calls and ${r.params.nConc} calls with ${r.params.inFlight} in flight, each in ${r.params.blocks} blocks interleaved with the other implementations. Ratio = median over the ${r.params.rounds * r.params.blocks} (round, block) pairs of the block's CPU over the floor's adjacent block [interquartile range of those]; target ≤ ${TARGETS.cpuRatio}×.`, "");
  L.push("| implementation | seq µs | seq ratio | 64-in-flight µs | concurrent ratio | wall µs/call seq | wall µs/call conc |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
  const prow = (label, x) => x && L.push(`| ${label} | ${us(x.seq)} | ${rt(x, "seq")} | ${us(x.conc)} | ${rt(x, "conc")} | ${us(x.wallSeq)} | ${us(x.wallConc)} |`);
  prow("floor", p.floor);
  prow("floor again (A/A control: the noise)", p.floorAA);
  prow(`${PLAIN} (maxRetries 0)`, p.plainJs);
  prow("SDK full (maxRetries 0)", p.sdkFull);
  prow("SDK tree-shakable (maxRetries 0)", p.sdkTree);
  prow("**package** (maxRetries 0)", p.pkg);
  prow("package with `timeoutMs: 0` (no per-attempt AbortController and timer)", p.pkgNoTimeout);
  L.push("");

  L.push(`## Memory (heap after global.gc(), ${r.params.memCalls} calls at ${r.params.inFlight} in flight after warm-up)`, "");
  L.push("| implementation | heapUsed before | heapUsed after | growth | per call | heapUsed series (MiB) | wasm memory before → after | RSS before → after |", "| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: |");
  const mb = (x) => (x / 2 ** 20).toFixed(2) + " MiB";
  const mrow = (label, x) => x && L.push(`| ${label} | ${mb(x.heapBefore)} | ${mb(x.heapAfter)} | ${(x.growth / 1024).toFixed(1)} KiB | ${x.perCall.toFixed(2)} B | ${x.series.map((q) => (q.heapUsed / 2 ** 20).toFixed(2)).join(" → ")} | ${x.wasmBefore == null ? "–" : `${mb(x.wasmBefore)} → ${mb(x.wasmAfter)}`} | ${mb(x.rssBefore)} → ${mb(x.rssAfter)} |`);
  mrow("floor", m.floor);
  mrow(PLAIN, m.plainJs);
  mrow("SDK full", m.sdkFull);
  mrow("package", m.pkg);
  L.push("");

  if (havePkg) {
    const ok = (b) => (b ? "met" : "**MISSED**");
    const g = s.pkgWasmGlue.gzip / 1024;
    L.push("## Targets (issue 12)", "");
    L.push(`Three targets: the package's wasm + glue ≤ ${TARGETS.gzipKiB} KiB gzip; CPU per delete ≤ ${TARGETS.cpuRatio}× the floor, sequential and ${r.params.inFlight} in flight; compile + instantiate (with the glue's init) ≤ ${TARGETS.coldMs} ms in Node.`, "");
    L.push(`- wasm + glue ≤ ${TARGETS.gzipKiB} KiB gzip: ${g.toFixed(2)} KiB — ${ok(g <= TARGETS.gzipKiB)} (plain JS, same contract for delete: ${kib(s.plainJs.gzip)} KiB; floor: ${kib(s.floor.gzip)} KiB; SDK tree-shakable: ${kib(s.sdkTree.gzip)} KiB, full: ${kib(s.sdkFull.gzip)} KiB)`);
    L.push(`- CPU per delete ≤ ${TARGETS.cpuRatio}× the floor, sequential and ${r.params.inFlight} in flight: sequential ${p.pkg.seqRatio.toFixed(3)}×, ${r.params.inFlight} in flight ${p.pkg.concRatio.toFixed(3)}× — ${ok(p.pkg.seqRatio <= TARGETS.cpuRatio && p.pkg.concRatio <= TARGETS.cpuRatio)} (A/A noise: ${p.floorAA.seqRatio.toFixed(3)}× / ${p.floorAA.concRatio.toFixed(3)}×; plain JS ${p.plainJs.seqRatio.toFixed(3)}× / ${p.plainJs.concRatio.toFixed(3)}×; SDK full ${p.sdkFull.seqRatio.toFixed(2)}× / ${p.sdkFull.concRatio.toFixed(2)}×)`);
    if (c.pkgParts) L.push(`- compile + instantiate ≤ ${TARGETS.coldMs} ms (with the glue's init): ${c.pkgParts.compileInit.toFixed(2)} ms — ${ok(c.pkgParts.compileInit <= TARGETS.coldMs)}; with the read of the .wasm ${c.pkgParts.wasmOnly.toFixed(2)} ms; whole \`import("js/node.js")\` ${c.pkg.total.toFixed(2)} ms vs plain JS ${c.plainJs.total.toFixed(2)} ms, floor ${c.floor.total.toFixed(2)} ms, SDK full ${c.sdkFull.total.toFixed(2)} ms, tree-shakable ${c.sdkTree.total.toFixed(2)} ms, empty-module baseline ${c.empty.total.toFixed(2)} ms`);
    L.push(`- memory (no target): package heap growth ${(m.pkg.growth / 1024).toFixed(1)} KiB over ${r.params.memCalls} calls (${m.pkg.perCall.toFixed(2)} B/call)` +
      (m.pkg.wasmBefore != null ? `, wasm linear memory ${mb(m.pkg.wasmBefore)} → ${mb(m.pkg.wasmAfter)}` : ""));
    L.push("");
  }
  return L.join("\n") + "\n";
}

main().catch((e) => { console.error(e); process.exit(1); });
