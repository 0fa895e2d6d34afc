// The JS half of the wasm edge: the public `GatewayCertificates` class and `deleteCertificate`,
// a small loop over the wasm `Core`'s machines. It owns what only JS has: `fetch`, the
// per-attempt timeout and the caller's signal, timers, promises and `onProgress`. Every
// decision (validation, retries, waits, pacing, retire, rotation, errors) is the Core's.
//
// A call: `core.start(op, …)` validates and sets the call's machine up (a task number, or the
// `InvalidInputError` to reject with); then `core.step(task, lane, event…)` answers each event
// with the next action, a string: `S<METHOD> <url>[\n<body>]` (send), `W<ms>` (wait), `P`
// (deliver `core.report()`), `L` (a `retireMany` lane is done); or with the outcome: the
// result, or an `Error` to reject with. A delete is three crossings: start, send, answer.
//
// `bind(Core)` returns the public API; scripts/build.sh bundles this file with the generated
// glue, and the wasm test suite (tests/common) binds it to the Core of its own build.

const GO = 0, ANSWER = 1, CONNECTION = 2, TIMEOUT = 3, ABORTED = 4;

// sleep(ms, signal) resolves true after ms, or false as soon as the caller aborts.
function sleep(ms, signal) {
  return new Promise((resolve) => {
    if (signal && signal.aborted) return resolve(false);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      if (signal) signal.removeEventListener("abort", onAbort);
      resolve(true);
    }, ms);
    if (signal) signal.addEventListener("abort", onAbort, { once: true });
  });
}

function why(e) {
  let message = String((e && e.message) || e);
  const cause = e && e.cause;
  if (cause && cause.message) message += ` (${cause.message})`;
  return message;
}

// One attempt of the request in `action`; steps the task with what came of it. The body enters
// wasm only when it is not a JSON object (to quote an HTML error page): a success is parsed
// once, by JSON.parse, and its certificate stays this JS object.
async function attempt(core, task, lane, action, headers, timeoutMs, signal) {
  const space = action.indexOf(" ");
  const newline = action.indexOf("\n");
  const method = action.slice(1, space);
  const url = newline < 0 ? action.slice(space + 1) : action.slice(space + 1, newline);
  const body = newline < 0 ? undefined : action.slice(newline + 1);
  if (signal && signal.aborted) return core.step(task, lane, ABORTED, 0);
  // An AbortController only when there is something to abort with.
  let controller, timer, abort;
  if (timeoutMs > 0 || signal) {
    controller = new AbortController();
    abort = () => controller.abort();
    if (signal) signal.addEventListener("abort", abort);
    if (timeoutMs > 0) timer = setTimeout(abort, timeoutMs);
  }
  let res, text, failure;
  try {
    res = await fetch(url, {
      method,
      headers: body === undefined ? headers : { ...headers, "Content-Type": "application/json" },
      body,
      signal: controller && controller.signal,
    });
    text = await res.text();
  } catch (e) {
    failure = e;
  } finally {
    clearTimeout(timer);
    if (signal) signal.removeEventListener("abort", abort);
  }
  if (res === undefined || text === undefined) {
    if (signal && signal.aborted) return core.step(task, lane, ABORTED, 0);
    if (controller && controller.signal.aborted) return core.step(task, lane, TIMEOUT, 0);
    return core.step(task, lane, CONNECTION, 0, null, null, null, null, null, null, undefined, why(failure));
  }
  let json;
  try {
    json = JSON.parse(text);
  } catch {}
  const object = json !== null && typeof json === "object" && !Array.isArray(json);
  const h = res.headers;
  return core.step(task, lane, ANSWER, res.status,
    h.get("retry-after-ms"), h.get("retry-after"), h.get("ratelimit"), h.get("ratelimit-policy"),
    h.get("cf-ray"), h.get("x-should-retry"),
    object ? json : undefined, object ? null : text);
}

// Runs one lane of a task to its outcome (the result or an Error; undefined for a finished
// retireMany lane).
async function run(core, task, lane, headers, timeoutMs, signal, onProgress) {
  let action = core.step(task, lane, GO, 0);
  for (;;) {
    if (typeof action !== "string") return action;
    switch (action.charCodeAt(0)) {
      case 83: // S
        action = await attempt(core, task, lane, action, headers, timeoutMs, signal);
        break;
      case 87: // W
        action = core.step(task, lane, (await sleep(Number(action.slice(1)), signal)) ? GO : ABORTED, 0);
        break;
      case 80: { // P
        const event = core.report();
        // A throwing callback must not stop a flow half-way (a certificate left deactivated).
        if (typeof onProgress === "function") {
          try {
            onProgress(event);
          } catch {}
        }
        action = core.step(task, lane, GO, 0);
        break;
      }
      default: // L
        return undefined;
    }
  }
}

function headerObject(lines) {
  const out = {};
  const parts = lines.split("\n");
  for (let i = 0; i + 1 < parts.length; i += 2) out[parts[i]] = parts[i + 1];
  return out;
}

export function bind(Core) {
  // Runs call `op` on `core`; resolves with its result, rejects with its Error.
  async function call(core, headers, timeoutMs, op, id, params, options, progress) {
    const task = core.start(op, id, params, options);
    if (typeof task !== "number") throw task;
    // Validated by start: a signal is an AbortSignal, onProgress a function (or absent).
    const signal = (options && options.signal) || undefined;
    const onProgress = progress && options ? options.onProgress : undefined;
    let outcome;
    try {
      if (op === 8) {
        const lanes = [];
        for (let lane = 0, n = core.lanes(task); lane < n; lane++) {
          lanes.push(run(core, task, lane, headers, timeoutMs, signal, onProgress));
        }
        await Promise.all(lanes);
        outcome = core.finish(task);
      } else {
        outcome = await run(core, task, 0, headers, timeoutMs, signal, onProgress);
      }
    } catch (e) {
      core.cancel(task); // a failure of this loop (never the API's errors: those are outcomes)
      throw e;
    }
    if (outcome instanceof Error) throw outcome;
    return outcome;
  }

  /** A client for the Zero Trust Gateway certificates API. */
  class GatewayCertificates {
    // Private: the headers hold the credentials, and a client may be logged.
    #core;
    #headers;
    #timeout;

    /** Validates the options (throws `InvalidInputError`); sends nothing. */
    constructor(options) {
      this.#core = new Core(options);
      this.#headers = headerObject(this.#core.headers());
      this.#timeout = this.#core.timeout();
    }

    #call(op, id, params, options, progress) {
      return call(this.#core, this.#headers, this.#timeout, op, id, params, options, progress);
    }

    /** DELETE one certificate (it must be `inactive`); resolves with the deleted certificate. */
    delete(certificateId, params, options) {
      return this.#call(0, certificateId, params, options);
    }
    /** GET one certificate. */
    get(certificateId, params, options) {
      return this.#call(1, certificateId, params, options);
    }
    /** POST activate (binds the certificate to the edge). */
    activate(certificateId, params, options) {
      return this.#call(2, certificateId, params, options);
    }
    /** POST deactivate (unbinds it from the edge). */
    deactivate(certificateId, params, options) {
      return this.#call(3, certificateId, params, options);
    }
    /** Only the PATCH of `setInUse` (no check, no wait); resolves with the configuration. */
    selectCertificate(certificateId, params, options) {
      return this.#call(4, certificateId, params, options);
    }
    /** GET the account's certificates. */
    list(params, options) {
      return this.#call(5, undefined, params, options);
    }
    /** POST a new certificate (never retried: three generations per account per day). */
    create(params, options) {
      return this.#call(6, undefined, params, options);
    }
    /** Deactivate if needed, wait for `inactive`, delete; refuses in-use and custom ones. */
    retire(certificateId, params, options) {
      return this.#call(7, certificateId, params, options, true);
    }
    /** Retires many certificates within the rate limit: `{ deleted, refused, failed }`. */
    retireMany(certificateIds, params, options) {
      return this.#call(8, certificateIds, params, options, true);
    }
    /** Creates a certificate (never retried), activates it, waits until it is available. */
    createAndActivate(params, options) {
      return this.#call(9, undefined, params, options, true);
    }
    /** Makes an available certificate the one TLS inspection uses; waits until `in_use`. */
    setInUse(certificateId, params, options) {
      return this.#call(10, certificateId, params, options, true);
    }
    /** The last `Ratelimit` and `Ratelimit-Policy` headers the API sent this client. */
    rateLimitHeaders() {
      return this.#core.rateLimitHeaders();
    }
    /** Frees the client's wasm memory; the client can't be used afterwards. */
    free() {
      this.#core.free();
    }
  }

  /** The one-call form of delete: `deleteCertificate({ apiToken, accountId, certificateId })`. */
  async function deleteCertificate(args) {
    const core = new Core(args);
    try {
      return await call(core, headerObject(core.headers()), core.timeout(), 11, undefined, undefined, args);
    } finally {
      core.free();
    }
  }

  return { GatewayCertificates, deleteCertificate };
}
