// Rendering, text only: API text reaches the page through textContent and never through
// innerHTML. The result region (#result), the error alert and the status line live here.

export const $ = (id) => document.getElementById(id);

/** A new element; `text` sets textContent, aria-/data- props are attributes, others properties. */
export const el = (tag, props = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("aria-") || k.startsWith("data-")) node.setAttribute(k, v);
    else node[k] = v;
  }
  for (const child of children) node.append(child);
  return node;
};

const FIELD_LABELS = {
  id: "ID",
  binding_status: "Binding status",
  in_use: "In use",
  type: "Type",
  fingerprint: "Fingerprint (SHA-256)",
  expires_on: "Expires",
  created_at: "Created",
  updated_at: "Updated",
  uploaded_on: "Uploaded",
  issuer_org: "Issuer organization",
  issuer_raw: "Issuer",
};
const FIELD_ORDER = Object.keys(FIELD_LABELS);

export function formatValue(value) {
  if (value === true) return "yes";
  if (value === false) return "no";
  if (value === null || value === undefined) return "—";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

export function formatDate(value) {
  if (typeof value !== "string" || value === "") return "—";
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? value : d.toISOString().slice(0, 10);
}

export const plural = (n, one, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** Fill a <dl> with a certificate's fields: the known ones first, then any others, PEM last. */
export function renderFields(dl, cert, only) {
  dl.replaceChildren();
  const keys = only ?? [
    ...FIELD_ORDER.filter((k) => k in cert),
    ...Object.keys(cert).filter((k) => !FIELD_ORDER.includes(k) && k !== "certificate").sort(),
  ];
  for (const key of keys) {
    const dd = el("dd", { text: formatValue(cert[key]), "data-field": key });
    if (key === "id" || key === "fingerprint") dd.classList.add("mono");
    dl.append(el("dt", { text: FIELD_LABELS[key] ?? key }), dd);
  }
  if (!only && typeof cert.certificate === "string") {
    const details = el("details", {},
      el("summary", { text: "Certificate (PEM)" }),
      el("pre", { text: cert.certificate, class: "mono" }));
    dl.append(el("dt", { text: "Certificate" }), el("dd", { "data-field": "certificate" }, details));
  }
}

const result = {
  section: $("result"),
  heading: $("result-heading"),
  summary: $("result-summary"),
  fields: $("result-fields"),
  details: $("result-details"),
};

/** One certificate in #result. */
export function showResult(cert, heading, summary) {
  result.section.hidden = false;
  result.heading.textContent = heading;
  result.summary.textContent = summary;
  result.details.replaceChildren();
  renderFields(result.fields, cert && typeof cert === "object" ? cert : {});
}

/** A summary in #result: a heading, a sentence and any further nodes (lists), no fields. */
export function showSummary(heading, summary, ...details) {
  result.section.hidden = false;
  result.heading.textContent = heading;
  result.summary.textContent = summary;
  result.fields.replaceChildren();
  result.details.replaceChildren(...details);
}

const status = $("status");
export function setStatus(text) {
  status.textContent = text;
}

const alertBox = $("error");
export function clearError() {
  alertBox.replaceChildren();
}

function time(ms) {
  return new Date(Date.now() + ms).toLocaleTimeString();
}

// Buttons a hint may offer, registered by the module that owns the action (no import cycle).
const hintActions = {};
export function registerHintAction(name, run) {
  hintActions[name] = run;
}

/** A hint for the common errors (text, plus an optional offered action). */
export function hintFor(err) {
  const cert = err.certificate;
  switch (err.name) {
    case "CertificateNotInactiveError":
      if (err.status === undefined && !err.errors?.length) {
        return { text: `The certificate did not become inactive in time (last seen: ${formatValue(cert?.binding_status)}). Try again in a few minutes.` };
      }
      return {
        text: `The API deletes only inactive certificates, and this one is ${formatValue(cert?.binding_status)}. ` +
          "Deactivate and delete deactivates it first, waits until it is inactive, then deletes it.",
        action: hintActions.retire && { label: "Deactivate first, then delete", run: hintActions.retire },
      };
    case "CertificateInUseError":
      return { text: "Gateway TLS inspection uses this certificate. Turn on another certificate for TLS inspection first, then try again." };
    case "UnsupportedCertificateError":
      return { text: "Custom (BYO-PKI) certificates are not deleted through this endpoint: manage them where they were uploaded." };
    case "CertificateNotAvailableError":
      if (cert?.binding_status === "available" && cert?.in_use !== true) {
        return { text: "The certificate did not report being in use in time. Look it up again in a few minutes." };
      }
      return {
        text: `Only an available certificate can be turned on for TLS inspection, and this one is ${formatValue(cert?.binding_status)}. ` +
          "Generate and activate makes a new one available; a pending deployment becomes available by itself.",
      };
    case "PermissionDeniedError":
      return { text: "The token needs the Zero Trust Write permission on this account (read is enough only to list and look up)." };
    case "AuthenticationError":
      return { text: "The credential was not accepted: check the API token (or the email and Global API key)." };
    case "RateLimitError":
      if (typeof err.retryAfterMs === "number") {
        const s = Math.ceil(err.retryAfterMs / 1000);
        return { text: `Rate limited: the API asks to wait ${s} s. Retry after ${time(err.retryAfterMs)}.` };
      }
      return { text: `Rate limited (1200 requests per 5 minutes per user; a block lasts 5 minutes). Retry after ${time(300_000)}.` };
    case "NotFoundError":
      return { text: "No such certificate in this account (already deleted?), or the account ID is wrong." };
    case "InvalidInputError":
      return { text: "Nothing was sent: check the fields above." };
    case "APIConnectionError":
      return { text: "The API base URL could not be reached. If it is another origin, this page's Content-Security-Policy blocks it." };
    case "APIConnectionTimeoutError":
      return { text: "The API did not answer in time. Try again." };
    case "APIUserAbortError":
      return { text: "Cancelled. If a request had already been sent, its change may still happen: look the certificate up." };
    case "InternalServerError":
      return { text: "The API failed. Try again in a moment; quote the Ray ID if you contact support." };
    default:
      return undefined;
  }
}

/** The error alert: name, HTTP status, every [code] message, the message, Ray ID and a hint. */
export function showError(err) {
  const e = err instanceof Error || (err && typeof err === "object") ? err : new Error(String(err));
  const name = typeof e.name === "string" && e.name ? e.name : "Error";
  const status = Number.isInteger(e.status) ? `HTTP ${e.status}` : "no HTTP status";
  const box = el("div", { class: "alert-body" },
    el("p", { class: "alert-title" },
      el("strong", { text: name, "data-error-name": "" }),
      document.createTextNode(" · "),
      el("span", { text: status, "data-error-status": "" })));
  const errors = Array.isArray(e.errors) ? e.errors : [];
  if (errors.length) {
    box.append(el("ul", { class: "api-errors" },
      ...errors.map((item) => el("li", { text: `[${formatValue(item?.code)}] ${formatValue(item?.message)}` }))));
  }
  if (typeof e.message === "string" && e.message) box.append(el("p", { class: "detail", text: e.message }));
  if (typeof e.cfRay === "string" && e.cfRay) box.append(el("p", { class: "detail", text: `Ray ID: ${e.cfRay}` }));
  const hint = hintFor(e);
  if (hint) {
    box.append(el("p", { class: "hint", text: hint.text }));
    if (hint.action) {
      const b = el("button", { type: "button", class: "danger", text: hint.action.label });
      b.addEventListener("click", hint.action.run);
      box.append(b);
    }
  }
  alertBox.replaceChildren(box);
  if (e.certificate && typeof e.certificate === "object") {
    const what = name === "CertificateNotAvailableError" ? "not turned on" : "not deleted";
    showResult(e.certificate, `Certificate (${what})`,
      `${what[0].toUpperCase()}${what.slice(1)}: ${formatValue(e.certificate.binding_status)}, in use: ${formatValue(e.certificate.in_use)}.`);
  }
}
