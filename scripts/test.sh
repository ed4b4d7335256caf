#!/usr/bin/env bash
# Set up .venv with the development tools if needed, then lint, type-check and run the whole test suite.
# Extra arguments go to pytest (e.g. scripts/test.sh -k state).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh requirements-dev.txt
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy  # files and settings in pyproject.toml
exec .venv/bin/python -m pytest "$@"
