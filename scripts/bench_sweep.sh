#!/usr/bin/env bash
# `make bench-sweep`: the PM Cloud sweep's benchmark. Starts moto and the dev stack on free ports with the
# reconciler's schedule quiet (the benchmark invokes it itself), then runs the sweep client against it; arguments go
# to the client: --requests N (1000). Prints each run's time, PM Cloud calls and what it did.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
export VENV="$root/.venv"
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

scripts/bootstrap.sh
export PATH="$VENV/bin:$PATH"
# The stack's build (the whole workspace, as cargo test builds it) includes the sweep client.
start_test_stack DEV_SCHEDULE_SECONDS=86400 DEV_RECONCILE_AFTER=600
"$root/target/debug/bench_sweep" "$@"
