// The relay: answers the six Gateway-certificate operations and the one Gateway-configuration
// PATCH that selects a certificate, under /client/v4, by calling the package with the caller's
// own credential headers; serves the page for everything else.
//
// It never stores, logs or echoes a credential: the credential is read from the request, handed
// to the package for this one call, and every string that goes back out is scrubbed of it.
//
// One upstream attempt per incoming request (the relay's client has maxRetries 0): the caller's
// own client retries end to end, so attempts are never multiplied and a retried DELETE that finds
// the certificate gone is recognised by the caller's client as a DELETE whose answer was lost.

/** The Content-Security-Policy of the page (also in www/_headers and the page's <meta>). */
export const CSP =
  "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; connect-src 'self'; " +
  "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** Headers set on every response of this Worker (page, assets and API). */
export const SECURITY_HEADERS = {
  "Content-Security-Policy": CSP,
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "X-Frame-Options": "DENY",
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Resource-Policy": "same-origin",
  "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
};

export const DEFAULT_API_BASE_URL = "https://api.cloudflare.com/client/v4";

const PREFIX = "/client/v4";
// /client/v4/accounts/{account_id}/gateway/certificates[/{id}[/activate|/deactivate]]
// Segments are taken as sent (still percent-encoded): the package validates them (UUID, 1..32
// ASCII letters/digits) and refuses anything else before any upstream request.
const ROUTE = /^\/client\/v4\/accounts\/([^/]+)\/gateway\/certificates(?:\/([^/]+)(?:\/(activate|deactivate))?)?$/;
// /client/v4/accounts/{account_id}/gateway/configuration: PATCH only, one body shape only.
const CONFIG_ROUTE = /^\/client\/v4\/accounts\/([^/]+)\/gateway\/configuration$/;

// Codes of the errors this relay writes itself (the API's own errors are always passed as they
// came). Cloudflare's own: 7003 no route, 7001 method not allowed. Ours are 90000..90009, a range
// no Cloudflare API error uses (its generic codes start at 1000), so a caller can tell who spoke.
export const CODES = {
  InvalidInputError: 90001,
  APIConnectionError: 90002,
  APIConnectionTimeoutError: 90003,
  APIUserAbortError: 90004,
  CertificateNotInactiveError: 90005,
  CertificateInUseError: 90006,
  UnsupportedCertificateError: 90007,
  APIError: 90008,
  CertificateNotAvailableError: 90009,
};
export const INTERNAL_CODE = 90000;

/** Per-attempt upstream timeout when the var CF_API_TIMEOUT_MS is not set. */
export const DEFAULT_TIMEOUT_MS = 20000;
/** The largest request body the relay reads (create and the configuration PATCH). */
export const MAX_BODY_BYTES = 4096;

// Status for a package error that carries no usable HTTP status of its own.
const STATUS_BY_NAME = {
  InvalidInputError: 400,
  APIConnectionError: 502,
  APIConnectionTimeoutError: 504,
  APIUserAbortError: 499,
  CertificateNotInactiveError: 409,
  CertificateInUseError: 409,
  UnsupportedCertificateError: 400,
  APIError: 502,
  // A single call that found the rate limit's budget spent for long: nothing was sent.
  RateLimitError: 429,
  CertificateNotAvailableError: 409,
};

/** Which operation a path + method is: { op, accountId, certificateId } | { status: 404|405, allow } */
export function route(pathname, method) {
  const c = CONFIG_ROUTE.exec(pathname);
  if (c) return method === "PATCH" ? { op: "select", accountId: c[1] } : { status: 405, allow: ["PATCH"] };
  const m = ROUTE.exec(pathname);
  if (!m) return { status: 404 };
  const [, accountId, certificateId, action] = m;
  let allow;
  let op;
  if (action) {
    allow = ["POST"];
    if (method === "POST") op = action; // activate | deactivate
  } else if (certificateId !== undefined) {
    allow = ["GET", "DELETE"];
    if (method === "GET") op = "get";
    else if (method === "DELETE") op = "delete";
  } else {
    allow = ["GET", "POST"];
    if (method === "GET") op = "list";
    else if (method === "POST") op = "create";
  }
  if (!op) return { status: 405, allow };
  return { op, accountId, certificateId };
}

/** The caller's credential, as ClientOptions, from its own request headers. */
function credentialOptions(headers) {
  const opts = {};
  const auth = headers.get("Authorization");
  if (auth !== null) {
    const m = /^Bearer[ \t]+(.*)$/is.exec(auth.trim());
    // A non-Bearer Authorization is passed as an empty token, so the package refuses it as
    // invalid input instead of us silently ignoring it.
    opts.apiToken = m ? m[1].trim() : "";
  }
  const email = headers.get("X-Auth-Email");
  const key = headers.get("X-Auth-Key");
  if (email !== null) opts.apiEmail = email.trim();
  if (key !== null) opts.apiKey = key.trim();
  return opts;
}

/** Every secret string this request carries, for scrubbing (longest first). The email counts:
 * it names the account holder, and the API's rate-limit headers are passed on as sent. */
function secretsOf(headers, creds) {
  const out = new Set();
  for (const v of [creds.apiToken, creds.apiKey, creds.apiEmail, headers.get("Authorization"),
    headers.get("X-Auth-Key"), headers.get("X-Auth-Email")]) {
    if (typeof v === "string" && v.length >= 4) out.add(v);
  }
  return [...out].sort((a, b) => b.length - a.length);
}

function scrubString(s, secrets) {
  let out = s;
  for (const secret of secrets) out = out.split(secret).join("[redacted]");
  return out;
}

/** A deep copy of a JSON value with every secret replaced (in keys and strings). */
function scrub(value, secrets) {
  if (secrets.length === 0) return value;
  if (typeof value === "string") return scrubString(value, secrets);
  if (Array.isArray(value)) return value.map((v) => scrub(v, secrets));
  if (value && typeof value === "object") {
    const out = {};
    for (const [k, v] of Object.entries(value)) out[scrubString(k, secrets)] = scrub(v, secrets);
    return out;
  }
  return value;
}

function withSecurityHeaders(headers) {
  for (const [k, v] of Object.entries(SECURITY_HEADERS)) headers.set(k, v);
  return headers;
}

function envelopeResponse(status, body, extraHeaders = {}, secrets = []) {
  const headers = withSecurityHeaders(new Headers({
    "Content-Type": "application/json; charset=utf-8",
    "Cache-Control": "no-store",
  }));
  for (const [k, v] of Object.entries(extraHeaders)) {
    if (v !== undefined && v !== null && v !== "") headers.set(k, scrubString(String(v), secrets));
  }
  return new Response(JSON.stringify(scrub(body, secrets)), { status, headers });
}

function failure(status, errors, extraHeaders, secrets) {
  return envelopeResponse(status, { success: false, errors, messages: [], result: null }, extraHeaders, secrets);
}

const PACKAGE_ERRORS = new Set([
  "InvalidInputError", "BadRequestError", "AuthenticationError", "PermissionDeniedError",
  "NotFoundError", "ConflictError", "UnprocessableEntityError", "RateLimitError",
  "InternalServerError", "APIError", "APIConnectionError", "APIConnectionTimeoutError",
  "APIUserAbortError", "CertificateNotInactiveError", "CertificateInUseError",
  "UnsupportedCertificateError", "CertificateNotAvailableError",
]);

/** Is this one of the package's typed errors (and not a bug)? */
export function isPackageError(err) {
  return err instanceof Error && PACKAGE_ERRORS.has(err.name);
}

/**
 * Whether the caller must not retry this answer: the relay's own verdicts (bad input, a
 * certificate in the wrong state, a 2xx from the API that was not a success envelope, an abort,
 * a bug). Every other failure is the upstream status of the relay's one attempt (or 502/504 for
 * no answer), which the caller's client retries by its own rules exactly as if it had called the
 * API itself.
 */
function isFinal(err, known) {
  if (!known) return true;
  switch (err.name) {
    case "APIConnectionError":
    case "APIConnectionTimeoutError":
      return false;
    case "APIError":
      return !(Number.isInteger(err.status) && err.status >= 400); // a bad 2xx is never retried
    case "InvalidInputError":
    case "APIUserAbortError":
    case "CertificateNotInactiveError":
    case "CertificateInUseError":
    case "UnsupportedCertificateError":
    case "CertificateNotAvailableError":
      return true;
    default:
      return false; // an HTTP error of the API: the caller's client applies its status rule
  }
}

/**
 * A package error (or anything thrown) as a failure envelope response. `extraHeaders` (the API's
 * rate-limit headers) are added as they are, scrubbed like everything else.
 */
export function errorResponse(err, secrets = [], extraHeaders = {}) {
  const known = isPackageError(err);
  const name = known ? err.name : "Error";
  let status = known && Number.isInteger(err.status) ? err.status : undefined;
  // No status, or a 2xx that was not a success envelope: a bad gateway from here.
  if (status === undefined || status < 400 || status > 599) status = known ? STATUS_BY_NAME[name] ?? 502 : 500;

  let errors = known && Array.isArray(err.errors) ? err.errors.filter((e) => e && typeof e === "object") : [];
  if (errors.length === 0) {
    errors = [known
      ? { code: CODES[name] ?? INTERNAL_CODE, message: `${name}: ${String(err.message ?? "").slice(0, 2000)}` }
      : { code: INTERNAL_CODE, message: "Internal error in the relay" }];
  }
  const headers = { ...extraHeaders, "X-Gateway-Certs-Error": name };
  if (known && typeof err.retryAfterMs === "number" && Number.isFinite(err.retryAfterMs) && err.retryAfterMs >= 0) {
    headers["Retry-After"] = String(Math.max(1, Math.ceil(err.retryAfterMs / 1000)));
    headers["Retry-After-Ms"] = String(Math.round(err.retryAfterMs));
  }
  if (known && typeof err.cfRay === "string" && err.cfRay) headers["cf-ray"] = err.cfRay;
  // The relay made one attempt and leaves retrying to the caller, except for its own final
  // verdicts, which say so to clients that honour x-should-retry.
  if (isFinal(err, known)) headers["x-should-retry"] = "false";
  return failure(status, errors, headers, secrets);
}

function invalidInput(message) {
  const err = new Error(message);
  err.name = "InvalidInputError";
  err.status = undefined;
  err.errors = [];
  return err;
}

/**
 * The request body as text, read up to MAX_BODY_BYTES: a longer one is refused without being
 * read to its end (Content-Length is not trusted; the stream is counted).
 */
async function readBody(request) {
  if (!request.body) return "";
  const reader = request.body.getReader();
  const chunks = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_BODY_BYTES) {
      await reader.cancel().catch(() => {});
      throw invalidInput(`the request body is too large (more than ${MAX_BODY_BYTES} bytes)`);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.byteLength;
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw invalidInput("the request body is not UTF-8");
  }
}

async function readCreateBody(request) {
  const text = await readBody(request);
  if (text.trim() === "") return {};
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    throw invalidInput("the request body is not JSON");
  }
  if (!body || typeof body !== "object" || Array.isArray(body)) {
    throw invalidInput("the request body must be a JSON object");
  }
  const params = {};
  if (body.validity_period_days !== undefined) params.validity_period_days = body.validity_period_days;
  return params;
}

/** A plain JSON object (not an array, not null) whose keys are exactly `keys`. */
function hasExactly(value, keys) {
  if (!value || typeof value !== "object" || Array.isArray(value)) return false;
  const own = Object.keys(value);
  return own.length === keys.length && keys.every((k) => Object.hasOwn(value, k));
}

export const SELECT_SHAPE = '{"settings":{"certificate":{"id":"<certificate id>"}}}';

/**
 * The certificate id of a configuration PATCH, whose body must be exactly
 * {"settings":{"certificate":{"id":"<id>"}}} (whitespace aside): any other key, block or type, a
 * duplicate key or an escaped character is refused, so the relay can only ever switch the
 * certificate and never touch the rest of the Gateway configuration. The id itself is validated
 * by the package (a UUID) before anything is sent.
 */
async function readSelectBody(request) {
  const text = await readBody(request);
  const refuse = (why) => invalidInput(`the request body must be exactly ${SELECT_SHAPE}: ${why}`);
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    throw refuse("it is not JSON");
  }
  if (!hasExactly(body, ["settings"])) throw refuse("the top level must hold only settings");
  if (!hasExactly(body.settings, ["certificate"])) throw refuse("settings must hold only certificate");
  if (!hasExactly(body.settings.certificate, ["id"])) throw refuse("certificate must hold only id");
  const { id } = body.settings.certificate;
  if (typeof id !== "string") throw refuse("id must be a string");
  // JSON.parse keeps the last of duplicate keys and decodes escapes: the text must be the
  // canonical form of what was parsed, so no other parser can read it differently.
  if (text.replace(/[ \t\n\r]/g, "") !== JSON.stringify({ settings: { certificate: { id } } })) {
    throw refuse("duplicate keys, escapes or whitespace inside the id");
  }
  return id;
}

/** The API's rate-limit headers as the relay's client last saw them, to pass on as sent. */
function rateLimitHeadersOf(client) {
  if (!client || typeof client.rateLimitHeaders !== "function") return {};
  const seen = client.rateLimitHeaders() ?? {};
  const out = {};
  if (typeof seen.ratelimit === "string") out.Ratelimit = seen.ratelimit;
  if (typeof seen.ratelimitPolicy === "string") out["Ratelimit-Policy"] = seen.ratelimitPolicy;
  return out;
}

/** The relay's per-attempt upstream timeout: the var CF_API_TIMEOUT_MS, else 20 s. */
function timeoutOf(env) {
  const ms = Number(env && env.CF_API_TIMEOUT_MS);
  return Number.isInteger(ms) && ms > 0 ? ms : DEFAULT_TIMEOUT_MS;
}

const SUCCESS_STATUS = { list: 200, create: 200, get: 200, delete: 200, activate: 202, deactivate: 201, select: 200 };
const READS_BODY = new Set(["create", "select"]);

/** Answer one API request under /client/v4. */
export async function handleApi(request, env, GatewayCertificates) {
  const url = new URL(request.url);
  const r = route(url.pathname, request.method);
  // Drain a body we will not read (the package sends {} with activate/deactivate; anything
  // may come with a 404/405): workerd drops the keep-alive connection otherwise, and the
  // caller's next request on it fails with a reset.
  if (!READS_BODY.has(r.op) && request.body) {
    try {
      await request.arrayBuffer();
    } catch {}
  }
  if (r.status === 404) return failure(404, [{ code: 7003, message: "No route for the URI" }]);
  if (r.status === 405) {
    return failure(405, [{ code: 7001, message: "Method not allowed for this route" }], { Allow: r.allow.join(", ") });
  }

  const creds = credentialOptions(request.headers);
  const secrets = secretsOf(request.headers, creds);
  let client;
  try {
    // One attempt per incoming request (maxRetries 0): the caller's client retries end to end.
    // The per-attempt timeout (var CF_API_TIMEOUT_MS, 20 s) stays well below the caller's (the
    // package's default 60 s), even for a DELETE whose 5xx is followed by the package's GET.
    client = new GatewayCertificates({
      ...creds,
      baseUrl: (env && env.CF_API_BASE_URL) || DEFAULT_API_BASE_URL,
      timeoutMs: timeoutOf(env),
      maxRetries: 0,
    });
    const params = { account_id: r.accountId };
    const options = request.signal ? { signal: request.signal } : {};
    let result;
    switch (r.op) {
      case "list": result = await client.list(params, options); break;
      case "create": result = await client.create({ ...params, ...(await readCreateBody(request)) }, options); break;
      case "get": result = await client.get(r.certificateId, params, options); break;
      case "delete": result = await client.delete(r.certificateId, params, options); break;
      case "activate": result = await client.activate(r.certificateId, params, options); break;
      case "deactivate": result = await client.deactivate(r.certificateId, params, options); break;
      case "select": result = await client.selectCertificate(await readSelectBody(request), params, options); break;
    }
    const body = { success: true, errors: [], messages: [], result };
    return envelopeResponse(SUCCESS_STATUS[r.op], body, rateLimitHeadersOf(client), secrets);
  } catch (err) {
    if (!isPackageError(err)) {
      // Not a package error: a bug. Log what it is, never what the request carried.
      console.error(`relay: unexpected ${scrubString(String(err?.name ?? typeof err), secrets)}`);
    }
    return errorResponse(err, secrets, rateLimitHeadersOf(client));
  }
}

/** The whole Worker: API under /client/v4, the page (static assets) for the rest. */
export async function handle(request, env, GatewayCertificates) {
  const url = new URL(request.url);
  if (url.pathname === PREFIX || url.pathname.startsWith(`${PREFIX}/`)) {
    return handleApi(request, env, GatewayCertificates);
  }
  if (!env || !env.ASSETS) return failure(404, [{ code: 7003, message: "No route for the URI" }]);
  const res = await env.ASSETS.fetch(request);
  const out = new Response(res.body, res);
  withSecurityHeaders(out.headers);
  return out;
}
