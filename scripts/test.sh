#!/usr/bin/env bash
# Command 2: set up everything and run the whole test suite: lint and format (ruff), types (mypy on src, strict on core/rules/model),
# import contracts, then unit, integration (SQLite and a real PostgreSQL/PostGIS, NATS JetStream, Mosquitto)
# and end-to-end tests (the real server in headless Chromium with axe-core). Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/services.sh
trap stop_services EXIT

status=0
echo "==> ruff"
.venv/bin/ruff check src tests benchmarks || status=1
echo "==> ruff format --check"
.venv/bin/ruff format --check src tests benchmarks || status=1
echo "==> mypy (all of src; strict on core and on every rules and model module)"
.venv/bin/mypy src || status=1
echo "==> import contracts"
.venv/bin/lint-imports || status=1
echo "==> pytest"
set +e
.venv/bin/python -m pytest -n 2 -p no:cacheprovider "$@"
rc=$?
set -e
if [ $rc -eq 5 ]; then echo "pytest collected no tests"; rc=1; fi
[ $rc -ne 0 ] && status=$rc
if [ $status -ne 0 ]; then echo "==> FAILED (exit $status)"; else echo "==> all checks passed"; fi
exit $status
