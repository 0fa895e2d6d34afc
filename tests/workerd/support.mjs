// The package inside workerd (Miniflare) with the API emulator behind it: shared by
// tests/workerd/workerd.test.mjs and tests/workerd/by-name.test.mjs (not a test file itself).
import { Miniflare } from "miniflare";

/**
 * Run `scriptPath` (an ES module; its .wasm imports as compiled modules, resolved under
 * `modulesRoot`) with the emulator's token and base URL as bindings. Resolves once ready.
 */
export async function startPackageWorker({ scriptPath, modulesRoot, emu }) {
  const mf = new Miniflare({
    modules: true,
    modulesRoot,
    scriptPath,
    compatibilityDate: "2026-04-01",
    modulesRules: [
      { type: "ESModule", include: ["**/*.js"] },
      { type: "CompiledWasm", include: ["**/*.wasm"], fallthrough: true },
    ],
    bindings: { CF_API_TOKEN: emu.api_token, CF_API_BASE_URL: emu.url },
  });
  await mf.ready;
  return mf;
}
