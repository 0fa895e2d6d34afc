// The page: a form over the package's browser build. Rules kept throughout:
// - nothing is stored (no localStorage/sessionStorage/cookies) and nothing is read from the URL;
// - API text is only ever put in the page with textContent (never innerHTML);
// - credentials live in the form fields and in the one client built per action, nowhere else.

const PACKAGE_URL = "./vendor/cf-gateway-certs/js/browser.js";

const $ = (id) => document.getElementById(id);
const el = (tag, props = {}, ...children) => {
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

let packagePromise;
function loadPackage() {
  packagePromise ??= import(PACKAGE_URL);
  return packagePromise;
}

// ---------------------------------------------------------------------------------------------
// Form state

const ui = {
  form: $("form"),
  accountId: $("account-id"),
  certificateId: $("certificate-id"),
  apiToken: $("api-token"),
  tokenField: $("token-field"),
  useGlobalKey: $("use-global-key"),
  globalKeyFields: $("global-key-fields"),
  apiEmail: $("api-email"),
  apiKey: $("api-key"),
  baseUrl: $("base-url"),
  baseUrlWarning: $("base-url-warning"),
  list: $("list"),
  lookup: $("lookup"),
  delete: $("delete"),
  retire: $("retire"),
  cancel: $("cancel"),
  status: $("status"),
  error: $("error"),
  progressSection: $("progress-section"),
  progress: $("progress"),
  listSection: $("list-section"),
  listCaption: $("list-caption"),
  tbody: document.querySelector("#certificates tbody"),
  result: $("result"),
  resultHeading: $("result-heading"),
  resultSummary: $("result-summary"),
  resultFields: $("result-fields"),
  dialog: $("confirm"),
  confirmHeading: $("confirm-heading"),
  confirmIntro: $("confirm-intro"),
  confirmFields: $("confirm-fields"),
  confirmWarning: $("confirm-warning"),
  confirmOk: $("confirm-ok"),
  confirmCancel: $("confirm-cancel"),
};

const DEFAULT_BASE_URL = `${location.origin}/client/v4`;
ui.baseUrl.value = DEFAULT_BASE_URL;

function updateBaseUrlWarning() {
  const value = ui.baseUrl.value.trim();
  let message = "";
  let url;
  try {
    url = new URL(value);
  } catch {
    message = "This is not an absolute URL (for example https://example.com/client/v4).";
  }
  if (url && url.protocol !== "https:" && url.protocol !== "http:") {
    message = "Only http and https URLs work.";
  } else if (url && url.origin !== location.origin) {
    message = `Warning: your ${ui.useGlobalKey.checked ? "email and Global API key" : "API token"} will be sent to ${url.origin}, ` +
      "not to this site. Send it only to a relay you trust. This page's Content-Security-Policy allows " +
      "connections to its own origin only, so the browser will block other origins.";
  } else if (url && url.protocol === "http:" && !["localhost", "127.0.0.1", "[::1]"].includes(url.hostname)) {
    message = "Warning: plain http sends your credential unencrypted.";
  }
  ui.baseUrlWarning.textContent = message;
  ui.baseUrlWarning.hidden = message === "";
}

function updateCredentialFields() {
  const global = ui.useGlobalKey.checked;
  ui.tokenField.hidden = global;
  ui.globalKeyFields.hidden = !global;
  updateBaseUrlWarning();
}

ui.useGlobalKey.addEventListener("change", updateCredentialFields);
ui.baseUrl.addEventListener("input", updateBaseUrlWarning);
updateCredentialFields();

/** ClientOptions from the form: exactly one credential scheme. */
function clientOptions() {
  const baseUrl = ui.baseUrl.value.trim();
  const options = { baseUrl };
  if (ui.useGlobalKey.checked) {
    options.apiEmail = ui.apiEmail.value.trim();
    options.apiKey = ui.apiKey.value.trim();
  } else {
    options.apiToken = ui.apiToken.value.trim();
  }
  // The package's defaults (2 retries, 60 s per attempt) also through our own relay Worker: it
  // makes one upstream attempt per request (20 s at most, or 40 s for a DELETE and the GET
  // after its 5xx) and leaves the retrying to this client, which then knows when a retried
  // DELETE finds the certificate already gone.
  return options;
}

function accountParams() {
  return { account_id: ui.accountId.value.trim() };
}

function certificateId() {
  return ui.certificateId.value.trim();
}

// ---------------------------------------------------------------------------------------------
// Rendering (text only)

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

function formatValue(value) {
  if (value === true) return "yes";
  if (value === false) return "no";
  if (value === null || value === undefined) return "—";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

function formatDate(value) {
  if (typeof value !== "string" || value === "") return "—";
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? value : d.toISOString().slice(0, 10);
}

/** Fill a <dl> with a certificate's fields: the known ones first, then any others, PEM last. */
function renderFields(dl, cert, only) {
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

function showResult(cert, heading, summary) {
  ui.result.hidden = false;
  ui.resultHeading.textContent = heading;
  ui.resultSummary.textContent = summary;
  renderFields(ui.resultFields, cert && typeof cert === "object" ? cert : {});
}

function setStatus(text) {
  ui.status.textContent = text;
}

function clearError() {
  ui.error.replaceChildren();
}

function time(ms) {
  return new Date(Date.now() + ms).toLocaleTimeString();
}

/** A hint for the common errors (text, plus an optional offered action). */
function hintFor(err) {
  const cert = err.certificate;
  switch (err.name) {
    case "CertificateNotInactiveError":
      if (err.status === undefined && !err.errors?.length) {
        return { text: `The certificate did not become inactive in time (last seen: ${formatValue(cert?.binding_status)}). Try again in a few minutes.` };
      }
      return {
        text: `The API deletes only inactive certificates, and this one is ${formatValue(cert?.binding_status)}. ` +
          "Deactivate and delete deactivates it first, waits until it is inactive, then deletes it.",
        action: { label: "Deactivate first, then delete", run: () => retireFlow() },
      };
    case "CertificateInUseError":
      return { text: "Gateway TLS inspection uses this certificate. Switch the Gateway configuration to another certificate first, then try again." };
    case "UnsupportedCertificateError":
      return { text: "Custom (BYO-PKI) certificates are not deleted through this endpoint: manage them where they were uploaded." };
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
      return { text: "Cancelled. If a deactivation had already been sent, the certificate may now be inactive or on its way there: look it up." };
    case "InternalServerError":
      return { text: "The API failed. Try again in a moment; quote the Ray ID if you contact support." };
    default:
      return undefined;
  }
}

function showError(err) {
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
    const p = el("p", { class: "hint", text: hint.text });
    box.append(p);
    if (hint.action) {
      const b = el("button", { type: "button", class: "danger", text: hint.action.label });
      b.addEventListener("click", hint.action.run);
      box.append(b);
    }
  }
  ui.error.replaceChildren(box);
  if (e.certificate && typeof e.certificate === "object") {
    showResult(e.certificate, "Certificate (not deleted)", `Not deleted: ${formatValue(e.certificate.binding_status)}, in use: ${formatValue(e.certificate.in_use)}.`);
  }
}

// ---------------------------------------------------------------------------------------------
// Certificates table

function renderList(certs) {
  ui.listSection.hidden = false;
  ui.tbody.replaceChildren();
  for (const cert of certs) {
    const id = formatValue(cert?.id);
    const pick = el("button", { type: "button", text: "Pick", "aria-label": `Pick ${id}`, class: "pick" });
    pick.addEventListener("click", () => {
      ui.certificateId.value = typeof cert?.id === "string" ? cert.id : "";
      lookupFlow();
    });
    ui.tbody.append(el("tr", { "data-id": id },
      el("td", { class: "mono", text: id }),
      el("td", { text: formatValue(cert?.binding_status) }),
      el("td", { text: formatValue(cert?.in_use) }),
      el("td", { text: formatValue(cert?.type) }),
      el("td", { text: formatDate(cert?.expires_on) }),
      el("td", {}, pick)));
  }
  ui.listCaption.textContent = `${certs.length} certificate${certs.length === 1 ? "" : "s"} in account ${accountParams().account_id}`;
}

function markDeletedInList(id) {
  for (const row of ui.tbody.querySelectorAll("tr")) {
    if (row.dataset.id === id) {
      row.classList.add("deleted");
      row.cells[1].textContent = "deleted";
      const pick = row.querySelector("button");
      if (pick) pick.disabled = true;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Progress of "Deactivate and delete"

const STEP_TEXT = {
  checking: () => "Checking the certificate",
  deactivating: () => "Deactivating",
  waiting: (cert) => `Waiting until inactive (now: ${formatValue(cert?.binding_status)})`,
  deleting: () => "Deleting",
  done: () => "Done: the certificate is deleted",
};

function resetProgress() {
  ui.progress.replaceChildren();
  ui.progressSection.hidden = false;
}

function onProgress(event) {
  const step = event?.step;
  const text = (STEP_TEXT[step] ?? (() => String(step)))(event?.certificate);
  const last = ui.progress.lastElementChild;
  if (last && last.dataset.step === step) {
    last.querySelector(".step-text").textContent = text;
    return;
  }
  if (last) {
    last.classList.remove("current");
    last.classList.add("complete");
    last.removeAttribute("aria-current");
    last.querySelector(".step-state").textContent = "done";
  }
  const li = el("li", { class: step === "done" ? "complete" : "current", "data-step": step },
    el("span", { class: "step-text", text }),
    document.createTextNode(" "),
    el("span", { class: "step-state", text: step === "done" ? "" : "in progress" }));
  if (step !== "done") li.setAttribute("aria-current", "step");
  ui.progress.append(li);
}

function failProgress(err) {
  const last = ui.progress.lastElementChild;
  if (!last || last.dataset.step === "done") return;
  last.classList.remove("current");
  last.removeAttribute("aria-current");
  const cancelled = err?.name === "APIUserAbortError";
  last.classList.add(cancelled ? "cancelled" : "failed");
  last.querySelector(".step-state").textContent = cancelled ? "cancelled" : "failed";
}

// ---------------------------------------------------------------------------------------------
// Confirmation

function confirmDeletion(cert, mode) {
  const retire = mode === "retire";
  ui.confirmHeading.textContent = retire ? "Deactivate and delete this certificate?" : "Delete this certificate?";
  ui.confirmIntro.textContent = retire
    ? `This deactivates the certificate below if needed, waits until it is inactive, then deletes it from account ${accountParams().account_id}. It cannot be undone.`
    : `This deletes the certificate below from account ${accountParams().account_id}. It cannot be undone.`;
  renderFields(ui.confirmFields, cert, ["id", "binding_status", "in_use", "type", "fingerprint", "expires_on", "issuer_org"]
    .filter((k) => k in cert || k === "id"));
  const notInactive = !retire && cert.binding_status !== "inactive";
  ui.confirmWarning.hidden = !notInactive;
  ui.confirmWarning.textContent = notInactive
    ? `It is ${formatValue(cert.binding_status)}, and the API deletes only inactive certificates: Delete will fail. Deactivate and delete handles that.`
    : "";
  return new Promise((resolve) => {
    const done = (answer) => {
      ui.confirmOk.removeEventListener("click", ok);
      ui.confirmCancel.removeEventListener("click", no);
      ui.dialog.removeEventListener("cancel", no);
      if (ui.dialog.open) ui.dialog.close();
      resolve(answer);
    };
    const ok = () => done(true);
    const no = (event) => { event?.preventDefault?.(); done(false); };
    ui.confirmOk.addEventListener("click", ok);
    ui.confirmCancel.addEventListener("click", no);
    ui.dialog.addEventListener("cancel", no);
    ui.dialog.showModal();
    ui.confirmCancel.focus();
  });
}

/** Refuse, before changing anything, what retire and the API would refuse. */
function refusal(cert) {
  if (cert.in_use === true) {
    return Object.assign(new Error("This certificate is in use by Gateway TLS inspection: it is not deleted."), {
      name: "CertificateInUseError", errors: [], certificate: cert,
    });
  }
  if (cert.type === "custom") {
    return Object.assign(new Error("This is a custom certificate: custom certificates are not deleted through this endpoint."), {
      name: "UnsupportedCertificateError", errors: [], certificate: cert,
    });
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Actions

const actionButtons = [ui.list, ui.lookup, ui.delete, ui.retire];
let current; // { controller } while an action runs

async function run(label, action) {
  if (current) return;
  const controller = new AbortController();
  current = { controller };
  clearError();
  setStatus(`${label}…`);
  for (const b of actionButtons) b.disabled = true;
  for (const b of ui.tbody.querySelectorAll("button.pick")) b.disabled = true;
  document.body.setAttribute("aria-busy", "true");
  ui.cancel.hidden = false;
  try {
    const pkg = await loadPackage().catch((cause) => {
      throw Object.assign(new Error(`The wasm module could not be loaded (${cause?.message ?? cause}).`), { name: "LoadError", errors: [] });
    });
    const client = new pkg.GatewayCertificates(clientOptions());
    await action(client, controller.signal);
  } catch (err) {
    setStatus(err?.name === "APIUserAbortError" ? "Cancelled." : "Failed.");
    showError(err);
  } finally {
    current = undefined;
    for (const b of actionButtons) b.disabled = false;
    for (const b of ui.tbody.querySelectorAll("tr:not(.deleted) button.pick")) b.disabled = false;
    document.body.removeAttribute("aria-busy");
    ui.cancel.hidden = true;
  }
}

ui.cancel.addEventListener("click", () => current?.controller.abort());

function listFlow() {
  return run("Listing certificates", async (client, signal) => {
    const certs = await client.list(accountParams(), { signal });
    renderList(certs);
    setStatus(`Listed ${certs.length} certificate${certs.length === 1 ? "" : "s"}.`);
  });
}

function lookupFlow() {
  return run("Looking up", async (client, signal) => {
    const cert = await client.get(certificateId(), accountParams(), { signal });
    showResult(cert, "Certificate", `Looked up at ${new Date().toLocaleTimeString()}. Nothing was changed.`);
    setStatus("Looked up.");
  });
}

function deleteFlow() {
  return run("Checking before deleting", async (client, signal) => {
    const cert = await client.get(certificateId(), accountParams(), { signal });
    showResult(cert, "Certificate", "About to delete: confirm first.");
    const refused = refusal(cert);
    if (refused) throw refused;
    setStatus("Waiting for confirmation.");
    if (!(await confirmDeletion(cert, "delete"))) {
      setStatus("Not deleted: cancelled at the confirmation.");
      showResult(cert, "Certificate", "Not deleted.");
      return;
    }
    setStatus("Deleting…");
    const deleted = await client.delete(certificateId(), accountParams(), { signal });
    showResult(deleted, "Deleted certificate", `Deleted at ${new Date().toLocaleTimeString()}.`);
    markDeletedInList(deleted?.id ?? cert.id);
    setStatus("Deleted.");
  });
}

function retireFlow() {
  return run("Checking before deactivating and deleting", async (client, signal) => {
    const cert = await client.get(certificateId(), accountParams(), { signal });
    showResult(cert, "Certificate", "About to deactivate and delete: confirm first.");
    const refused = refusal(cert);
    if (refused) throw refused;
    setStatus("Waiting for confirmation.");
    if (!(await confirmDeletion(cert, "retire"))) {
      setStatus("Not deleted: cancelled at the confirmation.");
      showResult(cert, "Certificate", "Not deleted.");
      return;
    }
    resetProgress();
    setStatus("Deactivating and deleting…");
    try {
      const deleted = await client.retire(certificateId(), accountParams(), {
        signal,
        onProgress: (event) => {
          onProgress(event);
          if (event?.certificate) {
            showResult(event.certificate, "Certificate", `In progress: ${event.step}.`);
          }
        },
      });
      if (ui.progress.lastElementChild?.dataset.step !== "done") onProgress({ step: "done", certificate: deleted });
      showResult(deleted, "Deleted certificate", `Deactivated and deleted at ${new Date().toLocaleTimeString()}.`);
      markDeletedInList(deleted?.id ?? cert.id);
      setStatus("Deleted.");
    } catch (err) {
      failProgress(err);
      throw err;
    }
  });
}

ui.list.addEventListener("click", listFlow);
ui.lookup.addEventListener("click", lookupFlow);
ui.delete.addEventListener("click", deleteFlow);
ui.retire.addEventListener("click", retireFlow);

// Enter in a field looks the certificate up (or lists, with no certificate ID); never a real
// form submission (no field has a name, and the CSP says form-action 'none' anyway).
ui.form.addEventListener("submit", (event) => {
  event.preventDefault();
  if (certificateId()) lookupFlow();
  else listFlow();
});

// Leaving the page forgets the secrets (and keeps them out of the back/forward cache).
window.addEventListener("pagehide", () => {
  ui.apiToken.value = "";
  ui.apiKey.value = "";
});

// Start fetching and compiling the wasm while the person types.
loadPackage().then(
  () => document.documentElement.setAttribute("data-ready", "true"),
  (err) => {
    document.documentElement.setAttribute("data-ready", "error");
    showError(Object.assign(new Error(`The wasm module could not be loaded (${err?.message ?? err}).`), { name: "LoadError", errors: [] }));
  },
);
