// Heap after GC across many calls. Run with --expose-gc.
// argv[2]: JSON {baseUrl, impl, calls, inFlight, samples, wasmGlue?}
import { loadImpl, runSeq, runConc } from "./lib-common.mjs";

const cfg = JSON.parse(process.argv[2]);
if (!globalThis.gc) throw new Error("run with --expose-gc");
const call = await loadImpl(cfg.impl, cfg.baseUrl);
let wasmMemory = null;
if (cfg.wasmGlue) {
  // initSync returns the already-initialised instance's exports (same module instance as js/node.js)
  try {
    const glue = await import(cfg.wasmGlue);
    const exp = glue.initSync?.({ module: new Uint8Array(0) });
    if (exp && exp.memory) wasmMemory = exp.memory;
  } catch { /* not available */ }
}
await runSeq(call, 200);
await runConc(call, cfg.warm ?? 800, cfg.inFlight);
const settle = async () => { for (let i = 0; i < 3; i++) { gc(); await new Promise((r) => setImmediate(r)); } gc(); };
await settle();
const snap = (done) => { const m = process.memoryUsage(); return { calls: done, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers, rss: m.rss, wasm: wasmMemory ? wasmMemory.buffer.byteLength : null }; };
const series = [snap(0)];
const step = cfg.calls / cfg.samples;
for (let s = 1; s <= cfg.samples; s++) {
  await runConc(call, step, cfg.inFlight);
  await settle();
  series.push(snap(s * step));
}
process.stdout.write(JSON.stringify(series) + "\n");
