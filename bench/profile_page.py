"""Where a page rerun spends its time: cProfile over AppTest edits of app/main.py.

    .venv/bin/python -m bench.profile_page [--edit seed|row] [--runs 30] [--top 40] [--sort tottime]

A tool for finding what to make faster, not a benchmark (profiling slows Python code down ~2x).
Each script run (the whole page's, or a fragment's) is profiled in the script thread only;
AppTest's own work in the test thread is not in the profile (it is in the wall time printed).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import random
import time

from bench import pagewrap
from bench.common import ROOT

PAGE = ROOT / "app" / "main.py"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--edit", choices=("seed", "row"), default="seed")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--sort", default="cumulative", help="pstats sort key: cumulative, tottime, ...")
    args = parser.parse_args()

    from streamlit.runtime.scriptrunner.script_runner import ScriptRunner
    from streamlit.testing.v1 import AppTest

    run_script = ScriptRunner._run_script

    def profiled(self, rerun_data):  # every run in the script thread, a whole page's or a fragment's
        if not pagewrap.__dict__.get("profiling"):
            return run_script(self, rerun_data)
        profiler = pagewrap.__dict__.setdefault("profiler", cProfile.Profile())
        profiler.enable()
        try:
            return run_script(self, rerun_data)
        finally:
            profiler.disable()

    ScriptRunner._run_script = profiled  # type: ignore[method-assign]

    at = AppTest.from_file(str(PAGE), default_timeout=180)
    at.run()
    for _ in range(3):
        at.number_input(key="seed").set_value(1).run()
        at.run()
    rng = random.Random(1)
    wall = []
    for i in range(args.runs):
        pagewrap.profiling = False
        if not any(w.key == "seed" for w in at.number_input):
            at.run()  # a results-only rerun ran: AppTest then holds its elements only (not profiled)
        pagewrap.profiling = True
        if args.edit == "seed":
            at.number_input(key="seed").set_value(rng.randrange(10**9))
        else:
            at.selectbox(key="view_row").set_value((i + 1) % 3)
        t0 = time.perf_counter()
        at.run()
        wall.append(time.perf_counter() - t0)
    pagewrap.profiling = False
    wall.sort()
    print(f"median wall time per rerun under the profiler: {wall[len(wall) // 2] * 1000:.1f} ms")
    out = io.StringIO()
    stats = pstats.Stats(pagewrap.profiler, stream=out)
    stats.sort_stats(args.sort).print_stats(args.top)
    print(out.getvalue())


if __name__ == "__main__":
    main()
