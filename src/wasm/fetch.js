// The JS half of the wasm edge: one attempt of one request, and a cancellable wait. One call
// across the boundary per attempt; the response body enters wasm only when it is not a JSON
// object (to quote an HTML error page), so a success is parsed once, by JSON.parse.

// attempt(url, method, headers: "Name\nvalue\n...", body, timeoutMs, signal) resolves to
//   [status, "retry-after-ms\nretry-after\nratelimit\nratelimit-policy\ncf-ray\nx-should-retry", json, text]
// or, without a response, [0, message] (connection), [-1] (timed out), [-2] (caller aborted).
// It never rejects.
export async function attempt(url, method, headerLines, body, timeoutMs, signal) {
  if (signal && signal.aborted) return [-2];
  const controller = new AbortController();
  const abort = () => controller.abort();
  if (signal) signal.addEventListener("abort", abort);
  const timer = timeoutMs > 0 ? setTimeout(abort, timeoutMs) : undefined;
  try {
    const lines = headerLines.split("\n");
    const headers = {};
    for (let i = 0; i + 1 < lines.length; i += 2) headers[lines[i]] = lines[i + 1];
    const res = await fetch(url, { method, headers, body, signal: controller.signal });
    const text = await res.text();
    let json;
    try {
      json = JSON.parse(text);
    } catch {}
    const object = json !== null && typeof json === "object" && !Array.isArray(json);
    const h = (name) => res.headers.get(name) || "";
    const wanted = [h("retry-after-ms"), h("retry-after"), h("ratelimit"), h("ratelimit-policy"), h("cf-ray"), h("x-should-retry")];
    return [res.status, wanted.join("\n"), object ? json : undefined, object ? "" : text];
  } catch (e) {
    if (signal && signal.aborted) return [-2];
    if (controller.signal.aborted) return [-1];
    let message = String((e && e.message) || e);
    const cause = e && e.cause;
    if (cause && cause.message) message += ` (${cause.message})`;
    return [0, message];
  } finally {
    clearTimeout(timer);
    if (signal) signal.removeEventListener("abort", abort);
  }
}

// sleep(ms, signal) resolves true after ms, or false as soon as the caller aborts.
export function sleep(ms, signal) {
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
