// Browser and bundler entry: fetches and compiles the wasm next to this package's glue with a
// top-level await, so importers need no init call. Vite and webpack 5 (production) see the
// `new URL("….wasm", import.meta.url)` below, emit the .wasm as an asset and rewrite the URL;
// Rollup (without an asset plugin) and esbuild leave it pointing at a file that isn't there,
// so a failure to load says to use "cf-gateway-certs/inline" (js/inline.js) instead.
import init from "../pkg/cf_gateway_certs.js";

const wasmUrl = new URL("../pkg/cf_gateway_certs_bg.wasm", import.meta.url);
try {
  await init({ module_or_path: wasmUrl });
} catch (cause) {
  throw new Error(
    `cf-gateway-certs could not load its WebAssembly from ${wasmUrl} (${cause?.message ?? cause}). ` +
      "If a bundler built or served this, it did not carry the .wasm along as an asset (Rollup without an asset plugin and esbuild don't): " +
      'import from "cf-gateway-certs/inline" instead.',
    { cause },
  );
}

export { GatewayCertificates, deleteCertificate } from "../pkg/cf_gateway_certs.js";
