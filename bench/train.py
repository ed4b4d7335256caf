"""Training and gradients: the TF worker (a job in slices, one call), TF in this process, numpy.

    .venv/bin/python -m bench.train [--quick] [--save]

At the tutorial's size (3 steps × 3 rows × 2 features × 8 neurons, targets = the first feature of
each input): 1,000 Adam steps, and one gradient (loss, grads, dL/dy, dout/dx). Every engine's
result is checked against numpy before it is timed.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

from bench.common import Report, Table, median, ms, p95, repeat, run_main
from rnn_core import reference, training
from rnn_core.engine import Engine
from rnn_core.state import State, TrainingSettings

STEPS = 1000
TARGET_TRAIN_S = 0.5  # 1,000 Adam steps in the worker
TARGET_GRAD_MS = 3.0  # one gradient, round trip through the engine


def problem():
    state = State()
    return state.inputs, state.resolved_weights(), state.inputs[:, :, 0] / 10  # (T, B, F), Weights, (T, B)


def job_run(engine: Engine, X, weights, targets, slices: list):
    """Start a training job and wait for its end; record (slices, steps) of the run."""
    job = engine.start_job("train", X=X, weights=weights, activation="tanh", targets=targets,
                           settings=TrainingSettings(steps=STEPS))  # fmt: skip
    status = engine.wait_job(job, timeout=60)
    while not status.done:
        status = engine.wait_job(job, after_slices=status.slices, timeout=60)
    if status.error:
        raise RuntimeError(status.error)
    slices.append(status.slices)
    return status.result


def cpu_seconds(pid: int | None = None) -> float:
    """User + system CPU seconds of a process (this one when pid is None), all its threads."""
    if pid is None:
        return time.process_time()
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(quick: bool) -> Report:
    report = Report(
        name="train", heading="Training and gradients", command=".venv/bin/python -m bench.train --save"
    )
    X, weights, targets = problem()
    settings = TrainingSettings(steps=STEPS)
    expected = training.train(X, weights, "tanh", targets, settings)
    expected_grads = reference.backward(X, weights, "tanh", targets)
    engine = Engine(call_timeout=120)  # the first slice traces the training loop: seconds on a loaded machine
    engine.start()
    from rnn_core import tf_train  # TensorFlow in this process too (the in-process rows)

    train_runs, grad_runs = (3, 20) if quick else (15, 300)
    slices: list[int] = []
    rows = {
        f"{STEPS} Adam steps": {
            "worker: job in slices (start → done)": lambda: job_run(engine, X, weights, targets, slices),
            "worker: one call": lambda: (
                engine.call(
                    "train_run", X=X, weights=weights, activation="tanh", targets=targets, settings=settings
                ).value
            ),
            "TF in this process: one traced loop": lambda: tf_train.train(
                X, weights, "tanh", targets, settings
            ),
            "numpy": lambda: training.train(X, weights, "tanh", targets, settings),
        },
        "one gradient": {
            "worker round trip (engine.grad)": lambda: engine.grad(X, weights, "tanh", targets).value,
            "TF in this process": lambda: tf_train.backward(X, weights, "tanh", targets),
            "numpy (with dout_dx)": lambda: reference.backward(X, weights, "tanh", targets),
            "numpy (without dout_dx)": lambda: reference.backward(
                X, weights, "tanh", targets, sensitivities=False
            ),
        },
    }
    table = Table(
        "Tutorial size (3×3×2×8), ms per run (CPU: of the process that computes, mean per run)",
        ["what", "engine", "median", "p95", "CPU", "first call", "n"],
    )
    found: dict[str, float] = {}
    try:
        for what, engines in rows.items():
            for label, fn in engines.items():
                t0 = time.perf_counter()
                out = fn()  # the first call traces
                first = time.perf_counter() - t0
                _check(out, expected, expected_grads, f"{what}, {label}")
                runs = train_runs if what.endswith("steps") else grad_runs
                pid = engine.pid if label.startswith("worker") else None
                cpu0 = cpu_seconds(pid)
                times = repeat(fn, warmup=0, runs=runs, max_time=60)
                cpu = (cpu_seconds(pid) - cpu0) / len(times)
                table.add(what, label, ms(median(times)), ms(p95(times)), ms(cpu), ms(first), len(times))
                found[f"{what}: {label}"] = median(times)
                report.data[f"{what}: {label}"] = {
                    "median_s": median(times),
                    "p95_s": p95(times),
                    "n": len(times),
                }
    finally:
        engine.stop()
    table.notes.append(f"a job of {STEPS} steps ran in {int(np.median(slices))} slices (median), ~30 ms each")
    report.tables.append(table)
    sliced = found[f"{STEPS} Adam steps: worker: job in slices (start → done)"]
    one = found[f"{STEPS} Adam steps: worker: one call"]
    grad = found["one gradient: worker round trip (engine.grad)"]
    report.target(
        f"{STEPS} Adam steps in the worker ≤ {TARGET_TRAIN_S:g} s (one call)",
        f"{one:.2f} s",
        one <= TARGET_TRAIN_S,
    )
    report.target(
        f"{STEPS} Adam steps in the worker ≤ {TARGET_TRAIN_S:g} s (in slices)",
        f"{sliced:.2f} s",
        sliced <= TARGET_TRAIN_S,
    )
    report.target(
        f"gradient round trip ≤ {TARGET_GRAD_MS:g} ms", f"{ms(grad)} ms", grad * 1000 <= TARGET_GRAD_MS
    )
    report.text.append(f"Load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())} (2 cores).")
    return report


def _check(out, expected: training.TrainResult, grads: reference.Grads, name: str) -> None:
    if isinstance(out, reference.Grads):
        for key in reference.GRAD_NAMES:
            np.testing.assert_allclose(out.grads[key], grads.grads[key], rtol=1e-9, atol=1e-12, err_msg=name)
        return
    losses = out["losses"] if isinstance(out, dict) else out.losses
    # the first steps to 1e-9; over 1,000 Adam steps rounding differences grow (Adam divides tiny
    # gradients by their own size), so the whole run only roughly
    np.testing.assert_allclose(losses[:50], expected.losses[:50], rtol=1e-9, err_msg=name)
    np.testing.assert_allclose(losses, expected.losses, rtol=0.1, err_msg=name)


if __name__ == "__main__":
    run_main(__doc__, run)
