// Node.js entry: reads the wasm next to the glue and instantiates it synchronously, so
// `import { deleteCertificate } from "cf-gateway-certs"` needs no init call.
import { readFileSync } from "node:fs";
import { initSync } from "../pkg/cf_gateway_certs.js";

initSync({ module: readFileSync(new URL("../pkg/cf_gateway_certs_bg.wasm", import.meta.url)) });

export { GatewayCertificates, deleteCertificate } from "../pkg/cf_gateway_certs.js";
