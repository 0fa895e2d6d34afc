// Shared by the child processes.
export const TOKEN = "bench-token-0123456789abcdefghijklmnopqrstuv";
export const ACCOUNT = "699d98642c564d2e855e9661899b7252";
export const IDS = Array.from({ length: 16 }, (_, i) =>
  `f174e90a-fafe-4643-bbbc-4a0ed4fc8${i.toString(16).padStart(3, "0")}`);

export async function loadImpl(path, baseUrl) {
  const mod = await import(path);
  const client = mod.makeClient({ apiToken: TOKEN, baseUrl });
  let i = 0;
  const call = () => client.delete(IDS[i++ & 15], { account_id: ACCOUNT });
  // sanity: one call must resolve with the deleted certificate
  const id = IDS[i & 15];
  const r = await call();
  if (!r || r.id !== id || r.binding_status !== "inactive" || typeof r.certificate !== "string") {
    throw new Error(`${path}: unexpected result ${JSON.stringify(r)?.slice(0, 200)}`);
  }
  return call;
}

export async function runSeq(call, n) { for (let i = 0; i < n; i++) await call(); }

export async function runConc(call, n, inFlight) {
  let left = n;
  const worker = async () => { while (left-- > 0) await call(); };
  await Promise.all(Array.from({ length: Math.min(inFlight, n) }, worker));
}

export const cpuUs = (c) => c.user + c.system;
