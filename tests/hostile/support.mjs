// Shared helpers for the hostile-input and secrets tests (not a test file itself); also used by
// tests/worker/hostile.test.mjs and tests/page/hostile.test.mjs.
import assert from "node:assert/strict";
import { createServer, request as httpRequest } from "node:http";

export { startEmulator } from "../support/emulator.mjs";
export { assertNoSecrets, texts } from "../support/secrets.mjs";

/**
 * A loopback HTTP proxy in front of `targetOrigin` that counts every request it sees, whatever
 * its path (the emulator logs only requests that reach an account, so a request with a bad
 * account id would not show in any account's log). Point a client's baseUrl (or the Worker's
 * CF_API_BASE_URL) at `url` and `count()` is the number of requests that left.
 */
export async function startCountingProxy(targetOrigin) {
  const target = new URL(targetOrigin);
  const seen = [];
  const server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    const up = httpRequest({
      host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers,
    }, (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      upRes.pipe(res);
    });
    up.on("error", () => res.destroy());
    req.pipe(up);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const origin = `http://127.0.0.1:${server.address().port}`;
  return {
    origin,
    url: `${origin}/client/v4`,
    count: () => seen.length,
    requests: () => [...seen],
    close: () => new Promise((resolve) => { server.closeAllConnections?.(); server.close(resolve); }),
  };
}

/** Awaits `promise` (or calls it, catching a synchronous throw), expecting a failure. */
export async function failureOf(run, label = "") {
  let value;
  try {
    value = await run();
  } catch (err) {
    return err;
  }
  assert.fail(`${label}: accepted (expected a failure, got ${JSON.stringify(value)?.slice(0, 200)})`);
}
