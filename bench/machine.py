"""Print the machine description as JSON (bench/run_all.sh saves it before the benchmarks start)."""

import json
import sys

from bench.common import machine

if __name__ == "__main__":
    info = machine()
    if "--quick" in sys.argv:
        info["quick"] = "yes"
    print(json.dumps(info, indent=1))
