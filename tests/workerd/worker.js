// A minimal Worker that uses the package's workerd entry (the .wasm imported as a module).
import { GatewayCertificates } from "../../js/workerd.js";

const json = (body, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (request.method !== "POST" || url.pathname !== "/delete") return json({ error: "not found" }, 404);
    const { accountId, certificateId, timeoutMs, abortAfterMs } = await request.json();
    try {
      const client = new GatewayCertificates({
        apiToken: env.CF_API_TOKEN,
        baseUrl: env.CF_API_BASE_URL,
        ...(timeoutMs === undefined ? {} : { timeoutMs, maxRetries: 0 }),
      });
      const signal = abortAfterMs === undefined ? undefined : AbortSignal.timeout(abortAfterMs);
      const certificate = await client.delete(certificateId, { account_id: accountId }, { signal });
      return json({ ok: true, certificate, plain: Object.getPrototypeOf(certificate) === Object.prototype });
    } catch (err) {
      return json({
        ok: false,
        isError: err instanceof Error,
        name: err.name,
        status: err.status ?? null,
        errors: err.errors,
        cfRay: err.cfRay ?? null,
        message: err.message,
      }, 502);
    }
  },
};
