"""A student's forward pass while others train (long jobs in slices) or flood the worker.

    .venv/bin/python -m bench.jobs [--quick] [--save]

One engine, one worker. The measured call is a tutorial-size forward pass through the worker
(what one edit of the page costs at the default size), timed alone (the baseline), then while K
other "sessions" each run a long job (K = 1, 5, 30), then while 50 threads flood the worker with
forward passes at the size caps (50 steps × 32 rows × 8 features, 256 neurons). The flood runs
twice: with the engine's lanes (small calls first) and with every call in one lane (the engine
before lanes: one FIFO queue), so the table shows what the lanes buy.

The jobs are worker.JOBS["forward_repeat"] (a load job: forward passes at 16 rows × 20 steps × 8
features × 128 neurons, 4 per slice), standing in for training until tf_train's job lands.
"""

from __future__ import annotations

import os
import threading
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

from bench.common import Report, Table, median, ms, p95, ratio, run_main
from rnn_core.config import RNNConfig
from rnn_core.engine import SMALL_COST, Engine, EngineBusy, EngineError
from rnn_core.params import init_weights
from rnn_core.state import State

JOB_COUNTS = (1, 5, 30)
FLOOD_THREADS = 50
PER_SLICE = 4


def small_problem():
    state = State()
    return state.inputs, state.resolved_weights()


def job_problem():
    config = RNNConfig(n_inputs=8, n_neurons=128, n_steps=20, batch=16, weight_scale=0.1)
    return np.random.default_rng(3).normal(size=(20, 16, 8)), init_weights(config, seed=5)


def caps_problem():
    state = State(inputs=np.random.default_rng(0).normal(size=(50, 32, 8)), n_neurons=256)
    return state.inputs, state.resolved_weights()


def measure(engine: Engine, runs: int) -> tuple[list[float], int]:
    """Seconds per small forward call (answered ones), and how many were refused."""
    X, weights = small_problem()
    times, refused = [], 0
    for _ in range(runs):
        t0 = time.perf_counter()
        try:
            engine.forward(X, weights)
            times.append(time.perf_counter() - t0)
        except EngineBusy:
            refused += 1
    return times, refused


class Jobs:
    """K sessions, each running one long job, polled like a page would (every 0.5 s)."""

    def __init__(self, engine: Engine, k: int):
        X, weights = job_problem()
        self.engine = engine
        args = {"X": X, "weights": weights, "passes": 10**9, "per_slice": PER_SLICE}
        self.ids = [engine.start_job("forward_repeat", owner=f"s{i}", **args) for i in range(k)]
        self.stop = threading.Event()
        self.poller = threading.Thread(target=self.poll, daemon=True)
        self.poller.start()
        for job in self.ids:  # every job has run a slice: all are in the rotation
            engine.wait_job(job, after_slices=0, timeout=120)

    def poll(self) -> None:
        while not self.stop.wait(0.5):
            for job in self.ids:
                self.engine.poll_job(job)

    def slices(self) -> list[int]:
        return [self.engine.poll_job(job).slices for job in self.ids]

    def close(self) -> None:
        self.stop.set()
        self.poller.join()
        for job in self.ids:
            self.engine.cancel_job(job)
        self.engine.wait_for(lambda: self.engine.load()["jobs"] == 0, 60)


class Flood:
    def __init__(self, engine: Engine, threads: int):
        self.engine, self.stop = engine, threading.Event()
        self.answered = self.refused = 0
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.run, daemon=True) for _ in range(threads)]
        self.started = time.perf_counter()
        for thread in self.threads:
            thread.start()
        engine.wait_for(lambda: self.refused > 0, 120)  # saturated

    def run(self) -> None:
        X, weights = caps_problem()
        while not self.stop.is_set():
            try:
                self.engine.forward(X, weights)
                with self.lock:
                    self.answered += 1
            except EngineBusy:
                with self.lock:
                    self.refused += 1
                self.stop.wait(0.01)
            except EngineError:
                pass

    def close(self) -> float:
        """Stop the flood; large calls answered per second over its whole life."""
        self.stop.set()
        for thread in self.threads:
            thread.join()
        return self.answered / (time.perf_counter() - self.started)


def run(quick: bool) -> Report:
    report = Report(
        name="jobs",
        heading="Jobs in slices and floods: a small call's latency",
        command=".venv/bin/python -m bench.jobs --save",
    )
    runs = 40 if quick else 300
    engine = Engine(max_jobs=max(JOB_COUNTS))
    engine.start()
    table = Table(
        "Tutorial-size forward pass through the worker, ms (× alone: ratio of medians in this run)",
        ["while", "median", "p95", "× alone", "small refused", "other work done meanwhile"],
    )
    data: dict = {}
    try:
        measure(engine, 20)  # warm up
        alone, refused = measure(engine, runs)
        base = median(alone)
        table.add("nothing else (baseline)", ms(base), ms(p95(alone)), "1×", refused, "–")
        data["alone"] = {"median_s": base, "p95_s": p95(alone), "refused": refused}
        for k in JOB_COUNTS:
            jobs = Jobs(engine, k)
            try:
                before, t0 = jobs.slices(), time.perf_counter()
                times, refused = measure(engine, runs)
                after, took = jobs.slices(), time.perf_counter() - t0
            finally:
                jobs.close()
            per_job = [b - a for a, b in zip(before, after, strict=True)]
            rate = sum(per_job) / took
            other = f"{rate:.0f} slices/s, each job {min(per_job)}–{max(per_job)} slices"
            table.add(
                f"{k} long job{'s' * (k > 1)}",
                ms(median(times)),
                ms(p95(times)),
                ratio(median(times), base),
                refused,
                other,
            )
            data[f"jobs_{k}"] = {
                "median_s": median(times),
                "p95_s": p95(times),
                "refused": refused,
                "slices_per_s": rate,
                "slices_per_job": per_job,
            }
        for label, small_cost in (("lanes (small first)", SMALL_COST), ("one FIFO lane", -1)):
            engine.small_cost = small_cost
            flood = Flood(engine, FLOOD_THREADS)
            try:
                times, refused = measure(engine, runs)
            finally:
                large_rate = flood.close()
            table.add(
                f"{FLOOD_THREADS} sessions flooding at the caps, {label}",
                ms(median(times)),
                ms(p95(times)),
                ratio(median(times), base),
                f"{refused} of {runs}",
                f"{large_rate:.1f} large calls/s",
            )
            data[f"flood_{small_cost}"] = {
                "median_s": median(times),
                "p95_s": p95(times),
                "refused": refused,
                "large_per_s": large_rate,
            }
        engine.small_cost = SMALL_COST
    finally:
        engine.stop()
    table.notes.append(
        f"jobs: forward_repeat, {PER_SLICE} passes of 16×20×8×128 per slice; "
        f"flood: {FLOOD_THREADS} threads calling forward at 32×50×8×256, backing off 10 ms when refused"
    )
    report.tables.append(table)
    report.data = data
    lanes = data[f"flood_{SMALL_COST}"]
    report.target(
        "a small call during a flood at the caps is never refused",
        str(lanes["refused"]),
        lanes["refused"] == 0,
    )
    worst = max(data[f"jobs_{k}"]["p95_s"] for k in JOB_COUNTS)
    report.target("p95 of a small call with 30 long jobs running ≤ 100 ms", f"{ms(worst)} ms", worst <= 0.1)
    return report


def main() -> None:
    run_main(__doc__, run)


if __name__ == "__main__":
    main()
