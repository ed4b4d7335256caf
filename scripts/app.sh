#!/usr/bin/env bash
# Set up .venv if needed, then start the app on the tutorial's defaults: http://localhost:8501
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh requirements.txt
exec .venv/bin/python -m app.serve "$@"  # = streamlit run app/main.py, with the TF worker started first
