// Deletes one certificate with the package in Node: the inactive demo certificate of the
// emulator when run by `bash scripts/demo.sh --cli`.
//   node examples/delete.mjs <api base url> <account id> <api token> [<emulator origin>]
import { GatewayCertificates } from "cf-gateway-certs";

const [baseUrl, accountId, apiToken, emulator] = process.argv.slice(2);
const client = new GatewayCertificates({ apiToken, baseUrl });

const certificates = await client.list({ account_id: accountId });
const victim = certificates.find((c) => c.binding_status === "inactive" && !c.in_use && c.type !== "custom");
if (!victim) throw new Error("no inactive certificate to delete");

try {
  const deleted = await client.delete(victim.id, { account_id: accountId });
  console.log("Deleted:", deleted);
} catch (err) {
  console.error(`${err.name}: ${err.message}`);
  process.exitCode = 1;
}

// Deleting an active one is refused with the API's own 500, read correctly:
const active = certificates.find((c) => c.binding_status === "available" && !c.in_use && c.type !== "custom");
if (active) {
  await client.delete(active.id, { account_id: accountId }).catch((err) => {
    console.log(`\nDeleting ${active.id} (available): ${err.name}: ${err.message}`);
  });
}
if (emulator) console.log(`\n(emulator: ${emulator})`);
