// Rotation of the certificate Gateway TLS inspection uses, in three steps a person takes on
// this page: Generate and activate (createAndActivate); after devices have the new certificate,
// Turn on for TLS inspection (setInUse); then Deactivate and delete the old one (retire).

import { $, formatValue, plural, setStatus, showResult } from "./render.js";
import { accountParams, certificateId, confirmAction } from "./forms.js";
import { run } from "./actions.js";
import { failSteps, finishSteps, onStep, resetSteps } from "./progress.js";

const now = () => new Date().toLocaleTimeString();

function generateFlow() {
  return run("Generating and activating", async (client, signal) => {
    const ok = await confirmAction({
      heading: "Generate and activate a new certificate?",
      intro: `This generates a new Gateway certificate in account ${accountParams().account_id}, activates it and waits ` +
        "until it is available. TLS inspection does not use it until you turn it on.",
      warning: "Only 3 certificates can be generated per account per day. This uses one of them, even if a later step fails.",
      okLabel: "Generate and activate",
    });
    if (!ok) {
      setStatus("Nothing generated: cancelled at the confirmation.");
      return;
    }
    resetSteps("generate", "Generate and activate");
    try {
      const cert = await client.createAndActivate(accountParams(), {
        signal,
        onProgress: (event) => {
          onStep(event);
          if (event?.certificate) showResult(event.certificate, "New certificate", `In progress: ${event.step}.`);
        },
      });
      finishSteps(cert);
      showResult(cert, "New certificate",
        `Generated and activated at ${now()}: ${formatValue(cert?.binding_status)}. Devices need time to receive it ` +
        "(up to 24 hours). Then put its ID in Certificate ID and use Turn on for TLS inspection.");
      setStatus(`Generated ${formatValue(cert?.id)}.`);
    } catch (err) {
      failSteps(err);
      throw err;
    }
  });
}

function hoursSince(value) {
  const t = typeof value === "string" ? Date.parse(value) : NaN;
  return Number.isNaN(t) ? undefined : Math.max(0, (Date.now() - t) / 3_600_000);
}

/** What setInUse would refuse, refused here before the confirmation is offered. */
function notAvailable(cert) {
  return Object.assign(new Error(
    `Only an available certificate can be turned on for TLS inspection; this one is ${formatValue(cert.binding_status)}.`,
  ), { name: "CertificateNotAvailableError", errors: [], certificate: cert });
}

function turnOnFlow() {
  return run("Checking before turning on", async (client, signal) => {
    const id = certificateId();
    const cert = await client.get(id, accountParams(), { signal });
    showResult(cert, "Certificate", "About to turn on for TLS inspection: confirm first.");
    if (cert.binding_status !== "available") throw notAvailable(cert);
    if (cert.in_use === true) {
      showResult(cert, "Certificate", "TLS inspection already uses this certificate. Nothing was changed.");
      setStatus("Already in use: nothing was changed.");
      return;
    }
    const age = hoursSince(cert.created_at);
    const ok = await confirmAction({
      heading: "Turn on this certificate for TLS inspection?",
      intro: `Gateway TLS inspection in account ${accountParams().account_id} will use the certificate below instead of the one it uses now.`,
      cert,
      warning: "Devices must already have received this certificate, which takes up to 24 hours after it is activated, " +
        "or their inspected connections will fail." +
        (age !== undefined && age < 24 ? ` It was generated ${age < 1 ? "less than an hour" : `only ${plural(Math.floor(age), "hour")}`} ago.` : ""),
      okLabel: "Turn on",
    });
    if (!ok) {
      setStatus("Not turned on: cancelled at the confirmation.");
      showResult(cert, "Certificate", "Nothing was changed.");
      return;
    }
    resetSteps("turnOn", "Turn on for TLS inspection");
    try {
      const on = await client.setInUse(id, accountParams(), {
        signal,
        onProgress: (event) => {
          onStep(event);
          if (event?.certificate) showResult(event.certificate, "Certificate", `In progress: ${event.step}.`);
        },
      });
      finishSteps(on);
      showResult(on, "Certificate in use",
        `TLS inspection uses this certificate since ${now()}. The previous one is no longer in use: ` +
        "once nothing needs it, retire it with Deactivate and delete.");
      setStatus("Turned on for TLS inspection.");
    } catch (err) {
      failSteps(err);
      throw err;
    }
  });
}

$("generate").addEventListener("click", generateFlow);
$("turn-on").addEventListener("click", turnOnFlow);
