#!/usr/bin/env bash
# Python environment and front-end assets. Idempotent: re-running skips what is already done.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "==> creating virtualenv .venv"
  "$PY" -m venv .venv
fi
stamp=.venv/.openem-installed
want=$(cat pyproject.toml | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "==> installing openem and its dependencies into .venv"
  .venv/bin/python -m pip install --quiet --upgrade pip 2>&1 | grep -v WARNING || true
  .venv/bin/python -m pip install --quiet -e ".[test,spark]" 2>&1 | grep -v -E "WARNING|^\s*$" || true
  .venv/bin/python -c "import openem, fastapi, shapely, pyarrow" && echo "$want" > "$stamp"
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "==> npm is missing: installing Debian's nodejs and npm"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
fi
echo "==> front-end assets (npm)"
bash scripts/assets.sh
