#!/usr/bin/env bash
# `make bench-cost`: the price of a request. Starts moto behind a counting proxy (scripts/aws_counter.py) and the dev
# stack on free ports with the reconciler's schedule quiet (a sweep is a fixed cost per 5 minutes, not per request),
# then runs the cost client against it; arguments go to the client: --requests N (50). Prints the calls per request
# and the cost of 1,000 requests at AWS's on-demand prices, and writes them into docs/performance.md.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
export VENV="$root/.venv"
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

scripts/bootstrap.sh
export PATH="$VENV/bin:$PATH"
# The stack's build (the whole workspace, as cargo test builds it) includes the cost client.
# The functions keep the settings as long as in AWS (5 minutes, their default), not the dev stack's 5 s.
TEST_COUNT_AWS_CALLS=1 start_test_stack DEV_SCHEDULE_SECONDS=86400 DEV_RECONCILE_AFTER=600 DEV_SETTINGS_CACHE=300
tables="$(mktemp -t bench-cost.XXXXXX.md)"
BENCH_STACK_LOG="$root/.dev/logs/stack.log" "$root/target/debug/bench_cost" "$@" | tee "$tables"
settings="make bench-cost"
if [ $# -gt 0 ]; then settings="$settings ARGS=\"$*\""; fi
python3 scripts/perf_doc.py bench-cost --results "$tables" --settings "$settings"
rm -f "$tables"
