#!/usr/bin/env bash
# `make dev`: the whole connector on this machine, wired the way AWS wires it.
#   moto (DynamoDB with streams, Secrets Manager) <- table and secret made from template.yaml and the settings file
#   ServiceNow simulator (OAuth, Table API, approver that fires the signed webhook)
#   PM Cloud simulator (client-credentials token, decision notifications)
#   cargo lambda watch (every package under functions/)
#   the API gateway stand-in (tests/api-gateway): openapi.json's /v1/... paths on one base URL; as API Gateway does,
#     it makes each request the Lambda event of its route and invokes the function that owns it (Invoke API)
#   one stream relay per stream-triggered function, each with its own filter, as Lambda's event source mappings
#
# Usage: scripts/dev.sh          run in the foreground until Ctrl-C (or scripts/dev.sh stop), then stop everything
#        scripts/dev.sh start    start in the background and return when ready; describes the stack in .dev/stack.env
#        scripts/dev.sh stop     stop the running stack, however it was started
# One stack at a time: .dev/dev.pid names the dev.sh that started it, and another start refuses while it runs.
#
# Settings (environment):
#   DEV_SETTINGS     settings JSON (default dev/settings.json, which the simulators accept). Name another file to
#                    use a real ServiceNow instance: then no ServiceNow simulator starts, and the file is used as it
#                    is if it has a "pmCloud" block; without one, the PM Cloud simulator starts and its block is added.
#   DEV_MOTO_PORT    moto's port (default 5000); if AWS_ENDPOINT_URL is already set, that emulator is used instead.
#   DEV_SIM_PORT     the ServiceNow simulator's (default 8089)   DEV_PMC_PORT   the PM Cloud simulator's (default 8090)
#   DEV_WATCH_PORT   cargo lambda watch's (default 9000)   DEV_API_PORT   the API gateway's (default 9080)
#   DEV_API_STAGE    serve the HTTP API under this named stage, /NAME/v1/... (default: none, as the $default stage)
#   DEV_SCHEDULE_SECONDS   how often the reconciler runs (default 30; every 5 minutes in AWS)
#   DEV_RECONCILE_AFTER    after how many seconds it drives what is stranded (default 20; 10 minutes in AWS)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
mode="${1:-run}"
case "$mode" in
  run | start | stop) ;;
  *) echo "usage: scripts/dev.sh [start|stop]" >&2; exit 2 ;;
esac

# Ctrl-C signals the terminal's whole foreground process group, make included, and make then dies of it (status
# 130) whatever this script does. So in a terminal the stack runs as a job of its own (set -m gives it its own
# process group and the terminal): Ctrl-C reaches only it, it stops everything and exits 0, and so does make.
if [ "$mode" = run ] && [ -z "${DEV_SH_PARENT:-}" ] && [ -t 0 ] && [ -t 2 ]; then
  set -m
  DEV_SH_PARENT=$$ "$root/scripts/dev.sh" run && exit 0 || exit $?
fi

# DEV_SETTINGS is a path from where dev.sh was started (for make dev, the repository's root).
settings_file="${DEV_SETTINGS:-$root/dev/settings.json}"
case "$settings_file" in /*) ;; *) settings_file="$PWD/$settings_file" ;; esac
cd "$root"
export VENV="$root/.venv"
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

state="$root/.dev"
logs="$state/logs"
pids="$state/pids" # the process group of each piece, one a line
lock="$state/dev.pid" # "PID MODE" of the dev.sh that started the stack

fail() {
  echo "error: $*" >&2
  exit 1
}

read_lock() {
  owner_pid="" owner_mode=""
  if [ -f "$lock" ]; then read -r owner_pid owner_mode <"$lock" || true; fi
}

# True while the dev.sh named in the lock runs (a start still starting, or a foreground run).
owner_alive() {
  [ -n "$owner_pid" ] && kill -0 "$owner_pid" 2>/dev/null && ps -o args= -p "$owner_pid" 2>/dev/null | grep -q 'dev\.sh'
}

# True while any piece listed in .dev/pids runs.
pieces_alive() {
  local pid
  [ -f "$pids" ] || return 1
  while read -r pid; do
    [ -n "$pid" ] && kill -0 -- "-$pid" 2>/dev/null && return 0
  done <"$pids"
  return 1
}

# descendants PID…: every process below them, one a line.
descendants() {
  ps -eo pid=,ppid= | awk -v roots=" $* " '
    { parent[$1] = $2 }
    END {
      for (pid in parent) {
        for (p = parent[pid]; p > 1; p = parent[p]) if (index(roots, " " p " ")) { print pid; break }
      }
    }'
}

stop_stack() {
  local pid groups=() below _
  [ -f "$pids" ] || return 0
  while read -r pid; do
    if [ -n "$pid" ]; then groups+=("$pid"); fi
  done <"$pids"
  # Each piece runs in its own process group (setsid), so this also stops what it started (cargo); cargo lambda
  # watch runs each function in a group of its own and stops them itself, unless it has to be killed.
  for pid in "${groups[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  for _ in $(seq 1 50); do
    pieces_alive || break
    sleep 0.2
  done
  if pieces_alive; then
    below="$(descendants "${groups[@]}")"
    for pid in "${groups[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
    for pid in $below; do kill -KILL "$pid" 2>/dev/null || true; done
  fi
  rm -f "$pids"
}

if [ "$mode" = stop ]; then
  read_lock
  if owner_alive && [ "$owner_pid" != $$ ]; then
    # A foreground `make dev` (or a start in progress) stops its own stack and exits.
    kill -TERM "$owner_pid" 2>/dev/null || true
    for _ in $(seq 1 100); do
      owner_alive || break
      sleep 0.2
    done
  fi
  stop_stack
  rm -f "$lock"
  exit 0
fi

# Take the lock, or refuse: a second stack would fight the first for its ports and its .dev/ files.
mkdir -p "$state"
until (set -o noclobber; echo "$$ $mode" >"$lock") 2>/dev/null; do
  read_lock
  if owner_alive || pieces_alive; then
    if [ "$owner_mode" = run ] && owner_alive; then
      how="make dev (pid $owner_pid) runs in another terminal: stop it there with Ctrl-C, or with scripts/dev.sh stop"
    else
      how="it was started with scripts/dev.sh start${owner_pid:+ (pid $owner_pid)}: stop it with scripts/dev.sh stop"
    fi
    echo "error: a dev stack is already running in $state (see $lock and $pids)." >&2
    echo "error: $how; then run this again." >&2
    exit 1
  fi
  # What the lock names is gone (a crash, a reboot): forget it.
  rm -f "$lock" "$pids"
done
if pieces_alive; then
  # A stack started before there was a lock.
  rm -f "$lock"
  fail "a dev stack is already running (its processes are in $pids): stop it with scripts/dev.sh stop;" \
    "then run this again."
fi

started=""
tail_pid=""
finish() {
  local status=$?
  trap - INT TERM HUP
  if [ "$mode" = run ] || [ -z "$started" ]; then
    local anything=""
    [ -s "$pids" ] && anything=1
    if [ "$mode" = run ] && [ -n "$anything" ]; then printf '\nstopping…\n'; fi
    if [ -n "$tail_pid" ]; then kill "$tail_pid" 2>/dev/null || true; fi
    stop_stack
    rm -f "$lock"
    if [ "$mode" = run ] && [ -n "$anything" ]; then echo "stopped."; fi
  fi
  exit "$status"
}
trap finish EXIT
if [ "$mode" = run ]; then
  # Ctrl-C, scripts/dev.sh stop and a closed terminal are the normal ends of a foreground run.
  trap 'exit 0' INT TERM HUP
  # As a job of its own, a suspended stack would leave make behind (with status 148): Ctrl-Z does nothing instead.
  if [ -n "${DEV_SH_PARENT:-}" ]; then trap '' TSTP; fi
else
  trap 'exit 130' INT
  trap 'exit 143' TERM HUP
fi

scripts/bootstrap.sh
mkdir -p "$logs"
: >"$pids"

# The dev stack builds in its own target folder, so that it never waits on (or for) another cargo run.
export CARGO_TARGET_DIR="$root/target/dev"
export PATH="$VENV/bin:$PATH"

[ -f "$settings_file" ] || fail "no settings file $settings_file${DEV_SETTINGS:+ (DEV_SETTINGS)}"
if ! "$VENV/bin/python" -c 'import json, sys; json.load(open(sys.argv[1]))' "$settings_file" 2>/dev/null; then
  fail "$settings_file is not valid JSON"
fi
servicenow_sim="" pmcloud_sim=""
[ -z "${DEV_SETTINGS:-}" ] && servicenow_sim=1
if [ -z "${DEV_SETTINGS:-}" ] || [ "$(json_get "$settings_file" '.get("pmCloud") is None')" = True ]; then
  pmcloud_sim=1
fi

moto_port="${DEV_MOTO_PORT:-5000}"
sim_port="${DEV_SIM_PORT:-8089}"
pmc_port="${DEV_PMC_PORT:-8090}"
watch_port="${DEV_WATCH_PORT:-9000}"
api_port="${DEV_API_PORT:-9080}"
api_stage="${DEV_API_STAGE:-}"
[[ -z "$api_stage" || "$api_stage" =~ ^[A-Za-z0-9_-]{1,128}$ ]] ||
  fail "DEV_API_STAGE=$api_stage is not a stage name (letters, digits, - and _)"
schedule_seconds="${DEV_SCHEDULE_SECONDS:-30}"
reconcile_after="${DEV_RECONCILE_AFTER:-20}"

# Every port this stack will listen on must be free now: whoever else answers there would be taken for a piece.
ports=()
[ -z "${AWS_ENDPOINT_URL:-}" ] && ports+=("DEV_MOTO_PORT=$moto_port")
[ -n "$servicenow_sim" ] && ports+=("DEV_SIM_PORT=$sim_port")
[ -n "$pmcloud_sim" ] && ports+=("DEV_PMC_PORT=$pmc_port")
ports+=("DEV_WATCH_PORT=$watch_port")
ports+=("DEV_API_PORT=$api_port")
seen=" "
for entry in "${ports[@]}"; do
  variable="${entry%%=*}" port="${entry#*=}"
  [[ "$port" =~ ^[0-9]+$ ]] && [ "$port" -ge 1 ] && [ "$port" -le 65535 ] || fail "$variable=$port is not a port number"
  case "$seen" in *" $port "*) fail "$variable=$port: another piece of the stack already uses port $port" ;; esac
  seen="$seen$port "
  if port_in_use "$port"; then fail "$(port_taken_message "$port" "$variable")"; fi
done

# build_state BINARY SOURCE…: "missing" or "outdated" (a source is newer than it), nothing when it looks up to date.
build_state() {
  local binary="$CARGO_TARGET_DIR/debug/$1"
  shift
  if [ ! -e "$binary" ]; then
    echo missing
  elif [ -n "$(find "$@" Cargo.lock -type f -newer "$binary" -print -quit 2>/dev/null)" ]; then
    echo outdated
  fi
}

tools_state=""
for tool in servicenow-sim pmcloud-sim stream-relay api-gateway; do
  case "$(build_state "$tool" "tests/$tool/src" "tests/$tool/Cargo.toml")" in
    missing) tools_state=missing ;;
    outdated) tools_state="${tools_state:-outdated}" ;;
  esac
done
case "$tools_state" in
  missing)
    echo "==> building the simulators, the stream relay and the API gateway (the first build takes a few minutes)"
    ;;
  outdated) echo "==> building the simulators, the stream relay and the API gateway" ;;
esac
cargo build --quiet -p servicenow-sim -p pmcloud-sim -p stream-relay -p api-gateway

declare -A piece_pid
# spawn NAME COMMAND…: runs COMMAND in its own process group with its output in .dev/logs/NAME.log.
spawn() {
  local name=$1
  shift
  setsid "$@" >"$logs/$name.log" 2>&1 </dev/null &
  echo $! >>"$pids"
  piece_pid[$name]=$!
}

# log_tail PIECE: the end of its log, indented.
log_tail() {
  echo "error: its log ($logs/$1.log) ends:" >&2
  tail -n 20 "$logs/$1.log" | sed 's/^/    /' >&2
}

# await LABEL PIECE URL SECONDS PORT VARIABLE [WHOAMI]: waits until the piece just started answers on URL, then
# makes sure that it is that piece answering rather than whatever else got hold of PORT: a simulator's
# /sim/whoami must name WHOAMI and the pid started; otherwise the port's listener must be in the piece's process
# group (when lsof or ss can tell).
await() {
  local label=$1 piece=$2 url=$3 seconds=$4 port=$5 variable=$6 whoami=${7:-}
  local pid=${piece_pid[$piece]} deadline=$((SECONDS + seconds)) answer who listener ours=""
  until curl -s -o /dev/null --max-time 2 "$url"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "error: $label stopped before it answered on port $port" >&2
      log_tail "$piece"
      if grep -qi 'address already in use' "$logs/$piece.log"; then fail "$(port_taken_message "$port" "$variable")"; fi
      exit 1
    fi
    [ "$SECONDS" -lt "$deadline" ] || fail "$label did not answer on $url within ${seconds}s; see $logs/$piece.log"
    sleep 0.2
  done
  if [ -n "$whoami" ]; then
    answer="$(curl -s --max-time 2 "$url/sim/whoami" || true)"
    who="$(printf '%s' "$answer" | "$VENV/bin/python" -c '
import json, sys
try:
    me = json.load(sys.stdin)
except ValueError:
    sys.exit()
if isinstance(me, dict) and me.get("name") == sys.argv[1]:
    print(me.get("pid", ""))' "$whoami")"
    if [ -z "$who" ] || { [ "$who" != "$pid" ] && ! in_group "$who" "$pid"; }; then
      echo "error: port $port answers, but not as the $label just started (pid $pid):" \
        "/sim/whoami said $(printf '%s' "${answer:-nothing}" | tr -s '\n\t ' ' ' | cut -c1-120)" >&2
      fail "$(port_taken_message "$port" "$variable")"
    fi
  elif listener="$(listener_pids "$port")" && [ -n "$listener" ]; then
    for who in $listener; do
      if in_group "$who" "$pid"; then ours=1; fi
    done
    if [ -z "$ours" ]; then
      echo "error: port $port answers, but not from the $label just started (pid $pid)" >&2
      fail "$(port_taken_message "$port" "$variable")"
    fi
  fi
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "error: $label stopped right after it answered on port $port" >&2
    log_tail "$piece"
    exit 1
  fi
}

if [ -n "${AWS_ENDPOINT_URL:-}" ]; then
  use_emulator "$AWS_ENDPOINT_URL"
  if ! curl -s -o /dev/null --max-time 5 "$AWS_ENDPOINT_URL"; then
    fail "the AWS emulator at AWS_ENDPOINT_URL=$AWS_ENDPOINT_URL does not answer"
  fi
  suffix="-$(date +%s)-$$"
else
  spawn moto "$VENV/bin/moto_server" -H 127.0.0.1 -p "$moto_port"
  use_emulator "http://127.0.0.1:$moto_port"
  await moto moto "$AWS_ENDPOINT_URL/moto-api/" 30 "$moto_port" DEV_MOTO_PORT
  suffix=""
fi
table="pmc-connector-requests$suffix"
secret="pmc-connector/settings$suffix"

functions_url="http://127.0.0.1:$watch_port/lambda-url"
invoke_url="http://127.0.0.1:$watch_port/2015-03-31/functions"
api_url="http://127.0.0.1:$api_port${api_stage:+/$api_stage}"
# ServiceNow's business rule calls the HTTP API, as it does in AWS.
callback_url="$api_url/v1/servicenow/events"

sim_url="" pmc_url=""
create_args=(--table "$table" --secret "$secret" --settings "$settings_file")
if [ -n "$servicenow_sim" ]; then
  sim_url="http://127.0.0.1:$sim_port"
  "$VENV/bin/python" scripts/dev_resources.py sim-config --settings "$settings_file" --webhook-url "$callback_url" \
    >"$state/sim.json"
  spawn servicenow-sim "$CARGO_TARGET_DIR/debug/servicenow-sim" --listen "127.0.0.1:$sim_port" \
    --config "$state/sim.json"
  create_args+=(--instance-url "$sim_url")
fi
if [ -n "$pmcloud_sim" ]; then
  pmc_url="http://127.0.0.1:$pmc_port"
  "$VENV/bin/python" scripts/dev_resources.py pmc-config --settings "$settings_file" >"$state/pmc.json"
  spawn pmcloud-sim "$CARGO_TARGET_DIR/debug/pmcloud-sim" --listen "127.0.0.1:$pmc_port" --config "$state/pmc.json"
  create_args+=(--pmc-url "$pmc_url")
fi
if [ -n "$servicenow_sim" ]; then
  await "ServiceNow simulator" servicenow-sim "$sim_url" 30 "$sim_port" DEV_SIM_PORT servicenow-sim
fi
if [ -n "$pmcloud_sim" ]; then
  await "PM Cloud simulator" pmcloud-sim "$pmc_url" 30 "$pmc_port" DEV_PMC_PORT pmcloud-sim
fi

"$VENV/bin/python" scripts/dev_resources.py create "${create_args[@]}"

cat >"$state/functions.env" <<ENV
TABLE_NAME=$table
SETTINGS_SECRET_ID=$secret
SETTINGS_CACHE_SECONDS=5
ALLOW_LOCAL_URLS=true
AWS_ENDPOINT_URL=$AWS_ENDPOINT_URL
AWS_REGION=$AWS_REGION
AWS_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID
AWS_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY
AWS_LAMBDA_LOG_LEVEL=info
RECONCILE_AFTER_SECONDS=$reconcile_after
ENV
# In the foreground the functions reload as code changes; a background stack (tests) keeps what it built.
reload=()
[ "$mode" = start ] && reload=(--ignore-changes)
spawn watch cargo lambda watch --invoke-address 127.0.0.1 --invoke-port "$watch_port" \
  --env-file "$state/functions.env" "${reload[@]}"
await "cargo lambda watch" watch "http://127.0.0.1:$watch_port/" 60 "$watch_port" DEV_WATCH_PORT

pmc_key="$(json_get "$settings_file" '["pmcApiKeys"][0]')"
first_build=""
# warm FUNCTION CURL-ARGS…: the first call builds the function (cargo lambda watch builds on demand) and starts it.
warm() {
  local name=$1
  shift
  case "$(build_state "$name" "functions/$name/src" "functions/$name/Cargo.toml" shared/src shared/Cargo.toml)" in
    missing)
      # The first function built compiles the dependencies they share; the others then take seconds.
      if [ -z "$first_build" ]; then
        echo "==> building and starting $name (the first build takes a few minutes)"
        first_build=1
      else
        echo "==> building and starting $name"
      fi
      ;;
    outdated) echo "==> building and starting $name" ;;
    *) echo "==> starting $name" ;;
  esac
  if ! curl -sS -o /dev/null --max-time 1200 "$@" </dev/null || [ ! -x "$CARGO_TARGET_DIR/debug/$name" ]; then
    kill -0 "${piece_pid[watch]}" 2>/dev/null || echo "error: cargo lambda watch stopped" >&2
    echo "error: $name did not start" >&2
    log_tail watch
    exit 1
  fi
}

# Every package under functions/, as the template triggers it: HTTP functions through their route, stream functions
# with an empty batch on the invoke URL (and a relay each, below).
functions="$("$VENV/bin/python" scripts/dev_resources.py functions)"
stream_functions=()
scheduled_functions=()
notifier=""
while IFS=$'\t' read -r name kind logical_id path; do
  [ -n "$name" ] || continue
  case "$kind" in
    http) warm "$name" -H "authorization: Bearer $pmc_key" "$functions_url/$name$path" ;;
    stream)
      warm "$name" -X POST -H 'content-type: application/json' -d '{"Records":[]}' "$invoke_url/$name/invocations"
      stream_functions+=("$name:$logical_id")
      if [ "$logical_id" = DecisionNotifierFunction ]; then notifier=1; fi
      ;;
    schedule)
      warm "$name" -X POST -H 'content-type: application/json' -d '{}' "$invoke_url/$name/invocations"
      scheduled_functions+=("$name")
      ;;
    *)
      echo "note: functions/$name is not in template.yaml: it is served, but nothing triggers it"
      warm "$name" "$functions_url/$name/"
      ;;
  esac
done <<<"$functions"

# One relay per stream-triggered function, as Lambda runs one event source mapping per function: its own filter,
# its own position in the stream, its own failures.
for entry in "${stream_functions[@]}"; do
  name="${entry%%:*}" logical_id="${entry#*:}"
  patterns="$("$VENV/bin/python" scripts/dev_resources.py filters --function "$logical_id")"
  filters=()
  while IFS= read -r pattern; do
    if [ -n "$pattern" ]; then filters+=(--filter-pattern "$pattern"); fi
  done <<<"$patterns"
  spawn "relay-$name" "$CARGO_TARGET_DIR/debug/stream-relay" --table "$table" \
    --invoke-url "$invoke_url/$name/invocations" --failures-file "$state/failed-stream-records-$name.jsonl" \
    "${filters[@]}"
done
for entry in "${stream_functions[@]}"; do
  piece="relay-${entry%%:*}" deadline=$((SECONDS + 30))
  until grep -q "relaying" "$logs/$piece.log" 2>/dev/null; do
    if ! kill -0 "${piece_pid[$piece]}" 2>/dev/null; then
      echo "error: the stream relay to ${entry%%:*} stopped" >&2
      log_tail "$piece"
      exit 1
    fi
    [ "$SECONDS" -lt "$deadline" ] || fail "the relay to ${entry%%:*} did not start within 30s; see $logs/$piece.log"
    sleep 0.2
  done
done

# The schedule's stand-in: each scheduled function (the reconciler) is invoked every DEV_SCHEDULE_SECONDS with its
# sample scheduled event (events/<function>/schedule.json).
for name in "${scheduled_functions[@]}"; do
  spawn "schedule-$name" bash -c 'while sleep "$1"; do
      curl -sS -o /dev/null --max-time 300 -X POST -H "content-type: application/json" -d "@$3" "$2" || true
    done' schedule "$schedule_seconds" "$invoke_url/$name/invocations" "$root/events/$name/schedule.json"
done

# The HTTP API as API Gateway serves it: openapi.json's paths on one base URL, each request made the Lambda event
# of its route (payload format 2.0) and invoked on the function that owns the route through the Invoke API. It starts
# once every function is built, so that no call through it waits for a build. In the foreground cargo lambda watch
# rebuilds a function that changed on its next call, which takes longer than API Gateway's 30 seconds: the gateway
# waits as long as the warm-up above does.
api_args=()
[ "$mode" = run ] && api_args+=(--timeout-seconds 1200)
[ -n "$api_stage" ] && api_args+=(--stage "$api_stage")
spawn api-gateway "$CARGO_TARGET_DIR/debug/api-gateway" --listen "127.0.0.1:$api_port" \
  --invoke-url "$invoke_url" "${api_args[@]}"
await "API gateway" api-gateway "$api_url/" 30 "$api_port" DEV_API_PORT

cat >"$state/stack.env" <<ENV
export E2E_API_URL=$api_url
export E2E_FUNCTIONS_URL=$functions_url
export E2E_INVOKE_URL=$invoke_url
export E2E_SIM_URL=$sim_url
export E2E_PMC_URL=$pmc_url
export E2E_PMC_KEY=$pmc_key
export E2E_WEBHOOK_SECRET=$(json_get "$settings_file" '["webhookSecrets"][0]')
export E2E_TABLE_NAME=$table
export E2E_SETTINGS_FILE=$settings_file
ENV

started=1
if [ "$mode" = start ]; then
  echo "dev stack ready; described in .dev/stack.env; stop it with scripts/dev.sh stop"
  exit 0
fi

# The walkthrough calls the HTTP API, as PM Cloud does; each function's own URL is listed too.
intake="$api_url/v1/requests"
relayed="fed by the stream relay"
[ "${#stream_functions[@]}" -gt 1 ] && relayed="fed by their stream relays"
stream_names=""
for entry in "${stream_functions[@]}"; do stream_names="$stream_names${stream_names:+, }${entry%%:*}"; done
# Printed, and kept in .dev/walkthrough.txt: in the foreground the logs that follow scroll it away.
walkthrough() {
cat <<TEXT

The connector is running locally.
  HTTP API             $api_url (one base URL for openapi.json's paths, as API Gateway serves them)
  request-intake       $functions_url/request-intake/v1/requests
  settings-validator   $functions_url/settings-validator/v1/settings/validate
  ticket-callback      $callback_url
  $(printf '%-20s' "${stream_names:-(no stream function)}") $relayed from table $table
  ServiceNow           ${sim_url:-the instance in $settings_file}${sim_url:+ (simulator; tickets at $sim_url/sim/tickets)}
  PM Cloud             ${pmc_url:-the tenant in $settings_file}${pmc_url:+ (simulator; notifications at $pmc_url/sim/notifications)}
  AWS emulator         $AWS_ENDPOINT_URL
  logs                 $logs/

Try a function on its own (in another terminal, from any directory):
  Validate the settings:
       curl -s -X POST $functions_url/settings-validator/v1/settings/validate -H 'authorization: Bearer $pmc_key'
  Send it a sample event (events/README.md says what each answers):
       $VENV/bin/cargo-lambda lambda invoke -A 127.0.0.1 -P $watch_port settings-validator --data-file $root/events/settings-validator/validate-stored.json
     (plain \`cargo lambda\` needs .venv/bin on PATH: PATH="$VENV/bin:\$PATH" cargo lambda invoke …)

Walk through one request, through the HTTP API as PM Cloud calls it ($api_url/v1/…):
  1. Submit it:
       curl -s -X POST $intake -H 'authorization: Bearer $pmc_key' -H 'content-type: application/json' -d @$root/dev/sample-request.json
  2. Within a second or two it is "ticketed", with the ticket's sysId and url:
       curl -s '$intake?pmcRequestId=dev-0001' -H 'authorization: Bearer $pmc_key'
     (With the PM Cloud simulator, the ticket says PM Cloud did not confirm its values: the simulator holds no
     request dev-0001, and answers 404 to the read-back. Step 8 shows one it holds.)
TEXT
if [ -n "$sim_url" ]; then
  cat <<TEXT
  3. See the ticket: open its url from step 2 (the simulator serves the page), or list every ticket:
       curl -s $sim_url/sim/tickets
  4. Approve it for 4 hours, as an approver would (the simulator then sends the signed webhook):
       curl -s -X POST $sim_url/sim/tickets/incident/<sysId>/decide -H 'content-type: application/json' -d '{"approval": "approved", "duration": "4 hours", "notes": "OK for the capture"}'
TEXT
else
  cat <<TEXT
  3. See the ticket in your instance: open its url from step 2.
  4. Approve it there. Its webhook cannot reach this machine: send the signed event yourself (README,
     "The webhook") to $callback_url, or use a tunnel.
TEXT
fi
echo '  5. Read the decision: repeat step 2 ("approved", with expiresAt four hours after the decision).'
if [ -n "$notifier" ] && [ -n "$pmc_url" ]; then
  cat <<TEXT
  6. PM Cloud received the decision (decision-notifier pushes it within seconds of the approval):
       curl -s $pmc_url/sim/notifications
TEXT
elif [ -n "$notifier" ]; then
  echo "  6. PM Cloud, the tenant in $settings_file, receives the decision from decision-notifier."
fi
if [ -n "$sim_url" ] && [ "${#scheduled_functions[@]}" -gt 0 ]; then
  cat <<TEXT
  7. A webhook that never arrives: submit a second request, then approve its ticket while the simulator sends
     no webhook; within ${schedule_seconds} s or so the reconciler reads the ticket and records the decision anyway:
       sed s/dev-0001/dev-0002/ $root/dev/sample-request.json | curl -s -X POST $intake -H 'authorization: Bearer $pmc_key' -H 'content-type: application/json' -d @-
       curl -s '$intake?pmcRequestId=dev-0002' -H 'authorization: Bearer $pmc_key'
       curl -s -X POST $sim_url/sim/tickets/incident/<sysId>/decide -H 'content-type: application/json' -d '{"approval": "approved", "duration": "1 day", "sendWebhook": false}'
       curl -s '$intake?pmcRequestId=dev-0002' -H 'authorization: Bearer $pmc_key'
TEXT
fi
if [ -n "$sim_url" ] && [ -n "$notifier" ] && [ -n "$pmc_url" ]; then
  cat <<TEXT
  8. An admin session of 90 minutes, its values not JSON-escaped (as PM Cloud may send them: ACME\\asmith with one
     backslash, a quote inside the reason); PM Cloud holds it, so the ticket shows PM Cloud's values, confirmed:
       curl -s -X POST $pmc_url/sim/authorization-requests -H 'content-type: application/json' -d '{"id": "dev-admin-0001", "requestInfo": {"user": "ACME\\\\asmith", "hostName": "WS-0117"}}'
       curl -s -X POST $intake -H 'authorization: Bearer $pmc_key' -H 'content-type: application/json' --data-binary @$root/dev/sample-admin-request.json
       curl -s '$intake?pmcRequestId=dev-admin-0001' -H 'authorization: Bearer $pmc_key'
     The ticket's duration field is pre-filled with "90 minutes"; approve it as it stands:
       curl -s -X POST $sim_url/sim/tickets/incident/<sysId>/decide -H 'content-type: application/json' -d '{"approval": "approved"}'
     PM Cloud receives it at the admin decision path, as 5400 seconds:
       curl -s $pmc_url/sim/notifications
TEXT
fi
cat <<TEXT

Ctrl-C stops everything (so does scripts/dev.sh stop). This text is kept in .dev/walkthrough.txt.
TEXT
}
walkthrough | tee "$root/.dev/walkthrough.txt"

relay_logs=()
for entry in "${stream_functions[@]}"; do relay_logs+=("$logs/relay-${entry%%:*}.log"); done
tail -n 0 -F "$logs/watch.log" "${relay_logs[@]}" &
tail_pid=$!
# Until Ctrl-C: a piece that stops on its own ends the run, loudly; so does the end of the make (or shell) above.
while true; do
  for piece in "${!piece_pid[@]}"; do
    if ! kill -0 "${piece_pid[$piece]}" 2>/dev/null; then
      echo "error: $piece stopped on its own" >&2
      log_tail "$piece"
      exit 1
    fi
  done
  if [ -n "${DEV_SH_PARENT:-}" ] && ! kill -0 "$DEV_SH_PARENT" 2>/dev/null; then exit 0; fi
  sleep 1
done
