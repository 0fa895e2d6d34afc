#!/usr/bin/env bash
# The demo: starts the API emulator and the Worker (page + relay, in workerd via wrangler dev)
# pointed at it, and prints the page's URL with the demo account id and token. No Cloudflare
# account needed. Ctrl-C stops both.
#   bash scripts/demo.sh          # the page, at http://127.0.0.1:8787/
#   bash scripts/demo.sh --cli    # instead: delete one demo certificate from Node and print it
set -euo pipefail
cd "$(dirname "$0")/.."
export WRANGLER_SEND_METRICS=false
# Offline, wrangler would try to download the `request.cf` sample data from
# workers.cloudflare.com at start and print `ENOTFOUND` twice; the page does not use it.
export CLOUDFLARE_CF_FETCH_ENABLED=false
PORT="${PORT:-8787}"

bash scripts/build.sh
cargo build -q -p cf-gateway-emulator

info=$(mktemp)
target/debug/cf-gateway-emulator --port 0 >"$info" 2>/dev/null &
emulator_pid=$!
trap 'kill $emulator_pid 2>/dev/null; rm -f "$info"' EXIT
for _ in $(seq 100); do [ -s "$info" ] && break; sleep 0.1; done
field() { node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))[process.argv[2]])' "$info" "$1"; }
api_url=$(field url); account=$(field account_id); token=$(field api_token); origin=$(field origin)

if [ "${1:-}" = "--cli" ]; then
  node examples/delete.mjs "$api_url" "$account" "$token" "$origin"
  exit
fi

cat <<MSG

  cf-gateway-certs demo
  ─────────────────────
  Page:        http://127.0.0.1:$PORT/
  Account ID:  $account
  API token:   $token        (a demo token of the local emulator)
  API emulator behind the Worker: $api_url

  The account holds 16 certificates: 6 inactive (3 expired), 6 available (1 in use by
  TLS inspection, 1 expired), 1 custom, and 3 pending that settle within seconds.
  Try: List certificates → pick an inactive one → Delete; or an available one → Deactivate
  and delete; or select several → Retire selected. The in-use and custom ones are refused.
  Only 2 more can be activated (10 available at most). Ctrl-C stops the demo.

  The command line, from another terminal in this folder, against the same emulator:
    export CLOUDFLARE_API_TOKEN=$token CLOUDFLARE_ACCOUNT_ID=$account
    export CLOUDFLARE_API_BASE_URL=$api_url
    npx cf-gateway-certs list
    npx cf-gateway-certs cleanup --expired          # the plan; add --yes to do it

MSG
# The Worker in workerd, its upstream pointed at the emulator (already built above).
npx wrangler dev --ip 127.0.0.1 --port "$PORT" --var "CF_API_BASE_URL:$api_url" --show-interactive-dev-session=false
