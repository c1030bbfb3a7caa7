#!/usr/bin/env bash
# Runs every test, stopping at the first failure, and ends with one line that counts
# what ran: "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
export CHROMEDRIVER=/usr/bin/chromedriver
# Chromium leaves ~14 MB profile folders per run in TMPDIR: keep them under target/.
export TMPDIR=$PWD/target/tmp
mkdir -p "$TMPDIR" target/test-logs
passed=0 failed=0 log=

step() {
  local name=$1; shift
  log=target/test-logs/$name.log
  echo "== $name: $*"
  if ! "$@" > >(tee "$log") 2>&1; then
    count
    echo "FAILED: $name (log: $log)"
    echo "$passed passed, $((failed > 0 ? failed : 1)) failed"
    exit 1
  fi
  count
}

# Adds the counts printed by cargo test / wasm-bindgen-test and node --test, and one
# per fuzz target that ran its time without a crash (scripts/fuzz.sh).
count() {
  sleep 0.1 # let tee finish writing
  local p f
  p=$(awk '/test result: [a-zA-Z]+\. [0-9]+ passed/ {for (i = 1; i < NF; i++) if ($(i+1) ~ /^passed/) s += $i}
           /^# pass [0-9]+/ {s += $3} /^fuzz: [a-z_]+: .*, no crash$/ {s++} END {print s+0}' "$log")
  f=$(awk '/test result: / {for (i = 1; i < NF; i++) if ($(i+1) ~ /^failed/) s += $i}
           /^# fail [0-9]+/ {s += $3} END {print s+0}' "$log")
  passed=$((passed + p)) failed=$((failed + f))
}

step native cargo test --quiet
step clippy cargo clippy --quiet --workspace --all-targets -- -D warnings
# A short coverage-guided pass over each decoder, from the committed seeds.
step fuzz env FUZZ_SECONDS="${FUZZ_SECONDS:-20}" bash scripts/fuzz.sh
step clippy-wasm cargo clippy --quiet --target wasm32-unknown-unknown --lib --test web -- -D warnings
step clippy-first cargo clippy --quiet --target wasm32-unknown-unknown -p tailor-first --features standalone -- -D warnings
step wasm-browser cargo test --target wasm32-unknown-unknown --test web
step build bash scripts/build.sh
step end-to-end node --test --test-concurrency=1 tests/e2e/*.test.mjs $(ls tests/node/*.test.mjs 2>/dev/null || true)
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
