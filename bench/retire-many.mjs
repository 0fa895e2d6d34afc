#!/usr/bin/env node
// Retiring many certificates within a rate limit: `retireMany` beside what users write today
// with the official `cloudflare` SDK (every certificate at once with Promise.all: GET,
// deactivate, poll, delete by hand), against the API emulator with a scaled budget. One run:
//
//     node bench/retire-many.mjs [--certs 200] [--quota 120] [--window-s 6]
//
// Reports, per client: wall time, the least time the budget allows for the requests it actually
// sent ((windows needed - 1) x window: the last window's requests can go at its start), the
// ratio of the two, requests per certificate, 429s received, and what became of the
// certificates. Writes bench/results/retire-many.md. Not a test: nothing is asserted.
import { spawn, execFileSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const { values: opt } = parseArgs({
  options: {
    certs: { type: "string", default: "200" },
    quota: { type: "string", default: "120" },
    "window-s": { type: "string", default: "6" },
    settle: { type: "string", default: "1000" },
  },
});
const N = Number(opt.certs);
const Q = Number(opt.quota);
const W = Number(opt["window-s"]) * 1000;
const SETTLE = Number(opt.settle);
const POLL = 1000;
const log = (...a) => process.stderr.write(`${a.join(" ")}\n`);

// ------------------------------------------------------------------ setup (idempotent)
const bin = join(ROOT, "target/debug/cf-gateway-emulator");
if (!existsSync(bin)) execFileSync("cargo", ["build", "-q", "-p", "cf-gateway-emulator"], { cwd: ROOT, stdio: "inherit" });
if (!existsSync(join(ROOT, "pkg/cf_gateway_certs_bg.wasm"))) execFileSync("bash", ["scripts/build.sh"], { cwd: ROOT, stdio: "inherit" });
if (!existsSync(join(ROOT, "node_modules/cloudflare"))) execFileSync("npm", ["install", "--no-audit", "--no-fund"], { cwd: ROOT, stdio: "inherit" });
const { GatewayCertificates } = await import(join(ROOT, "js/node.js"));
const { default: Cloudflare } = await import("cloudflare");

const child = spawn(bin, ["--port", "0", "--seed", "empty"], { stdio: ["ignore", "pipe", "ignore"] });
const emu = JSON.parse(await new Promise((resolve) => createInterface({ input: child.stdout }).once("line", resolve)));
const control = async (method, path, body) => {
  const res = await fetch(`${emu.origin}/__emulator${path}`, {
    method, headers: { "content-type": "application/json" }, body: body && JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.json();
};

/** A fresh account of N certificates in mixed states, with its own budget of Q per W. */
async function fleet(name) {
  const id = `${name}${"0".repeat(32)}`.slice(0, 32);
  await control("POST", `/accounts/${id}`, { seed: "empty", activate_ms: SETTLE, deactivate_ms: SETTLE });
  const mix = [["inactive", 0.5], ["available", 0.3], ["pending_deletion", 0.15], ["pending_deployment", 0.05]];
  let left = N;
  for (const [status, share] of mix) {
    const count = status === "pending_deployment" ? left : Math.round(N * share);
    left -= count;
    if (count > 0) await control("POST", `/accounts/${id}/certificates`, { count, binding_status: status });
  }
  await control("POST", `/accounts/${id}/limits`, { rate_limit: { limit: Q, window_ms: W }, available_limit: 10_000 });
  const { certificates } = await control("GET", `/accounts/${id}/state`);
  return { id, ids: certificates.map((c) => c.id) };
}

async function measure(name, work) {
  const { id, ids } = await fleet(name);
  const started = performance.now();
  const outcome = await work(id, ids);
  const wall = performance.now() - started;
  const { requests } = await control("GET", `/accounts/${id}/log`);
  const state = await control("GET", `/accounts/${id}/state`);
  const limited = requests.filter((r) => r.status === 429).length;
  const sent = requests.length;
  const floor = (Math.ceil(sent / Q) - 1) * W;
  const deletedTwice = Object.values(state.deleted).filter((n) => n > 1).length;
  return {
    name, wall, floor, ratio: wall / floor, sent, perCert: sent / N, limited,
    deleted: Object.keys(state.deleted).length, left: state.certificates.length, deletedTwice, ...outcome,
  };
}

// ------------------------------------------------------------------ the two clients
const ours = await measure("ours", async (account, ids) => {
  const client = new GatewayCertificates({ apiToken: emu.api_token, baseUrl: emu.url });
  const r = await client.retireMany(ids, { account_id: account }, { concurrency: 32, pollIntervalMs: POLL });
  return { failed: r.failed.length, errorNames: [...new Set(r.failed.map((f) => f.error.name))].join(", ") };
});
log(`retireMany: ${(ours.wall / 1000).toFixed(1)} s, ${ours.limited} x 429`);

const sdk = await measure("sdk", async (account, ids) => {
  const client = new Cloudflare({ apiToken: emu.api_token, baseURL: emu.url });
  const c = client.zeroTrust.gateway.certificates;
  const params = { account_id: account };
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  // What a user writes today: all at once, deactivate, poll until inactive, delete.
  const results = await Promise.allSettled(ids.map(async (id) => {
    let cert = await c.get(id, params);
    if (cert.binding_status !== "inactive") {
      if (cert.binding_status !== "pending_deletion") await c.deactivate(id, params);
      for (let i = 0; i < 60; i++) {
        await sleep(POLL);
        cert = await c.get(id, params);
        if (cert.binding_status === "inactive") break;
      }
    }
    return c.delete(id, params);
  }));
  const failed = results.filter((r) => r.status === "rejected");
  return { failed: failed.length, errorNames: [...new Set(failed.map((f) => f.reason?.constructor?.name ?? "Error"))].join(", ") };
});
log(`SDK: ${(sdk.wall / 1000).toFixed(1)} s, ${sdk.limited} x 429`);
child.kill();

// ------------------------------------------------------------------ report
const row = (r, label) => `| ${label} | ${(r.wall / 1000).toFixed(1)} s | ${(r.floor / 1000).toFixed(0)} s | **${r.ratio.toFixed(2)}x** | ${r.sent} | ${r.perCert.toFixed(2)} | **${r.limited}** | ${r.deleted} | ${r.failed}${r.errorNames ? ` (${r.errorNames})` : ""} | ${r.deletedTwice} |`;
const md = `# Retiring ${N} certificates within a budget of ${Q} requests per ${W / 1000} s

Emulator fleet: ${N} certificates (50 % inactive, 30 % available, 15 % pending_deletion, 5 %
pending_deployment), activation and deactivation settling after ${SETTLE} ms, a fixed window of
${Q} requests per ${W / 1000} s with Cloudflare's lockout (every request 429 until the window ends),
truthful \`Ratelimit\` headers. Both clients poll every ${POLL} ms. The floor is the least time the
budget allows for the requests each client actually sent: (windows needed - 1) x ${W / 1000} s.

| client | wall time | floor | ratio | requests | per certificate | 429s | deleted | failed | deleted twice |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${row(ours, "`retireMany` (concurrency 32)")}
${row(sdk, "official SDK, `Promise.all`, by hand")}

A request refused with 429 does not spend the budget, so a client that gives up on
certificates after its retries can show a ratio below 1: compare the deleted and failed columns
too.

Node ${process.version}, ${new Date().toISOString().slice(0, 10)}.
`;
mkdirSync(join(ROOT, "bench/results"), { recursive: true });
writeFileSync(join(ROOT, "bench/results/retire-many.md"), md);
process.stdout.write(md);
