// Runs the Worker (worker/index.js + the package's workerd build, with dist/www as its assets)
// in workerd through Miniflare, configured from the real wrangler.toml, with CF_API_BASE_URL
// pointing wherever the test says (the emulator). Shared by tests/worker and tests/page.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createServer, request as httpRequest } from "node:http";
import { fileURLToPath } from "node:url";
import { Miniflare, Log, LogLevel } from "miniflare";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import { startEmulator } from "../support/emulator.mjs";

process.env.WRANGLER_SEND_METRICS ??= "false";

export const root = fileURLToPath(new URL("../..", import.meta.url));

/** The CSP the page and the Worker must send (contract section 4, issue 3). */
export const CSP =
  "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; connect-src 'self'; " +
  "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** [source, copy in dist/www] for every file scripts/build-www.sh copies. */
function siteFiles() {
  const pairs = [];
  for (const entry of readdirSync(`${root}www`, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const rel = `${entry.parentPath ?? entry.path}/${entry.name}`.slice(`${root}www/`.length);
    pairs.push([`www/${rel}`, rel]);
  }
  for (const name of readdirSync(`${root}js`)) {
    if (name.endsWith(".js")) pairs.push([`js/${name}`, `vendor/cf-gateway-certs/js/${name}`]);
  }
  for (const name of ["cf_gateway_certs.js", "cf_gateway_certs_bg.wasm"]) {
    pairs.push([`pkg/${name}`, `vendor/cf-gateway-certs/pkg/${name}`]);
  }
  return pairs;
}

let assembled = false;
/** dist/www up to date with www/ and the built package (runs scripts/build-www.sh if not). */
export function assembleSite() {
  if (assembled) return;
  for (const f of ["pkg/cf_gateway_certs_bg.wasm", "pkg/cf_gateway_certs.js", "js/workerd.js", "js/browser.js"]) {
    if (!existsSync(`${root}${f}`)) throw new Error(`package not built: ${f} missing (run: npm run build)`);
  }
  const fresh = siteFiles().every(([src, copy]) => {
    const dst = `${root}dist/www/${copy}`;
    return existsSync(dst) && readFileSync(`${root}${src}`).equals(readFileSync(dst));
  });
  if (!fresh) execFileSync("bash", [`${root}scripts/build-www.sh`], { cwd: root, stdio: ["ignore", "ignore", "inherit"] });
  assembled = true;
}

/**
 * Start the Worker. Returns { url, fetch(path, init), output(), dispose() }; output() is
 * everything the Worker runtime printed (console.log/error of the Worker included). `vars`
 * override wrangler.toml's (e.g. { CF_API_TIMEOUT_MS: "300" }).
 */
export async function startWorker({ apiBaseUrl, port = 0, vars = {} } = {}) {
  assembleSite();
  const { workerOptions, main } = unstable_getMiniflareWorkerOptions(`${root}wrangler.toml`);
  const chunks = [];
  const collect = (stream) => stream.on("data", (d) => chunks.push(String(d)));
  const mf = new Miniflare({
    ...workerOptions,
    name: "cf-gateway-certs",
    modules: true,
    scriptPath: main,
    modulesRoot: root,
    modulesRules: [{ type: "ESModule", include: ["**/*.js"] }, ...workerOptions.modulesRules],
    bindings: { ...workerOptions.bindings, ...(apiBaseUrl ? { CF_API_BASE_URL: apiBaseUrl } : {}), ...vars },
    host: "127.0.0.1",
    port,
    handleRuntimeStdio(stdout, stderr) {
      collect(stdout);
      collect(stderr);
    },
    log: new (class extends Log {
      constructor() { super(LogLevel.WARN); }
      log(message) { chunks.push(`${message}\n`); }
    })(),
  });
  const url = await mf.ready;
  return {
    url: url.origin,
    fetch: (path, init) => mf.dispatchFetch(new URL(path, url).href, { redirect: "manual", ...init }),
    output: () => chunks.join(""),
    dispose: () => mf.dispose(),
  };
}

/**
 * The API emulator (started with `emulatorArgs`) and the Worker in front of it, optionally with
 * a proxy between them (`proxy(emu)` resolves to { url, close() }, e.g. a counting proxy).
 * Returns { emu, proxy, worker, stop() }; stop() disposes of them in reverse order.
 */
export async function startEmulatorAndWorker({ emulatorArgs = [], proxy: startProxy, vars } = {}) {
  const emu = await startEmulator(emulatorArgs);
  let proxy;
  let worker;
  try {
    proxy = startProxy ? await startProxy(emu) : undefined;
    worker = await startWorker({ apiBaseUrl: proxy ? proxy.url : emu.url, vars });
  } catch (err) {
    await proxy?.close();
    await emu.stop();
    throw err;
  }
  return {
    emu,
    proxy,
    worker,
    async stop() {
      await worker.dispose();
      await proxy?.close();
      await emu.stop();
    },
  };
}

/**
 * A loopback proxy in front of the emulator (`startEmulatorAndWorker({ proxy: startRecordingProxy })`)
 * that records every exchange between the Worker and the API: { method, path, body (text),
 * status, headers (the answer's, lower-case names) }. A connection the emulator resets is
 * recorded with status null and reset on to the Worker.
 */
export async function startRecordingProxy(emu) {
  const target = new URL(emu.origin);
  const exchanges = [];
  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const entry = { method: req.method, path: req.url, body: body.toString("utf8"), status: null, headers: {} };
      exchanges.push(entry);
      const up = httpRequest({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (upRes) => {
        entry.status = upRes.statusCode;
        entry.headers = { ...upRes.headers };
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
        upRes.on("error", () => res.destroy());
      });
      up.on("error", () => res.destroy());
      up.end(body);
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const origin = `http://127.0.0.1:${server.address().port}`;
  return {
    origin,
    url: `${origin}/client/v4`,
    /** Exchanges so far (the same objects: a status fills in when the answer comes). */
    exchanges: () => [...exchanges],
    count: () => exchanges.length,
    close: () => new Promise((resolve) => { server.closeAllConnections?.(); server.close(resolve); }),
  };
}

/** Read a response as JSON text + parsed value (body read once). */
export async function readJson(res) {
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { text, json };
}
