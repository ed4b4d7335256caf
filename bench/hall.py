"""A lecture hall on one 2-core machine (issue 11): the targets in one run, as the deployment serves.

    .venv/bin/python -m bench.hall [--quick] [--save]

1. Classes of 200 students who read before they act (think 1–5 s, first actions spread over 20 s),
   each on fresh servers: 2 replicas behind deploy/'s nginx on the same 2 cores, each student
   through it with the affinity cookie (bench/load.py run_on_server, proxy=True). a200 only edits,
   m200 picks half the time, x200 explores (an edit, then three view picks). Target: p95 ≤ 300 ms,
   zero errors, each replica's page process ≤ 600 MB.
2. The stampede: the whole class (and 60 students, as measured before) opens the page at the same
   instant, then edits at once; first over the websocket alone (sN), then as browsers with empty
   caches do it, the page's ~143 files first (fN, bench/visit.py: nginx keeps them, the replicas
   too). Target: first page p95 ≤ 2 s, zero errors. Then the class that only edits on one process,
   straight to it: reported, no target (what the second process buys).
3. View picks against Streamlit's floor, in the same run: one session on a server of the app
   (bench/edit_cost.py's kinds: CPU of the page process per pick) and one on a server of
   bench/pages/floor.py with the same start-up (a fragment holding the view's slider and two select
   boxes: what any widget change costs). "Next to nothing" as a number: a pick ≤ 1.5× the floor.
   The view controls are the browser's while the charts can draw the view: a step move sends nothing
   (0 ms: nothing reaches the server; the class scenarios count such moves apart, Outcome.unsent); a
   row or neuron pick, and a click on a cell (which sets the controls in the browser), ask for the
   explanation's part alone (bench/stclient.py Session.move, Session.click).
--quick: 60 students and fewer picks (a smoke run).
"""

from __future__ import annotations

import asyncio
import statistics

from bench import edit_cost, load
from bench.before_after import served
from bench.common import ROOT, Report, Table, cpu_seconds, in_turn, mb, ms, run_main
from bench.stclient import Session

REPLICAS = 2
TARGET_P95_MS = 300.0
TARGET_RSS_MB = 600.0
TARGET_FIRST_LOAD_S = 2.0
TARGET_PICK_X_FLOOR = 1.5
PICKS = ("row pick", "step pick", "neuron pick", "cell click")
FLOOR_CHANGES = {  # one widget change each, as a browser sends it (a select box: its option's label)
    "slider": lambda i: {"view_step": i % 3},
    "select box": lambda i: {"view_neuron": f"neuron {i % 8}"},
}


async def floor_session(url: str, pid: int, changes: int) -> dict[str, float]:
    """CPU ms of the page process per widget change on the floor page, by widget."""
    found = {}
    async with Session(url, timeout=60) as client:
        await client.run()
        for kind, change in FLOOR_CHANGES.items():
            await client.run(change(1))
            start = cpu_seconds(pid) or 0.0
            for i in range(changes):
                await client.run(change(i + 2))
            found[kind] = ((cpu_seconds(pid) or 0.0) - start) / changes * 1000
    return found


def picks(report: Report, changes: int, rounds: int) -> None:
    """The app's picks and the floor, alternating servers `rounds` times (a busy machine weighs on both)."""
    app_rows: list[dict] = []
    floors: list[float] = []
    table = Table(
        "View picks against Streamlit's floor (CPU ms of the page process per action, one session)",
        ["round", "floor: slider / select box", *[f"{kind} (messages)" for kind in PICKS], "seed edit"],
    )
    for round_ in range(1, rounds + 1):
        for page in in_turn(("floor", "app"), round_):  # (neither always first in its round)
            if page == "floor":
                with served(ROOT, page="bench/pages/floor.py") as (url, pid):
                    floor = asyncio.run(floor_session(url, pid, changes))
            else:
                with served(ROOT) as (url, pid):
                    found = asyncio.run(edit_cost.session(url, pid, changes))
        floors.append(statistics.mean(floor.values()))
        app_rows.append(found)
        cells = [f"{found[kind][0]:.2f} ({found[kind][1]:.0f})" for kind in PICKS]
        table.add(
            round_, " / ".join(f"{v:.2f}" for v in floor.values()), *cells, f"{found['seed edit'][0]:.1f}"
        )
    floor_ms = statistics.median(floors)
    table.notes.append(
        f"floor: bench/pages/floor.py on the app's start-up; the app's picks follow a first pick in the "
        f"same network (the view controls are the browser's: a row or neuron pick or a click asks "
        f"for the explanation's part, a step move sends nothing: Session.move, Session.click); "
        f"{changes} of each per round"
    )
    report.tables.append(table)
    report.data["picks"] = {"floor_ms": floors, "app": app_rows}
    for kind in PICKS:
        cost = statistics.median(row[kind][0] for row in app_rows)
        report.target(
            f"{kind}: CPU ≤ {TARGET_PICK_X_FLOOR:g}× Streamlit's floor for any widget change",
            f"{cost:.2f} ms = {cost / floor_ms:.2f}× ({floor_ms:.2f} ms)",
            cost <= TARGET_PICK_X_FLOOR * floor_ms,
        )


def classes(report: Report, students: int) -> None:
    """The classes and the stampedes on 2 replicas behind nginx; and the class that only edits on one
    process, straight to it (reported: what the second process buys)."""
    scenarios = [load.Scenario.parse(f"{kind}{students}") for kind in "amx"]
    stampedes = [load.Scenario.parse(f"{kind}{n}") for kind in "sf" for n in sorted({60, students})]
    outcomes: list[load.Outcome] = []
    for scenario in (*scenarios, *stampedes):
        print(f"scenario {scenario.label} on {REPLICAS} replicas behind nginx", flush=True)
        outcomes += load.run_on_server([scenario], replicas=REPLICAS, proxy=True)
    print(f"scenario {scenarios[0].label} on one process", flush=True)
    (alone,) = load.run_on_server([scenarios[0]])
    table = load.scenario_table([*outcomes, alone])
    for outcome in outcomes:
        s = outcome.summary()
        kinds = ", ".join(f"{k} {v:.0f} ms" for k, v in s["p95_ms_by_kind"].items())
        nginx = s["proxy_cpu_ms_per_run"]
        table.notes.append(
            f"{outcome.scenario.name}: p95 by kind: {kinds}; nginx "
            + ("–" if nginx is None else f"{nginx:.2f}")
            + " ms of CPU per run"
        )
    table.notes.append(f"the last row: one process, no proxy ({alone.scenario.name})")
    report.tables.append(table)
    report.data["scenarios"] = [o.summary() for o in (*outcomes, alone)]
    for outcome in outcomes:
        s = outcome.summary()
        what = f"{outcome.scenario.label}, {REPLICAS} replicas behind nginx"
        if outcome.scenario.name[0] in "sf":
            first = s["first_load_p95_ms"] / 1000
            report.target(
                f"{what}: first page p95 ≤ {TARGET_FIRST_LOAD_S:g} s, zero errors",
                f"{ms(first)} ms, {s['errors']} errors",
                first <= TARGET_FIRST_LOAD_S and s["errors"] == 0,
            )
            continue
        by_kind = ", ".join(f"{k} {v:.0f}" for k, v in s["p95_ms_by_kind"].items())
        report.target(
            f"{what}: p95 ≤ {TARGET_P95_MS:g} ms",
            f"{s['p95_ms']:.0f} ms" + (f" ({by_kind})" if len(s["p95_ms_by_kind"]) > 1 else ""),
            s["p95_ms"] <= TARGET_P95_MS,
        )
        report.target(f"{what}: zero errors", str(s["errors"]), s["errors"] == 0)
        peak = (s["rss"]["page_peak"] or 0) / 2**20
        report.target(
            f"{what}: page process ≤ {TARGET_RSS_MB:g} MB",
            mb(s["rss"]["page_peak"]) + " MB",
            peak <= TARGET_RSS_MB,
        )
    s = alone.summary()
    report.target(
        f"{scenarios[0].label}, one process (for comparison, no target)",
        f"p95 {s['p95_ms']:.0f} ms, {s['errors']} errors, {mb(s['rss']['page_peak'])} MB",
        None,
    )


def run(quick: bool) -> Report:
    report = Report(
        name="hall",
        heading="6. A lecture hall (200 students, 2 replicas behind nginx, one 2-core machine)",
        command=".venv/bin/python -m bench.hall --save",
    )
    report.text.append(
        "Each scenario on fresh servers started as the image starts them (its environment), behind "
        "deploy/'s nginx, all on the same 2 cores as the load generator. Latency: an action's message to "
        "the end of its run, as the client sees it through nginx."
    )
    report.data = {}
    picks(report, changes=20 if quick else 100, rounds=1 if quick else 4)  # (CPU is read in 10 ms ticks;
    # the floor itself moves by a third from run to run: the medians of 4 alternating rounds)
    classes(report, students=60 if quick else 200)
    return report


if __name__ == "__main__":
    run_main(__doc__, run)
