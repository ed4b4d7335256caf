"""Classroom load: many browser sessions against a real `streamlit run app/main.py` on loopback.

    .venv/bin/python -m bench.load [--scenarios a10,a30,a60,b30] [--gc] [--quick] [--save]

Each session speaks Streamlit's browser protocol (bench/stclient.py): it opens the page, then
edits the sidebar seed (a new random value each time, so every edit misses the result cache and
recomputes through the TensorFlow worker) and measures from sending the edit to script_finished.
Scenarios:
  aN  a class: N sessions open the page (spread over a few seconds), then each makes 10 edits,
      waiting for its charts and thinking 1-5 s (uniform) before each edit;
  bN  a burst: N sessions, each editing every 0.2 s for 5 s without waiting for the charts
      (a held-down "+" button, as the browser sends it); an edit counts as done when a run that
      started after it finishes. Streamlit stops a run when the next edit of its session arrives,
      so a run finishes only when no edit follows within its run time;
  cN  the same burst, but each session waits for its result before the next edit 0.2 s later;
  sN  a stampede: N sessions open the page at the same instant (a class told "open the link now"),
      then all make their first edit together once everyone has the page (no reading time);
  fN  the stampede as browsers with empty caches make it: each first fetches index.html and the
      ~143 files a first visit loads (recorded by headless Chromium from the servers at hand:
      bench/visit.py), six connections at a time, then opens the websocket; its first page counts
      from the first file asked for to the first run's end;
  mN  a class that also looks: as aN, but each action is a seed edit (half of them), a row pick or
      a step pick (a quarter each: view picks, the result from the cache), drawn at random;
  xN  a class that explores: as aN, but each seed edit is followed by three view picks (a step, a
      row or a neuron, drawn at random): students look at what their edit did.
In a class (aN) students arrive spread over max(5 s, N/10 s) and read 1-5 s before their first
edit; firing every first edit at the same instant measures the stampede (sN), not the class.
--gc compares ways of keeping memory bounded (the a60 class on each): runner.postScriptGC on/off
(command-line flag, whatever .streamlit/config.toml says), with gc.freeze after start-up and/or a
collection on a timer (bench/pages/gc_variant.py), logging every full collection in the server.
The page process and the worker are sampled for RSS every 0.25 s. The load generator runs on the
same cores as the server; its own CPU use is reported.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import os
import random
import secrets
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench import visit
from bench.common import (
    Report,
    Table,
    add_common_args,
    children,
    cpu_seconds,
    find_worker,
    finish,
    mb,
    median,
    ms,
    p95,
    rss_bytes,
)
from bench.stclient import Session
from tests.serving import streamlit_server

SEED_MAX = 2**32 - 1
TARGET_A60_P95_MS = 300.0
TARGET_RSS_MB = 400.0
TARGET_B_P95_MS = 1000.0


@dataclass
class Scenario:
    name: str
    sessions: int
    edits: int = 10
    think: tuple[float, float] | None = (1.0, 5.0)  # closed loop: wait for the result, then think
    interval: float | None = None  # open loop: an edit every `interval` seconds, results or not
    stagger: float = 5.0  # sessions open the page spread over this many seconds
    picks: bool = False  # mN: half the actions are view picks (a row or a step)
    explore: bool = False  # xN: an edit, then three view picks
    files: tuple[str, ...] | None = None  # fN: each browser first fetches these (bench/visit.py), cache empty

    @staticmethod
    def parse(name: str, quick: bool = False) -> Scenario:
        kind, n = name[0], int(name[1:])
        if kind in "amx":
            edits = (4 if kind == "x" else 3) if quick else (12 if kind == "x" else 10)
            stagger = max(5.0, n / 10)
            return Scenario(name, n, edits=edits, stagger=stagger, picks=kind == "m", explore=kind == "x")
        if kind in "sf":  # (f: with the page's files, recorded when the servers run: run_on_server)
            return Scenario(
                name, n, edits=1, think=(0.0, 0.0), stagger=0.0, files=() if kind == "f" else None
            )
        if kind == "b":
            return Scenario(name, n, edits=10 if quick else 25, think=None, interval=0.2)
        if kind == "c":
            return Scenario(name, n, edits=10 if quick else 25, think=(0.2, 0.2))
        raise ValueError(f"unknown scenario {name!r} (a<N>, b<N>, c<N>, m<N>, s<N> or x<N>)")

    @property
    def label(self) -> str:
        if self.interval:
            return f"(b) burst: {self.sessions} sessions, an edit every {self.interval:g} s"
        if self.name.startswith("c"):
            return f"(b') burst: {self.sessions} sessions, an edit 0.2 s after each result"
        if self.name.startswith("s"):
            return f"(s) stampede: {self.sessions} sessions open the page at once, then edit at once"
        if self.files is not None:
            return (
                f"(f) stampede with the files: {self.sessions} browsers with empty caches open the page at "
                "once (its ~143 files, then its first run), then edit at once"
            )
        if self.picks:
            return (
                f"(m) class: {self.sessions} sessions × {self.edits} actions (half view picks), think 1–5 s"
            )
        if self.explore:
            actions = f"{self.sessions} sessions × {self.edits} actions (an edit, three picks)"
            return f"(x) class: {actions}, think 1–5 s"
        return f"(a) class: {self.sessions} sessions × {self.edits} edits, think 1–5 s"

    def action(self, rng: random.Random, index: int = 0) -> tuple[str, dict[str, object]]:
        """The `index`-th action's kind and its widget changes: a seed edit, or in mN and xN a view pick."""
        if self.explore:
            if index % 4 == 0:
                return "seed edit", {"seed": rng.randrange(SEED_MAX)}
            return rng.choice(
                [
                    ("row pick", {"view_row": f"row {rng.randrange(3)}"}),
                    ("step pick", {"view_step": rng.randrange(3)}),
                    ("neuron pick", {"view_neuron": f"neuron {rng.randrange(8)}"}),
                ]
            )
        roll = rng.random() if self.picks else 0.0
        if roll < 0.5:
            return "seed edit", {"seed": rng.randrange(SEED_MAX)}
        if roll < 0.75:
            return "row pick", {"view_row": f"row {rng.randrange(3)}"}  # (the tutorial's 3 rows, 3 steps)
        return "step pick", {"view_step": rng.randrange(3)}


@dataclass
class Outcome:
    scenario: Scenario
    latencies: list[float] = field(default_factory=list)  # seconds, edits that finished
    by_kind: dict[str, list[float]] = field(default_factory=dict)  # the same, by kind of action
    first_loads: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    bytes_per_edit: list[int] = field(default_factory=list)
    seconds: float = 0.0
    client_cpu: float = 0.0
    page_cpu: float | None = None  # CPU seconds the page process used during the scenario
    worker_cpu: float | None = None
    proxy_cpu: float | None = None  # nginx's (master and workers), when the replicas run behind it
    rss: dict[str, int | None] = field(default_factory=dict)
    full_collections: list[dict] = field(default_factory=list)
    replicas: int = 1
    runs: int = 0  # script runs the server finished (first loads included), seen by the clients
    runs_started: int = 0  # ... and began (a burst interrupts many)
    unsent: dict[str, int] = field(default_factory=dict)  # actions the browser kept (a step move), by kind
    opening: Opening | None = None  # a stampede's: what opening the page cost, before anyone edits

    def summary(self) -> dict:
        return {
            "scenario": self.scenario.name,
            "edits_done": len(self.latencies),
            "unsent_by_kind": dict(self.unsent),  # (not in the latencies: nothing reached the server)
            "p50_ms": median(self.latencies) * 1000,
            "p95_ms": p95(self.latencies) * 1000,
            "p95_ms_by_kind": {kind: p95(values) * 1000 for kind, values in sorted(self.by_kind.items())},
            "max_ms": max(self.latencies, default=float("nan")) * 1000,
            "first_load_p50_ms": median(self.first_loads) * 1000,
            "first_load_p95_ms": p95(self.first_loads) * 1000,
            "errors": len(self.errors),
            "error_examples": sorted(set(self.errors))[:5],
            "bytes_per_edit_median": median(self.bytes_per_edit),
            "seconds": self.seconds,
            "client_cpu_s": self.client_cpu,
            "page_cpu_s": self.page_cpu,
            "worker_cpu_s": self.worker_cpu,
            "runs": self.runs,
            "runs_started": self.runs_started,
            "page_cpu_ms_per_run": _per(self.page_cpu, self.runs),
            "worker_cpu_ms_per_run": _per(self.worker_cpu, self.runs),
            "proxy_cpu_ms_per_run": _per(self.proxy_cpu, self.runs),
            "rss": self.rss,
            "full_collections": len(self.full_collections),
            "full_collection_ms_total": sum(c["ms"] for c in self.full_collections),
            "full_collection_ms_max": max((c["ms"] for c in self.full_collections), default=0.0),
            "full_collection_cpu_ms_median": median([c.get("cpu_ms", 0.0) for c in self.full_collections]),
        }


@dataclass
class Opening:
    """A stampede's opening (every student's first page, before the first edit): its seconds and the
    CPU seconds each part used on the machine's cores."""

    seconds: float
    page: float | None  # the replicas' page processes
    worker: float | None  # their TensorFlow workers
    proxy: float | None  # nginx (master and workers), when in front
    client: float  # the load generator (in a hall: the students' machines)

    def server_cpu(self) -> float:
        return sum(v or 0.0 for v in (self.page, self.worker, self.proxy))

    def words(self, cores: int, sessions: int) -> str:
        """What the opening cost, and how busy it kept the cores (near 100%: CPU-bound, only less work
        per first page would shorten it)."""
        server = self.server_cpu()
        busy = (server + self.client) / (cores * self.seconds) if self.seconds else 0.0
        return (
            f"the opening ({self.seconds:.2f} s until every student had the page) kept the {cores} cores "
            f"{busy:.0%} busy: the servers {server:.2f} s of CPU (page processes "
            f"{(self.page or 0.0) * 1000 / sessions:.1f} ms per first page, "
            f"nginx {(self.proxy or 0.0):.2f} s), "
            f"the load generator {self.client:.2f} s"
        )


def _per(cpu: float | None, n: int) -> float | None:
    return None if cpu is None or not n else cpu * 1000 / n


class MemorySampler(threading.Thread):
    """Samples the RSS of the page process and of the worker until stopped; keeps the peaks."""

    def __init__(self, server_pid: int, period: float = 0.25):
        super().__init__(daemon=True)
        self.server_pid, self.period = server_pid, period
        self.peak = {"page": 0, "worker": 0}
        self.last: dict[str, int | None] = {"page": None, "worker": None}
        self._stop_event = threading.Event()

    def sample(self) -> dict[str, int | None]:
        worker = find_worker(self.server_pid)
        now = {"page": rss_bytes(self.server_pid), "worker": rss_bytes(worker)}
        for name, value in now.items():
            if value is not None:
                self.peak[name] = max(self.peak[name], value)
                self.last[name] = value
        return now

    def run(self) -> None:
        while not self._stop_event.wait(self.period):
            self.sample()

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


# ---- sessions ---------------------------------------------------------------------------------


CORES = os.cpu_count() or 1
Door = tuple[str, str | None]  # how a student's browser reaches a replica: (URL, Cookie header)


async def one_session(
    door: Door, scenario: Scenario, outcome: Outcome, rng: random.Random, start_line
) -> None:
    await asyncio.sleep(rng.uniform(0, scenario.stagger))
    session = Session(door[0], timeout=120, cookie=door[1], chart_words=False)  # (errors are read)
    try:
        files_seconds = 0.0
        if scenario.files:  # a browser with an empty cache: index.html and the files, then the websocket
            t0 = time.perf_counter()
            await visit.fetch(door, list(scenario.files))
            files_seconds = time.perf_counter() - t0
        first = await session.open()
        outcome.first_loads.append(files_seconds + first.seconds)
        if not first.ok:
            outcome.errors.append(f"first load: {first.errors or first.status}")
        await start_line.wait()
        if scenario.interval:
            await _burst(session, scenario, outcome, rng)
        else:
            for index in range(scenario.edits):
                await asyncio.sleep(rng.uniform(*scenario.think))
                kind, changes = scenario.action(rng, index)
                if kind.endswith("pick"):  # (as a browser moves the view controls: it may send nothing)
                    result = await session.move(changes)
                else:
                    result = await session.run(changes)
                _record(outcome, result, kind)
    except Exception as err:  # a session that breaks is an error, not the end of the benchmark
        outcome.errors.append(f"{type(err).__name__}: {err}")
    finally:
        outcome.runs += session.runs_finished
        outcome.runs_started += session.runs_started
        await session.close()


async def _burst(session: Session, scenario: Scenario, outcome: Outcome, rng: random.Random) -> None:
    await asyncio.sleep(rng.uniform(0, scenario.interval))  # not all in the same millisecond
    futures = []
    next_at = time.perf_counter()
    for _ in range(scenario.edits):
        futures.append(await session.edit({"seed": rng.randrange(SEED_MAX)}))
        next_at += scenario.interval
        await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
    for future in futures:
        try:
            _record(outcome, await asyncio.wait_for(future, 120))
        except Exception as err:
            outcome.errors.append(f"{type(err).__name__}: {err}")


def _record(outcome: Outcome, result, kind: str = "seed edit") -> None:
    if not result.sent:  # drawn by the browser: no latency to measure (counted apart)
        outcome.unsent[kind] = outcome.unsent.get(kind, 0) + 1
        return
    if result.ok:
        outcome.latencies.append(result.seconds)
        outcome.by_kind.setdefault(kind, []).append(result.seconds)
        outcome.bytes_per_edit.append(result.n_bytes)
    else:
        outcome.errors.append("; ".join(result.errors) or f"status {result.status}")


async def drive(
    doors: list[Door], scenario: Scenario, seed: int = 0, opened: Callable[[Outcome], None] | None = None
) -> Outcome:
    """Run `scenario`'s sessions through `doors`; in a burst or stampede, `opened` is called when every
    student has the page (or failed), before anyone edits."""
    outcome = Outcome(scenario)
    rng = random.Random(seed)
    start_line = asyncio.Event()
    tasks = [
        asyncio.create_task(
            one_session(doors[i % len(doors)], scenario, outcome, random.Random(rng.random()), start_line)
        )
        for i in range(scenario.sessions)
    ]
    if scenario.interval or not scenario.stagger:  # a burst or a stampede: when everyone has the page
        while len(outcome.first_loads) + len(outcome.errors) < scenario.sessions:
            await asyncio.sleep(0.05)
        if opened is not None:
            opened(outcome)
    start_line.set()
    await asyncio.gather(*tasks)
    return outcome


# ---- servers ----------------------------------------------------------------------------------


def run_on_server(
    scenarios: list[Scenario],
    *,
    script: str = "app/main.py",
    flags: list[str] | None = None,
    env: dict | None = None,
    gc_log: Path | None = None,
    replicas: int = 1,
    proxy: bool = False,
) -> list[Outcome]:
    """Start fresh servers (replicas: sessions spread round-robin), warm them (start the workers), run
    each scenario, sample memory and CPU. With `proxy`, the replicas run as the image does (its ENV)
    behind deploy/'s nginx, on the same machine, and each student's browser reaches its replica
    through it with the affinity cookie, as a deployment's would; else each goes straight to its
    replica. RSS is per process (the largest replica); CPU is summed over the replicas (nginx's is
    Outcome.proxy_cpu)."""
    outcomes = []
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        env = {**deployed_env(), **(env or {})} if proxy else env
        servers = [
            stack.enter_context(streamlit_server(Path(tmp), script, flags, env)) for _ in range(replicas)
        ]
        urls = [server.url for server in servers]
        doors: list[Door] = [(url, None) for url in urls]
        nginx_pids: list[int | None] = []
        if proxy:
            doors, nginx_pids = behind_nginx(stack, Path(tmp), servers)
        pids = [server.process.pid for server in servers]
        warm = max(asyncio.run(_warm(url)) for url in urls)
        settle(pids)  # (TensorFlow imported and warmed up: a server started before the class came)
        samplers = [MemorySampler(pid) for pid in pids]
        idle = [sampler.sample() for sampler in samplers]
        for sampler in samplers:
            sampler.start()
        try:
            for i, scenario in enumerate(scenarios):
                if scenario.files is not None and not scenario.files:  # (the names carry build hashes)
                    scenario = dataclasses.replace(scenario, files=tuple(visit.record(urls[0])))
                workers = [find_worker(pid) for pid in pids]
                page_cpu0, worker_cpu0, proxy_cpu0 = _cpu(pids), _cpu(workers), _cpu(nginx_pids)
                cpu0, t0 = time.process_time(), time.perf_counter()
                opening, opened = _opening_probe(pids, workers, nginx_pids if proxy else None)
                outcome = asyncio.run(drive(doors, scenario, seed=i, opened=opened))
                outcome.opening = opening[0] if opening else None
                outcome.seconds = time.perf_counter() - t0
                outcome.client_cpu = time.process_time() - cpu0
                outcome.page_cpu = _delta(_cpu(pids), page_cpu0)
                outcome.worker_cpu = _delta(_cpu(workers), worker_cpu0)
                outcome.proxy_cpu = _delta(_cpu(nginx_pids), proxy_cpu0) if proxy else None
                outcome.replicas = replicas
                end = [sampler.sample() for sampler in samplers]
                outcome.rss = {
                    "page_idle": _largest(r["page"] for r in idle),
                    "worker_idle": _largest(r["worker"] for r in idle),
                    "page_peak": _largest(sampler.peak["page"] for sampler in samplers),
                    "worker_peak": _largest(sampler.peak["worker"] for sampler in samplers),
                    "page_end": _largest(r["page"] for r in end),
                    "worker_end": _largest(r["worker"] for r in end),
                    "first_page_s": warm,
                }
                if gc_log is not None and gc_log.exists():
                    lines = [json.loads(line) for line in gc_log.read_text().splitlines() if line.strip()]
                    outcome.full_collections = [c for c in lines if c["t"] >= time.time() - outcome.seconds]
                outcomes.append(outcome)
                print(f"  {scenario.name}: {json.dumps(_short(outcome.summary()))}", flush=True)
        finally:
            for sampler in samplers:
                sampler.stop()
    return outcomes


def deployed_env() -> dict[str, str]:
    """What every replica of the image runs with: the Dockerfile's ENV, one cookie secret, the hosts
    the tests' nginx allows (tests/test_deploy.py)."""
    from tests.test_deploy import ALLOWED_HOSTS, image_env

    return {
        **image_env(),
        "STREAMLIT_SERVER_COOKIE_SECRET": secrets.token_hex(32),
        "STREAMLIT_SERVER_ALLOWED_HOSTS": ALLOWED_HOSTS,
    }


def behind_nginx(
    stack: contextlib.ExitStack, tmp: Path, servers: list
) -> tuple[list[Door], list[int | None]]:
    """deploy/'s nginx in front of the servers: a door per replica (the proxy's URL and the affinity
    cookie that lands there) and nginx's processes (its master and workers, for their CPU)."""
    from tests.test_deploy import first_visits, nginx_proxy

    proxy = stack.enter_context(nginx_proxy(tmp / "nginx", [server.port for server in servers]))
    cookies = first_visits(proxy, {server.port for server in servers})
    doors: list[Door] = [(proxy.url, f"st_route={cookies[server.port]}") for server in servers]
    return doors, [proxy.process.pid, *children(proxy.process.pid)]


def _opening_probe(
    pids: Sequence[int | None], workers: Sequence[int | None], nginx_pids: Sequence[int | None] | None
) -> tuple[list[Opening], Callable[[Outcome], None]]:
    """A list, and a callback for `drive` that adds to it what the servers and this process used from
    now until it is called (a stampede's opening)."""
    found: list[Opening] = []
    page0, worker0, proxy0 = _cpu(pids), _cpu(workers), _cpu(nginx_pids or [])
    cpu0, t0 = time.process_time(), time.perf_counter()

    def opened(_: Outcome) -> None:
        found.append(
            Opening(
                seconds=time.perf_counter() - t0,
                page=_delta(_cpu(pids), page0),
                worker=_delta(_cpu(workers), worker0),
                proxy=_delta(_cpu(nginx_pids), proxy0) if nginx_pids is not None else None,
                client=time.process_time() - cpu0,
            )
        )

    return found, opened


def _cpu(pids: Sequence[int | None]) -> float | None:
    values = [cpu_seconds(pid) for pid in pids]
    return None if any(v is None for v in values) else sum(values)


def _largest(values) -> int | None:
    found = [v for v in values if v is not None]
    return max(found) if found else None


def _delta(end: float | None, start: float | None) -> float | None:
    return None if end is None or start is None else end - start


def _short(summary: dict) -> dict:
    keep = ("edits_done", "p50_ms", "p95_ms", "errors", "full_collections", "full_collection_ms_max")
    out = {k: round(v, 1) if isinstance(v, float) else v for k, v in summary.items() if k in keep}
    out["page_peak_mb"] = round((summary["rss"].get("page_peak") or 0) / 2**20)
    return out


def settle(server_pids: list[int], quiet: float = 0.05, window: float = 1.0, deadline: float = 180) -> float:
    """Wait until every server's TensorFlow worker (running since _warm's edit) is quiet (under `quiet`
    of a core over `window` seconds): its warm-up traces (rnn_core/worker.py) done, as on a server
    started before the class comes. Until then a scenario's first seconds would share the 2 cores
    with the worker's tracing of training (seconds of CPU). Returns the seconds waited (≤ `deadline`)."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < deadline:
        workers = [find_worker(pid) for pid in server_pids]
        before = [cpu_seconds(w) for w in workers]
        time.sleep(window)  # (a measurement window, not a synchronisation: the condition is checked)
        after = [cpu_seconds(w) for w in workers]
        used = [None if a is None or b is None else a - b for a, b in zip(after, before, strict=True)]
        if all(u is None or u < quiet * window for u in used):  # (None: no worker, or it is gone)
            break
    return time.perf_counter() - t0


async def _warm(url: str) -> float:
    """Open the page once and edit the seed once (the TF worker answers: started and imported, even
    where the page alone is served from the stored result); seconds to the first finished run."""
    async with Session(url, timeout=180) as session:
        first = (await session.open()).seconds
        await session.run({"seed": 7})
        return first


# ---- the report -------------------------------------------------------------------------------

GC_VARIANTS = [
    # label, postScriptGC, BENCH_GC_MODE
    ("postScriptGC on (Streamlit's default)", True, "none"),
    ("postScriptGC off", False, "none"),
    ("off + gc.freeze() after start-up", False, "freeze"),
    ("off + gc.collect() every 30 s", False, "timer"),
    ("off + freeze + timer (the app as shipped)", False, "app"),
    ("on + freeze", True, "freeze"),
]


def scenario_table(outcomes: list[Outcome]) -> Table:
    table = Table(
        "Edit → script_finished (ms); RSS in MB (peak during the scenario / at its end)",
        [
            "scenario",
            "edits",
            "p50",
            "p95",
            "max",
            "errors",
            "CPU ms per run: page / worker",
            "page RSS peak/end",
            "worker RSS peak/end",
        ],
    )
    for outcome in outcomes:
        s = outcome.summary()
        rss = s["rss"]
        table.add(
            outcome.scenario.label + (f", {outcome.replicas} replicas" if outcome.replicas > 1 else ""),
            s["edits_done"],
            ms(s["p50_ms"] / 1000),
            ms(s["p95_ms"] / 1000),
            ms(s["max_ms"] / 1000),
            s["errors"],
            f"{_num(s['page_cpu_ms_per_run'])} / {_num(s['worker_cpu_ms_per_run'])}",
            f"{mb(rss['page_peak'])} / {mb(rss['page_end'])}",
            f"{mb(rss['worker_peak'])} / {mb(rss['worker_end'])}",
        )
    extra = []
    for outcome in outcomes:
        s = outcome.summary()
        extra.append(
            f"{outcome.scenario.name}: first page load p50 {ms(s['first_load_p50_ms'] / 1000)} ms, "
            f"p95 {ms(s['first_load_p95_ms'] / 1000)} ms; "
            f"{s['bytes_per_edit_median'] / 1024:.0f} KB per edit; "
            f"{s['runs']} runs finished of {s['runs_started']} started; "
            f"load generator CPU {s['client_cpu_s']:.1f} s over {s['seconds']:.0f} s"
            + (f"; errors e.g. {s['error_examples'][:2]}" if s["errors"] else "")
            + "".join(
                f"; {n} {kind}s kept by the browser (none sent)" for kind, n in s["unsent_by_kind"].items()
            )
            + (f"; {outcome.opening.words(CORES, outcome.scenario.sessions)}" if outcome.opening else "")
        )
    table.notes += extra
    return table


def _num(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f}"


def gc_table(rows: list[tuple[str, Outcome]]) -> Table:
    scenario = rows[0][1].scenario.label if rows else ""
    table = Table(
        f"Keeping memory bounded: {scenario}, under each variant (ms; MB)",
        [
            "variant",
            "p50",
            "p95",
            "errors",
            "page RSS idle",
            "page RSS peak",
            "page RSS end",
            "full collections: count, total ms, max ms",
            "CPU ms of one (median)",
        ],
    )
    for label, outcome in rows:
        s = outcome.summary()
        rss = s["rss"]
        table.add(
            label,
            ms(s["p50_ms"] / 1000),
            ms(s["p95_ms"] / 1000),
            s["errors"],
            mb(rss["page_idle"]),
            mb(rss["page_peak"]),
            mb(rss["page_end"]),
            f"{s['full_collections']}, {s['full_collection_ms_total']:.0f}, "
            f"{s['full_collection_ms_max']:.0f}",
            f"{s['full_collection_cpu_ms_median']:.1f}" if s["full_collections"] else "–",
        )
    table.notes.append(
        "full collections: every generation-2 collection in the page process during the scenario "
        "(Streamlit's post-run gc, the timer, and Python's automatic ones), from gc.callbacks; wall time "
        "(what the other sessions wait: the GIL is held) and the collecting thread's CPU time"
    )
    return table


def run(
    names: list[str],
    with_gc: bool,
    quick: bool,
    gc_only: bool = False,
    script: str = "app/main.py",
    flags: list[str] | None = None,
    replicas: list[tuple[str, int]] = (),
) -> Report:
    report = Report(
        name="load",
        heading="3. Classroom load (real server, browser protocol)",
        command=".venv/bin/python -m bench.load --gc --save",
    )
    if script != "app/main.py" or flags:
        report.text.append(f"Experiment: page {script}, flags {flags}.")
    report.text.append(
        "Server: `streamlit run app/main.py` with .streamlit/config.toml as committed; each scenario on a "
        "fresh server, warmed by one page load (the worker started). Every edit sets a new random seed, so "
        "every rerun recomputes through the TensorFlow worker. The load generator shares the 2 cores."
    )
    report.data = {"scenarios": [], "gc": []}
    outcomes = []
    if not gc_only:
        for name in names:
            scenario = Scenario.parse(name, quick)
            print(f"scenario {scenario.label}", flush=True)
            outcomes += run_on_server([scenario], script=script, flags=flags)
        for name, n in replicas:
            scenario = Scenario.parse(name, quick)
            print(f"scenario {scenario.label} on {n} replicas", flush=True)
            outcomes += run_on_server([scenario], script=script, flags=flags, replicas=n)
        report.tables.append(scenario_table(outcomes))
        report.data["scenarios"] = [o.summary() for o in outcomes]
    gc_rows = []
    if with_gc:
        a60 = Scenario.parse("a30" if quick else "a60", quick)
        for label, post_gc, mode in GC_VARIANTS:
            print(f"gc variant: {label}", flush=True)
            with tempfile.TemporaryDirectory() as tmp:
                log = Path(tmp) / "gc.jsonl"
                (outcome,) = run_on_server(
                    [a60],
                    script="bench/pages/gc_variant.py",
                    flags=[f"--runner.postScriptGC={str(post_gc).lower()}"],
                    env={"BENCH_GC_MODE": mode, "BENCH_GC_LOG": str(log)},
                    gc_log=log,
                )
            gc_rows.append((label, outcome))
            report.data["gc"].append({"variant": label, **outcome.summary()})
        report.tables.append(gc_table(gc_rows))
    _targets(report, outcomes)
    return report


def _targets(report: Report, outcomes: list[Outcome]) -> None:
    by_name = {o.scenario.name: o.summary() for o in outcomes if o.replicas == 1}
    for o in outcomes:
        if o.replicas > 1:
            s = o.summary()
            what = f"{o.scenario.label} on {o.replicas} replicas (a deployment option): p95 ≤ 300 ms"
            report.target(what, f"{s['p95_ms']:.0f} ms", s["p95_ms"] <= TARGET_A60_P95_MS)
    if "a60" in by_name:
        s = by_name["a60"]
        report.target(
            f"(a) 60 sessions: p95 ≤ {TARGET_A60_P95_MS:g} ms", f"{s['p95_ms']:.0f} ms", s["p95_ms"] <= 300
        )
        report.target("(a) 60 sessions: zero errors", str(s["errors"]), s["errors"] == 0)
        peak = (s["rss"]["page_peak"] or 0) / 2**20
        what = f"(a) 60 sessions: page process ≤ {TARGET_RSS_MB:g} MB"
        report.target(what, f"{peak:.0f} MB", peak <= TARGET_RSS_MB)
    for name, s in by_name.items():
        if name.startswith(("b", "c")):
            how = "an edit every 0.2 s" if name.startswith("b") else "0.2 s after each result"
            report.target(
                f"(b) burst {name[1:]} sessions, {how}: p95 ≤ {TARGET_B_P95_MS:g} ms",
                f"{s['p95_ms']:.0f} ms",
                s["p95_ms"] <= TARGET_B_P95_MS,
            )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_common_args(parser)
    parser.add_argument("--scenarios", default="a10,a30,a60,b30,c30")
    parser.add_argument("--gc", action="store_true", help="also compare the ways of keeping memory bounded")
    parser.add_argument("--gc-only", action="store_true", help="only the GC comparison")
    parser.add_argument("--script", default="app/main.py", help="the page to serve (experiments)")
    parser.add_argument(
        "--replicas", default="a60:2", help="extra runs on N servers, e.g. a60:2 (none: empty string)"
    )
    parser.add_argument(
        "--flag",
        action="append",
        default=[],
        help="extra streamlit flag, e.g. --flag=--runner.fastReruns=false",
    )
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    names = [n.strip() for n in args.scenarios.split(",") if n.strip()]
    replicas = [tuple(item.split(":")) for item in args.replicas.split(",") if item.strip()]
    replicas = [(name, int(n)) for name, n in replicas]
    report = run(names, args.gc or args.gc_only, args.quick, args.gc_only, args.script, args.flag, replicas)
    finish(report, args)


if __name__ == "__main__":
    main()
