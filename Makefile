.PHONY: test dev build bench bench-burst clean

# Every check CI runs: fmt, cfn-lint, clippy, and all tests (unit, emulator-backed and end-to-end).
test:
	scripts/test.sh

# The whole connector locally: moto, the ServiceNow and PM Cloud simulators, cargo lambda watch (every function) and
# a stream relay per stream-triggered function. Ctrl-C stops it all.
dev:
	scripts/dev.sh

# Release builds of every function for Lambda (arm64, provided.al2023), as `sam build` makes them.
build:
	scripts/bootstrap.sh
	PATH="$(CURDIR)/.venv/bin:$$PATH" cargo lambda build --release --arm64 \
		--bin request-intake --bin ticket-creator --bin settings-validator --bin ticket-callback --bin decision-notifier

# Cold start as Lambda sees it (exec to the first Runtime API call) and peak RSS of each function, natively.
bench:
	scripts/bootstrap.sh
	cargo build --release --bin request-intake --bin ticket-creator --bin settings-validator --bin ticket-callback --bin decision-notifier
	.venv/bin/python scripts/bench_startup.py target/release/request-intake target/release/ticket-creator \
		target/release/settings-validator target/release/ticket-callback target/release/decision-notifier

# A rate-limited burst through the dev stack: every request ticketed once, at the pace ServiceNow allows.
# Arguments: make bench-burst ARGS="--requests 10000 --limit 100 --window 60"
bench-burst:
	scripts/bench_burst.sh $(ARGS)

clean:
	cargo clean
	rm -rf .venv .dev
