// The local API: answers DELETE /client/v4/accounts/{a}/gateway/certificates/{id} with a
// realistic success envelope (the deleted certificate, PEM included), keep-alive, in its own
// process. Prints {"port":N} on stdout when listening. Anything else: a Cloudflare 404 envelope.
import http from "node:http";

const PEM = "-----BEGIN CERTIFICATE-----\n" +
  Array.from({ length: 17 }, (_, i) => "MIIDdzCCAl+gAwIBAgIUQ2xvdWRmbGFyZSBHYXRld2F5IENBIGNlcnQgYmVuY2ht".slice(0, 64)).join("\n") +
  "\nYXJr\n-----END CERTIFICATE-----\n";
const ROUTE = /^\/client\/v4\/accounts\/([A-Za-z0-9]{1,32})\/gateway\/certificates\/([0-9a-fA-F-]{36})$/;
let n = 0;
const BUDGET = 1_000_000_000;

const server = http.createServer((req, res) => {
  const m = req.method === "DELETE" && ROUTE.exec(req.url);
  if (!m) {
    const body = JSON.stringify({ success: false, errors: [{ code: 7003, message: "No route for the URI" }], messages: [], result: null });
    res.writeHead(404, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
    res.end(body);
    return;
  }
  n++;
  const body = JSON.stringify({
    success: true,
    errors: [],
    messages: [],
    result: {
      id: m[2],
      binding_status: "inactive",
      certificate: PEM,
      created_at: "2025-01-14T10:02:11.123456Z",
      expires_on: "2030-01-13T10:02:11Z",
      fingerprint: "E9:F4:6A:0C:8B:11:27:9D:3E:61:5A:C2:90:7F:44:D8:0B:6E:19:A3:52:C7:F0:38:8D:14:BE:72:09:66:A1:5C",
      in_use: false,
      issuer_org: "Cloudflare, Inc.",
      issuer_raw: "O=Cloudflare, Inc.,L=San Francisco,ST=California,C=US",
      type: "gateway_managed",
      updated_at: "2025-03-02T08:44:51.654321Z",
      uploaded_on: "2025-01-14T10:02:11.123456Z",
    },
  });
  res.writeHead(200, {
    "content-type": "application/json; charset=UTF-8",
    "content-length": Buffer.byteLength(body),
    "cf-ray": "8f1c2d3e4a5b6c7d-SJC",
    "cf-cache-status": "DYNAMIC",
    // Truthful, with a budget no run exhausts: a client that paces itself by these headers
    // (this package does) is measured without ever being held.
    "ratelimit": `"default";r=${BUDGET - n};t=300`,
    "ratelimit-policy": `"default";q=${BUDGET};w=300`,
    "vary": "Accept-Encoding",
  });
  res.end(body);
});
server.keepAliveTimeout = 60_000;
server.headersTimeout = 61_000;
server.listen(0, "127.0.0.1", () => {
  process.stdout.write(JSON.stringify({ port: server.address().port }) + "\n");
});
process.on("SIGTERM", () => { server.closeAllConnections?.(); server.close(() => process.exit(0)); });
process.on("message", (m) => { if (m === "count") process.send({ count: n }); });
