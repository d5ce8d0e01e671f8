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
step "sam validate --lint"
# Offline: the SAM transform needs a region, not an account. Throwaway values, so that a developer's AWS_PROFILE or
# credentials play no part (a profile missing from ~/.aws fails it).
env -u AWS_PROFILE -u AWS_SESSION_TOKEN AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing \
  AWS_DEFAULT_REGION=us-east-1 SAM_CLI_TELEMETRY=0 sam validate --lint --template template.yaml --region us-east-1
step "cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings

step "starting the AWS emulator and the dev stack"
# The reconciler runs every 5 s and drives what waits for more than 15 s (10 minutes in AWS), so that the tests
# of a missed webhook and of a rate-limited burst take seconds.
# The HTTP API is served under a named stage, so that the end-to-end tests and the fuzzing also prove the functions
# route on the route API Gateway matched, not on the raw path.
# The tests run against the simulators only: a developer's DEV_SETTINGS (a real instance) is never touched.
unset DEV_SETTINGS
start_test_stack DEV_SCHEDULE_SECONDS=5 DEV_RECONCILE_AFTER=15 DEV_API_STAGE=test

step "cargo test"
cargo test --workspace

step "fuzzing the HTTP functions through the API gateway (scripts/fuzz.sh)"
scripts/fuzz.sh

step "approvals end to end: a second stack with approval records and deadlines of seconds"
# tests/e2e/tests/approvals.rs needs approvals configured, which the stack above must not have (every ticket of
# the burst and the fuzzing would get approval records and expire): it runs against a stack of its own.
stop_test_stack
DEV_SETTINGS="$root/tests/e2e/approvals-settings.json" start_test_stack DEV_SCHEDULE_SECONDS=2 DEV_RECONCILE_AFTER=15
cargo test --workspace --test approvals -- --ignored
echo
echo "All checks passed."
