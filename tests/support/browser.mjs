// Headless Chromium for the page tests (playwright-core + Debian's /usr/bin/chromium, or
// CHROMIUM_PATH): shared by tests/page/page.test.mjs and tests/page/hostile.test.mjs.
import { chromium } from "playwright-core";

export const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
  "--disable-component-update", "--disable-sync", "--no-first-run"];

/** Launch the browser; the caller closes it. */
export function launchChromium() {
  return chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium", args: CHROMIUM_ARGS });
}
