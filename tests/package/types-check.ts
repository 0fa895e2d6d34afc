// Compile-only check of js/index.d.ts (`npx tsc -p tests/package`): uses every declaration
// through the package name, the way a user does, and proves some misuse is rejected.
import {
  GatewayCertificates,
  deleteCertificate,
  type ApiErrorItem,
  type AccountParams,
  type Certificate,
  type CertificateError,
  type CertificateErrorName,
  type ClientOptions,
  type CreateParams,
  type DeleteCertificateArgs,
  type RequestOptions,
  type RetireOptions,
  type RetireProgressEvent,
  type RetireStep,
  type RetireManyOptions,
  type RetireManyProgressEvent,
  type RetireManyResult,
  type RetireManyStep,
  type WaitOptions,
  type WaitProgressEvent,
  type WaitStep,
  type GatewayConfiguration,
  type RateLimitHeaders,
} from "cf-gateway-certs";
import { GatewayCertificates as InlineClient, deleteCertificate as inlineDelete } from "cf-gateway-certs/inline";

const options: ClientOptions = {
  apiToken: "t",
  baseUrl: "http://127.0.0.1:8787/client/v4",
  timeoutMs: 5000,
  maxRetries: 0,
};
const keyOptions: ClientOptions = { apiEmail: "a@example.com", apiKey: "k" };
const client = new GatewayCertificates(options);
const params: AccountParams = { account_id: "699d98642c564d2e855e9661899b7252" };
const request: RequestOptions = { signal: new AbortController().signal };
const id = "f174e90a-fafe-4643-bbbc-4a0ed4fc8415";

function isCertificateError(e: unknown): e is CertificateError {
  return e instanceof Error && typeof (e as { name?: unknown }).name === "string";
}

function describe(c: Certificate): string {
  const status: string | undefined = c.binding_status;
  const kind: "custom" | "gateway_managed" | (string & {}) | undefined = c.type;
  const inUse: boolean | undefined = c.in_use;
  const extra: unknown = c["some_future_field"];
  const fields: (string | undefined)[] = [
    c.id, c.certificate, c.created_at, c.expires_on, c.fingerprint, c.issuer_org,
    c.issuer_raw, c.updated_at, c.uploaded_on,
  ];
  return `${status} ${kind} ${inUse} ${String(extra)} ${fields.join()}`;
}

function explain(e: CertificateError): string {
  const name: CertificateErrorName = e.name;
  const status: number | undefined = e.status;
  const items: ApiErrorItem[] = e.errors;
  const first = items[0];
  const doc: string | undefined = first?.documentation_url;
  const pointer: string | undefined = first?.source?.pointer;
  const ray: string | undefined = e.cfRay;
  const wait: number | undefined = e.retryAfterMs;
  const cert: Certificate | undefined = e.certificate;
  const message: string = e.message;
  const stack: string | undefined = e.stack;
  switch (e.name) {
    case "InvalidInputError":
    case "BadRequestError":
    case "AuthenticationError":
    case "PermissionDeniedError":
    case "NotFoundError":
    case "ConflictError":
    case "UnprocessableEntityError":
    case "RateLimitError":
    case "InternalServerError":
    case "APIError":
    case "APIConnectionError":
    case "APIConnectionTimeoutError":
    case "APIUserAbortError":
    case "CertificateNotInactiveError":
    case "CertificateInUseError":
    case "UnsupportedCertificateError":
    case "CertificateNotAvailableError":
      break;
    default: {
      // Exhaustive: all 17 names are handled above.
      const never: never = e.name;
      return never;
    }
  }
  return [name, status, items.map((i) => `[${i.code}] ${i.message}`).join(), doc, pointer, ray,
    wait, cert && describe(cert), message, stack].join(" ");
}

export async function useEverything(): Promise<string[]> {
  const out: string[] = [];
  const deleted: Certificate = await client.delete(id, params);
  out.push(describe(deleted));
  out.push(describe(await client.delete(id, params, request)));
  out.push(describe(await client.get(id, params, request)));
  const all: Certificate[] = await client.list(params);
  out.push(...all.map(describe));
  const createParams: CreateParams = { ...params, validity_period_days: 30 };
  out.push(describe(await client.create(createParams)));
  out.push(describe(await client.create(params, {})));
  out.push(describe(await client.activate(id, params)));
  out.push(describe(await client.deactivate(id, params, request)));

  const steps: RetireStep[] = [];
  const retireOptions: RetireOptions = {
    pollIntervalMs: 500,
    waitTimeoutMs: 60_000,
    signal: AbortSignal.timeout(120_000),
    onProgress: (event: RetireProgressEvent) => {
      steps.push(event.step);
      if (event.certificate) out.push(describe(event.certificate));
    },
  };
  out.push(describe(await client.retire(id, params, retireOptions)));
  out.push(describe(await client.retire(id, params)));

  const manySteps: RetireManyStep[] = [];
  const manyOptions: RetireManyOptions = {
    concurrency: 8,
    pollIntervalMs: 500,
    waitTimeoutMs: 60_000,
    signal: request.signal,
    onProgress: (e: RetireManyProgressEvent) => {
      manySteps.push(e.step);
      const counts: string = `${e.certificateId} ${e.done}/${e.total}`;
      out.push(counts);
      if (e.certificate) out.push(describe(e.certificate));
    },
  };
  const many: RetireManyResult = await client.retireMany([id, id], params, manyOptions);
  out.push(...many.deleted.map(describe));
  for (const { certificateId, error } of [...many.refused, ...many.failed]) {
    out.push(`${certificateId} ${explain(error)}`);
  }
  await client.retireMany([], params);

  const waitSteps: WaitStep[] = [];
  const waitOptions: WaitOptions = {
    pollIntervalMs: 1000,
    waitTimeoutMs: 600_000,
    onProgress: (e: WaitProgressEvent) => {
      waitSteps.push(e.step);
      if (e.certificate) out.push(describe(e.certificate));
    },
  };
  const fresh: Certificate = await client.createAndActivate({ ...params, validity_period_days: 365 }, waitOptions);
  out.push(describe(fresh));
  out.push(describe(await client.setInUse(id, params, waitOptions)));
  out.push(describe(await client.setInUse(id, params)));
  const configuration: GatewayConfiguration = await client.selectCertificate(id, params, request);
  out.push(String(configuration.settings?.certificate?.id));
  const limits: RateLimitHeaders = client.rateLimitHeaders();
  out.push(`${limits.ratelimit ?? ""} ${limits.ratelimitPolicy ?? ""}`);

  const args: DeleteCertificateArgs = { ...keyOptions, accountId: params.account_id, certificateId: id };
  out.push(describe(await deleteCertificate(args)));
  out.push(describe(await deleteCertificate({ apiToken: "t", accountId: "a", certificateId: id, signal: request.signal })));

  try {
    await client.get(id, params);
  } catch (e) {
    if (isCertificateError(e)) out.push(explain(e));
  }
  new GatewayCertificates(keyOptions).free();
  return out;
}

// ---- wrong usage is rejected --------------------------------------------------------------

// @ts-expect-error the options are required
new GatewayCertificates();
// @ts-expect-error params is `{ account_id }`, not a bare string
void client.delete(id, "699d98642c564d2e855e9661899b7252");
// @ts-expect-error the SDK-style key is account_id, not accountId
void client.get(id, { accountId: "a" });
// @ts-expect-error timeoutMs is a number
new GatewayCertificates({ apiToken: "t", timeoutMs: "5s" });
// @ts-expect-error list takes no certificate id
void client.list(id, params);
// @ts-expect-error deleteCertificate needs certificateId
void deleteCertificate({ apiToken: "t", accountId: "a" });
// @ts-expect-error not a retire step
const badStep: RetireStep = "deleted";
// @ts-expect-error not an error name of the contract
const badName: CertificateErrorName = "TypeError";
// @ts-expect-error onProgress receives an event object, not a string
const badRetire: RetireOptions = { onProgress: (s: number) => s };
// @ts-expect-error resolves with a Certificate, not a string
const notString: Promise<string> = client.get(id, params);
// @ts-expect-error errors items need a numeric code
const badItem: ApiErrorItem = { code: "1000", message: "x" };
// @ts-expect-error retireMany takes an array of ids
void client.retireMany(id, params);
// @ts-expect-error "switching" is a rotation step, not a retireMany one
const badManyStep: RetireManyStep = "switching";
// @ts-expect-error concurrency is a number
const badMany: RetireManyOptions = { concurrency: "4" };
// @ts-expect-error setInUse needs the account
void client.setInUse(id);
void [badStep, badName, badRetire, notString, badItem, badManyStep, badMany];

// The inline entry ("cf-gateway-certs/inline") has the same declarations.
const inlineClient: GatewayCertificates = new InlineClient({ apiToken: "t" });
void inlineClient;
void (inlineDelete satisfies typeof deleteCertificate);
