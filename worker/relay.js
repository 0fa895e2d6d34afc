// The relay: answers the six Gateway-certificate operations under /client/v4 by calling the
// package with the caller's own credential headers, and serves the page for everything else.
//
// It never stores, logs or echoes a credential: the credential is read from the request, handed
// to the package for this one call, and every string that goes back out is scrubbed of it.

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

// Codes of the errors this relay writes itself (the API's own errors are always passed as they
// came). Cloudflare's: 7003 no route, 7001 method not allowed. Ours are in 1001..1009.
const CODES = {
  InvalidInputError: 1001,
  APIConnectionError: 1002,
  APIConnectionTimeoutError: 1003,
  APIUserAbortError: 1004,
  CertificateNotInactiveError: 1005,
  CertificateInUseError: 1006,
  UnsupportedCertificateError: 1007,
  APIError: 1008,
};
const INTERNAL_CODE = 1000;

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
};

/** Which operation a path + method is: { op, accountId, certificateId } | { status: 404|405, allow } */
export function route(pathname, method) {
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

/** Every secret string this request carries, for scrubbing (longest first). */
function secretsOf(headers, creds) {
  const out = new Set();
  for (const v of [creds.apiToken, creds.apiKey, headers.get("Authorization"), headers.get("X-Auth-Key")]) {
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
  "UnsupportedCertificateError",
]);

/** Is this one of the package's typed errors (and not a bug)? */
export function isPackageError(err) {
  return err instanceof Error && PACKAGE_ERRORS.has(err.name);
}

/** A package error (or anything thrown) as a failure envelope response. */
export function errorResponse(err, secrets = []) {
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
  const headers = { "X-Gateway-Certs-Error": name };
  if (known && typeof err.retryAfterMs === "number" && Number.isFinite(err.retryAfterMs) && err.retryAfterMs >= 0) {
    headers["Retry-After"] = String(Math.max(1, Math.ceil(err.retryAfterMs / 1000)));
    headers["Retry-After-Ms"] = String(Math.round(err.retryAfterMs));
  }
  if (known && typeof err.cfRay === "string" && err.cfRay) headers["cf-ray"] = err.cfRay;
  // This relay already retried (the package's defaults): tell clients that honour it not to
  // multiply the attempts. A rate limit keeps its Retry-After for a later, deliberate retry.
  headers["x-should-retry"] = "false";
  return failure(status, errors, headers, secrets);
}

function invalidInput(message) {
  const err = new Error(message);
  err.name = "InvalidInputError";
  err.status = undefined;
  err.errors = [];
  return err;
}

async function readCreateBody(request) {
  const text = await request.text();
  if (text.length > 4096) throw invalidInput("the request body is too large");
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

const SUCCESS_STATUS = { list: 200, create: 200, get: 200, delete: 200, activate: 202, deactivate: 201 };

/** Answer one API request under /client/v4. */
export async function handleApi(request, env, GatewayCertificates) {
  const url = new URL(request.url);
  const r = route(url.pathname, request.method);
  // Drain a body we will not read (the package sends {} with activate/deactivate; anything
  // may come with a 404/405): workerd drops the keep-alive connection otherwise, and the
  // caller's next request on it fails with a reset.
  if (r.op !== "create" && request.body) {
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
  try {
    // Per-attempt upstream timeout (var CF_API_TIMEOUT_MS): with the default 60 s and two
    // retries, a hung upstream would hold the page's request for three minutes.
    const timeoutMs = Number(env && env.CF_API_TIMEOUT_MS);
    const client = new GatewayCertificates({
      ...creds,
      baseUrl: (env && env.CF_API_BASE_URL) || DEFAULT_API_BASE_URL,
      ...(Number.isInteger(timeoutMs) && timeoutMs > 0 ? { timeoutMs } : {}),
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
    }
    return envelopeResponse(SUCCESS_STATUS[r.op], { success: true, errors: [], messages: [], result }, {}, secrets);
  } catch (err) {
    if (!isPackageError(err)) {
      // Not a package error: a bug. Log what it is, never what the request carried.
      console.error(`relay: unexpected ${scrubString(String(err?.name ?? typeof err), secrets)}`);
    }
    return errorResponse(err, secrets);
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
