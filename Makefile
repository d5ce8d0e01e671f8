.PHONY: test dev build clean

# Every check CI runs: fmt, cfn-lint, clippy, and all tests (unit, emulator-backed and end-to-end).
test:
	scripts/test.sh

# The whole connector locally: moto, the ServiceNow simulator, cargo lambda watch and the stream relay.
dev:
	scripts/dev.sh

# Release builds of every function for Lambda (arm64, provided.al2023), as `sam build` makes them.
build:
	scripts/bootstrap.sh
	PATH="$(CURDIR)/.venv/bin:$$PATH" cargo lambda build --release --arm64 \
		--bin request-intake --bin ticket-creator --bin settings-validator --bin ticket-callback

clean:
	cargo clean
	rm -rf .venv .dev
