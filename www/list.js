// The certificate list and its selection: List certificates, Pick, and Retire selected
// (retireMany, with each row's step, the progress bar, Cancel and a summary in #result).

import { $, el, formatDate, formatValue, plural, setStatus, showSummary } from "./render.js";
import { accountParams, confirmAction, form, shortList } from "./forms.js";
import { run } from "./actions.js";
import { endBar, failBar, startBar, updateBar } from "./progress.js";

const list = {
  section: $("list-section"),
  caption: $("list-caption"),
  tbody: document.querySelector("#certificates tbody"),
  selectAll: $("select-all"),
  selectionCount: $("selection-count"),
  retireSelected: $("retire-selected"),
};

const rows = new Map(); // lower-case id -> { row, cert, box, statusText, stepText }
let onPick = () => {};

/** What Pick does after it puts the id in Certificate ID (app.js: look it up). */
export function registerPick(fn) {
  onPick = fn;
}

/** Why a certificate would be refused by retire, or undefined. */
function refusalNote(cert) {
  if (cert?.in_use === true) return "in use by TLS inspection: refused if selected";
  if (cert?.type === "custom") return "custom: refused if selected";
  return undefined;
}

const td = (label, props, ...children) => el("td", { "data-label": label, ...props }, ...children);

/** Whether the certificate's `expires_on` is a valid date in the past. */
function expired(cert) {
  const t = typeof cert?.expires_on === "string" ? Date.parse(cert.expires_on) : NaN;
  return Number.isFinite(t) && t < Date.now();
}

export function renderList(certs) {
  list.section.hidden = false;
  list.tbody.replaceChildren();
  rows.clear();
  for (const cert of certs) {
    const id = formatValue(cert?.id);
    const inUse = cert?.in_use === true;
    const custom = cert?.type === "custom";
    const note = refusalNote(cert);
    const noteId = `note-${rows.size}`;
    const box = el("input", { type: "checkbox", class: "select", "aria-label": `Select ${id}` });
    if (note) box.setAttribute("aria-describedby", noteId);
    box.addEventListener("change", updateSelection);
    const pick = el("button", { type: "button", text: "Pick", "aria-label": `Pick ${id}`, class: "pick" });
    pick.addEventListener("click", () => {
      form.certificateId.value = typeof cert?.id === "string" ? cert.id : "";
      onPick();
    });
    // The step of a Retire selected run shows under the binding status, as it happens.
    const statusText = el("span", { class: "binding-status", text: formatValue(cert?.binding_status) });
    const stepText = el("span", { class: "step", text: "" });
    const row = el("tr", { "data-id": id, class: [inUse && "in-use", custom && "custom"].filter(Boolean).join(" ") },
      td("Select", { class: "select-cell" }, box),
      td("ID", { class: "id-cell" }, el("span", { class: "mono", text: id }),
        ...(note ? [el("span", { class: "row-note", id: noteId, text: note })] : [])),
      td("Binding status", { "data-col": "binding_status" }, statusText, stepText),
      td("In use", { "data-col": "in_use" }, inUse
        ? el("span", { class: "badge in-use", text: "yes" })
        : document.createTextNode(formatValue(cert?.in_use))),
      td("Type", { "data-col": "type" }, custom
        ? el("span", { class: "badge custom", text: "custom" })
        : document.createTextNode(formatValue(cert?.type))),
      td("Expires", { class: "date", text: formatDate(cert?.expires_on) + (expired(cert) ? " (expired)" : "") }),
      td("", { class: "pick-cell" }, pick));
    list.tbody.append(row);
    rows.set(id.toLowerCase(), { row, cert, box, statusText, stepText });
  }
  list.caption.textContent = `${plural(certs.length, "certificate")} in account ${accountParams().account_id}`;
  updateSelection();
}

function selectable() {
  return [...rows.values()].filter((r) => !r.row.classList.contains("deleted"));
}

function selected() {
  return selectable().filter((r) => r.box.checked);
}

function updateSelection() {
  const all = selectable();
  const n = selected().length;
  list.selectionCount.textContent = `${n} of ${all.length} selected`;
  list.selectAll.checked = n > 0 && n === all.length;
  list.selectAll.indeterminate = n > 0 && n < all.length;
}

list.selectAll.addEventListener("change", () => {
  for (const r of selectable()) r.box.checked = list.selectAll.checked;
  updateSelection();
});

/** Mark a row deleted: struck through, its controls disabled. */
export function markDeletedInList(id) {
  const r = rows.get(String(id).toLowerCase());
  if (!r) return;
  r.row.classList.add("deleted");
  r.statusText.textContent = "deleted";
  r.box.checked = false;
  r.box.disabled = true;
  r.row.querySelector("button.pick").disabled = true;
  updateSelection();
}

const ROW_STEP = {
  queued: () => "queued",
  checking: () => "checking",
  deactivating: () => "deactivating",
  waiting: () => "waiting",
  deleting: () => "deleting",
  done: () => "deleted",
  refused: () => "refused",
  failed: () => "failed",
};

function setRowStep(id, step, cert, text) {
  const r = rows.get(String(id).toLowerCase());
  if (!r) return;
  r.stepText.textContent = text ?? (ROW_STEP[step] ?? (() => String(step)))(cert);
  r.stepText.dataset.step = step;
  if (cert && typeof cert.binding_status === "string" && step !== "done") r.statusText.textContent = cert.binding_status;
}

/** A short reason for a refusal. */
function reason(err) {
  if (err?.name === "CertificateInUseError") return "in use by Gateway TLS inspection; turn on another certificate first";
  if (err?.name === "UnsupportedCertificateError") return "a custom certificate; not deleted through this API";
  return typeof err?.message === "string" ? err.message : "refused";
}

function shortReason(err) {
  if (err?.name === "CertificateInUseError") return "in use";
  if (err?.name === "UnsupportedCertificateError") return "custom";
  return errorName(err);
}

const errorName = (err) => (typeof err?.name === "string" && err.name ? err.name : "Error");

function retireSelectedFlow() {
  const picked = selected();
  if (picked.length === 0) {
    setStatus("Select at least one certificate in the list first.");
    return undefined;
  }
  const ids = picked.map((r) => r.cert.id);
  const total = ids.length;
  let started = false;
  return run(`Retiring ${plural(total, "certificate")}`, async (client, signal) => {
    const refusedAhead = picked.filter((r) => refusalNote(r.cert));
    const ok = await confirmAction({
      heading: `Retire ${plural(total, "certificate")}?`,
      intro: `This retires the ${plural(total, "selected certificate")} from account ${accountParams().account_id}: ` +
        "each is deactivated if needed, then deleted once it is inactive. It cannot be undone.",
      more: shortList(picked.map((r) => [r.cert.id, [formatValue(r.cert.binding_status),
        r.cert.in_use === true && "in use: refused", r.cert.type === "custom" && "custom: refused"].filter(Boolean).join(", ")])),
      warning: refusedAhead.length
        ? `${plural(refusedAhead.length, "of them is", "of them are")} in use or custom: ` +
          "those are refused and left unchanged."
        : undefined,
      okLabel: `Retire ${plural(total, "certificate")}`,
    });
    if (!ok) {
      setStatus("Nothing retired: cancelled at the confirmation.");
      return;
    }
    for (const r of picked) setRowStep(r.cert.id, "queued");
    started = true;
    startBar(total);
    setStatus(`Retiring ${plural(total, "certificate")}…`);
    let done = 0;
    const outcome = await client.retireMany(ids, accountParams(), {
      signal,
      onProgress: (event) => {
        setRowStep(event?.certificateId, event?.step, event?.certificate);
        if (Number.isInteger(event?.done)) done = event.done;
        updateBar(done, event?.total ?? total);
      },
    });
    showOutcome(outcome, total, done, signal.aborted);
  }, {
    cancel: $("bulk-cancel"),
    // retireMany rejects only before it starts (bad input: nothing was sent).
    onError: (err) => {
      if (!started) return;
      failBar(`Nothing retired: ${errorName(err)}.`);
      for (const r of picked) {
        r.stepText.textContent = "";
        delete r.stepText.dataset.step;
      }
    },
  });
}

function showOutcome({ deleted = [], refused = [], failed = [] }, total, done, cancelled) {
  for (const cert of deleted) {
    markDeletedInList(cert?.id);
    setRowStep(cert?.id, "done");
  }
  for (const { certificateId, error } of refused) {
    setRowStep(certificateId, "refused", undefined, `refused: ${shortReason(error)}`);
  }
  const unstarted = [];
  for (const { certificateId, error } of failed) {
    const r = rows.get(String(certificateId).toLowerCase());
    const notStarted = r?.stepText.dataset.step === "queued";
    if (notStarted) unstarted.push(certificateId);
    setRowStep(certificateId, "failed", undefined, notStarted ? `not started: ${errorName(error)}` : `failed: ${errorName(error)}`);
  }
  // Refused and deleted rows are unselected; failed ones stay selected, to try again.
  for (const { certificateId } of refused) {
    const r = rows.get(String(certificateId).toLowerCase());
    if (r) r.box.checked = false;
  }
  updateSelection();

  const counts = `Deleted ${deleted.length}, refused ${refused.length}, failed ${failed.length}.`;
  const details = [];
  if (refused.length) {
    details.push(el("h3", { text: `Refused (${refused.length}): nothing was changed` }),
      el("ul", { class: "outcome refused" }, ...refused.map(({ certificateId, error }) =>
        el("li", { "data-id": certificateId },
          el("span", { class: "mono", text: certificateId }), document.createTextNode(": "),
          el("strong", { text: errorName(error) }), document.createTextNode(` — ${reason(error)}`)))));
  }
  if (failed.length) {
    details.push(el("h3", { text: `Failed (${failed.length})` }),
      el("ul", { class: "outcome failed" }, ...failed.map(({ certificateId, error }) =>
        el("li", { "data-id": certificateId },
          el("span", { class: "mono", text: certificateId }), document.createTextNode(": "),
          el("strong", { text: errorName(error), "data-error-name": "" }),
          ...(unstarted.includes(certificateId) ? [document.createTextNode(" (not started)")] : [])))));
  }
  if (deleted.length) {
    details.push(el("details", {},
      el("summary", { text: `Deleted (${deleted.length})` }),
      el("ul", { class: "outcome deleted" }, ...deleted.map((cert) => el("li", { class: "mono", text: formatValue(cert?.id) })))));
  }
  const note = cancelled
    ? ` Cancelled: nothing more was started; the ${plural(failed.length, "certificate")} not finished ${failed.length === 1 ? "is" : "are"} listed as failed.`
    : "";
  showSummary(cancelled ? "Retire selected: cancelled" : "Retire selected: summary", `${counts}${note}`, ...details);
  endBar(done, total, `${cancelled ? "Cancelled. " : ""}${counts}`, cancelled);
  setStatus(`${cancelled ? "Cancelled. " : "Finished. "}${counts}`);
}

list.retireSelected.addEventListener("click", retireSelectedFlow);
