// The official SDK, full client, one delete.
import Cloudflare from "cloudflare";

export function makeClient({ apiToken, baseUrl }) {
  const client = new Cloudflare({ apiToken, baseURL: baseUrl, maxRetries: 0 });
  return { delete: (id, params) => client.zeroTrust.gateway.certificates.delete(id, params) };
}
