// Imports the package by its name, as a Worker project does; bundled by the test with the
// `workerd` condition (what wrangler does), so the package's exports map picks the entry.
import { deleteCertificate } from "cf-gateway-certs";

export default {
  async fetch(request, env) {
    const { accountId, certificateId } = await request.json();
    try {
      const certificate = await deleteCertificate({ apiToken: env.CF_API_TOKEN, baseUrl: env.CF_API_BASE_URL, accountId, certificateId });
      return Response.json({ ok: true, certificate });
    } catch (err) {
      return Response.json({ ok: false, name: err.name, status: err.status ?? null }, { status: 502 });
    }
  },
};
