"""Page rerun under AppTest: one widget change at the tutorial size, our page against the baseline.

    .venv/bin/python -m bench.rerun [--quick] [--save]

Our page is app/main.py (TensorFlow in the worker). The baseline is bench/baseline_tf_page.py, the
same kind of page with TensorFlow imported into the Streamlit process (the rejected design). Each
page runs in a fresh subprocess of its own, so TensorFlow never enters the process timing our page
(the child checks). Edits:
- seed: a new seed every time, so the result cache misses and the page recomputes (worker call);
- row: pick another row to follow (the result comes from the cache).
CPU: the page process's CPU time per rerun (AppTest's thread and the script thread; not the worker),
steadier than wall time on a busy machine.
AppTest does not run Streamlit's post-run gc.collect(2) (runner.postScriptGC, on by default in a
server); the "+ gc" columns add the time of that collection, measured right after each run.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import subprocess
import sys
import time

from bench.common import ROOT, Report, Table, add_common_args, finish, median, ms, p95

PAGES = {"ours": ROOT / "app" / "main.py", "baseline": ROOT / "bench" / "baseline_tf_page.py"}
TARGET_P50_MS = 30.0
TARGET_SPEEDUP = 10.0


def child(page: str, runs: int, path: str | None = None) -> dict:
    """Runs inside the subprocess: time `runs` edits of each kind; print JSON."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(path or str(PAGES[page]), default_timeout=180)
    t0 = time.perf_counter()
    at.run()
    first = time.perf_counter() - t0
    if at.exception:
        raise RuntimeError(f"{page} failed: {at.exception}")
    rng = random.Random(1)
    found: dict[str, dict[str, list[float]]] = {}
    for kind in ("seed", "row"):
        runs_s, gc_s, cpu_s = [], [], []
        for i in range(runs + 3):
            if kind == "seed":
                if not any(w.key == "seed" for w in at.number_input):
                    at.run()  # a keyed fragment ran: AppTest then lists its elements only (not timed)
                at.number_input(key="seed").set_value(rng.randrange(10**9))
            else:
                if not any(w.key == "view_row" for w in at.selectbox):
                    at.run()  # (as above: the pickers are a part of their own)
                at.selectbox(key="view_row").set_value((i + 1) % 3)
            t0, c0 = time.perf_counter(), time.process_time()
            at.run()
            elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
            t0 = time.perf_counter()
            gc.collect(2)
            collect = time.perf_counter() - t0
            if at.exception or at.error:
                raise RuntimeError(f"{page}: {at.exception or [e.value for e in at.error]}")
            if i >= 3:  # the first three are warm-up
                runs_s.append(elapsed)
                gc_s.append(collect)
                cpu_s.append(cpu)
        found[kind] = {"run": runs_s, "gc": gc_s, "cpu": cpu_s}
    tf_loaded = "tensorflow" in sys.modules
    if page == "ours" and tf_loaded:
        raise AssertionError("TensorFlow was imported into the process running our page")
    return {"first_run_s": first, "tensorflow_in_process": tf_loaded, "edits": found}


def run_child(page: str, runs: int) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "bench.rerun", "--child", page, "--runs", str(runs)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if out.returncode != 0:
        raise RuntimeError(f"{page} child failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(quick: bool) -> Report:
    runs = 10 if quick else 60
    report = Report(
        name="rerun",
        heading="2. Page rerun (AppTest, tutorial size)",
        command=".venv/bin/python -m bench.rerun --save",
    )
    results = {page: run_child(page, runs) for page in PAGES}
    report.data = results
    table = Table(
        f"One widget change, ms per rerun ({runs} edits each; ratio: to the baseline page's median)",
        [
            "page",
            "edit",
            "median",
            "p95",
            "× baseline",
            "median + gc",
            "p95 + gc",
            "CPU median",
            "TF in process",
        ],
    )
    for kind, what in (("seed", "seed (recompute)"), ("row", "row (cached result)")):
        base = median(results["baseline"]["edits"][kind]["run"])
        for page, label in (("baseline", "baseline: TF in-process"), ("ours", "ours: TF in the worker")):
            edits = results[page]["edits"][kind]
            with_gc = [a + b for a, b in zip(edits["run"], edits["gc"], strict=True)]
            med = median(edits["run"])
            table.add(
                label,
                what,
                ms(med),
                ms(p95(edits["run"])),
                f"{med / base:.3g}×",
                ms(median(with_gc)),
                ms(p95(with_gc)),
                ms(median(edits["cpu"])),
                "yes" if results[page]["tensorflow_in_process"] else "no",
            )
    table.notes.append(
        "first run (worker start or TF import included): "
        + ", ".join(f"{page} {results[page]['first_run_s']:.1f} s" for page in PAGES)
    )
    report.tables.append(table)
    ours = median(results["ours"]["edits"]["seed"]["run"])
    base = median(results["baseline"]["edits"]["seed"]["run"])
    ours_gc = _median_with_gc(results["ours"]["edits"]["seed"])
    base_gc = _median_with_gc(results["baseline"]["edits"]["seed"])
    report.target(f"p50 ≤ {TARGET_P50_MS:g} ms (seed edit)", f"{ms(ours)} ms", ours * 1000 <= TARGET_P50_MS)
    report.target(
        f"≥ {TARGET_SPEEDUP:g}× faster than the baseline (seed edit, AppTest)",
        f"{base / ours:.1f}×",
        base / ours >= TARGET_SPEEDUP,
    )
    report.target(
        f"≥ {TARGET_SPEEDUP:g}× faster than the baseline (seed edit, with the post-run gc)",
        f"{base_gc / ours_gc:.1f}×",
        base_gc / ours_gc >= TARGET_SPEEDUP,
    )
    return report


def _median_with_gc(edits: dict) -> float:
    return median([a + b for a, b in zip(edits["run"], edits["gc"], strict=True)])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_common_args(parser)
    parser.add_argument("--child", choices=sorted(PAGES), help=argparse.SUPPRESS)
    parser.add_argument("--runs", type=int, default=60, help=argparse.SUPPRESS)
    parser.add_argument("--page", help=argparse.SUPPRESS)  # another checkout's page (bench.before_after)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.runs, args.page)))
        return
    finish(run(args.quick), args)


if __name__ == "__main__":
    main()
