#!/usr/bin/env bash
# Create .venv if it is missing and install REQUIREMENTS (default requirements.txt) when they change.
set -euo pipefail
cd "$(dirname "$0")/.."
REQUIREMENTS="${1:-requirements.txt}"
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "Creating the virtual environment in .venv ..."
  "$PYTHON" -m venv .venv || { echo "python3 -m venv failed: on Debian/Ubuntu run 'sudo apt-get install python3-venv'" >&2; exit 1; }
fi
stamp=".venv/.installed-$(basename "$REQUIREMENTS")"
hash="$(cat requirements*.txt pyproject.toml | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$hash" ]; then
  echo "Installing $REQUIREMENTS into .venv (the first time takes a few minutes) ..."
  .venv/bin/python -m pip install --disable-pip-version-check -q -r "$REQUIREMENTS"
  # The project itself, editable: `app` and `rnn_core` import from anywhere, no sys.path edits.
  .venv/bin/python -m pip install --disable-pip-version-check -q --no-deps -e .
  echo "$hash" > "$stamp"
fi
