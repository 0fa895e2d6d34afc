#!/usr/bin/env bash
# Assembles the static site into dist/www: the page (www/) plus the package's browser build,
# keeping the js/ -> ../pkg/ layout the browser entry expects:
#   dist/www/vendor/cf-gateway-certs/js/*.js
#   dist/www/vendor/cf-gateway-certs/pkg/cf_gateway_certs.js, cf_gateway_certs_bg.wasm
# Run after the package is built (scripts/build.sh calls this at its end). Idempotent; the new
# tree is built aside and swapped in, so a server reading dist/www never sees it half-made.
set -euo pipefail
cd "$(dirname "$0")/.."

out=dist/www
for f in pkg/cf_gateway_certs.js pkg/cf_gateway_certs_bg.wasm js/browser.js; do
  if [ ! -f "$f" ]; then
    echo "build-www: missing $f (build the package first: npm run build)" >&2
    exit 1
  fi
done

mkdir -p dist
tmp=$(mktemp -d dist/.www.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
vendor=$tmp/vendor/cf-gateway-certs
mkdir -p "$vendor/js" "$vendor/pkg"
cp -R www/. "$tmp/"
# Every JS file of the entries (the browser entry may share helpers with the others).
for f in js/*.js; do cp "$f" "$vendor/js/"; done
cp pkg/cf_gateway_certs.js pkg/cf_gateway_certs_bg.wasm "$vendor/pkg/"
# The package's licence travels with its copy.
for f in LICENSE LICENSE-MIT LICENSE-APACHE; do if [ -f "$f" ]; then cp "$f" "$vendor/"; fi; done
chmod 755 "$tmp"

old=""
if [ -e "$out" ]; then old=$(mktemp -d dist/.www-old.XXXXXX); mv "$out" "$old/"; fi
mv "$tmp" "$out"
if [ -n "$old" ]; then rm -rf "$old"; fi
trap - EXIT

echo "build-www: $(find "$out" -type f | wc -l) files in $out ($(du -sh "$out" | cut -f1))"
