# Tailor: `make demo` builds everything and serves the demo; `make test` installs what is
# missing and runs every test. Both work on a fresh machine.
PORT ?= 8080

.PHONY: demo test build size bench fuzz setup clean

setup:
	bash scripts/setup.sh test

build:
	bash scripts/setup.sh build
	bash scripts/build.sh

demo: build
	PORT=$(PORT) node scripts/serve.mjs

test: setup
	bash scripts/test.sh

size: build
	bash scripts/size.sh

# Weight, cold start (interleaved rounds, paired ratios), long tasks, decision latency,
# capture cost and memory beside GrowthBook, in headless Chromium; prints issue 13's
# budgets with pass or miss and writes target/bench.json (see docs/benchmarks.md).
bench: build
	node scripts/bench.mjs

# Each fuzz target for FUZZ_SECONDS (default 60) from the seeds in fuzz/corpus; stops
# at the first crash (see docs/design.md, "Fuzzing"). `make test` runs a 20-second pass.
FUZZ_SECONDS ?= 60
fuzz:
	bash scripts/setup.sh fuzz
	FUZZ_SECONDS=$(FUZZ_SECONDS) bash scripts/fuzz.sh

clean:
	rm -rf target fuzz/target fuzz/artifacts pkg/dist pkg/wasm pkg/LICENSE pkg/rules.d.ts node_modules
