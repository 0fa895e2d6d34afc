// One cold-start sample in a fresh process. argv[2]: JSON {kind, url, glue?, wasm?}
//   kind "import": time import() of url and the construction of one client.
//   kind "wasm":   the package in parts: import the glue, read the .wasm, compile, instantiate + init.
import { readFileSync } from "node:fs";

const cfg = JSON.parse(process.argv[2]);
const now = () => performance.now();
const out = {};
if (cfg.kind === "import") {
  const t0 = now();
  const mod = await import(cfg.url);
  const t1 = now();
  mod.makeClient({ apiToken: "t", baseUrl: "http://127.0.0.1:1/client/v4" });
  const t2 = now();
  out.import = t1 - t0;
  out.construct = t2 - t1;
  out.total = t2 - t0;
} else {
  const t0 = now();
  const glue = await import(cfg.glue);
  const t1 = now();
  const bytes = readFileSync(new URL(cfg.wasm));
  const t2 = now();
  const module = new WebAssembly.Module(bytes);
  const t3 = now();
  glue.initSync({ module });
  const t4 = now();
  out.glue = t1 - t0;
  out.read = t2 - t1;
  out.compile = t3 - t2;
  out.init = t4 - t3;
  out.total = t4 - t0;
}
process.stdout.write(JSON.stringify(out) + "\n");
