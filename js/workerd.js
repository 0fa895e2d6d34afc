// Cloudflare Workers entry: workerd forbids compiling wasm from bytes at run time, so the
// bundler (wrangler/esbuild) imports the .wasm as a compiled WebAssembly.Module.
import wasm from "../pkg/cf_gateway_certs_bg.wasm";
import { initSync } from "../pkg/cf_gateway_certs.js";

initSync({ module: wasm });

export { GatewayCertificates, deleteCertificate } from "../pkg/cf_gateway_certs.js";
