#!/usr/bin/env bash
# The README's test command (`make test`): installs what is missing, starts the local AWS emulator,
# and runs every check CI runs. Stops what it started, also when a step fails.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
export VENV="$root/.venv"

scripts/bootstrap.sh
# shellcheck source=scripts/moto.sh
source scripts/moto.sh
export PATH="$VENV/bin:$PATH"

step() { echo; echo "==> $*"; }
step "cargo fmt --check"
cargo fmt --all -- --check
step "cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings
step "cargo test"
cargo test --workspace
step "cfn-lint template.yaml"
cfn-lint template.yaml
echo; echo "All checks passed."
