#!/usr/bin/env bash
# Makes sure the project's Python venv holds the tools in requirements-dev.txt (moto, cargo-lambda, cfn-lint).
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
