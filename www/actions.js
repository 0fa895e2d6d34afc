// Running actions: the package (loaded once), the one client per credential set, and `run`,
// which keeps one action at a time, disables the controls meanwhile and offers Cancel.

import { $, clearError, setStatus, showError } from "./render.js";
import { clientOptions } from "./forms.js";

const PACKAGE_URL = "./vendor/cf-gateway-certs/js/browser.js";

let packagePromise;
export function loadPackage() {
  packagePromise ??= import(PACKAGE_URL);
  return packagePromise;
}

// One client per credential set (and base URL), reused by every action: the client paces
// itself by the API's Ratelimit headers, and that budget is shared by all of its calls, so a
// new client per click would forget it. Held in memory only, dropped when the form changes
// (the next action builds a new one) and when the page is left.
let cached; // { key, client }

function clientFor(pkg) {
  const options = clientOptions();
  const key = JSON.stringify(options);
  if (cached?.key !== key) {
    forgetClient();
    cached = { key, client: new pkg.GatewayCertificates(options) };
  }
  return cached.client;
}

export function forgetClient() {
  if (cached) {
    cached.client.free?.();
    cached = undefined;
  }
}

let current; // { controller } while an action runs

/** The controls an action disables while it runs: buttons and checkboxes of the list. */
function controls() {
  return document.querySelectorAll("button[data-action], #certificates input[type=checkbox], #certificates button.pick");
}

/**
 * Run `action(client, signal)` unless another action is running; its errors go to the alert.
 * `onError(err)` (optional) runs before the alert is shown. `cancel`: the Cancel button to
 * show meanwhile (one next to what the action shows; the one by the action buttons by default).
 */
export async function run(label, action, { onError, cancel = $("cancel") } = {}) {
  if (current) return;
  const controller = new AbortController();
  current = { controller };
  clearError();
  setStatus(`${label}…`);
  for (const c of controls()) c.disabled = true;
  document.body.setAttribute("aria-busy", "true");
  cancel.hidden = false;
  try {
    const pkg = await loadPackage().catch((cause) => {
      throw Object.assign(new Error(`The wasm module could not be loaded (${cause?.message ?? cause}).`), { name: "LoadError", errors: [] });
    });
    await action(clientFor(pkg), controller.signal);
  } catch (err) {
    // After a 429 the client would hold every request for the wait the API named (minutes),
    // silently. A person who clicks again gets the API's own answer at once instead (a new 429
    // with its wait if still blocked); pacing by the Ratelimit headers starts afresh.
    if (err?.name === "RateLimitError") forgetClient();
    onError?.(err);
    setStatus(err?.name === "APIUserAbortError" ? "Cancelled." : "Failed.");
    showError(err);
  } finally {
    current = undefined;
    // Rows of deleted certificates stay disabled.
    for (const c of controls()) c.disabled = c.closest("tr.deleted") !== null;
    document.body.removeAttribute("aria-busy");
    cancel.hidden = true;
  }
}

for (const id of ["cancel", "bulk-cancel"]) $(id).addEventListener("click", () => current?.controller.abort());
