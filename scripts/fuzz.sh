#!/usr/bin/env bash
# Fuzzes everything that reads outside data with cargo-fuzz (libFuzzer, nightly):
#   envelope  status + body → envelope::interpret / api_errors / retire::next (HTML excerpts too)
#   headers   retry-after-ms, Retry-After, Ratelimit, x-should-retry + now → retry::server_wait_ms
#   validate  text → every validator and Config::new (nothing rejected is echoed)
#   httpdate  Retry-After HTTP dates: arbitrary text, and exact round trips of the three forms
#
#   scripts/fuzz.sh [seconds-per-target] [target...]     (default: 60 s, every target)
#
# Installs cargo-fuzz and the nightly toolchain when missing. The corpus grows in
# fuzz/corpus/<target>/ (seeded from fuzz/seeds/), crashes land in fuzz/artifacts/<target>/.
# Reproduce one with `cd fuzz && cargo +nightly fuzz run <target> artifacts/<target>/<file>`.
# Ends with one line per target: executions and crashes; exits 1 if any target crashed.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(envelope headers validate httpdate)

rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked

# -max_len: bodies up to 256 KB (the property tests cover 1 MB); header/validator inputs are
# short. -timeout: one input taking over 10 s is a hang (e.g. quadratic parsing).
declare -A max_len=([envelope]=262144 [headers]=4096 [validate]=4096 [httpdate]=256)

logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
summary=""
crashed=0
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "artifacts/$t"
  before=$(find "artifacts/$t" -type f | wc -l)
  printf '\n\033[1m== fuzz %s for %ss\033[0m\n' "$t" "$seconds"
  rc=0
  cargo +nightly fuzz run "$t" "corpus/$t" "seeds/$t" -- \
    -max_total_time="$seconds" -max_len="${max_len[$t]:-4096}" -timeout=10 \
    -rss_limit_mb=512 -malloc_limit_mb=512 -dict="dict/$t.dict" -print_final_stats=1 \
    2>&1 | tee "$logs/$t" | grep -E '^(#[0-9]+\s+(INITED|DONE)|==[0-9]+== ERROR|SUMMARY|thread .* panicked|Done )' || rc=$?
  execs=$(awk '/^stat::number_of_executed_units:/ { n = $2 } /^Done [0-9]+ runs/ { n = $2 } END { print n + 0 }' "$logs/$t")
  after=$(find "artifacts/$t" -type f | wc -l)
  crashes=$((after - before))
  if [ "$crashes" -gt 0 ] || grep -qE 'ERROR: libFuzzer|panicked' "$logs/$t"; then
    crashed=1
    [ "$crashes" -gt 0 ] || crashes=1
    tail -40 "$logs/$t"
  fi
  summary+=$(printf '%-10s %12s executions in %ss, %d crashes, corpus %d' \
    "$t" "$execs" "$seconds" "$crashes" "$(find "corpus/$t" -type f | wc -l)")$'\n'
done
printf '\n\033[1m== fuzz summary\033[0m\n%s' "$summary"
exit "$crashed"
