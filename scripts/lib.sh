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
