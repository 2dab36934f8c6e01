#!/usr/bin/env bash
# Command 1: set up and run openem on embedded defaults (SQLite under ./var, in-process bus) with a
# simulated fleet. Prints a user of each role with a one-off password. Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/openem demo "$@"
