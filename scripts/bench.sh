#!/usr/bin/env bash
# `make bench`: every function's start, first answer, warm latency and peak RSS, side by side in one run with a bare
# `lambda_runtime` hello and a Python + boto3 peer, through the shared harness (../shared/perf/run.sh: a fake Lambda
# Runtime API on loopback; ratios are taken per round against hello and the peer). Nothing leaves the machine.
# Writes the figures into docs/performance.md (its `make bench` section, through scripts/perf_doc.py).
#
# Settings (environment):
#   BENCH_ROUNDS   rounds (default 10)
#   BENCH_AWS      stub (default: an AWS endpoint that answers at once, so warm figures are the function's own
#                  cost) or moto
#   PERF_HARNESS   the harness's run.sh (default ../shared/perf/run.sh beside the project)
#   BENCH_LEGACY_ID_WINDOW_HOURS
#                  request-intake's legacy window (default 0: the steady state, one DynamoDB request per
#                  submission; 24 measures a table's first day, where each create reads once more first)
# Extra arguments are more targets for the same run, LABEL=COMMAND[@EVENT] (for example an older build to compare).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

harness="${PERF_HARNESS:-$root/../shared/perf/run.sh}"
if [ ! -x "$harness" ]; then
  echo "bench: the benchmark harness is not at $harness; set PERF_HARNESS to its run.sh" >&2
  exit 2
fi

functions=(request-intake ticket-creator settings-validator ticket-callback decision-notifier reconciler)
cargo build --release $(printf -- "-p %s " "${functions[@]}")

work="$root/.dev/bench"
mkdir -p "$work"
# Every submission new: the harness puts a fresh UUID in place of ${UUID}.
python3 - "$root/events/request-intake/submit-request.json" "$work/intake-submit.json" <<'PY'
import json, sys
event = json.load(open(sys.argv[1]))
body = json.loads(event["body"])
body["pmcRequestId"] = "bench-${UUID}"
event["body"] = json.dumps(body)
json.dump(event, open(sys.argv[2], "w"))
PY

settings="$(cat dev/settings.json)"
release="$root/target/release"
rounds="${BENCH_ROUNDS:-10}" aws="${BENCH_AWS:-stub}" legacy="${BENCH_LEGACY_ID_WINDOW_HOURS:-0}"
"$harness" -r "$rounds" --aws "$aws" --json "$work/bench.json" \
  --env SETTINGS_SECRET_ID=connector/settings --env ALLOW_LOCAL_URLS=true \
  --env "LEGACY_ID_WINDOW_HOURS=$legacy" \
  --secret "connector/settings=$settings" \
  "request-intake=$release/request-intake@$work/intake-submit.json" \
  "ticket-creator=$release/ticket-creator@events/ticket-creator/new-request.json" \
  "settings-validator=$release/settings-validator@events/settings-validator/validate-stored.json" \
  "ticket-callback=$release/ticket-callback@events/ticket-callback/servicenow-event.json" \
  "decision-notifier=$release/decision-notifier@events/decision-notifier/approved-decision.json" \
  "reconciler=$release/reconciler@events/reconciler/schedule.json" \
  "$@"

echo
echo "Stripped sizes of these (x86_64, native) builds; make build prints the arm64 ones Lambda runs:"
for name in "${functions[@]}"; do
  printf '  %-20s %s bytes\n' "$name" "$(stat -c %s "$release/$name")"
done
python3 scripts/perf_doc.py bench --results "$work/bench.json" \
  --settings "BENCH_ROUNDS=$rounds BENCH_AWS=$aws BENCH_LEGACY_ID_WINDOW_HOURS=$legacy scripts/bench.sh" \
  "${functions[@]/#/$release/}"
