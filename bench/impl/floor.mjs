// The floor: the least a careful hand-written delete does with the platform's fetch.
// Input check (UUID / account id), one DELETE, envelope check, error with status and [code] message.
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ACCOUNT = /^[A-Za-z0-9]{1,32}$/;

export function makeClient({ apiToken, baseUrl }) {
  const base = baseUrl.replace(/\/+$/, "");
  const headers = { authorization: `Bearer ${apiToken}`, accept: "application/json" };
  return {
    async delete(certificateId, { account_id }) {
      if (!UUID.test(certificateId) || !ACCOUNT.test(account_id)) throw new TypeError("invalid input");
      const res = await fetch(`${base}/accounts/${account_id}/gateway/certificates/${certificateId}`, {
        method: "DELETE",
        headers,
      });
      let body = null;
      try { body = await res.json(); } catch { /* not JSON */ }
      const result = body && body.result;
      if (!res.ok || !body || body.success !== true || !result || typeof result !== "object" || Array.isArray(result)) {
        const errs = (body && Array.isArray(body.errors)) ? body.errors : [];
        const err = new Error(`${res.status} ${errs.map((e) => `[${e.code}] ${e.message}`).join("; ")}`);
        err.status = res.status;
        err.errors = errs;
        throw err;
      }
      return result;
    },
  };
}
