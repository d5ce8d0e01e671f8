#!/usr/bin/env bash
# The README's test command (`make test`): installs what is missing, starts the local AWS emulator and the dev
# stack (the end-to-end tests drive it), and runs every check CI runs. Stops what it started, also on failure.
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
moto_log="$(mktemp -t moto.XXXXXX.log)"
moto_port="$(free_port)"
"$VENV/bin/moto_server" -H 127.0.0.1 -p "$moto_port" >"$moto_log" 2>&1 &
moto_pid=$!
dev_started=""
cleanup() {
  # Only the stack this run started: a refused start (a `make dev` already running) leaves that one alone.
  if [ -n "$dev_started" ]; then scripts/dev.sh stop || true; fi
  kill "$moto_pid" 2>/dev/null || true
  wait "$moto_pid" 2>/dev/null || true
}
trap cleanup EXIT
use_emulator "http://127.0.0.1:$moto_port"
wait_for "$AWS_ENDPOINT_URL/moto-api/" moto "$moto_pid" 30 "$moto_log"
DEV_WATCH_PORT="$(free_port)" DEV_SIM_PORT="$(free_port)" DEV_PMC_PORT="$(free_port)" scripts/dev.sh start
dev_started=1
# shellcheck source=/dev/null
source .dev/stack.env

step "cargo test"
cargo test --workspace
echo
echo "All checks passed."
