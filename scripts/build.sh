#!/usr/bin/env bash
# Builds the release .wasm, the wasm-bindgen glue, the rules document's TypeScript types
# (pkg/rules.d.ts), the npm package (pkg/) and the script-tag build
# (pkg/dist/tailor.min.js), then prints the SRI hash of the latter.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

# Panic locations would otherwise carry absolute build paths into the .wasm.
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="--remap-path-prefix=$root=tailor --remap-path-prefix=${CARGO_HOME:-$HOME/.cargo}=cargo"
cargo build --quiet --release --target wasm32-unknown-unknown --lib
# The first-decision module (first/): no_std, no imports, two exports; inlined in the
# script tag as base64 and compiled synchronously (see docs/design.md, "First decision").
cargo rustc --quiet --release --target wasm32-unknown-unknown -p tailor-first --features standalone --crate-type cdylib

rm -rf pkg/wasm pkg/dist
mkdir -p pkg/wasm pkg/dist
# The package ships the repository's licence (npm packs a LICENSE at the package root).
cp LICENSE pkg/LICENSE
# The rules document's TypeScript types, generated from its JSON Schema.
node scripts/rules-types.mjs
wasm-bindgen --target web --out-dir pkg/wasm --out-name tailor target/wasm32-unknown-unknown/release/tailor.wasm
# npm binaryen, never Debian's (its wasm-opt writes modules that fail to load).
# -Oz twice: the second round finds ~550 B (gzip) more. The producers and
# target_features sections only describe the build; browsers never read them.
# -ocimfs 0: functions with one caller are not inlined into it: 4.7 KB smaller gzipped
# (5 KB larger raw), with no difference in engine, profile or decision times measured
# in Chromium.
node_modules/.bin/wasm-opt -Oz -Oz -ocimfs 0 --strip-producers --strip-target-features --enable-bulk-memory --enable-bulk-memory-opt --enable-nontrapping-float-to-int \
  --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue \
  pkg/wasm/tailor_bg.wasm -o pkg/dist/tailor_bg.wasm

node_modules/.bin/wasm-opt -Oz -Oz -ocimfs 0 --strip-producers --strip-target-features --strip-debug --enable-bulk-memory --enable-bulk-memory-opt \
  --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals \
  target/wasm32-unknown-unknown/release/tailor_first.wasm -o pkg/wasm/first.wasm
node scripts/inline-wasm.mjs pkg/wasm/first.wasm pkg/wasm/first.js

esbuild=node_modules/.bin/esbuild
common=(--bundle --log-level=warning --legal-comments=none --charset=utf8)
# The inspector stays a module of its own beside each entry: runtime.js imports it only
# when tailor.inspect() or ?tailor-debug opens it.
full_common=("${common[@]}" --external:./tailor.inspect.js)
# npm entries: ES modules that keep `new URL("./tailor_bg.wasm", import.meta.url)` for bundlers.
"$esbuild" src/web/js/entry-node.js "${full_common[@]}" --format=esm --platform=node --target=node20 --outfile=pkg/dist/node.js
"$esbuild" src/web/js/entry-browser.js "${full_common[@]}" --format=esm --platform=browser --target=es2022 --outfile=pkg/dist/browser.js
# Script tag, first stage: one classic script with the first-decision module inlined
# (docs/design.md, "First decision"). It runs inside try/catch: a page that removed a
# global it needs at load gets one console message, never an error in its handlers.
# Its first line, `//# allFunctionsCalledOnLoad` (V8's explicit compile hints, Chromium
# 136+; other engines read a comment), has every function compiled while the script
# streams in, off the main thread: without it, V8 compiled ~60 of them lazily on the
# main thread during the first decision (Chromium trace of the bench's first visit).
version=$(node -p 'require("./pkg/package.json").version')
"$esbuild" src/web/js/entry-script.js "${common[@]}" --format=iife --platform=browser --target=es2020 --minify \
  --define:import.meta.url=undefined "--define:TAILOR_VERSION=\"$version\"" --outfile=pkg/dist/tailor.min.js \
  $'--banner:js=//# allFunctionsCalledOnLoad\ntry{' '--footer:js=}catch(e){console.error("Tailor: could not start ("+(e&&e.message)+")")}'
# Script tag, full module: an ES module the first stage imports after the first paint;
# the .wasm is fetched from beside it. Compiled eagerly off the main thread too.
"$esbuild" src/web/js/entry-full.js "${full_common[@]}" --format=esm --platform=browser --target=es2020 --minify \
  --define:import.meta.url=undefined --outfile=pkg/dist/tailor.full.js '--banner:js=//# allFunctionsCalledOnLoad'

# The live inspector (tailor.inspect() or ?tailor-debug): loaded on demand from beside
# tailor.full.js or the npm entry.
"$esbuild" src/web/js/inspector.js "${common[@]}" --format=esm --platform=browser --target=es2020 --minify --outfile=pkg/dist/tailor.inspect.js

# The demo's rules, compiled as a site would at publish time (README, "Compiling rules").
cargo build --quiet --release --bin tailor
# The npm package's `bin` (pkg/bin/tailor.mjs): the same command line built for WASI and
# run by Node's WASI host, so `npx tailor` needs no native binary. Most of its weight is
# regress's Unicode tables ($regex with JavaScript's semantics, as the native binary).
cargo build --quiet --release --target wasm32-wasip1 --bin tailor
node_modules/.bin/wasm-opt -Oz --strip-debug --strip-producers --enable-bulk-memory --enable-bulk-memory-opt \
  --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals \
  target/wasm32-wasip1/release/tailor.wasm -o pkg/dist/tailor-cli.wasm
target/release/tailor compile www/rules.json -o www/rules.compiled.json --quiet

sri="sha384-$(openssl dgst -sha384 -binary pkg/dist/tailor.min.js | openssl base64 -A)"
echo "$sri" > pkg/dist/tailor.min.js.sri
echo "built pkg/ (tailor-sdk $(node -p 'require("./pkg/package.json").version'))"
echo "SRI of pkg/dist/tailor.min.js: integrity=\"$sri\""
