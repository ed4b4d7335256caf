"""A lecture hall on one 2-core machine: the class at 200 students, the stampede, a lever A/B, and the
memory that sessions leave behind.

    .venv/bin/python -m bench.lecture ab [--scenario a200] [--replicas 1 [--proxy]] [--rounds 2] [--env K=V]
    .venv/bin/python -m bench.lecture one --scenario a200 [--replicas 2 [--proxy]] [--label after]
    .venv/bin/python -m bench.lecture stampede [--scenario s60] [--replicas 2 [--proxy]]
    .venv/bin/python -m bench.lecture leave [--sessions 200] [--watch 200]

ab: the same scenario on fresh servers, variant A (as committed) and variant B (the environment
given with --env, default RNN_TCP_NODELAY=0: Streamlit's own listening socket), alternating rounds so
that a busy machine weighs on both alike. Reported per round: edit latency percentiles, the page
process's CPU per finished run (steadier than latency under load) and the load average at the start.

--slower S: one process per core busy S of its time (bench/common.py slower_machine; 0.33: the
machine 1.5× slower, as this VM's slow hours measured).

--proxy: the replicas run as the image does behind deploy/'s nginx (on the same 2 cores), and each
student reaches theirs through it with the affinity cookie, as in a deployment; without it, each goes
straight to its replica. `one` then adds nginx's CPU per run.

leave: N sessions open the page at the size caps (50×32×8×256, each its own seed: no shared cached
result), make one edit, and close; the page process's RSS is then sampled for --watch seconds.
Streamlit keeps a disconnected session for server.disconnectedSessionTTL seconds (the app's timer
shuts down the expired ones: app/gc_policy.py).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import tempfile
import time
from pathlib import Path

from bench import load
from bench.before_after import env_option
from bench.common import in_turn, mb, ms, rss_bytes, slower_machine
from bench.payload import caps_query
from bench.stclient import Session
from tests.serving import streamlit_server


def loadavg() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def ab(scenario: str, replicas: int, rounds: int, env_b: dict[str, str], proxy: bool = False) -> None:
    rows = []
    for r in range(rounds):
        for label, env in in_turn((("A: as committed", {}), (f"B: {env_b}", env_b)), r + 1):
            avg = loadavg()
            (outcome,) = load.run_on_server(
                [load.Scenario.parse(scenario)], env=env, replicas=replicas, proxy=proxy
            )
            s = outcome.summary()
            rows.append((label, r + 1, s, avg, loadavg()))
    print(f"\n#### {load.Scenario.parse(scenario).label}, {replicas} process(es), alternating rounds\n")
    print(
        "| variant | round | edits | p50 ms | p95 ms | max ms | errors | page CPU ms per run "
        "| first load p95 ms | page RSS peak MB | load avg at start / end |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for label, r, s, avg0, avg1 in rows:
        print(
            f"| {label} | {r} | {s['edits_done']} | {ms(s['p50_ms'] / 1000)} | {ms(s['p95_ms'] / 1000)} "
            f"| {ms(s['max_ms'] / 1000)} | {s['errors']} | {load._num(s['page_cpu_ms_per_run'])} "
            f"| {ms(s['first_load_p95_ms'] / 1000)} | {mb(s['rss']['page_peak'])} | {avg0} / {avg1} |"
        )
        if s["errors"]:
            print(f"|  errors e.g. | {s['error_examples'][:2]} |")


def one(scenario: str, replicas: int, label: str, proxy: bool = False, slower: float = 0.0) -> None:
    """One scenario once, as one table row (a shell loop alternates checkouts: before and after)."""
    avg = loadavg()
    with slower_machine(slower):
        (outcome,) = load.run_on_server([load.Scenario.parse(scenario)], replicas=replicas, proxy=proxy)
    s = outcome.summary()
    print(
        f"| {label} | {scenario} | {replicas} | {s['edits_done']} | {ms(s['p50_ms'] / 1000)} "
        f"| {ms(s['p95_ms'] / 1000)} | {ms(s['max_ms'] / 1000)} | {s['errors']} "
        f"| {load._num(s['page_cpu_ms_per_run'])} | {ms(s['first_load_p50_ms'] / 1000)} "
        f"| {ms(s['first_load_p95_ms'] / 1000)} | {mb(s['rss']['page_peak'])} | {avg} / {loadavg()} |",
        flush=True,
    )
    print(f"load generator CPU {outcome.client_cpu:.2f} s over {outcome.seconds:.1f} s", flush=True)
    if len(s["p95_ms_by_kind"]) > 1:
        print(
            "p95 by kind: " + ", ".join(f"{k} {v:.0f} ms" for k, v in s["p95_ms_by_kind"].items()), flush=True
        )
    if proxy:
        cpu = s["proxy_cpu_ms_per_run"]
        print(f"nginx: {'–' if cpu is None else f'{cpu:.2f}'} ms of CPU per run", flush=True)
    if s["errors"]:
        print(f"errors e.g. {s['error_examples'][:3]}", flush=True)


def stampede(scenario: str, replicas: int, proxy: bool = False) -> None:
    avg = loadavg()
    (outcome,) = load.run_on_server([load.Scenario.parse(scenario)], replicas=replicas, proxy=proxy)
    s = outcome.summary()
    through = " behind nginx" if proxy else ""
    print(f"\n#### {outcome.scenario.label}, {replicas} process(es){through}; load avg {avg} / {loadavg()}\n")
    print("| first load p50 | first load p95 | edit p50 | edit p95 | errors | page CPU ms per run |")
    print("|---|---|---|---|---|---|")
    print(
        f"| {ms(s['first_load_p50_ms'] / 1000)} | {ms(s['first_load_p95_ms'] / 1000)} "
        f"| {ms(s['p50_ms'] / 1000)} | {ms(s['p95_ms'] / 1000)} | {s['errors']} "
        f"| {load._num(s['page_cpu_ms_per_run'])} |"
    )
    if outcome.opening:
        print(f"\n- {outcome.opening.words(load.CORES, outcome.scenario.sessions)}")


async def _visit(url: str, query: str, seed: int, errors: list[str], gate: asyncio.Semaphore) -> None:
    async with gate:
        try:
            async with Session(url, query_string=query, timeout=300) as session:
                first = await session.open()
                edit = await session.run({"seed": seed})
                if not (first.ok and edit.ok):
                    errors.append(str(first.errors or edit.errors or edit.status))
        except Exception as err:
            errors.append(f"{type(err).__name__}: {err}")


def leave(sessions: int, watch: float, period: float, parallel: int, env: dict[str, str]) -> None:
    with tempfile.TemporaryDirectory() as tmp, streamlit_server(Path(tmp), env=env) as server:
        asyncio.run(load._warm(server.url))
        pid = server.process.pid
        start = rss_bytes(pid)
        avg0 = loadavg()
        errors: list[str] = []
        rng = random.Random(0)
        peak = start or 0
        t0 = time.perf_counter()

        async def visit_all() -> None:
            gate = asyncio.Semaphore(parallel)
            query = caps_query()
            seeds = [rng.randrange(2**32 - 1) for _ in range(sessions)]
            await asyncio.gather(*(_visit(server.url, query, seed, errors, gate) for seed in seeds))

        sampler = load.MemorySampler(pid, period=0.5)
        sampler.start()
        asyncio.run(visit_all())
        sampler.stop()
        peak = max(peak, sampler.peak["page"])
        left = time.perf_counter()
        samples = [(0.0, rss_bytes(pid))]
        while time.perf_counter() - left < watch:
            time.sleep(period)
            samples.append((time.perf_counter() - left, rss_bytes(pid)))
        print(
            f"\n#### {sessions} sessions at the caps (50×32×8×256) came, edited once and left "
            f"({time.perf_counter() - t0:.0f} s in all; load avg {avg0} / {loadavg()}; "
            f"errors {len(errors)})\n"
        )
        after = " | ".join(f"{t:.0f} s after leaving" for t, _ in samples)
        print(f"| page RSS MB: before | peak | {after} |")
        print("|---|---|" + "---|" * len(samples))
        print(f"| {mb(start)} | {mb(peak)} | " + " | ".join(mb(v) for _, v in samples) + " |")
        if errors:
            print("errors e.g.", errors[:3])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("what", choices=("ab", "one", "stampede", "leave"))
    parser.add_argument("--label", default="")
    parser.add_argument("--scenario", default=None)
    parser.add_argument("--replicas", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--proxy", action="store_true", help="the replicas behind deploy/'s nginx")
    parser.add_argument(
        "--slower", type=float, default=0.0, help="one: a process per core takes this share of it"
    )
    env_option(parser)
    parser.add_argument("--sessions", type=int, default=200)
    parser.add_argument("--watch", type=float, default=200.0)
    parser.add_argument("--period", type=float, default=20.0)
    parser.add_argument("--parallel", type=int, default=20, help="leave: sessions open at once")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env = dict(args.env)
    if args.what == "ab":
        ab(args.scenario or "a200", args.replicas, args.rounds, env or {"RNN_TCP_NODELAY": "0"}, args.proxy)
    elif args.what == "one":
        one(args.scenario or "a200", args.replicas, args.label, args.proxy, args.slower)
    elif args.what == "stampede":
        stampede(args.scenario or "s60", args.replicas, args.proxy)
    else:
        leave(args.sessions, args.watch, args.period, args.parallel, env)


if __name__ == "__main__":
    main()
