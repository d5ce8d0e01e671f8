#!/usr/bin/env bash
# `make bench-burst`: the burst benchmark. Starts moto and the dev stack on free ports (the reconciler every 5 s,
# driving what waits for more than 10 s), then runs the burst client against it; arguments go to the client:
#   --requests N (200)  --limit R creates per window (20)  --window SECONDS (30)  --within SECONDS (1800)
# Prints requests, tickets created, duplicates, lost, 429s received, time to the last ticket and the ideal time.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
export VENV="$root/.venv"
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

scripts/bootstrap.sh
export PATH="$VENV/bin:$PATH"
# The stack's build (the whole workspace, as cargo test builds it) includes the burst client.
start_test_stack DEV_SCHEDULE_SECONDS=5 DEV_RECONCILE_AFTER=10
"$root/target/debug/burst" "$@"
