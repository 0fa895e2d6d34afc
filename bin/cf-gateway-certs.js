#!/usr/bin/env node
// `npx cf-gateway-certs <command> [options]`: the command line of the package (docs/cli.md).
// A thin layer over the package's Node entry: it parses arguments, reads credentials from the
// environment, calls one method and prints the outcome. Every rule about certificates
// (validation, retries, the rate limit, what retire refuses) is the package's.
//
// stdout gets the result only (text, or with --json exactly one JSON document); progress and
// errors go to stderr. Exit status: 0 success; 1 the API or the network failed, or a single
// certificate was refused; 2 a usage error or InvalidInputError (nothing sent); 3 a retire of
// several or a `cleanup --yes` finished with anything refused or failed.
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

const NAME = "cf-gateway-certs";
const DEFAULT_BASE_URL = "https://api.cloudflare.com/client/v4";
const STATUSES = ["pending_deployment", "available", "active", "pending_deletion", "inactive"];

// ---------------------------------------------------------------------------------------------
// Output: everything written goes through `scrub`, so no credential can reach a terminal or a
// log, whatever a message holds.

const env = process.env;
const secrets = [env.CLOUDFLARE_API_TOKEN, env.CLOUDFLARE_API_KEY, env.CLOUDFLARE_EMAIL]
  .filter((s) => typeof s === "string" && s.trim().length >= 4)
  .sort((a, b) => b.length - a.length);

function scrub(text) {
  let s = String(text);
  for (const secret of secrets) s = s.split(secret).join("[redacted]");
  return s;
}

const stdout = (text) => process.stdout.write(scrub(text));
const stderr = (text) => process.stderr.write(scrub(text));

/** Exits once both streams have flushed what was written (pipes may be asynchronous). */
function exit(code) {
  process.exitCode = code;
  process.stdout.write("", () => process.stderr.write("", () => process.exit(code)));
}

class UsageError extends Error {
  constructor(message, command) {
    super(message);
    this.name = "UsageError";
    this.command = command;
  }
}

// ---------------------------------------------------------------------------------------------
// Commands and options.

const OPTIONS = {
  account: { type: "string" },
  "base-url": { type: "string" },
  "timeout-ms": { type: "string" },
  "max-retries": { type: "string" },
  json: { type: "boolean" },
  yes: { type: "boolean" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean" },
  // per command
  concurrency: { type: "string" },
  "poll-interval-ms": { type: "string" },
  "wait-timeout-ms": { type: "string" },
  status: { type: "string" },
  expired: { type: "boolean" },
  "validity-days": { type: "string" },
  activate: { type: "boolean" },
};
const GLOBAL = ["account", "base-url", "timeout-ms", "max-retries", "json", "yes", "help", "version"];
const WAIT = ["poll-interval-ms", "wait-timeout-ms"];

const OPTION_HELP = {
  concurrency: "--concurrency <n>         certificates in progress at once, 1..32 (default 4)",
  "poll-interval-ms": "--poll-interval-ms <n>    how often to look at a certificate while waiting (default 2000)",
  "wait-timeout-ms": "--wait-timeout-ms <n>     give up waiting on a certificate after this (default 300000)",
  status: "--status <s>[,<s>...]     binding statuses to select (default inactive):\n" +
    "                            inactive, available, pending_deployment, pending_deletion",
  expired: "--expired                 only certificates whose expires_on is past",
  yes: "--yes                     retire the selected certificates (without it nothing changes)",
  "validity-days": "--validity-days <n>       validity in days, 1..10950 (default 1825)",
  activate: "--activate                also activate it and wait until it is available",
};

const COMMANDS = {
  list: {
    ids: 0,
    options: [],
    usage: "list",
    summary: "list the account's certificates",
    about: "Lists the account's certificates: id, binding status, in use, type, expiry.",
    example: `${NAME} list --account 699d98642c564d2e855e9661899b7252`,
  },
  get: {
    ids: 1,
    options: [],
    usage: "get <id>",
    summary: "show one certificate",
    about: "Shows one certificate, every field the API sends.",
    example: `${NAME} get f174e90a-fafe-4643-bbbc-4a0ed4fc8415 --json`,
  },
  delete: {
    ids: 1,
    options: [],
    usage: "delete <id>",
    summary: "delete a certificate (it must be inactive)",
    about: "Deletes a certificate that is already inactive. For one that is not, use `retire`.",
    example: `${NAME} delete f174e90a-fafe-4643-bbbc-4a0ed4fc8415`,
  },
  retire: {
    ids: "1+",
    options: ["concurrency", ...WAIT],
    usage: "retire <id>...",
    summary: "deactivate if needed, wait until inactive, delete",
    about:
      "Retires certificates the safe way: deactivates each one if needed, waits until it is\n" +
      "inactive, then deletes it. Refuses, without changing anything, the certificate Gateway\n" +
      "TLS inspection uses and custom certificates. With several ids they are retired together\n" +
      "within the API's rate limit, and a summary is printed (exit status 3 if any was refused\n" +
      "or failed).",
    example: `${NAME} retire f174e90a-fafe-4643-bbbc-4a0ed4fc8415 0b6b0e8e-8c5e-4bd4-9d7a-2b2b7c4c7a11`,
  },
  cleanup: {
    ids: 0,
    options: ["status", "expired", "yes", "concurrency", ...WAIT],
    usage: "cleanup [--status <s>[,<s>...]] [--expired] [--yes]",
    summary: "retire certificates by status and expiry (a plan; --yes runs it)",
    about:
      "Selects certificates from `list` by binding status (default inactive) and, with\n" +
      "--expired, by expiry; never the one in use and never custom ones. Prints the plan:\n" +
      "every certificate, to retire or kept and why. Nothing changes unless --yes is given;\n" +
      "then the selected certificates are retired (exit status 3 if any was refused or failed).",
    example: `${NAME} cleanup --status inactive,available --expired          # look\n` +
      `  ${NAME} cleanup --status inactive,available --expired --yes    # do it`,
  },
  create: {
    ids: 0,
    options: ["validity-days", "activate", ...WAIT],
    usage: "create [--validity-days <n>] [--activate]",
    summary: "generate a certificate (--activate: and activate it)",
    about:
      "Generates a Gateway certificate (never retried: an account may generate 3 per day).\n" +
      "With --activate it is also activated, and the command waits until it is available.\n" +
      "Devices need time (up to 24 hours) to receive it before it is turned on (set-in-use).",
    example: `${NAME} create --validity-days 365 --activate`,
  },
  activate: {
    ids: 1,
    options: [],
    usage: "activate <id>",
    summary: "activate (deploy) a certificate",
    about: "Activates a certificate: it becomes pending_deployment, then available.",
    example: `${NAME} activate f174e90a-fafe-4643-bbbc-4a0ed4fc8415`,
  },
  deactivate: {
    ids: 1,
    options: [],
    usage: "deactivate <id>",
    summary: "deactivate a certificate",
    about: "Deactivates a certificate: it becomes pending_deletion, then inactive.",
    example: `${NAME} deactivate f174e90a-fafe-4643-bbbc-4a0ed4fc8415`,
  },
  "set-in-use": {
    ids: 1,
    options: [...WAIT],
    usage: "set-in-use <id>",
    summary: "make an available certificate the one TLS inspection uses",
    about:
      "Makes an available certificate the one Gateway TLS inspection uses (PATCH of the\n" +
      "Gateway configuration) and waits until it reports in_use. Devices must already have\n" +
      "received it (up to 24 hours after activation), or their connections break.",
    example: `${NAME} set-in-use f174e90a-fafe-4643-bbbc-4a0ed4fc8415`,
  },
};

function version() {
  return JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")).version;
}

const OPTIONS_HELP = `Options:
  --account <id>            account ID (default: $CLOUDFLARE_ACCOUNT_ID)
  --base-url <url>          API base URL (default: $CLOUDFLARE_API_BASE_URL, else
                            ${DEFAULT_BASE_URL})
  --timeout-ms <n>          timeout per request attempt (default 60000)
  --max-retries <n>         retries of a failed request (default 2)
  --json                    print exactly one JSON document on stdout
  -h, --help                this help`;

const CREDENTIALS_HELP = `Credentials come only from the environment (no flag, so they stay out of shell history):
  CLOUDFLARE_API_TOKEN                    an API token with Zero Trust Write, or
  CLOUDFLARE_EMAIL and CLOUDFLARE_API_KEY the Global API key`;

const COMMON_HELP = `${OPTIONS_HELP}

${CREDENTIALS_HELP}`;

function globalHelp() {
  const width = Math.max(...Object.values(COMMANDS).map((c) => c.usage.split(" [")[0].length));
  const commands = Object.values(COMMANDS)
    .map((c) => `  ${c.usage.split(" [")[0].padEnd(width)}  ${c.summary}`)
    .join("\n");
  return `${NAME} ${version()}: Cloudflare Zero Trust Gateway certificates

Usage: ${NAME} <command> [options]

Commands:
${commands}

${OPTIONS_HELP}
  --yes                     cleanup: retire what the plan selects
  --version                 print the version

${CREDENTIALS_HELP}

Output: the result on stdout (readable, or --json); progress and errors on stderr.
Exit status: 0 success; 1 API or network failure, or a single certificate refused;
  2 usage error (nothing sent); 3 retire of several or cleanup --yes with anything
  refused or failed.

Example:
  export CLOUDFLARE_API_TOKEN=…  CLOUDFLARE_ACCOUNT_ID=699d98642c564d2e855e9661899b7252
  ${NAME} list
  ${NAME} cleanup --expired

'${NAME} <command> --help' describes a command.
`;
}

function commandHelp(name) {
  const c = COMMANDS[name];
  const own = c.options.map((o) => `  ${OPTION_HELP[o]}`).join("\n");
  return `Usage: ${NAME} ${c.usage} [options]

${c.about}

${own ? `Options of ${name}:\n${own}\n\n` : ""}${COMMON_HELP}

Example:
  ${c.example}
`;
}

// ---------------------------------------------------------------------------------------------
// Arguments.

const SECRET_FLAG = /token|key|email|secret|password|passwd|credential|auth|bearer/i;

function parse(argv) {
  // A flag that would carry a secret (or the email) is refused by name, before anything else
  // looks at its value, and the value is never echoed.
  for (const arg of argv) {
    if (arg === "--") break;
    const m = /^--?([^=]+)/.exec(arg);
    if (m && !(m[1] in OPTIONS) && m[1] !== "h" && SECRET_FLAG.test(m[1])) {
      const which = /email|key/i.test(m[1]) && !/token/i.test(m[1])
        ? "CLOUDFLARE_EMAIL and CLOUDFLARE_API_KEY"
        : "CLOUDFLARE_API_TOKEN (or CLOUDFLARE_EMAIL and CLOUDFLARE_API_KEY)";
      throw new UsageError(
        `--${m[1]}: credentials are not taken from flags (they would show in the process list and ` +
          `shell history); set ${which} in the environment`,
      );
    }
  }
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: true });
  } catch (e) {
    if (e.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
      const arg = argv.find((a) => a.startsWith("-") && !known(a)) ?? "";
      throw new UsageError(`unknown option ${arg.split("=")[0] || "(unnamed)"}`, commandIn(argv));
    }
    throw new UsageError(e.message.split("\n")[0], commandIn(argv));
  }
  const { values, positionals } = parsed;
  const [command, ...ids] = positionals;
  return { values, command, ids };
}

function known(arg) {
  const m = /^--([^=]+)/.exec(arg) ?? /^-(h)$/.exec(arg);
  return Boolean(m && (m[1] in OPTIONS || m[1] === "h"));
}

/** The command named in argv, if any (for a per-command hint after a parse error). */
function commandIn(argv) {
  return argv.find((a) => a in COMMANDS);
}

/** A whole number from an option's text, or undefined when the option is absent. */
function integer(values, name) {
  const text = values[name];
  if (text === undefined) return undefined;
  if (!/^[0-9]{1,15}$/.test(text.trim())) {
    throw new UsageError(`--${name} must be a whole number, got ${JSON.stringify(text).slice(0, 40)}`);
  }
  return Number(text.trim());
}

function statuses(values) {
  const list = (values.status ?? "inactive").split(",").map((s) => s.trim()).filter(Boolean);
  if (list.length === 0) throw new UsageError("--status needs at least one binding status", "cleanup");
  for (const s of list) {
    if (!STATUSES.includes(s)) {
      throw new UsageError(`--status: unknown binding status ${JSON.stringify(s).slice(0, 40)} ` +
        `(one of ${STATUSES.filter((x) => x !== "active").join(", ")})`, "cleanup");
    }
  }
  return list;
}

function credentials() {
  const value = (name) => (env[name] && env[name].length > 0 ? env[name] : undefined);
  const apiToken = value("CLOUDFLARE_API_TOKEN");
  const apiEmail = value("CLOUDFLARE_EMAIL");
  const apiKey = value("CLOUDFLARE_API_KEY");
  if (apiToken && (apiEmail || apiKey)) {
    throw new UsageError(
      "two credential schemes in the environment: set either CLOUDFLARE_API_TOKEN, or " +
        "CLOUDFLARE_EMAIL with CLOUDFLARE_API_KEY, not both",
    );
  }
  if (apiToken) return { apiToken };
  if (apiEmail && apiKey) return { apiEmail, apiKey };
  if (apiEmail || apiKey) {
    throw new UsageError(
      `${apiEmail ? "CLOUDFLARE_API_KEY" : "CLOUDFLARE_EMAIL"} is not set: the Global API key ` +
        "needs both CLOUDFLARE_EMAIL and CLOUDFLARE_API_KEY (or use CLOUDFLARE_API_TOKEN)",
    );
  }
  throw new UsageError(
    "no credentials: set CLOUDFLARE_API_TOKEN (an API token with Zero Trust Write), or " +
      "CLOUDFLARE_EMAIL and CLOUDFLARE_API_KEY",
  );
}

// ---------------------------------------------------------------------------------------------
// Readable output.

function expiresText(cert, now) {
  if (typeof cert.expires_on !== "string") return "-";
  const t = Date.parse(cert.expires_on);
  const day = cert.expires_on.slice(0, 10);
  return Number.isFinite(t) && t < now ? `${day} (expired)` : day;
}

function inUseText(cert) {
  return cert.in_use === true ? "yes" : cert.in_use === false ? "no" : "-";
}

function table(headers, rows) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => cells.map((c, i) => (i === cells.length - 1 ? String(c) : String(c).padEnd(widths[i]))).join("  ").trimEnd();
  return [line(headers), ...rows.map(line)].join("\n") + "\n";
}

function certRow(cert, now) {
  return [cert.id ?? "-", cert.binding_status ?? "-", inUseText(cert), cert.type ?? "-", expiresText(cert, now)];
}
const CERT_HEADERS = ["ID", "STATUS", "IN USE", "TYPE", "EXPIRES"];

function certificatesText(certs) {
  if (certs.length === 0) return "No certificates.\n";
  const now = Date.now();
  return table(CERT_HEADERS, certs.map((c) => certRow(c, now)));
}

const FIELD_ORDER = ["id", "binding_status", "in_use", "type", "expires_on", "created_at", "updated_at",
  "uploaded_on", "fingerprint", "issuer_org", "issuer_raw"];

function certificateText(cert) {
  const keys = [...FIELD_ORDER.filter((k) => k in cert),
    ...Object.keys(cert).filter((k) => !FIELD_ORDER.includes(k) && k !== "certificate"),
    ...("certificate" in cert ? ["certificate"] : [])];
  const width = Math.max(...keys.map((k) => k.length), 0);
  const pad = " ".repeat(width + 2);
  return keys.map((k) => {
    const v = cert[k];
    let text = typeof v === "string" ? v : JSON.stringify(v) ?? "";
    if (k === "expires_on" && typeof v === "string" && Date.parse(v) < Date.now()) text += " (expired)";
    return `${k.padEnd(width)}  ${text.trimEnd().split("\n").join(`\n${pad}`)}`;
  }).join("\n") + "\n";
}

function errorJson(error) {
  return { name: error?.name ?? "Error", message: String(error?.message ?? error), status: error?.status ?? null };
}

function manyJson(result) {
  const items = (list) => list.map(({ certificateId, error }) => ({ certificateId, error: errorJson(error) }));
  return { deleted: result.deleted, refused: items(result.refused), failed: items(result.failed) };
}

function manyText(result) {
  const { deleted, refused, failed } = result;
  const total = deleted.length + refused.length + failed.length;
  let s = `Deleted ${deleted.length}, refused ${refused.length}, failed ${failed.length} (of ${total}).\n`;
  for (const c of deleted) s += `  deleted  ${c.id}\n`;
  for (const { certificateId, error } of refused) s += `  refused  ${certificateId}  ${error.name}: ${error.message}\n`;
  for (const { certificateId, error } of failed) s += `  failed   ${certificateId}  ${error.name}: ${error.message}\n`;
  return s;
}

function json(value) {
  return `${JSON.stringify(value, null, 2)}\n`;
}

// ---------------------------------------------------------------------------------------------
// Progress on stderr.

const tty = Boolean(process.stderr.isTTY);

/** Steps of one certificate (retire, createAndActivate, setInUse): a line per change. */
function stepPrinter(label) {
  let last = "";
  return ({ step, certificate }) => {
    const status = certificate?.binding_status;
    const what = step === "waiting" && certificate
      ? `waiting (${status}${certificate.in_use ? ", in use" : ""})`
      : step === "creating" || !certificate?.id ? step : `${step} ${certificate.id}${status ? ` (${status})` : ""}`;
    if (what === last) return;
    last = what;
    stderr(`${label}: ${what}\n`);
  };
}

/** Progress of retireMany: a bar redrawn in place on a terminal, plain lines otherwise. */
function manyProgress(total) {
  const counts = { deleted: 0, refused: 0, failed: 0 };
  const seen = new Map();
  let drawn = false;
  const draw = (done) => {
    const tail = ` ${done}/${total}  deleted ${counts.deleted}, refused ${counts.refused}, failed ${counts.failed}`;
    const columns = process.stderr.columns || 80;
    const width = Math.max(5, Math.min(30, columns - tail.length - 14));
    const filled = total === 0 ? width : Math.round((done / total) * width);
    const bar = `Retiring [${"#".repeat(filled)}${"-".repeat(width - filled)}]${tail}`;
    process.stderr.write(`\r${scrub(bar.slice(0, columns - 1))}\x1b[K`);
    drawn = true;
  };
  return {
    onProgress({ certificateId, step, done }) {
      if (step === "done") counts.deleted += 1;
      if (step === "refused") counts.refused += 1;
      if (step === "failed") counts.failed += 1;
      if (tty) return draw(done);
      if (seen.get(certificateId) === step) return;
      seen.set(certificateId, step);
      const word = step === "done" ? "deleted" : step;
      stderr(`[${String(done).padStart(String(total).length)}/${total}] ${certificateId} ${word}\n`);
    },
    start() {
      if (tty) draw(0);
    },
    clear() {
      if (drawn) process.stderr.write("\r\x1b[K");
      drawn = false;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Errors: `<name>: <message>` and a hint where one helps.

function hint(error, command) {
  const name = error?.name;
  if (name === "PermissionDeniedError" || error?.status === 403) {
    return "the API token needs the Zero Trust Write permission for this account (Account > Zero Trust > Edit)";
  }
  switch (name) {
    case "AuthenticationError":
      return "check CLOUDFLARE_API_TOKEN (or CLOUDFLARE_EMAIL and CLOUDFLARE_API_KEY): the API did not accept it";
    case "CertificateNotInactiveError":
      return command === "delete"
        ? `only an inactive certificate can be deleted: '${NAME} retire <id>' deactivates, waits and deletes`
        : "it did not become inactive in time: try again later, or raise --wait-timeout-ms";
    case "RateLimitError": {
      const ms = error.retryAfterMs;
      if (typeof ms === "number" && ms > 0) {
        const s = Math.ceil(ms / 1000);
        const when = new Date(Date.now() + ms).toLocaleTimeString();
        const span = s >= 60 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${s} s`;
        return `the API's rate limit is used up: wait ${span} (until ${when}) before trying again`;
      }
      return "the API's rate limit (1200 requests per 5 minutes) is used up: wait up to 5 minutes";
    }
    case "CertificateInUseError":
      return `turn on another certificate first: ${NAME} set-in-use <id of an available certificate>`;
    case "UnsupportedCertificateError":
      return "custom (uploaded) certificates are removed where they were uploaded, not through this API";
    case "CertificateNotAvailableError":
      return command === "set-in-use"
        ? `only an available certificate can be turned on: '${NAME} activate <id>', then wait until it is available`
        : "it did not become available in time: try again later, or raise --wait-timeout-ms";
    case "NotFoundError":
      return "check the certificate ID and the account (--account or CLOUDFLARE_ACCOUNT_ID)";
    case "APIConnectionError":
    case "APIConnectionTimeoutError":
      return "check the network connection and --base-url / CLOUDFLARE_API_BASE_URL";
    case "InvalidInputError":
      return `nothing was sent; see '${NAME} ${command ?? ""}${command ? " " : ""}--help'`;
    default:
      return undefined;
  }
}

function reportError(error, command) {
  const name = error?.name ?? "Error";
  const message = error?.message ?? String(error);
  stderr(`${name}: ${message}\n`);
  const h = hint(error, command);
  if (h) stderr(`hint: ${h}\n`);
}

// ---------------------------------------------------------------------------------------------
// Cleanup's plan: every listed certificate lands in exactly one of `retire` and `keep`.

function plan(certs, { statuses: wanted, expired }, now) {
  const retire = [];
  const keep = [];
  for (const certificate of certs) {
    const reason = (() => {
      if (certificate.in_use === true) return "in use by Gateway TLS inspection";
      if (certificate.type === "custom") return "custom certificate: not deleted through this API";
      if (typeof certificate.id !== "string") return "no id";
      if (!wanted.includes(certificate.binding_status)) {
        return `binding status ${certificate.binding_status ?? "unknown"}: not selected (--status ${wanted.join(",")})`;
      }
      if (expired) {
        const t = Date.parse(certificate.expires_on ?? "");
        if (!Number.isFinite(t)) return "no expiry date (--expired)";
        if (t >= now) return "not expired (--expired)";
      }
      return undefined;
    })();
    if (reason) keep.push({ certificate, reason });
    else retire.push(certificate);
  }
  return { retire, keep };
}

/** The plan as two sections with one set of column widths; kept certificates grouped by why. */
function planText({ retire, keep }, now) {
  const rows = [CERT_HEADERS, ...retire.map((c) => certRow(c, now)), ...keep.map((k) => certRow(k.certificate, now))];
  const widths = CERT_HEADERS.map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  const line = (cells) => `    ${cells.map((c, i) => String(c).padEnd(widths[i])).join("  ").trimEnd()}\n`;
  let s = retire.length ? `Retire (${retire.length}):\n${line(CERT_HEADERS)}` : "Retire: nothing matches.\n";
  for (const c of retire) s += line(certRow(c, now));
  if (keep.length) {
    s += `\nKeep (${keep.length}):\n${line(CERT_HEADERS)}`;
    const groups = new Map();
    for (const k of keep) groups.set(k.reason, [...(groups.get(k.reason) ?? []), k.certificate]);
    for (const [reason, certs] of groups) {
      s += `  ${reason}:\n`;
      for (const c of certs) s += line(certRow(c, now));
    }
  }
  return s;
}

// ---------------------------------------------------------------------------------------------

async function main(argv) {
  const { values, command, ids } = parse(argv);
  if (values.version) {
    stdout(`${version()}\n`);
    return 0;
  }
  if (command === undefined || command === "help") {
    if (command === "help" && ids.length > 0) {
      if (!(ids[0] in COMMANDS)) throw new UsageError(`unknown command ${JSON.stringify(ids[0]).slice(0, 40)}`);
      stdout(commandHelp(ids[0]));
      return 0;
    }
    if (values.help || command === "help") {
      stdout(globalHelp());
      return 0;
    }
    throw new UsageError("no command given");
  }
  if (!(command in COMMANDS)) throw new UsageError(`unknown command ${JSON.stringify(command).slice(0, 40)}`);
  const spec = COMMANDS[command];
  if (values.help) {
    stdout(commandHelp(command));
    return 0;
  }
  for (const name of Object.keys(values)) {
    if (!GLOBAL.includes(name) && !spec.options.includes(name)) {
      throw new UsageError(`option --${name} does not apply to ${command}`, command);
    }
  }
  if (spec.ids === 1 && ids.length === 0) throw new UsageError(`${command} needs a certificate id`, command);
  if (spec.ids === "1+" && ids.length === 0) throw new UsageError(`${command} needs at least one certificate id`, command);
  if (spec.ids === 1 && ids.length > 1) throw new UsageError(`${command} takes one certificate id, got ${ids.length}`, command);
  if (spec.ids === 0 && ids.length > 0) {
    throw new UsageError(`${command} takes no certificate id (got ${JSON.stringify(ids[0]).slice(0, 40)})`, command);
  }

  const timeoutMs = integer(values, "timeout-ms");
  const maxRetries = integer(values, "max-retries");
  const concurrency = integer(values, "concurrency");
  const pollIntervalMs = integer(values, "poll-interval-ms");
  const waitTimeoutMs = integer(values, "wait-timeout-ms");
  const validityDays = integer(values, "validity-days");
  const wanted = command === "cleanup" ? statuses(values) : undefined;

  const creds = credentials();
  const accountId = values.account ?? (env.CLOUDFLARE_ACCOUNT_ID || undefined);
  if (accountId === undefined) {
    throw new UsageError("no account: give --account <id> or set CLOUDFLARE_ACCOUNT_ID", command);
  }
  const baseUrl = values["base-url"] ?? (env.CLOUDFLARE_API_BASE_URL || undefined);

  const { GatewayCertificates } = await import("../js/node.js");
  // The constructor validates the options (InvalidInputError: exit 2, nothing sent).
  const client = new GatewayCertificates({ ...creds, baseUrl, timeoutMs, maxRetries });
  const params = { account_id: accountId };

  const controller = new AbortController();
  const { signal } = controller;
  let progress;
  process.on("SIGINT", () => {
    progress?.clear();
    if (signal.aborted) {
      stderr("Interrupted again: exiting now.\n");
      process.exit(1);
    }
    stderr("Interrupted: stopping (no new certificate is started; press Ctrl-C again to quit at once).\n");
    controller.abort();
  });
  const wait = { pollIntervalMs, waitTimeoutMs, signal };
  const print = (value, text) => stdout(values.json ? json(value) : text(value));
  const id = ids[0];

  const runMany = async (certificateIds) => {
    progress = manyProgress(new Set(certificateIds.map((s) => s.toLowerCase())).size);
    progress.start();
    let result;
    try {
      result = await client.retireMany(certificateIds, params, {
        concurrency, pollIntervalMs, waitTimeoutMs, signal, onProgress: progress.onProgress,
      });
    } finally {
      progress.clear();
    }
    stdout(values.json ? json(manyJson(result)) : manyText(result));
    if (signal.aborted) {
      const unfinished = result.failed.filter((f) => f.error?.name === "APIUserAbortError").length;
      stderr(`Stopped: ${result.deleted.length} deleted, ${unfinished} not finished ` +
        "(a certificate already deactivated stays deactivated; run the command again to finish).\n");
    }
    return result.refused.length + result.failed.length > 0 ? 3 : 0;
  };

  switch (command) {
    case "list":
      print(await client.list(params, { signal }), certificatesText);
      return 0;
    case "get":
      print(await client.get(id, params, { signal }), certificateText);
      return 0;
    case "delete": {
      const cert = await client.delete(id, params, { signal });
      print(cert, certificateText);
      stderr(`Deleted ${cert.id ?? id}.\n`);
      return 0;
    }
    case "activate":
    case "deactivate": {
      const cert = await client[command](id, params, { signal });
      print(cert, certificateText);
      stderr(`${command === "activate" ? "Activation" : "Deactivation"} requested; it takes effect ` +
        `asynchronously (see '${NAME} get ${cert.id ?? id}').\n`);
      return 0;
    }
    case "retire": {
      if (ids.length > 1) return runMany(ids);
      const cert = await client.retire(id, params, { ...wait, onProgress: stepPrinter("retire") });
      print(cert, certificateText);
      return 0;
    }
    case "create": {
      const create = { ...params, validity_period_days: validityDays };
      const cert = values.activate
        ? await client.createAndActivate(create, { ...wait, onProgress: stepPrinter("create") })
        : await client.create(create, { signal });
      print(cert, certificateText);
      stderr(values.activate
        ? `Generated and activated ${cert.id}. Once devices have it (up to 24 hours), turn it on: ` +
          `${NAME} set-in-use ${cert.id}\n`
        : `Generated ${cert.id} (${cert.binding_status ?? "inactive"}). Next: ${NAME} activate ${cert.id}\n`);
      return 0;
    }
    case "set-in-use": {
      const cert = await client.setInUse(id, params, { ...wait, onProgress: stepPrinter("set-in-use") });
      print(cert, certificateText);
      return 0;
    }
    case "cleanup": {
      // retireMany of nothing validates the options and sends nothing: a bad --concurrency
      // is refused before anything is listed.
      await client.retireMany([], params, { concurrency, pollIntervalMs, waitTimeoutMs });
      const certs = await client.list(params, { signal });
      const now = Date.now();
      const p = plan(certs, { statuses: wanted, expired: Boolean(values.expired) }, now);
      if (!values.yes) {
        if (values.json) stdout(json(p));
        else stdout(planText(p, now));
        stderr(p.retire.length
          ? `\nNothing was changed. Run again with --yes to retire ${p.retire.length} certificate${p.retire.length === 1 ? "" : "s"}.\n`
          : "\nNothing to retire.\n");
        return 0;
      }
      stderr(planText(p, now));
      if (p.retire.length === 0) {
        print({ deleted: [], refused: [], failed: [] }, manyText);
        return 0;
      }
      stderr("\n");
      return runMany(p.retire.map((c) => c.id));
    }
    default:
      throw new UsageError(`unknown command ${command}`);
  }
}

let currentCommand;
try {
  currentCommand = commandIn(process.argv.slice(2));
} catch {
  currentCommand = undefined;
}

process.on("unhandledRejection", (e) => {
  reportError(e, currentCommand);
  exit(1);
});

main(process.argv.slice(2)).then(exit, (error) => {
  if (error instanceof UsageError) {
    stderr(`UsageError: ${error.message}\n`);
    const c = error.command;
    stderr(`hint: nothing was sent; see '${NAME} ${c ? `${c} ` : ""}--help'\n`);
    exit(2);
    return;
  }
  reportError(error, currentCommand);
  exit(error?.name === "InvalidInputError" ? 2 : 1);
});
