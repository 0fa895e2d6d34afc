// The form (account, certificate, credential, API base URL) and the confirmation dialog.
// Credentials are read from the fields when an action starts and are kept nowhere else but the
// one client built from them (actions.js).

import { $, el, formatValue, renderFields } from "./render.js";

export const form = {
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
};

const DEFAULT_BASE_URL = `${location.origin}/client/v4`;
form.baseUrl.value = DEFAULT_BASE_URL;

function updateBaseUrlWarning() {
  const value = form.baseUrl.value.trim();
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
    message = `Warning: your ${form.useGlobalKey.checked ? "email and Global API key" : "API token"} will be sent to ${url.origin}, ` +
      "not to this site. Send it only to a relay you trust. This page's Content-Security-Policy allows " +
      "connections to its own origin only, so the browser will block other origins.";
  } else if (url && url.protocol === "http:" && !["localhost", "127.0.0.1", "[::1]"].includes(url.hostname)) {
    message = "Warning: plain http sends your credential unencrypted.";
  }
  form.baseUrlWarning.textContent = message;
  form.baseUrlWarning.hidden = message === "";
}

function updateCredentialFields() {
  const global = form.useGlobalKey.checked;
  form.tokenField.hidden = global;
  form.globalKeyFields.hidden = !global;
  updateBaseUrlWarning();
}

form.useGlobalKey.addEventListener("change", updateCredentialFields);
form.baseUrl.addEventListener("input", updateBaseUrlWarning);
updateCredentialFields();

/** ClientOptions from the form: exactly one credential scheme. */
export function clientOptions() {
  const baseUrl = form.baseUrl.value.trim();
  const options = { baseUrl };
  if (form.useGlobalKey.checked) {
    options.apiEmail = form.apiEmail.value.trim();
    options.apiKey = form.apiKey.value.trim();
  } else {
    options.apiToken = form.apiToken.value.trim();
  }
  // The package's defaults (2 retries, 60 s per attempt) also through our own relay Worker: it
  // makes one upstream attempt per request (20 s at most, or 40 s for a DELETE and the GET
  // after its 5xx) and leaves the retrying to this client, which then knows when a retried
  // DELETE finds the certificate already gone.
  return options;
}

export function accountParams() {
  return { account_id: form.accountId.value.trim() };
}

export function certificateId() {
  return form.certificateId.value.trim();
}

/** Leaving the page forgets the secrets (and keeps them out of the back/forward cache). */
export function forgetSecrets() {
  form.apiToken.value = "";
  form.apiKey.value = "";
}

// ---------------------------------------------------------------------------------------------
// Confirmation dialog

const dialog = {
  dialog: $("confirm"),
  heading: $("confirm-heading"),
  intro: $("confirm-intro"),
  fields: $("confirm-fields"),
  more: $("confirm-more"),
  warning: $("confirm-warning"),
  ok: $("confirm-ok"),
  cancel: $("confirm-cancel"),
};

/**
 * Ask once; resolves true on Confirm. `cert` (optional) shows the certificate's main fields;
 * `more` (optional) is a node shown below them; `warning` (optional) is shown highlighted.
 */
export function confirmAction({ heading, intro, cert, more, warning, okLabel = "Confirm" }) {
  dialog.heading.textContent = heading;
  dialog.intro.textContent = intro;
  if (cert) {
    renderFields(dialog.fields, cert, ["id", "binding_status", "in_use", "type", "fingerprint", "expires_on", "issuer_org"]
      .filter((k) => k in cert || k === "id"));
  } else {
    dialog.fields.replaceChildren();
  }
  dialog.more.replaceChildren(...(more ? [more] : []));
  dialog.warning.hidden = !warning;
  dialog.warning.textContent = warning ?? "";
  dialog.ok.textContent = okLabel;
  return new Promise((resolve) => {
    const done = (answer) => {
      dialog.ok.removeEventListener("click", ok);
      dialog.cancel.removeEventListener("click", no);
      dialog.dialog.removeEventListener("cancel", no);
      if (dialog.dialog.open) dialog.dialog.close();
      resolve(answer);
    };
    const ok = () => done(true);
    const no = (event) => { event?.preventDefault?.(); done(false); };
    dialog.ok.addEventListener("click", ok);
    dialog.cancel.addEventListener("click", no);
    dialog.dialog.addEventListener("cancel", no);
    dialog.dialog.showModal();
    dialog.cancel.focus();
  });
}

/** The confirmation of Delete / Deactivate and delete for one certificate. */
export function confirmDeletion(cert, mode) {
  const retire = mode === "retire";
  const account = accountParams().account_id;
  const notInactive = !retire && cert.binding_status !== "inactive";
  return confirmAction({
    heading: retire ? "Deactivate and delete this certificate?" : "Delete this certificate?",
    intro: retire
      ? `This deactivates the certificate below if needed, waits until it is inactive, then deletes it from account ${account}. It cannot be undone.`
      : `This deletes the certificate below from account ${account}. It cannot be undone.`,
    cert,
    warning: notInactive
      ? `It is ${formatValue(cert.binding_status)}, and the API deletes only inactive certificates: Delete will fail. Deactivate and delete handles that.`
      : undefined,
  });
}

/** A short list for a dialog, of [id, note?]: at most `max` lines, then "and N more". */
export function shortList(items, max = 8) {
  const line = ([id, note]) => el("li", {}, el("span", { class: "mono", text: id }),
    ...(note ? [el("span", { class: "note", text: ` (${note})` })] : []));
  const ul = el("ul", { class: "short-list" }, ...items.slice(0, max).map(line));
  if (items.length > max) ul.append(el("li", { text: `and ${items.length - max} more` }));
  return ul;
}
