"""The cross-check: TensorFlow's trace recomputed by independent implementations.

Each step is recomputed from TensorFlow's own previous state (y_{t-1}) by the numpy reference and by
tf.keras.layers.SimpleRNN (kernel = Wx, recurrent_kernel = Wy, bias = b), so the check stays exact
where the free-running recurrence is chaotic. Differences are relative: |a − b| ≤ TOLERANCE·max(1, |a|),
so values of 1e7 (relu on large inputs) differing in their 16th digit count as equal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from . import reference
from .params import Weights
from .reference import Trace

TOLERANCE = 1e-9
GROWTH = 10.0  # "chaotic": the free-running drift at the last step is this many times the first's

# SimpleRNN as a callable (the engine's, in the worker): (X (T, B, F), weights, activation,
# initial_state (B, N)) -> hidden (T, B, N).
SimpleRNN = Callable[[np.ndarray, Weights, str, np.ndarray], np.ndarray]


def relative_diff(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """|a − b| / max(1, |a|) elementwise; 0 where both are the same infinity or both NaN."""
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.abs(a - b) / np.maximum(1.0, np.abs(a))
    same = (a == b) | (np.isnan(a) & np.isnan(b))
    return np.where(same, 0.0, np.nan_to_num(diff, nan=np.inf))


def largest(a: np.ndarray, b: np.ndarray) -> float:
    return float(relative_diff(a, b).max()) if a.size else 0.0


@dataclass(frozen=True)
class CrossCheck:
    diff_numpy: float  # largest relative |TF − numpy| over every step's z, y and out
    diff_simple_rnn: float | None  # largest relative |TF − SimpleRNN| over every step's y; None: not run
    drift_by_step: np.ndarray  # (T,) largest relative |TF − numpy run freely from y_{-1} = 0| per step

    @property
    def numpy_equal(self) -> bool:
        return self.diff_numpy <= TOLERANCE

    @property
    def simple_rnn_equal(self) -> bool | None:
        return None if self.diff_simple_rnn is None else self.diff_simple_rnn <= TOLERANCE

    @property
    def drift(self) -> float:
        return float(self.drift_by_step.max()) if self.drift_by_step.size else 0.0

    @property
    def chaotic(self) -> bool:
        """The free-running drift passes the tolerance and really grows with the steps."""
        d = self.drift_by_step
        if d.size < 2 or d[-1] <= TOLERANCE:
            return False
        first = float(d[np.nonzero(d)[0][0]]) if np.any(d) else 0.0
        return bool(d[-1] >= GROWTH * max(first, 1e-300) and np.argmax(d) >= d.size // 2)

    def to_dict(self) -> dict:
        return {
            "tolerance": TOLERANCE,
            "numpy": {"largest_relative_difference": self.diff_numpy, "equal": self.numpy_equal},
            "simple_rnn": {
                "largest_relative_difference": self.diff_simple_rnn,
                "equal": self.simple_rnn_equal,
            },
            "free_running_drift_by_step": self.drift_by_step.tolist(),
            "chaotic": self.chaotic,
        }


def crosscheck(
    X: np.ndarray, weights: Weights, activation: str, trace: Trace, simple_rnn: SimpleRNN | None = None
) -> CrossCheck:
    """TensorFlow's trace (X (T, B, F)) against numpy step by step, SimpleRNN, and numpy run freely."""
    T, B, F = X.shape
    prev = reference.previous_states(trace.hidden)  # (T, B, N): y_{t-1}
    pre, hidden = reference.one_step(X, weights, activation, prev)
    Wo, bo = weights.output_heads(T)
    with np.errstate(over="ignore", invalid="ignore"):
        outputs = np.einsum("tbn,tn->tb", trace.hidden, Wo) + bo[:, None]
        free = reference.forward(X, weights, activation)
    diff_numpy = max(
        largest(trace.pre_activation, pre), largest(trace.hidden, hidden), largest(trace.outputs, outputs)
    )
    diff_simple = None
    if simple_rnn is not None:  # each (step, row) as its own one-step sequence from TF's y_{t-1}
        one_step = simple_rnn(X.reshape(1, T * B, F), weights, activation, prev.reshape(T * B, -1))
        diff_simple = largest(trace.hidden, one_step.reshape(trace.hidden.shape))
    drift = np.maximum(by_step(trace.hidden, free.hidden), by_step(trace.outputs, free.outputs))  # (T,)
    return CrossCheck(diff_numpy, diff_simple, drift)


def by_step(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(T,): the largest relative difference of each step (a, b: (T, ...)); 0 for a step of no values."""
    T = a.shape[0]
    if a.size == 0:
        return np.zeros(T)
    return relative_diff(a, b).reshape(T, -1).max(axis=1)
