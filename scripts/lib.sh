# Sourced by the test scripts (test.sh, bench_burst.sh): small helpers they share.
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

# start_test_stack [VAR=VALUE …]: moto on a free port (behind aws_counter.py when TEST_COUNT_AWS_CALLS is set), then
# the dev stack in the background on free ports with the given dev.sh settings; sources .dev/stack.env (the E2E_*
# variables). Both stop when the calling script exits, however it ends; a refused start (a `make dev` already
# running) leaves that stack alone.
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
  if [ -n "${TEST_COUNT_AWS_CALLS:-}" ]; then count_aws_calls; fi
  env DEV_WATCH_PORT="$(free_port)" DEV_SIM_PORT="$(free_port)" DEV_PMC_PORT="$(free_port)" \
    DEV_API_PORT="$(free_port)" "$@" scripts/dev.sh start
  test_stack_started=1
  # shellcheck source=/dev/null
  source .dev/stack.env
}

# count_aws_calls: puts scripts/aws_counter.py between the stack and moto, so that $AWS_ENDPOINT_URL points at it and
# `GET $AWS_ENDPOINT_URL/__counts` answers the calls so far by operation (make bench-cost). Stops with the stack.
count_aws_calls() {
  local port log
  port="$(free_port)"
  log="$(mktemp -t aws-counter.XXXXXX.log)"
  "$VENV/bin/python" scripts/aws_counter.py "$port" "$AWS_ENDPOINT_URL" >"$log" 2>&1 &
  test_counter_pid=$!
  use_emulator "http://127.0.0.1:$port"
  wait_for "$AWS_ENDPOINT_URL/__counts" aws-counter "$test_counter_pid" 30 "$log"
}

stop_test_stack() {
  if [ -n "${test_stack_started:-}" ]; then scripts/dev.sh stop || true; fi
  if [ -n "${test_counter_pid:-}" ]; then kill "$test_counter_pid" 2>/dev/null || true; fi
  kill "$test_moto_pid" 2>/dev/null || true
  wait "$test_moto_pid" 2>/dev/null || true
}
