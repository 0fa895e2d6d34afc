// Entry with the wasm embedded in the JS (base64, generated into pkg/ by scripts/build.sh) and
// compiled synchronously at import, so importers need no init call and no bundler has to copy
// or rewrite a .wasm asset: for esbuild, Rollup without an asset plugin, and single-file
// builds. Works in Node, browsers and bundlers, whatever the output format (ESM, IIFE, CJS).
// The main entry resolves here too under the "development" condition (a bundler's dev mode,
// e.g. Vite's dev server, whose dependency pre-bundling moves the glue away from the .wasm).
// Not for workerd (Cloudflare Workers), which forbids compiling wasm from bytes at run time:
// import "cf-gateway-certs" there (its "workerd" condition imports the .wasm as a module).
import { initSync } from "../pkg/cf_gateway_certs.js";
import wasmBase64 from "../pkg/cf_gateway_certs_bg_inline.js";

initSync({
  module: typeof Uint8Array.fromBase64 === "function"
    ? Uint8Array.fromBase64(wasmBase64)
    : Uint8Array.from(atob(wasmBase64), (c) => c.charCodeAt(0)),
});

export { GatewayCertificates, deleteCertificate } from "../pkg/cf_gateway_certs.js";
