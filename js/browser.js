// Browser and bundler entry: fetches and compiles the wasm next to this package's glue with a
// top-level await, so importers need no init call.
import init from "../pkg/cf_gateway_certs.js";

await init({ module_or_path: new URL("../pkg/cf_gateway_certs_bg.wasm", import.meta.url) });

export { GatewayCertificates, deleteCertificate } from "../pkg/cf_gateway_certs.js";
