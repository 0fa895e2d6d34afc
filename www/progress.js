// Progress: the step list of one certificate's operation (Deactivate and delete, Generate and
// activate, Turn on for TLS inspection), and the bar of Retire selected.

import { $, el, formatValue, plural } from "./render.js";

const steps = {
  section: $("progress-section"),
  heading: $("progress-heading"),
  list: $("progress"),
};

/** Texts of each flow's steps: step -> (certificate) -> text. */
export const STEPS = {
  retire: {
    checking: () => "Checking the certificate",
    deactivating: () => "Deactivating",
    waiting: (cert) => `Waiting until inactive (now: ${formatValue(cert?.binding_status)})`,
    deleting: () => "Deleting",
    done: () => "Done: the certificate is deleted",
  },
  generate: {
    creating: () => "Generating a certificate",
    activating: (cert) => `Activating ${formatValue(cert?.id)}`,
    waiting: (cert) => `Waiting until available (now: ${formatValue(cert?.binding_status)})`,
    done: () => "Done: the certificate is available (not yet used for TLS inspection)",
  },
  turnOn: {
    switching: () => "Switching the Gateway configuration to this certificate",
    waiting: (cert) => `Waiting until it reports in use (now: in use ${formatValue(cert?.in_use)})`,
    done: () => "Done: TLS inspection uses this certificate",
  },
};

let texts = STEPS.retire;

/** Show an empty step list under `heading`, with the texts of `flow`. */
export function resetSteps(flow, heading) {
  texts = STEPS[flow];
  steps.heading.textContent = heading;
  steps.list.replaceChildren();
  steps.section.hidden = false;
}

/** One onProgress event: a new step closes the previous one; the same step updates its text. */
export function onStep(event) {
  const step = event?.step;
  const text = (texts[step] ?? (() => String(step)))(event?.certificate);
  const last = steps.list.lastElementChild;
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
  steps.list.append(li);
}

/** Close the list with "done" unless the last event already did. */
export function finishSteps(certificate) {
  if (steps.list.lastElementChild?.dataset.step !== "done") onStep({ step: "done", certificate });
}

/** Mark the current step failed (or cancelled). */
export function failSteps(err) {
  const last = steps.list.lastElementChild;
  if (!last || last.dataset.step === "done") return;
  last.classList.remove("current");
  last.removeAttribute("aria-current");
  const cancelled = err?.name === "APIUserAbortError";
  last.classList.add(cancelled ? "cancelled" : "failed");
  last.querySelector(".step-state").textContent = cancelled ? "cancelled" : "failed";
}

// ---------------------------------------------------------------------------------------------
// The bar of Retire selected. The bar and its count change on every event; the live region
// (polite) is told only at the start, at each quarter and at the end, and at most every
// few seconds in between, so a screen reader is not read every tick.

const bulk = {
  section: $("bulk-section"),
  bar: $("bulk-bar"),
  count: $("bulk-count"),
  live: $("bulk-live"),
  label: $("bulk-label"),
};
const ANNOUNCE_EVERY_MS = 5_000;
let announced = { at: 0, quarter: 0 };

function countText(done, total) {
  return `${done} of ${plural(total, "certificate")} finished`;
}

export function startBar(total) {
  bulk.section.hidden = false;
  bulk.label.textContent = `Retiring ${plural(total, "certificate")}`;
  bulk.bar.max = Math.max(total, 1);
  bulk.bar.value = 0;
  bulk.count.textContent = countText(0, total);
  bulk.live.textContent = `Retiring ${plural(total, "certificate")}.`;
  announced = { at: Date.now(), quarter: 0 };
}

export function updateBar(done, total) {
  bulk.bar.max = Math.max(total, 1);
  bulk.bar.value = done;
  bulk.count.textContent = countText(done, total);
  const quarter = Math.floor((4 * done) / Math.max(total, 1));
  const now = Date.now();
  if (done < total && (quarter > announced.quarter || now - announced.at >= ANNOUNCE_EVERY_MS)) {
    bulk.live.textContent = countText(done, total);
    announced = { at: now, quarter };
  }
}

/** retireMany refused to start (bad input). */
export function failBar(outcome) {
  bulk.label.textContent = "Retire selected: not started";
  bulk.count.textContent = outcome;
  bulk.live.textContent = outcome;
}

/** The end: the bar shows what finished; the live region says the outcome once. */
export function endBar(done, total, outcome, cancelled) {
  bulk.label.textContent = cancelled ? "Retire selected: cancelled" : "Retire selected: finished";
  bulk.bar.value = done;
  bulk.count.textContent = `${countText(done, total)}. ${outcome}`;
  bulk.live.textContent = outcome;
}
