#!/usr/bin/env bash
# Run every benchmark, then rewrite docs/PERFORMANCE.md from their tables and this machine's description.
#   bench/run_all.sh            the full run (about 40 minutes on 2 cores)
#   bench/run_all.sh --quick    fewer repetitions and sessions (a smoke run, a few minutes)
# Run it on a quiet machine: the tables are only as steady as the machine under them.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
export TF_CPP_MIN_LOG_LEVEL=2
mkdir -p bench/results
rm -f bench/results/*.md bench/results/*.json
"$PY" -m bench.machine "$@" > bench/results/machine.json
failed=()
run() {
  echo "== $*"
  "$PY" -m "$@" --save || failed+=("$1")
}
run bench.forward "$@"
run bench.rerun "$@"
run bench.load --gc "$@"
run bench.browser "$@"
run bench.payload "$@"
run bench.hall "$@"
"$PY" -m bench.report
if ((${#failed[@]})); then
  echo "failed: ${failed[*]}" >&2
  exit 1
fi
