// The progress bar under a real pseudo-terminal: `cleanup --yes` runs in a tmux pane; the raw
// bytes the pane received (pipe-pane) must show the bar redrawn in place with its counts, and
// the final screen (capture-pane) the summary with the bar cleared away.
import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { after, before, test } from "node:test";
import { ALL_SECRETS, BIN, cliEnv, startCliEmulator } from "./support.mjs";
import { assertNoSecrets } from "../support/secrets.mjs";

const run = promisify(execFile);
const tmux = (() => {
  try {
    execFileSync("tmux", ["-V"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();
const SKIP = !tmux && "tmux is not installed (bash scripts/setup.sh --browser installs it; or apt-get install -y tmux)";

let emu;
let dir;
before(async () => {
  if (SKIP) return;
  emu = await startCliEmulator();
  dir = mkdtempSync(join(tmpdir(), "cfgc-cli-tty-"));
});
after(async () => {
  await emu?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Polls `check` until it returns a truthy value (a condition, not a timing guess). */
async function until(check, what, timeoutMs = 30000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

test("cleanup --yes in a terminal: a progress bar with counts, redrawn in place, then cleared; the summary stays", { skip: SKIP }, async () => {
  const acct = await emu.account({ seed: "fleet", activate_ms: 600000, deactivate_ms: 50 });
  await emu.faults(acct.id, [{ op: "delete", kind: "status", status: 403 }]); // one failure: exit 3
  const socket = `cfgc-cli-${process.pid}`;
  const raw = join(dir, "raw");
  const sh = (s) => `'${s.replaceAll("'", "'\\''")}'`;
  const tm = (...args) => run("tmux", ["-L", socket, "-f", "/dev/null", ...args], { env: cliEnv(emu, acct.id, { TERM: "xterm-256color" }) });
  // The pane waits for "go" (so pipe-pane sees every byte), runs the command, prints its exit
  // status and signals "done". Credentials reach it through the tmux server's environment,
  // never a command line.
  const script = [
    `tmux -L ${socket} wait-for go`,
    `${sh(process.execPath)} ${sh(BIN)} cleanup --yes --status inactive,available --poll-interval-ms 10 --concurrency 2`,
    `echo "EXIT:$?"`,
    `tmux -L ${socket} wait-for -S done`,
    "exec sleep 600",
  ].join("; ");
  try {
    await tm("new-session", "-d", "-s", "cli", "-x", "110", "-y", "60", script);
    await tm("pipe-pane", "-t", "cli", "-o", `cat >> ${sh(raw)}`);
    await tm("wait-for", "-S", "go");
    await run("tmux", ["-L", socket, "wait-for", "done"], { timeout: 60000 });
    const bytes = await until(() => existsSync(raw) && readFileSync(raw, "utf8").includes("EXIT:") && readFileSync(raw, "utf8"), "the pane's output");
    const screen = (await tm("capture-pane", "-p", "-t", "cli", "-S", "-200")).stdout;

    // Redrawn in place: carriage return, the bar, erase-to-end-of-line; counts throughout.
    const frames = bytes.match(/\rRetiring \[[#-]+\] +\d+\/13 +deleted \d+, refused \d+, failed \d+\x1b\[K/g) ?? [];
    assert.ok(frames.length >= 13, `bar redrawn per step (${frames.length} frames):\n${JSON.stringify(bytes.slice(-600))}`);
    assert.match(frames[0], /\[-+\] +0\/13 +deleted 0, refused 0, failed 0/);
    assert.match(frames.at(-1), /\[#+\] 13\/13 +deleted 12, refused 0, failed 1/);
    const counts = frames.map((f) => Number(/(\d+)\/13/.exec(f)[1]));
    assert.deepEqual(counts, [...counts].sort((a, b) => a - b), "the count never goes back");
    assert.ok(bytes.includes("\r\x1b[K"), "the bar is cleared at the end");

    // What the user sees at the end: the plan, the summary, no bar left over.
    assert.match(screen, /^Retire \(13\):$/m);
    assert.match(screen, /^Keep \(3\):$/m);
    assert.match(screen, /^Deleted 12, refused 0, failed 1 \(of 13\)\.$/m);
    assert.match(screen, /^ {2}failed {3}[0-9a-f-]{36} {2}PermissionDeniedError: HTTP 403/m);
    assert.match(screen, /^EXIT:3$/m);
    assert.ok(!screen.includes("Retiring ["), `no bar left on the screen:\n${screen}`);
    assertNoSecrets([bytes, screen], ALL_SECRETS, "terminal");
  } finally {
    await tm("kill-server").catch(() => {});
  }
});
