#!/usr/bin/env bash
# `make dev`: the whole connector on this machine, wired the way AWS wires it. tests/local-stack runs it:
#   moto (DynamoDB with streams, Secrets Manager) <- table and secret made from template.yaml and the settings file
#   ServiceNow simulator (OAuth, Table API, approver that fires the signed webhook)
#   PM Cloud simulator (client-credentials token, decision notifications)
#   cargo lambda watch (every package under functions/)
#   the API gateway stand-in (tests/api-gateway): openapi.json's /v1/... paths on one base URL; as API Gateway does,
#     it makes each request the Lambda event of its route and invokes the function that owns it (Invoke API)
#   one stream relay per stream-triggered function, each with its own filter, as Lambda's event source mappings
#   the reconciler's schedule
# The simulators, the gateway, the relays and the schedule run inside the local-stack process; moto and cargo lambda
# watch are its children, in one process group that stops with it.
#
# Usage: scripts/dev.sh          run in the foreground until Ctrl-C (or scripts/dev.sh stop), then stop everything
#        scripts/dev.sh start    start in the background and return when ready; describes the stack in .dev/stack.env
#        scripts/dev.sh stop     stop the running stack, however it was started
# One stack at a time: .dev/dev.pid names the local-stack process that runs it, and another start refuses while it
# runs. Logs: .dev/logs/ (moto.log, watch.log; a background stack's own output in stack.log).
#
# Settings (environment):
#   DEV_SETTINGS     settings JSON (default dev/settings.json, which the simulators accept). Name another file to
#                    use a real ServiceNow instance: then no ServiceNow simulator starts, and the file is used as it
#                    is if it has a "pmCloud" block; without one, the PM Cloud simulator starts and its block is added.
#                    A file whose URLs point at this machine (http://127.0.0.1:…) keeps the simulators, as
#                    dev/settings-approvals.json does (approval records and short deadlines, CONTRACT §15).
#   DEV_MOTO_PORT    moto's port (default 5000); if AWS_ENDPOINT_URL is already set, that emulator is used instead.
#   DEV_SIM_PORT     the ServiceNow simulator's (default 8089)   DEV_PMC_PORT   the PM Cloud simulator's (default 8090)
#   DEV_WATCH_PORT   cargo lambda watch's (default 9000)   DEV_API_PORT   the API gateway's (default 9080)
#   DEV_API_STAGE    serve the HTTP API under this named stage, /NAME/v1/... (default: none, as the $default stage)
#   DEV_SCHEDULE_SECONDS   how often the reconciler runs (default 30; every 5 minutes in AWS)
#   DEV_RECONCILE_AFTER    after how many seconds it drives what is stranded (default 20; 10 minutes in AWS)
#   DEV_SETTINGS_CACHE     how many seconds the functions keep the settings they read (default 5; 300 in AWS)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
mode="${1:-run}"
case "$mode" in
  run | start | stop) ;;
  *) echo "usage: scripts/dev.sh [start|stop]" >&2; exit 2 ;;
esac
# DEV_SETTINGS is a path from where dev.sh was started (for make dev, the repository's root).
case "${DEV_SETTINGS:-}" in "" | /*) ;; *) export DEV_SETTINGS="$PWD/$DEV_SETTINGS" ;; esac
cd "$root"

# Where `cargo build` puts a background stack (make test's target folder), and a foreground one.
background="${CARGO_TARGET_DIR:-$root/target}/debug/local-stack"
foreground="$root/target/dev/debug/local-stack"

if [ "$mode" = stop ]; then
  # Whichever build has the program; with neither, no stack was ever started from here.
  for stack in "$background" "$foreground"; do
    if [ -x "$stack" ]; then exec "$stack" stop; fi
  done
  exit 0
fi

scripts/bootstrap.sh
export PATH="$root/.venv/bin:$PATH"
if [ "$mode" = start ]; then
  # A background stack is for tests: it builds what `cargo test --workspace` builds, in the same target folder and
  # with the same features, and serves those functions as they are; cargo test then finds everything built.
  [ -x "$background" ] ||
    echo "==> building the workspace for the dev stack (the first build takes a few minutes)"
  cargo build --quiet --workspace --all-targets
  exec "$background" start
fi

# In the foreground cargo lambda watch rebuilds each function as its code changes, in a target folder of its own so
# that it never waits on (or for) another cargo run.
export CARGO_TARGET_DIR="$root/target/dev"
[ -x "$foreground" ] ||
  echo "==> building the dev stack (the first build takes a few minutes)"
cargo build --quiet -p local-stack
# Ctrl-C signals the terminal's whole foreground process group, make included, and make then dies of it (status
# 130) whatever the stack does. So in a terminal the stack runs as a job of its own (set -m gives it its own
# process group and the terminal): Ctrl-C reaches only it, it stops everything and exits 0, and so does make.
if [ -t 0 ] && [ -t 2 ]; then
  set -m
  "$foreground" run && exit 0 || exit $?
fi
exec "$foreground" run
