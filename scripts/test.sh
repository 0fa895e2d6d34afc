#!/usr/bin/env bash
# Runs every test, in every runtime, installing whatever a fresh machine lacks first:
#   1. native `cargo test`: the pure core and the API emulator;
#   2. the wasm suite (wasm-bindgen-test) against a live emulator, in Node and headless Chromium;
#   3. the built npm package from Node's test runner (imported by name), its TypeScript
#      declarations, a Worker in workerd (Miniflare), production bundles of the packed package
#      by Vite, webpack, Rollup and esbuild in Chromium, the relay Worker and the page (Playwright).
# Ends with one line `N passed, M failed`.
set -euo pipefail
cd "$(dirname "$0")/.."
export WRANGLER_SEND_METRICS=false
bash scripts/setup.sh --browser

logs=$(mktemp -d)
emulator_pid=""
cleanup() { [ -n "$emulator_pid" ] && kill "$emulator_pid" 2>/dev/null; rm -rf "$logs"; }
trap cleanup EXIT

passed=0; failed=0; summary=""
record() { # name passed failed
  passed=$((passed + $2)); failed=$((failed + $3))
  summary+=$(printf '%-34s %4d passed, %d failed' "$1" "$2" "$3")$'\n'
}
cargo_counts() { # log -> "passed failed", summed over every "test result:" line
  awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
       END { print p + 0, f + 0 }' "$1"
}
node_counts() { # log -> "passed failed" from node --test's closing lines
  awk '/^# pass / { p = $3 } /^# fail / { f = $3 } END { print p + 0, f + 0 }' "$1"
}
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "native: cargo test (core + emulator)"
rc=0; cargo test --workspace 2>&1 | tee "$logs/native" || rc=$?
read -r p f < <(cargo_counts "$logs/native"); [ $rc -eq 0 ] || f=$((f > 0 ? f : 1)); record "native (cargo test)" "$p" "$f"

step "build: npm package (wasm) and emulator"
bash scripts/build.sh
cargo build -p cf-gateway-emulator

step "start the API emulator"
target/debug/cf-gateway-emulator --port 0 >"$logs/emulator.json" 2>"$logs/emulator.err" &
emulator_pid=$!
for _ in $(seq 100); do [ -s "$logs/emulator.json" ] && break; sleep 0.1; done
origin=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).origin)' "$logs/emulator.json")
echo "emulator at $origin"
export CFGC_EMULATOR_ORIGIN="$origin"

step "wasm in Node (wasm-bindgen-test)"
rc=0; cargo test --target wasm32-unknown-unknown --features small-alloc --test node 2>&1 | tee "$logs/wasm-node" || rc=$?
read -r p f < <(cargo_counts "$logs/wasm-node"); [ $rc -eq 0 ] || f=$((f > 0 ? f : 1)); record "wasm in Node" "$p" "$f"

step "wasm in headless Chromium (wasm-bindgen-test)"
export WASM_BINDGEN_TEST_TIMEOUT=180 # the runner's default (20 s) is for the whole suite
rc=0; cargo test --target wasm32-unknown-unknown --features small-alloc --test browser 2>&1 | tee "$logs/wasm-browser" || rc=$?
read -r p f < <(cargo_counts "$logs/wasm-browser"); [ $rc -eq 0 ] || f=$((f > 0 ? f : 1)); record "wasm in Chromium" "$p" "$f"

step "TypeScript declarations (tsc)"
rc=0; node_modules/.bin/tsc -p tests/package || rc=$?
record "TypeScript declarations" "$([ $rc -eq 0 ] && echo 1 || echo 0)" "$([ $rc -eq 0 ] && echo 0 || echo 1)"

for suite in package workerd bundlers worker page hostile cli load; do
  case $suite in
    package) name="package in Node (by name)" ;;
    workerd) name="package in workerd (Miniflare)" ;;
    bundlers) name="bundlers in Chromium" ;;
    worker) name="relay Worker in workerd" ;;
    page) name="page in Chromium (Playwright)" ;;
    hostile) name="bad input and secrets (package)" ;;
    cli) name="command line (Node)" ;;
    load) name="load through the Worker" ;;
  esac
  step "$name"
  rc=0; node --test --test-concurrency=1 "tests/$suite/" 2>&1 | tee "$logs/$suite" || rc=$?
  read -r p f < <(node_counts "$logs/$suite"); [ $rc -eq 0 ] || f=$((f > 0 ? f : 1)); record "$name" "$p" "$f"
done

printf '\n\033[1m== Summary\033[0m\n%s' "$summary"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
