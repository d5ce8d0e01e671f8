#!/usr/bin/env bash
# `make dev`: the whole connector on this machine, wired the way AWS wires it.
#   moto (DynamoDB with streams, Secrets Manager) <- table and secret made from template.yaml and the settings file
#   ServiceNow simulator (OAuth, Table API, approver that fires the signed webhook)
#   cargo lambda watch (all four functions)   <- the stream relay delivers the table's stream to ticket-creator
#
# Usage: scripts/dev.sh          run in the foreground until Ctrl-C, then stop everything
#        scripts/dev.sh start    start in the background and return when ready; describes the stack in .dev/stack.env
#        scripts/dev.sh stop     stop what `start` started
#
# Settings (environment):
#   DEV_SETTINGS     settings JSON (default dev/settings.json, which the simulator accepts). Name another file to
#                    use a real ServiceNow instance: then no simulator starts and the file is used as it is.
#   DEV_WATCH_PORT   cargo lambda watch's port (default 9000)      DEV_SIM_PORT   the simulator's (default 8089)
#   DEV_MOTO_PORT    moto's port (default 5000); if AWS_ENDPOINT_URL is already set, that emulator is used instead.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
export VENV="$root/.venv"
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

state="$root/.dev"
logs="$state/logs"
pids="$state/pids"
mode="${1:-run}"

stop_stack() {
  if [ -f "$pids" ]; then
    # Each piece runs in its own process group (setsid), so this also stops what it started (cargo, functions).
    while read -r pid; do kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true; done <"$pids"
    rm -f "$pids"
  fi
}

case "$mode" in
  stop) stop_stack; exit 0 ;;
  run | start) ;;
  *) echo "usage: scripts/dev.sh [start|stop]" >&2; exit 2 ;;
esac

scripts/bootstrap.sh
stop_stack
mkdir -p "$logs"
: >"$pids"
if [ "$mode" = run ]; then
  trap 'echo; echo "stopping…"; stop_stack' EXIT
  # Turn Ctrl-C and termination into an exit, so that the EXIT trap stops everything even while waiting.
  trap 'exit 130' INT
  trap 'exit 143' TERM
fi

# spawn NAME COMMAND…: runs COMMAND in its own process group with its output in .dev/logs/NAME.log.
spawn() {
  local name=$1
  shift
  setsid "$@" >"$logs/$name.log" 2>&1 </dev/null &
  echo $! >>"$pids"
  last_pid=$!
}

# The dev stack builds in its own target folder, so that it never waits on (or for) another cargo run.
export CARGO_TARGET_DIR="$root/target/dev"
export PATH="$VENV/bin:$PATH"

echo "==> building the simulator and the stream relay"
cargo build --quiet --bin servicenow-sim --bin stream-relay

if [ -n "${AWS_ENDPOINT_URL:-}" ]; then
  use_emulator "$AWS_ENDPOINT_URL"
  suffix="-$(date +%s)-$$"
else
  moto_port="${DEV_MOTO_PORT:-5000}"
  spawn moto "$VENV/bin/moto_server" -H 127.0.0.1 -p "$moto_port"
  use_emulator "http://127.0.0.1:$moto_port"
  wait_for "$AWS_ENDPOINT_URL/moto-api/" moto "$last_pid" 30 "$logs/moto.log"
  suffix=""
fi
table="pmc-connector-requests$suffix"
secret="pmc-connector/settings$suffix"

watch_port="${DEV_WATCH_PORT:-9000}"
functions_url="http://127.0.0.1:$watch_port/lambda-url"
invoke_url="http://127.0.0.1:$watch_port/2015-03-31/functions"
callback_url="$functions_url/ticket-callback/v1/servicenow/events"

settings_file="${DEV_SETTINGS:-dev/settings.json}"
instance_override=()
sim_url=""
if [ -z "${DEV_SETTINGS:-}" ]; then
  sim_url="http://127.0.0.1:${DEV_SIM_PORT:-8089}"
  "$VENV/bin/python" scripts/dev_resources.py sim-config --settings "$settings_file" --webhook-url "$callback_url" \
    >"$state/sim.json"
  spawn simulator "$CARGO_TARGET_DIR/debug/servicenow-sim" --listen "${sim_url#http://}" --config "$state/sim.json"
  wait_for "$sim_url/" "the ServiceNow simulator" "$last_pid" 30 "$logs/simulator.log"
  instance_override=(--instance-url "$sim_url")
fi

"$VENV/bin/python" scripts/dev_resources.py create --table "$table" --secret "$secret" \
  --settings "$settings_file" "${instance_override[@]}"

cat >"$state/functions.env" <<ENV
TABLE_NAME=$table
SETTINGS_SECRET_ID=$secret
SETTINGS_CACHE_SECONDS=5
AWS_ENDPOINT_URL=$AWS_ENDPOINT_URL
AWS_REGION=$AWS_REGION
AWS_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID
AWS_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY
AWS_LAMBDA_LOG_LEVEL=info
ENV
# In the foreground the functions reload as code changes; a background stack (tests) keeps what it built.
reload=()
[ "$mode" = start ] && reload=(--ignore-changes)
spawn watch cargo lambda watch --invoke-address 127.0.0.1 --invoke-port "$watch_port" --env-file "$state/functions.env" \
  "${reload[@]}"
watch_pid=$last_pid
wait_for "http://127.0.0.1:$watch_port/" "cargo lambda watch" "$watch_pid" 60 "$logs/watch.log"

pmc_key="$(json_get "$settings_file" '["pmcApiKeys"][0]')"
# warm FUNCTION CURL-ARGS…: the first call builds the function; later calls are fast.
warm() {
  local name=$1
  shift
  echo "==> building and starting $name (the first build takes a few minutes)"
  if ! curl -sS -o /dev/null --max-time 1200 "$@"; then
    echo "$name did not start; see $logs/watch.log" >&2
    tail -n 30 "$logs/watch.log" >&2
    exit 1
  fi
}
warm request-intake -H "authorization: Bearer $pmc_key" "$functions_url/request-intake/v1/requests/warm-up"
warm ticket-callback -X POST "$callback_url"
warm settings-validator -X GET "$functions_url/settings-validator/v1/settings/validate"
warm ticket-creator -X POST -H 'content-type: application/json' -d '{"Records":[]}' "$invoke_url/ticket-creator/invocations"

filters=()
while read -r pattern; do filters+=(--filter-pattern "$pattern"); done < <("$VENV/bin/python" scripts/dev_resources.py filters)
spawn relay "$CARGO_TARGET_DIR/debug/stream-relay" --table "$table" \
  --invoke-url "$invoke_url/ticket-creator/invocations" --failures-file "$state/failed-stream-records.jsonl" "${filters[@]}"
relay_pid=$last_pid
for _ in $(seq 1 100); do
  grep -q "relaying" "$logs/relay.log" 2>/dev/null && break
  kill -0 "$relay_pid" 2>/dev/null || { echo "the stream relay stopped:" >&2; cat "$logs/relay.log" >&2; exit 1; }
  sleep 0.2
done

cat >"$state/stack.env" <<ENV
export E2E_FUNCTIONS_URL=$functions_url
export E2E_INVOKE_URL=$invoke_url
export E2E_SIM_URL=$sim_url
export E2E_PMC_KEY=$pmc_key
export E2E_WEBHOOK_SECRET=$(json_get "$settings_file" '["webhookSecrets"][0]')
export E2E_TABLE_NAME=$table
ENV

if [ "$mode" = start ]; then
  echo "dev stack ready; described in .dev/stack.env; stop it with scripts/dev.sh stop"
  exit 0
fi

intake="$functions_url/request-intake/v1/requests"
cat <<TEXT

The connector is running locally.
  request-intake       $intake
  settings-validator   $functions_url/settings-validator/v1/settings/validate
  ticket-callback      $callback_url
  ticket-creator       fed by the stream relay from table $table
  ServiceNow           ${sim_url:-the instance in $settings_file} ${sim_url:+(simulator; tickets at $sim_url/sim/tickets)}
  AWS emulator         $AWS_ENDPOINT_URL
  logs                 .dev/logs/

Walk through one request (in another terminal):
  1. Submit it:
       curl -s -X POST $intake -H 'authorization: Bearer $pmc_key' -H 'content-type: application/json' -d @dev/sample-request.json
  2. Within a second or two it is "ticketed":
       curl -s '$intake?pmcRequestId=dev-0001' -H 'authorization: Bearer $pmc_key'
  3. See the ticket, and note its sys_id:
       curl -s $sim_url/sim/tickets
  4. Approve it for 4 hours, as an approver would (the simulator then sends the signed webhook):
       curl -s -X POST $sim_url/sim/tickets/incident/<sys_id>/decide -H 'content-type: application/json' -d '{"approval": "approved", "duration": "4 hours", "notes": "OK for the capture"}'
  5. Read the decision: repeat step 2 ("approved", with expiresAt four hours after the decision).
  Validate the settings:
       curl -s -X POST $functions_url/settings-validator/v1/settings/validate -H 'authorization: Bearer $pmc_key'

Ctrl-C stops everything.
TEXT
tail -n 0 -F "$logs/watch.log" "$logs/relay.log" &
echo $! >>"$pids"
wait "$watch_pid"
