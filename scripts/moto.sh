# Sourced, not run: starts moto (the local AWS emulator) on a free loopback port, exports what the AWS SDK
# needs to reach it, and stops it when the sourcing shell exits, whatever the exit status.
# shellcheck shell=bash

moto_port="$("$VENV/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
moto_log="${MOTO_LOG:-$(mktemp -t moto.XXXXXX.log)}"
"$VENV/bin/moto_server" -H 127.0.0.1 -p "$moto_port" >"$moto_log" 2>&1 &
moto_pid=$!
trap 'kill "$moto_pid" 2>/dev/null; wait "$moto_pid" 2>/dev/null || true' EXIT

export AWS_ENDPOINT_URL="http://127.0.0.1:$moto_port"
export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
unset AWS_PROFILE AWS_SESSION_TOKEN

for _ in $(seq 1 100); do
  if curl -fsS -o /dev/null "$AWS_ENDPOINT_URL/moto-api/"; then break; fi
  if ! kill -0 "$moto_pid" 2>/dev/null; then echo "moto failed to start:"; cat "$moto_log"; exit 1; fi
  sleep 0.1
done
curl -fsS -o /dev/null "$AWS_ENDPOINT_URL/moto-api/" || { echo "moto did not answer on $AWS_ENDPOINT_URL"; exit 1; }
echo "moto: $AWS_ENDPOINT_URL (log: $moto_log)"
