// The official SDK, tree-shakable client with only the Gateway certificates resource
// (cloudflare/tree-shakable + the Base* resource class, as the SDK README documents).
import { createClient } from "cloudflare/tree-shakable";
import { BaseCertificates } from "cloudflare/resources/zero-trust/gateway/certificates";

export function makeClient({ apiToken, baseUrl }) {
  const client = createClient({ resources: [BaseCertificates], apiToken, baseURL: baseUrl, maxRetries: 0 });
  return { delete: (id, params) => client.zeroTrust.gateway.certificates.delete(id, params) };
}
