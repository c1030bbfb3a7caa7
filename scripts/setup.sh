#!/usr/bin/env bash
# Installs whatever is missing for building and testing Tailor. Every step checks
# first, so a second run costs seconds. Usage: setup.sh [build|test|fuzz]
set -euo pipefail
cd "$(dirname "$0")/.."
need=${1:-test}
say() { echo "setup: $*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# cargo-fuzz for the fuzz targets (`make fuzz`, and the short pass in `make test`). It
# builds them on the machine's stable toolchain (scripts/fuzz.sh says why).
fuzz_want=0.13.2
if [ "$need" != build ] && [ "$(cargo fuzz --version 2>/dev/null | awk '{print $2}')" != "$fuzz_want" ]; then
  say "installing cargo-fuzz $fuzz_want (about a minute, once)"
  cargo install cargo-fuzz --version "$fuzz_want" --locked || cargo install cargo-fuzz --version "$fuzz_want"
fi
if [ "$need" = fuzz ]; then
  say "ready"
  exit 0
fi

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi
# The command line for the npm package's bin (scripts/build.sh) is built for WASI.
if ! rustup target list --installed | grep -qx wasm32-wasip1; then
  say "adding the wasm32-wasip1 target"
  rustup target add wasm32-wasip1
fi
if ! cargo clippy --version >/dev/null 2>&1; then
  say "adding clippy"
  rustup component add clippy
fi

# The wasm-bindgen CLI must be exactly the version of the crate in Cargo.lock.
want=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/version = |"/, ""); print; exit}' Cargo.lock)
have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [ "$have" != "$want" ]; then
  say "installing wasm-bindgen-cli $want (about two minutes, once)"
  # --locked fails on some registries (its lock file wants a crate version they lack).
  cargo install wasm-bindgen-cli --version "$want" --locked || cargo install wasm-bindgen-cli --version "$want"
fi

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm dev dependencies"
  npm ci --no-audit --no-fund --loglevel=error
fi

if [ "$need" = test ] && { [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; }; then
  say "installing Debian's chromium and chromium-driver"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
fi
say "ready"
