#!/usr/bin/env bash
# Prints raw and gzip -9 bytes of what Tailor ships.
set -euo pipefail
cd "$(dirname "$0")/.."
printf '%-28s %10s %10s\n' artefact raw gzip-9
row() { printf '%-28s %10d %10d\n' "$1" "$(wc -c < "$2")" "$(gzip -9c "$2" | wc -c)"; }
row ".wasm (wasm-opt -Oz)" pkg/dist/tailor_bg.wasm
row "JS glue (wasm-bindgen)" pkg/wasm/tailor.js
row "tailor.min.js" pkg/dist/tailor.min.js
row "npm entry dist/browser.js" pkg/dist/browser.js
row "npm entry dist/node.js" pkg/dist/node.js
total=$(( $(gzip -9c pkg/dist/tailor.min.js | wc -c) + $(gzip -9c pkg/dist/tailor_bg.wasm | wc -c) ))
printf '%-28s %10s %10d\n' "script tag total (JS+wasm)" "" "$total"
