#!/usr/bin/env bash
# Fuzzes the HTTP functions of the running dev stack with Schemathesis: every operation of openapi.json, called on
# the stack's API gateway (E2E_API_URL: the contract's paths on one base URL, as API Gateway serves them), twice:
#   with-key      every request carries `Authorization: Bearer <E2E_PMC_KEY>`, and each ServiceNow event is signed
#                 with the stack's webhook secret (E2E_WEBHOOK_SECRET), so that the cases get past authentication
#                 and reach each function's parsing and rules;
#   without-key   no Authorization header at all (none generated either) and events signed as generated: every
#                 answer must still be one the document describes, and give nothing away.
# Each answer is checked against the document (no 5xx; a documented status, content type, schema and headers) and
# by scripts/fuzz_hooks.py, which fails when it holds a secret of the stack's settings.
#
# Usage: scripts/fuzz.sh    with a stack running: make dev in another terminal, or scripts/dev.sh start (make test
#                           runs this on its own stack, after cargo test). Exits non-zero on any failure.
# Settings (environment):
#   FUZZ_EXAMPLES   test cases per operation that the fuzzing phase generates, in each run (default 100: both runs
#                   together took 80 s on the 2-core machine, about 3,000 cases)
#   FUZZ_SEED       Schemathesis's seed (default: a new one, printed), to replay a run: same seed, same cases
#   FUZZ_WORKERS    requests in flight at once (default 1, as fast here as 2; with 2, Schemathesis's threads now
#                   and then trip CPython 3.11's spurious "AST constructor recursion depth mismatch" (gh-106905),
#                   and the run ends in a Runtime Error that says nothing about the connector)
# Reports: .dev/fuzz/<run>/ holds each run's output, its JUnit XML, and a VCR cassette of every request and answer
# (bodies byte for byte, base64, as sent); `cd .dev && ../.venv/bin/st replay` sends the failing cases again.
# What the hooks do besides checking (scripts/fuzz_hooks.py says why): sign the events of the run with the key, and
# keep every connection on this machine (a candidate's instanceUrl or apiUrl gets a closed loopback port unless it
# names a simulator). Every answer counts: the gateway invokes each request's function as API Gateway does, so a 5xx
# is the function's own, or the gateway's 502 for a function that failed (the stack's output says why: make dev's
# terminal, or .dev/logs/stack.log).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
export VENV="$root/.venv"

fail() {
  echo "error: $*" >&2
  exit 1
}

examples="${FUZZ_EXAMPLES:-100}"
workers="${FUZZ_WORKERS:-1}"
seed="${FUZZ_SEED:-$(((RANDOM << 15) | RANDOM))}"
for setting in "FUZZ_EXAMPLES=$examples" "FUZZ_WORKERS=$workers" "FUZZ_SEED=$seed"; do
  [[ "${setting#*=}" =~ ^[0-9]+$ ]] || fail "${setting%%=*} must be a whole number, got ${setting#*=}"
done

stack_env="$root/.dev/stack.env"
[ -f "$stack_env" ] ||
  fail "no dev stack is running ($stack_env is missing): start one with make dev, or scripts/dev.sh start"
# shellcheck source=/dev/null
source "$stack_env"
[ -n "${E2E_API_URL:-}" ] ||
  fail "the running stack predates the API gateway (no E2E_API_URL in $stack_env): restart it"
if ! curl -s -o /dev/null --max-time 5 "$E2E_API_URL/"; then
  fail "the stack's API gateway does not answer at $E2E_API_URL: is the stack still running? (scripts/dev.sh start)"
fi

# The venv may predate Schemathesis.
scripts/bootstrap.sh
st="$VENV/bin/st"

# Only the run with credentials signs the webhook events (it sets this itself).
unset FUZZ_WEBHOOK_SECRET
export SCHEMATHESIS_HOOKS="$root/scripts/fuzz_hooks.py"
export FUZZ_SETTINGS="${E2E_SETTINGS_FILE:-$root/dev/settings.json}"
# A check that cannot see a planted secret would pass every run: make sure it can, first.
"$VENV/bin/python" "$SCHEMATHESIS_HOOKS"

checks=not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance
checks="$checks,response_headers_conformance,no_secret_in_answer"
reports="$root/.dev/fuzz"
rm -rf "$reports"
mkdir -p "$reports"
echo "fuzz: $("$st" --version), $examples examples per operation, seed $seed, against $E2E_API_URL"

total_cases=0
status=0
summary=()
started=$SECONDS

# fuzz RUN ARGS…: one Schemathesis run over every operation; its output is also in .dev/fuzz/RUN/output.txt.
fuzz() {
  local run=$1 run_started=$SECONDS run_status=0 cases
  shift
  mkdir -p "$reports/$run"
  echo
  echo "==> fuzz: $run"
  set +e
  # From .dev/, where Schemathesis and Hypothesis keep their caches and the failing cases (.schemathesis/,
  # .hypothesis/).
  (cd "$root/.dev" && "$st" run "$root/openapi.json" --url "$E2E_API_URL" \
    --checks "$checks" --max-examples "$examples" --seed "$seed" --workers "$workers" \
    --request-timeout 60 --generation-database none \
    --report junit,vcr --report-preserve-bytes --report-dir "$reports/$run" \
    "$@") 2>&1 | tee "$reports/$run/output.txt"
  run_status=${PIPESTATUS[0]}
  set -e
  # The summary says how many cases ran: "Test cases: 1234 generated, …".
  cases="$(sed 's/\x1b\[[0-9;]*m//g' "$reports/$run/output.txt" | grep -oE '^ *[0-9]+ generated' | tail -n 1 |
    grep -oE '[0-9]+' || true)"
  total_cases=$((total_cases + ${cases:-0}))
  summary+=("$(printf '%-14s %6s cases in %4ss  %s' "$run" "${cases:-?}" $((SECONDS - run_started)) \
    "$([ "$run_status" = 0 ] && echo passed || echo "FAILED (status $run_status)")")")
  if [ "$run_status" != 0 ]; then status=1; fi
}

FUZZ_WEBHOOK_SECRET="$E2E_WEBHOOK_SECRET" fuzz with-key -H "Authorization: Bearer $E2E_PMC_KEY"
fuzz without-key --generation-with-security-parameters false

echo
echo "==> fuzz: $total_cases cases in $((SECONDS - started))s (seed $seed; replay with FUZZ_SEED=$seed)"
for line in "${summary[@]}"; do echo "  $line"; done
echo "  reports in $reports/"
exit "$status"
