// The package in Node, through its node entry (js/node.js: initSync from the .wasm bytes).
// BENCH_PKG_ROOT overrides the package root (default: the repository root).
const root = process.env.BENCH_PKG_ROOT ? new URL(`file://${process.env.BENCH_PKG_ROOT.replace(/\/?$/, "/")}`) : new URL("../../", import.meta.url);
const { GatewayCertificates } = await import(new URL("js/node.js", root).href);

export function makeClient({ apiToken, baseUrl }) {
  const client = new GatewayCertificates({ apiToken, baseUrl, maxRetries: 0 });
  return { delete: (id, params) => client.delete(id, params) };
}
