#!/usr/bin/env bash
# Runs each fuzz target (fuzz/fuzz_targets/) for a bounded time with libFuzzer, starting
# from the committed seeds (fuzz/corpus/<target>/). Stops at the first crash, panic or
# hang and says how to replay it. Usage:
#   fuzz.sh [target...]          every target when none is named
#   FUZZ_SECONDS=60              time per target (default 60)
#   FUZZ_TIMEOUT=10              seconds one input may take before it counts as a hang
# Prints one line per target: "fuzz: <target>: <runs> runs in <s> s (<n>/s), no crash".
# New inputs that reach new code go to fuzz/target/corpus/<target>/ (kept between runs,
# never committed); a crashing input to fuzz/artifacts/<target>/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-60}
timeout=${FUZZ_TIMEOUT:-10}
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(rules condition decide profile consent)

# The core has no unsafe code, so no sanitizer (-s none): cargo fuzz then needs only
# stable flags, and runs on the machine's one toolchain; libFuzzer still finds panics
# (overflow checks and debug assertions are on), stack overflows, hangs and runaway
# memory.
cargo fuzz build -s none

for t in "${targets[@]}"; do
  work=$PWD/fuzz/target/corpus/$t
  log=$PWD/fuzz/target/fuzz-$t.log
  mkdir -p "$work" "$PWD/fuzz/artifacts/$t"
  echo "fuzz: $t for ${seconds} s"
  if ! cargo fuzz run -s none "$t" "$work" "$PWD/fuzz/corpus/$t" -- \
      -max_total_time="$seconds" -timeout="$timeout" -rss_limit_mb=2048 \
      -dict="$PWD/fuzz/json.dict" -print_final_stats=1 >"$log" 2>&1; then
    # The panic and the top of its stack, then the input libFuzzer saved.
    grep -E -A24 "panicked at|ERROR: libFuzzer" "$log" | cut -c1-400 | head -40
    grep -E "Test unit written to|^Reproduce with" -A2 "$log" | head -4
    echo "fuzz: $t: FAILED (log: $log)"
    exit 1
  fi
  runs=$(awk '/stat::number_of_executed_units/ {print $2}' "$log")
  rate=$(awk '/stat::average_exec_per_sec/ {print $2}' "$log")
  echo "fuzz: $t: ${runs:-0} runs in $seconds s (${rate:-0}/s), no crash"
done
