#!/usr/bin/env bash
# Makes sure the project's Python venv holds the tools in requirements-dev.txt (moto, cargo-lambda, cfn-lint).
# And that Node.js is there for the business-rule tests.
# Idempotent: a venv that already matches the requirements is left as it is.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$root/.venv"
requirements="$root/scripts/requirements-dev.txt"
stamp="$venv/.requirements-installed"

if [ ! -x "$venv/bin/python" ]; then
  echo "bootstrap: creating $venv"
  python3 -m venv "$venv"
fi
if [ ! -f "$stamp" ] || ! cmp -s "$requirements" "$stamp"; then
  echo "bootstrap: installing $(grep -vc '^#' "$requirements") Python tools into .venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
  cp "$requirements" "$stamp"
fi

# Node.js runs the shipped business rule (servicenow/business-rule.js) in the tests (tests/servicenow-rules): from
# Debian's packages where this machine can install them, else the developer is told.
if ! command -v node >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "bootstrap: installing Node.js (apt-get install nodejs) for the business-rule tests"
    apt-get update -qq && apt-get install -y -qq nodejs >/dev/null
  else
    echo "bootstrap: Node.js 18 or later is needed by the business-rule tests: install it (e.g. apt-get install nodejs, brew install node)" >&2
    exit 1
  fi
fi
