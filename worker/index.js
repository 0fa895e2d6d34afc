// The Worker: serves the page (static assets in dist/www) and relays the six Gateway-certificate
// operations and the certificate-switching PATCH of the Gateway configuration under /client/v4
// through the package's workerd build (its .wasm is imported as a module, which is what workerd
// requires). See worker/relay.js and worker/README.md.
import { GatewayCertificates } from "../js/workerd.js";
import { handle } from "./relay.js";

export default {
  fetch(request, env) {
    return handle(request, env, GatewayCertificates);
  },
};
