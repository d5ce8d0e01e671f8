#!/usr/bin/env bash
# The README's test command (`make test`): installs what is missing, starts the local AWS emulator and the dev
# stack (the end-to-end tests and the fuzzer drive it), and runs every check CI runs. Stops what it started, also
# on failure.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
export VENV="$root/.venv"
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

step() { echo; echo "==> $*"; }

scripts/bootstrap.sh
export PATH="$VENV/bin:$PATH"

step "cargo fmt --check"
cargo fmt --all -- --check
step "cfn-lint template.yaml"
cfn-lint template.yaml
step "cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings

step "starting the AWS emulator and the dev stack"
# The reconciler runs every 5 s and drives what waits for more than 15 s (10 minutes in AWS), so that the tests
# of a missed webhook and of a rate-limited burst take seconds.
start_test_stack DEV_SCHEDULE_SECONDS=5 DEV_RECONCILE_AFTER=15

step "cargo test"
cargo test --workspace

step "fuzzing the HTTP functions through the API gateway (scripts/fuzz.sh)"
scripts/fuzz.sh
echo
echo "All checks passed."
