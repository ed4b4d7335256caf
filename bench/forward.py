"""Forward pass: the TF engine through the worker and in-process, the numpy reference, SimpleRNN.

    .venv/bin/python -m bench.forward [--quick] [--save]

Three sizes: the tutorial's (3 steps x 3 rows x 2 features x 8 neurons), 32 x 50 x 8 x 64, and
64 x 500 x 16 x 256 (past the page's limits: RNNConfig.validate is given raised limits; the
forward functions themselves take arrays and check nothing). Every engine's numbers are checked
against the reference before they are timed. Ratios are to the numpy reference (the baseline).
"""

from __future__ import annotations

import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

from bench.common import Report, Table, median, ms, p95, repeat, run_main
from rnn_core import reference
from rnn_core.config import LIMITS, RNNConfig
from rnn_core.engine import Engine
from rnn_core.params import init_weights, tutorial_inputs

# name: (batch, steps, features, neurons)
SIZES = {
    "tutorial 3×3×2×8": (3, 3, 2, 8),
    "32×50×8×64": (32, 50, 8, 64),
    "64×500×16×256": (64, 500, 16, 256),
}
BENCH_LIMITS = {**LIMITS, "n_steps": (1, 500), "batch": (1, 64), "n_inputs": (1, 16), "n_neurons": (1, 256)}
# (runs, max seconds) per size for each engine; the slow ones stop at the time cap
BUDGET = {"tutorial 3×3×2×8": (300, 20.0), "32×50×8×64": (60, 20.0), "64×500×16×256": (15, 40.0)}
TARGET_WORKER_MS = 3.0
TARGET_VS_NUMPY = 1.5
TARGET_VS_SIMPLE_RNN = 10.0
SIMPLE_RNN = "tf.keras SimpleRNN, called eagerly"


def simple_rnn_eager(X: np.ndarray, weights, _layers: dict = {}) -> np.ndarray:  # noqa: B006 (a cache)
    """tf.keras.layers.SimpleRNN as a user calls it: layer(x), eagerly (the target's baseline)."""
    import tensorflow as tf

    F, N = weights.Wx.shape
    layer = _layers.get((F, N))
    if layer is None:
        layer = tf.keras.layers.SimpleRNN(N, return_sequences=True, dtype="float64")
        layer.build((None, None, F))
        _layers[(F, N)] = layer
    layer.set_weights([weights.Wx, weights.Wy, weights.b])
    return np.transpose(layer(np.transpose(X, (1, 0, 2))).numpy(), (1, 0, 2))  # (T, B, N)


def matmul_floor(X: np.ndarray, weights) -> None:
    """The T sequential (B, N) @ (N, N) products every engine must do, and nothing else."""
    y = np.zeros((X.shape[1], weights.Wy.shape[0]))
    for _ in range(X.shape[0]):
        y = y @ weights.Wy


def problem(size: tuple[int, int, int, int], seed: int = 0):
    """Inputs and weights. Past the tutorial's size the weights have std 0.9/sqrt(N): with std 1
    the network is chaotic (gain sqrt(N) >> 1), float64 rounding differences between engines double
    every step or so, and after 30-50 steps no two engines agree (measured; not a bug). The speed
    does not depend on the values."""
    B, T, F, N = size
    tutorial = size == SIZES["tutorial 3×3×2×8"]
    scale = 1.0 if tutorial else 0.9 / np.sqrt(N)
    config = RNNConfig(n_inputs=F, n_neurons=N, n_steps=T, batch=B, weight_scale=float(scale))
    config.validate(limits=BENCH_LIMITS)
    X = tutorial_inputs() if tutorial else np.random.default_rng(seed).normal(size=(T, B, F))  # (T, B, F)
    return X, init_weights(config, 42)


def check(trace, ref, name: str) -> None:
    for field in ("pre_activation", "hidden", "outputs"):
        got, want = getattr(trace, field), getattr(ref, field)
        if not np.allclose(got, want, atol=1e-9, rtol=0):
            raise AssertionError(f"{name}: {field} differs from the reference by {np.abs(got - want).max()}")


def run(quick: bool) -> Report:
    report = Report(
        name="forward",
        heading="1. Forward pass",
        command=".venv/bin/python -m bench.forward --save",
    )
    engine = Engine()
    t0 = time.perf_counter()
    engine.start()
    worker_start = time.perf_counter() - t0
    t0 = time.perf_counter()
    from rnn_core import tf_model  # the in-process TensorFlow (this benchmark's process only)

    tf_import = time.perf_counter() - t0
    report.text.append(
        f"Worker start (spawn + import TensorFlow): {worker_start:.1f} s; "
        f"import TensorFlow in this process: {tf_import:.1f} s."
    )
    report.data = {"worker_start_s": worker_start, "tf_import_s": tf_import, "sizes": {}}
    table = Table(
        "Forward pass, ms per call (× numpy: ratio to the reference; SimpleRNN ÷: eager SimpleRNN ÷ this)",
        ["size B×T×F×N", "engine", "median", "p95", "× numpy", "SimpleRNN ÷", "first call"],
    )
    verdicts = {}
    try:
        for name, size in SIZES.items():
            X, weights = problem(size)
            ref = reference.forward(X, weights)
            runs, max_time = BUDGET[name]
            if quick:
                runs, max_time = max(3, runs // 10), max_time / 5
            engines = {
                "numpy reference": lambda X=X, w=weights: reference.forward(X, w),
                "TF in-process (graph)": lambda X=X, w=weights: tf_model.forward(X, w),
                "TF in-process (XLA)": lambda X=X, w=weights: tf_model.forward(X, w, xla=True),
                "TF worker round trip (graph)": lambda X=X, w=weights: engine.forward(X, w).value,
                "TF worker round trip (XLA)": lambda X=X, w=weights: engine.forward(X, w, xla=True).value,
                SIMPLE_RNN: lambda X=X, w=weights: simple_rnn_eager(X, w),
                "tf.keras SimpleRNN, traced once (the app's cross-check)": lambda X=X, w=weights: (
                    tf_model.simple_rnn_hidden(X, w)
                ),
                "floor: numpy, the T products y·Wy alone": lambda X=X, w=weights: matmul_floor(X, w),
            }
            if name.startswith("tutorial"):
                engines["worker round trip, no computation (info)"] = engine.info
                engines["page compute: worker forward + SimpleRNN + numpy check"] = _page_compute(engine, X)
            found = {}
            for label, fn in engines.items():
                t0 = time.perf_counter()
                out = fn()  # the first call traces or compiles
                first = time.perf_counter() - t0
                if label.startswith(("TF", "numpy")) and "info" not in label:
                    check(out, ref, f"{label} at {name}")
                elif label.startswith("tf.keras") and "floor" not in label:
                    np.testing.assert_allclose(out, ref.hidden, atol=1e-9)
                times = repeat(fn, warmup=2, runs=runs, max_time=max_time)
                found[label] = (times, first)
            base = median(found["numpy reference"][0])
            simple = median(found[SIMPLE_RNN][0])
            report.data["sizes"][name] = {}
            for label, (times, first) in found.items():
                med = median(times)
                speedup = (
                    f"{simple / med:.3g}×" if label.startswith(("TF", "numpy", "tf.keras", "floor")) else "–"
                )
                table.add(name, label, ms(med), ms(p95(times)), f"{med / base:.3g}×", speedup, ms(first))
                report.data["sizes"][name][label] = {
                    "median_s": med,
                    "p95_s": p95(times),
                    "first_s": first,
                    "n": len(times),
                }
            verdicts[name] = {label: median(t) for label, (t, _) in found.items()} | {"simple": simple}
            print(f"done {name}", flush=True)
    finally:
        engine.stop()
    report.tables.append(table)
    _targets(report, verdicts)
    return report


def _page_compute(engine: Engine, X: np.ndarray):
    """What one uncached edit of the page costs: app.compute.compute with an empty cache."""
    from app import compute
    from rnn_core.state import State

    seeds = iter(range(10**9))

    def fn():
        state = State(inputs=X, seed=next(seeds))
        return compute.compute(state, engine, compute.ResultCache())

    return fn


def _targets(report: Report, verdicts: dict) -> None:
    tutorial = verdicts["tutorial 3×3×2×8"]
    worker = tutorial["TF worker round trip (graph)"]
    report.target(
        f"tutorial size: worker round trip ≤ {TARGET_WORKER_MS:g} ms",
        f"{ms(worker)} ms",
        worker * 1000 <= TARGET_WORKER_MS,
    )
    largest = verdicts["64×500×16×256"]
    numpy = largest["numpy reference"]
    for label in ("TF in-process (graph)", "TF in-process (XLA)", "TF worker round trip (graph)"):
        r = largest[label] / numpy
        report.target(
            f"64×500×16×256: {label} ≤ {TARGET_VS_NUMPY:g}× numpy", f"{r:.2f}×", r <= TARGET_VS_NUMPY
        )
    r = largest["TF worker round trip (XLA)"] / numpy
    report.target(
        f"64×500×16×256: TF worker round trip (XLA) ≤ {TARGET_VS_NUMPY:g}× numpy",
        f"{r:.2f}×",
        r <= TARGET_VS_NUMPY,
    )
    for name, found in verdicts.items():
        for label in ("TF worker round trip (graph)", "TF in-process (graph)"):
            speedup = found["simple"] / found[label]
            report.target(
                f"{name}: {label} ≥ {TARGET_VS_SIMPLE_RNN:g}× faster than SimpleRNN",
                f"{speedup:.1f}×",
                speedup >= TARGET_VS_SIMPLE_RNN,
            )


def main() -> None:
    run_main(__doc__, run)


if __name__ == "__main__":
    main()
