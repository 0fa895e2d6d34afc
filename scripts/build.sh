#!/usr/bin/env bash
# Builds the npm package into pkg/: one `--target web` wasm-bindgen build, optimised with
# wasm-opt -Oz (npm's binaryen; Debian's older one emits wasm that fails to load).
# The committed entries in js/ pick it up for Node, browsers and workerd.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

cargo build --release --target wasm32-unknown-unknown --lib --features small-alloc
wasm-bindgen --target web --out-dir pkg --no-typescript --omit-default-module-path \
  target/wasm32-unknown-unknown/release/cf_gateway_certs.wasm
node_modules/.bin/wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
  --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue \
  --strip-debug --strip-producers --strip-target-features \
  pkg/cf_gateway_certs_bg.wasm -o pkg/cf_gateway_certs_bg.wasm
# One minified glue file: the generated glue with the edge's JS snippet (src/wasm/fetch.js)
# bundled in, so the package is two files whatever wasm-bindgen's snippet layout.
node_modules/.bin/esbuild pkg/cf_gateway_certs.js --bundle --minify --format=esm --log-level=warning \
  --outfile=pkg/cf_gateway_certs.min.js
mv pkg/cf_gateway_certs.min.js pkg/cf_gateway_certs.js
rm -rf pkg/snippets
echo "pkg/cf_gateway_certs.js: $(wc -c < pkg/cf_gateway_certs.js) bytes, $(gzip -9c pkg/cf_gateway_certs.js | wc -c) gzip" >&2
echo "pkg/cf_gateway_certs_bg.wasm: $(wc -c < pkg/cf_gateway_certs_bg.wasm) bytes, $(gzip -9c pkg/cf_gateway_certs_bg.wasm | wc -c) gzip" >&2

# The page and the Worker's static assets (dist/www), when that part exists.
if [ -f scripts/build-www.sh ]; then bash scripts/build-www.sh; fi
