.PHONY: test dev build clean

# Every check CI runs: fmt, clippy, all tests (with the AWS emulator) and cfn-lint.
test:
	scripts/test.sh

# Release builds of every function for Lambda (arm64, provided.al2023), as `sam build` would make them.
build:
	scripts/bootstrap.sh
	.venv/bin/cargo-lambda lambda build --release --arm64

clean:
	cargo clean
	rm -rf .venv .dev
