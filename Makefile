.PHONY: test dev build bench bench-burst bench-sweep bench-cost clean

# Every check CI runs: fmt, cfn-lint, clippy, and all tests (unit, emulator-backed and end-to-end).
test:
	scripts/test.sh

# The whole connector locally: moto, the ServiceNow and PM Cloud simulators, cargo lambda watch (every function) and
# a stream relay per stream-triggered function. Ctrl-C stops it all.
dev:
	scripts/dev.sh

# Release builds of every function for Lambda (arm64, provided.al2023), as `sam build` makes them, and their sizes
# (also written into docs/performance.md).
build:
	scripts/bootstrap.sh
	PATH="$(CURDIR)/.venv/bin:$$PATH" cargo lambda build --release --arm64
	@echo "Stripped arm64 binaries (target: at most 8 MB each):"
	@for f in target/lambda/*/bootstrap; do printf '  %-24s %s bytes\n' "$$(basename $$(dirname $$f))" "$$(stat -c %s $$f)"; done
	@python3 scripts/perf_doc.py build target/lambda/*/bootstrap

# Start, first answer, warm latency and peak RSS of every function beside a bare lambda_runtime hello and a Python +
# boto3 peer, in one run of ../shared/perf/run.sh (ratios per round), written into docs/performance.md.
# Arguments: make bench ARGS="old=path@event".
bench:
	scripts/bench.sh $(ARGS)

# A rate-limited burst through the dev stack: every request ticketed once, at the pace ServiceNow allows.
# Arguments: make bench-burst ARGS="--requests 10000 --limit 100 --window 60"
bench-burst:
	scripts/bench_burst.sh $(ARGS)

# The PM Cloud sweep over N requests whose webhooks were lost, then over the same N known: time and PM Cloud calls.
# Arguments: make bench-sweep ARGS="--requests 1000"
bench-sweep:
	scripts/bench_sweep.sh $(ARGS)

# The price of a request: N requests through the dev stack, each to a decision delivered to PM Cloud; Lambda
# invocations, DynamoDB reads and writes, Secrets Manager, ServiceNow and PM Cloud calls per request, and the cost of
# 1,000 requests at AWS's on-demand prices. Arguments: make bench-cost ARGS="--requests 50"
bench-cost:
	scripts/bench_cost.sh $(ARGS)

clean:
	cargo clean
	rm -rf .venv .dev
