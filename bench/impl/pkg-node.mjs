// The package in Node, through its node entry (js/node.js: initSync from the .wasm bytes).
// BENCH_PKG_ROOT overrides the package root (default: the repository root).
const root = process.env.BENCH_PKG_ROOT ? new URL(`file://${process.env.BENCH_PKG_ROOT.replace(/\/?$/, "/")}`) : new URL("../../", import.meta.url);
const { GatewayCertificates } = await import(new URL("js/node.js", root).href);

// `?no-timeout` (a second instance of this module): timeoutMs 0, so no per-attempt
// AbortController and timer: what the contract's timeout costs.
const timeoutMs = new URL(import.meta.url).search === "?no-timeout" ? 0 : undefined;

export function makeClient({ apiToken, baseUrl }) {
  const client = new GatewayCertificates({ apiToken, baseUrl, maxRetries: 0, timeoutMs });
  return { delete: (id, params) => client.delete(id, params) };
}
