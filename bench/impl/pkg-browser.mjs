// The package, one delete, through its browser entry (what a bundler would ship; the .wasm
// stays a separate asset and is counted separately).
import { GatewayCertificates } from "../../js/browser.js";

export function makeClient({ apiToken, baseUrl }) {
  const client = new GatewayCertificates({ apiToken, baseUrl, maxRetries: 0 });
  return { delete: (id, params) => client.delete(id, params) };
}
