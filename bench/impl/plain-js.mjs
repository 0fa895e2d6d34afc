// Plain JS: the package's contract for one delete, hand-written with the platform's fetch. The
// yardstick for "what would the contract cost without the wasm": the same checks and policy as
// the package on the delete path (docs/wire.md, docs/errors.md):
//
// - options checked when the client is made: one credential scheme (apiToken, or apiEmail +
//   apiKey) of printable ASCII, an absolute http(s) baseUrl without user info / query /
//   fragment / dot segments, whole-number timeoutMs (default 60 s, 0: none) and maxRetries
//   (default 2, at most 10); the certificate id (UUID) and account_id (1 to 32 ASCII letters
//   and digits) checked before any request; all as InvalidInputError;
// - a per-attempt timeout (AbortController + setTimeout, cleared after the body is read) and
//   the caller's optional `signal` (APIUserAbortError, also during a wait);
// - retries on connection errors, timeouts, 408, 409, 429 and >= 500, `x-should-retry`
//   overriding the status rule; the wait is retry-after-ms, else Retry-After (seconds or HTTP
//   date), else the Ratelimit t= (on a 429 or r=0), else 0.5 s x 2^n (max 8 s) minus up to
//   25 % jitter; a server wait over 60 s fails at once with retryAfterMs;
// - the envelope read leniently (success, errors [{code, message}], result object); errors
//   named by status, carrying status, errors, cfRay, retryAfterMs, a message like
//   "HTTP 404: [7003] No route for the URI", API texts without control characters or the
//   credentials, an excerpt of a non-JSON body;
// - after a DELETE answered 5xx / 400 / 409 / 422, one GET of the certificate: not `inactive`
//   is CertificateNotInactiveError (with `certificate`); a 404 after a retry says the first
//   attempt may have deleted it.
//
// Not here: the other methods (get, list, create, activate, ...), retire / retireMany /
// rotation, and pacing by the Ratelimit budget (the package holds requests it knows would get
// a 429; this client only honours the waits an answer names).

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ACCOUNT = /^[A-Za-z0-9]{1,32}$/;
const CREDENTIAL = /^[\x21-\x7e](?:[\x20-\x7e]{0,4094}[\x21-\x7e])?$/;
const NAMES = { 400: "BadRequestError", 401: "AuthenticationError", 403: "PermissionDeniedError", 404: "NotFoundError",
  409: "ConflictError", 422: "UnprocessableEntityError", 429: "RateLimitError" };
const MAX_WAIT_MS = 60_000;
const TIMEOUT = Symbol("timeout");

const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);

// An Error with the contract's properties; the message: "HTTP <status>: <detail>; [code] message; retry after N ms".
function apiError({ name, status, errors = [], cfRay, retryAfterMs, detail, certificate }) {
  const parts = [detail, ...errors.map((e) => `[${e.code}] ${e.message}`)];
  if (retryAfterMs !== undefined) parts.push(`retry after ${retryAfterMs} ms`);
  const text = parts.filter(Boolean).join("; ");
  const err = new Error(status ? `HTTP ${status}${text && ": " + text}` : text || name);
  err.name = name;
  Object.assign(err, { status, errors, cfRay, retryAfterMs });
  if (certificate) err.certificate = certificate;
  return err;
}
const invalid = (detail) => apiError({ name: "InvalidInputError", detail });
const aborted = () => apiError({ name: "APIUserAbortError", detail: "the request was aborted by the caller's signal" });

// Resolves after ms; rejects with APIUserAbortError as soon as the signal fires.
function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(aborted());
    const stop = () => { clearTimeout(timer); reject(aborted()); };
    const timer = setTimeout(() => { signal?.removeEventListener("abort", stop); resolve(); }, ms);
    signal?.addEventListener("abort", stop, { once: true });
  });
}

// The wait the answer names, in ms, or undefined.
function serverWait(status, headers) {
  const number = (v) => (v != null && /^\s*\d{1,12}(\.\d{1,9})?\s*$/.test(v) ? Number(v) : undefined);
  const ms = number(headers.get("retry-after-ms"));
  if (ms !== undefined) return Math.ceil(ms);
  const after = headers.get("retry-after");
  if (after != null) {
    const secs = number(after);
    if (secs !== undefined) return Math.ceil(secs * 1000);
    const at = /^\s*[a-z]/i.test(after) ? Date.parse(/gmt\s*$/i.test(after) ? after : after + " GMT") : NaN;
    if (!Number.isNaN(at)) return Math.max(0, Math.ceil(at - Date.now()));
  }
  const policy = (headers.get("ratelimit") || "").split(",")[0];
  const param = (k) => new RegExp(`(?:^|;)\\s*${k}=(\\d+)\\s*(?:;|$)`).exec(policy)?.[1];
  const reset = param("t");
  if (reset !== undefined && (status === 429 || param("r") === "0")) return Number(reset) * 1000;
}

function retryable(status, headers) {
  const say = headers.get("x-should-retry")?.trim().toLowerCase();
  if (say === "true" || say === "false") return say === "true";
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

const backoff = (retry) => Math.round(Math.min(500 * 2 ** retry, 8000) * (1 - 0.25 * Math.random()));

export function createClient({ apiToken, apiEmail, apiKey, baseUrl = "https://api.cloudflare.com/client/v4",
  timeoutMs = 60_000, maxRetries = 2 } = {}) {
  for (const [name, v] of Object.entries({ apiToken, apiEmail, apiKey })) {
    if (v && !(typeof v === "string" && CREDENTIAL.test(v))) throw invalid(`${name} must be printable ASCII without control characters, line breaks or outer spaces`);
  }
  if (apiToken ? apiEmail || apiKey : !(apiEmail && apiKey)) throw invalid("give either apiToken or apiEmail + apiKey");
  let url;
  try { url = new URL(baseUrl); } catch {}
  if (!url || !/^https?:$/.test(url.protocol) || !url.hostname || url.username || url.password ||
      /[^\x21-\x7e]|[?#\\]|\/\.\.?(\/|$)/.test(baseUrl)) {
    throw invalid("baseUrl must be an absolute http(s) URL without user info, query, fragment, spaces or . segments");
  }
  for (const [name, v, max] of [["timeoutMs", timeoutMs, 2 ** 31 - 1], ["maxRetries", maxRetries, 10]]) {
    if (!Number.isInteger(v) || v < 0 || v > max) throw invalid(`${name} must be a whole number from 0 to ${max}`);
  }
  const base = baseUrl.replace(/\/+$/, "");
  const headers = apiToken
    ? { accept: "application/json", authorization: `Bearer ${apiToken}` }
    : { accept: "application/json", "x-auth-email": apiEmail, "x-auth-key": apiKey };
  const secrets = [apiToken, apiKey, apiEmail].filter(Boolean);

  // An API text as it may enter a message: credentials out, control characters to spaces, cut.
  const clean = (text, max = 1000) => {
    let s = String(text ?? "");
    for (const secret of secrets) s = s.split(secret).join("[redacted]");
    s = s.replace(/[\x00-\x1f\x7f-\x9f]/g, " ");
    return s.length > max ? s.slice(0, max) + "…" : s;
  };
  // A short printable excerpt of a non-JSON body (an HTML page from a proxy).
  const excerpt = (body, max = 160) => clean(body.replace(/<(style|script)\b[\s\S]*?<\/\1\s*>|<[^>]*>?/gi, " ").replace(/\s+/g, " ").trim(), max);

  // One attempt, body read, within the timeout: { res, text, json }, or { failure }.
  async function attempt(method, target, signal) {
    if (signal?.aborted) throw aborted();
    const controller = new AbortController();
    const abort = () => controller.abort();
    signal?.addEventListener("abort", abort);
    const timer = timeoutMs > 0 ? setTimeout(abort, timeoutMs) : undefined;
    try {
      const res = await fetch(target, { method, headers, signal: controller.signal });
      const text = await res.text();
      let json;
      try { json = JSON.parse(text); } catch { /* not JSON */ }
      return { res, text, json };
    } catch (e) {
      if (signal?.aborted) throw aborted();
      return { failure: controller.signal.aborted ? TIMEOUT : `${e?.message ?? e}${e?.cause?.message ? ` (${e.cause.message})` : ""}` };
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", abort);
    }
  }

  // The envelope: { result } for a 2xx success with an object result, else { error } (the fields of apiError).
  function read({ res, text, json }) {
    const status = res.status;
    const ok = status >= 200 && status < 300;
    if (ok && json?.success === true && isObject(json.result)) return { result: json.result };
    const error = { name: ok ? "APIError" : NAMES[status] ?? (status >= 500 ? "InternalServerError" : "APIError"),
      status, errors: [], cfRay: res.headers.get("cf-ray") ?? undefined };
    if (!isObject(json)) {
      const quote = excerpt(text);
      error.detail = (ok ? "the response is not a JSON envelope" : "non-JSON response") + (quote && `: ${quote}`);
      return { error };
    }
    error.errors = (Array.isArray(json.errors) ? json.errors.slice(0, 20) : []).filter(isObject).map((e) => {
      const item = { code: Number.isFinite(e.code) ? Math.trunc(e.code) : 0, message: clean(e.message) };
      if (typeof e.documentation_url === "string") item.documentation_url = clean(e.documentation_url);
      if (typeof e.source?.pointer === "string") item.source = { pointer: clean(e.source.pointer) };
      return item;
    });
    if (ok) {
      const r = json.result;
      error.detail = json.success !== true ? "success is not true in a 2xx response"
        : r === undefined ? "result is missing" : r === null ? "result is null" : "result is not a certificate object";
    }
    return { error };
  }

  return {
    /** DELETE one certificate (it must be `inactive`); resolves with the deleted certificate. */
    async delete(certificateId, params, { signal } = {}) {
      const account = params?.account_id;
      if (typeof certificateId !== "string" || !UUID.test(certificateId)) {
        throw invalid(certificateId ? "certificateId must be a UUID like f174e90a-fafe-4643-bbbc-4a0ed4fc8415" : "certificateId is required");
      }
      if (typeof account !== "string" || !ACCOUNT.test(account)) {
        throw invalid(account ? "account_id must be 1 to 32 ASCII letters and digits" : "account_id is required (the 32-character account id)");
      }
      const target = `${base}/accounts/${account}/gateway/certificates/${certificateId}`;
      let checked = false;
      for (let retry = 0; ; retry++) {
        const got = await attempt("DELETE", target, signal);
        let wait;
        if (got.failure) {
          if (retry >= maxRetries) {
            const after = retry ? ` (after ${retry + 1} attempts)` : "";
            throw got.failure === TIMEOUT
              ? apiError({ name: "APIConnectionTimeoutError", detail: `no response within ${timeoutMs} ms${after}` })
              : apiError({ name: "APIConnectionError", detail: `connection failed: ${excerpt(got.failure, 200)}${after}` });
          }
          wait = backoff(retry);
        } else {
          const { result, error } = read(got);
          if (result) return result;
          const { status, headers: h } = got.res;
          if (status < 300) throw apiError(error); // a 2xx that is not a success envelope: never retried
          if (status === 404 && retry > 0) {
            error.detail = "the certificate is gone: an earlier attempt of this DELETE, whose answer was lost, may have deleted it";
          }
          wait = serverWait(status, h);
          // The API answers 500 to the DELETE of a certificate that is still active: look first.
          if (!checked && (status >= 500 || status === 400 || status === 409 || status === 422)) {
            checked = true;
            const seen = await attempt("GET", target, signal);
            if (!seen.failure) {
              const cert = read(seen).result;
              if (cert && cert.binding_status !== "inactive") {
                throw apiError({ ...error, name: "CertificateNotInactiveError", certificate: cert,
                  detail: `cannot delete: certificate ${clean(cert.id ?? "?", 64)} is ${clean(cert.binding_status ?? "in an unknown state", 64)}, not inactive; deactivate it first (retire does both)` });
              }
              const more = cert ? undefined : serverWait(seen.res.status, seen.res.headers);
              if (more !== undefined && !(wait >= more)) wait = more;
            }
          }
          error.retryAfterMs = wait;
          if (retry >= maxRetries || !retryable(status, h) || wait > MAX_WAIT_MS) throw apiError(error);
          wait ??= backoff(retry);
        }
        await sleep(wait, signal);
      }
    },
  };
}

// The bench's adapter, like the others: one client, no retries.
export function makeClient({ apiToken, baseUrl }) {
  const client = createClient({ apiToken, baseUrl, maxRetries: 0 });
  return { delete: (id, params) => client.delete(id, params) };
}
