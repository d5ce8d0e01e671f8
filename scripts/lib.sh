# Sourced by the dev and test scripts: small helpers shared by both.
# shellcheck shell=bash

# A free TCP port on the loopback interface.
free_port() {
  "$VENV/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Points the AWS SDKs (Rust and boto3) at the emulator at $1, with throwaway credentials.
use_emulator() {
  export AWS_ENDPOINT_URL="$1"
  export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
  export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
  unset AWS_PROFILE AWS_SESSION_TOKEN
}

# wait_for URL NAME PID SECONDS [LOG]: waits until URL answers HTTP at all; fails early if PID died.
wait_for() {
  local url=$1 name=$2 pid=$3 seconds=$4 log=${5:-}
  local deadline=$((SECONDS + seconds))
  until curl -sS -o /dev/null --max-time 2 "$url" 2>/dev/null; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "$name stopped before it answered${log:+; its log ($log):}" >&2
      [ -n "$log" ] && tail -n 30 "$log" >&2
      return 1
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "$name did not answer on $url within ${seconds}s" >&2
      return 1
    fi
    sleep 0.2
  done
}

# json_get FILE EXPR: a value from a JSON file, EXPR being a Python subscript such as ["pmcApiKeys"][0].
json_get() {
  "$VENV/bin/python" -c "import json, sys; print(json.load(open(sys.argv[1]))$2)" "$1"
}

# port_in_use PORT: true when something answers on 127.0.0.1:PORT or the port cannot be bound there.
port_in_use() {
  "$VENV/bin/python" - "$1" <<'PY'
import socket, sys
port = int(sys.argv[1])
with socket.socket() as probe:
    probe.settimeout(0.5)
    if probe.connect_ex(("127.0.0.1", port)) == 0:
        sys.exit(0)
with socket.socket() as probe:
    # As servers bind: connections of a previous run in TIME_WAIT do not count as a holder.
    probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        probe.bind(("127.0.0.1", port))
    except OSError:
        sys.exit(0)
sys.exit(1)
PY
}

# listener_pids PORT: the pids listening on TCP PORT that this user may see, one a line (lsof, else ss). Fails
# when neither tool is installed.
listener_pids() {
  if command -v lsof >/dev/null 2>&1; then
    lsof -nP -iTCP:"$1" -sTCP:LISTEN -t 2>/dev/null || true
  elif command -v ss >/dev/null 2>&1; then
    ss -Hltnp "sport = :$1" 2>/dev/null | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u
  else
    return 1
  fi
}

# describe_pid PID: "pid 123: its command line", for messages.
describe_pid() {
  local args
  args="$(ps -o args= -p "$1" 2>/dev/null | cut -c1-80)"
  echo "pid $1${args:+: $args}"
}

# in_group PID PGID: true when process PID belongs to process group PGID.
in_group() {
  local group
  group="$(ps -o pgid= -p "$1" 2>/dev/null | tr -d ' ')"
  [ -n "$group" ] && [ "$group" = "$2" ]
}

# port_taken_message PORT VARIABLE: says who holds PORT and which variable moves the piece to a free port.
port_taken_message() {
  local port=$1 variable=$2 holder="" pid suggestion
  for pid in $(listener_pids "$port" 2>/dev/null); do holder="${holder:+$holder; }$(describe_pid "$pid")"; done
  [ -n "$holder" ] && holder="held by $holder"
  # macOS's AirPlay Receiver (ControlCenter) listens on 5000, moto's default port.
  case "$port:$holder" in
    5000:) holder="macOS AirPlay uses it" ;;
    5000:*ControlCenter*) holder="$holder: macOS AirPlay" ;;
  esac
  suggestion=$((port + 55))
  while port_in_use "$suggestion"; do suggestion=$((suggestion + 1)); done
  echo "port $port is in use${holder:+ ($holder)}; set $variable=$suggestion (or another free port)"
}

# start_test_stack [VAR=VALUE …]: moto on a free port, then the dev stack in the background on free ports with
# the given dev.sh settings; sources .dev/stack.env (the E2E_* variables). Both stop when the calling script
# exits, however it ends; a refused start (a `make dev` already running) leaves that stack alone.
start_test_stack() {
  local moto_log moto_port
  moto_log="$(mktemp -t moto.XXXXXX.log)"
  moto_port="$(free_port)"
  "$VENV/bin/moto_server" -H 127.0.0.1 -p "$moto_port" >"$moto_log" 2>&1 &
  test_moto_pid=$!
  test_stack_started=""
  trap stop_test_stack EXIT
  use_emulator "http://127.0.0.1:$moto_port"
  wait_for "$AWS_ENDPOINT_URL/moto-api/" moto "$test_moto_pid" 30 "$moto_log"
  env DEV_WATCH_PORT="$(free_port)" DEV_SIM_PORT="$(free_port)" DEV_PMC_PORT="$(free_port)" \
    DEV_API_PORT="$(free_port)" "$@" scripts/dev.sh start
  test_stack_started=1
  # shellcheck source=/dev/null
  source .dev/stack.env
}

stop_test_stack() {
  if [ -n "${test_stack_started:-}" ]; then scripts/dev.sh stop || true; fi
  kill "$test_moto_pid" 2>/dev/null || true
  wait "$test_moto_pid" 2>/dev/null || true
}
