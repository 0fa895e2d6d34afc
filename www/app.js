// The page: a form over the package's browser build, in a few modules:
//   render.js   text-only rendering: the result region, the error alert, the status line
//   forms.js    the form, the client options it gives, the confirmation dialog
//   actions.js  the package, the one client per credential set, one action at a time
//   progress.js the step list and the bar of Retire selected
//   list.js     the certificate list, its selection and Retire selected (retireMany)
//   rotation.js Generate and activate, Turn on for TLS inspection
// This file: one certificate's actions (Look up, Delete, Deactivate and delete) and start-up.
// Rules kept throughout:
// - nothing is stored (no localStorage/sessionStorage/cookies) and nothing is read from the URL;
// - API text is only ever put in the page with textContent (never innerHTML);
// - credentials live in the form fields and in the one client built from them, nowhere else.

import { $, registerHintAction, setStatus, showError, showResult } from "./render.js";
import { accountParams, certificateId, confirmDeletion, forgetSecrets, form } from "./forms.js";
import { forgetClient, loadPackage, run } from "./actions.js";
import { failSteps, finishSteps, onStep, resetSteps } from "./progress.js";
import { markDeletedInList, registerPick, renderList } from "./list.js";
import "./rotation.js";

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
    resetSteps("retire", "Deactivate and delete");
    setStatus("Deactivating and deleting…");
    try {
      const deleted = await client.retire(certificateId(), accountParams(), {
        signal,
        onProgress: (event) => {
          onStep(event);
          if (event?.certificate) {
            showResult(event.certificate, "Certificate", `In progress: ${event.step}.`);
          }
        },
      });
      finishSteps(deleted);
      showResult(deleted, "Deleted certificate", `Deactivated and deleted at ${new Date().toLocaleTimeString()}.`);
      markDeletedInList(deleted?.id ?? cert.id);
      setStatus("Deleted.");
    } catch (err) {
      failSteps(err);
      throw err;
    }
  });
}

registerHintAction("retire", () => retireFlow());
registerPick(() => lookupFlow());

$("list").addEventListener("click", listFlow);
$("lookup").addEventListener("click", lookupFlow);
$("delete").addEventListener("click", deleteFlow);
$("retire").addEventListener("click", retireFlow);

// Enter in a field looks the certificate up (or lists, with no certificate ID); never a real
// form submission (no field has a name, and the CSP says form-action 'none' anyway).
form.form.addEventListener("submit", (event) => {
  event.preventDefault();
  if (certificateId()) lookupFlow();
  else listFlow();
});

// Leaving the page forgets the secrets and the client holding them (and keeps them out of the
// back/forward cache).
window.addEventListener("pagehide", () => {
  forgetSecrets();
  forgetClient();
});

// Start fetching and compiling the wasm while the person types.
loadPackage().then(
  () => document.documentElement.setAttribute("data-ready", "true"),
  (err) => {
    document.documentElement.setAttribute("data-ready", "error");
    showError(Object.assign(new Error(`The wasm module could not be loaded (${err?.message ?? err}).`), { name: "LoadError", errors: [] }));
  },
);
