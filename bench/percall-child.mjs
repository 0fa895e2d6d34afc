// Client CPU per delete, in one client process. Every round interleaves the implementations in
// short blocks (A B C D, K times, order rotated per round and reversed every other round), so
// that load drifting on the machine falls on all of them alike.
// argv[2]: JSON {baseUrl, impls: {name: moduleUrl}, rounds, blocks, seqBlock, concBlock, inFlight, warm}
import { loadImpl, runSeq, runConc, cpuUs } from "./lib-common.mjs";

const cfg = JSON.parse(process.argv[2]);
const gc = globalThis.gc ?? (() => {});
const names = Object.keys(cfg.impls);
const calls = {};
for (const name of names) calls[name] = await loadImpl(cfg.impls[name], cfg.baseUrl);

// warm-up: let every implementation reach its optimised state
for (const name of names) {
  await runSeq(calls[name], cfg.warm);
  await runConc(calls[name], cfg.warm * 2, cfg.inFlight);
}

const out = { seq: {}, conc: {}, wallSeq: {}, wallConc: {}, blockSeq: {}, blockConc: {} };
for (const k of Object.keys(out)) for (const name of names) out[k][name] = [];

async function block(mode, name) {
  gc(); // each block starts on a clean heap and pays for its own garbage
  const n = mode === "seq" ? cfg.seqBlock : cfg.concBlock;
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  if (mode === "seq") await runSeq(calls[name], n);
  else await runConc(calls[name], n, cfg.inFlight);
  return { cpu: cpuUs(process.cpuUsage(c0)), wall: (performance.now() - t0) * 1000, n };
}

for (let r = 0; r < cfg.rounds; r++) {
  let order = names.slice(r % names.length).concat(names.slice(0, r % names.length));
  if (r & 1) order = order.reverse();
  for (const mode of ["seq", "conc"]) {
    const acc = Object.fromEntries(names.map((n) => [n, { cpu: 0, wall: 0, n: 0 }]));
    for (let k = 0; k < cfg.blocks; k++) {
      for (const name of (k & 1 ? [...order].reverse() : order)) {
        const b = await block(mode, name);
        out[mode === "seq" ? "blockSeq" : "blockConc"][name].push(b.cpu / b.n);
        acc[name].cpu += b.cpu; acc[name].wall += b.wall; acc[name].n += b.n;
      }
    }
    for (const name of names) {
      out[mode][name].push(acc[name].cpu / acc[name].n);
      out[mode === "seq" ? "wallSeq" : "wallConc"][name].push(acc[name].wall / acc[name].n);
    }
  }
}
process.stdout.write(JSON.stringify(out) + "\n");
