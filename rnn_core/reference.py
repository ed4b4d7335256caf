"""The forward pass in plain numpy: the math, readable, and the reference for every other engine."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .activations import ACTIVATIONS
from .params import Weights


@dataclass(frozen=True)
class Trace:
    """Every intermediate of one forward pass."""

    pre_activation: np.ndarray  # (T, B, N): y_{t-1}·Wy + X_t·Wx + b
    hidden: np.ndarray  # (T, B, N): y_t = act(pre_activation_t)
    outputs: np.ndarray  # (T, B): out_t = y_t·Wo_t + bo_t

    def to_lists(self) -> dict[str, list]:
        return {
            "hidden": self.hidden.tolist(),
            "pre_activation": self.pre_activation.tolist(),
            "outputs": self.outputs.tolist(),
        }


def forward(X: np.ndarray, weights: Weights, activation: str = "tanh") -> Trace:
    """Run y_t = act(y_{t-1}·Wy + X_t·Wx + b), with y_{-1} = 0, and out_t = y_t·Wo_t + bo_t."""
    act = ACTIVATIONS[activation].f
    T, B, _ = X.shape  # (T, B, F)
    N = weights.Wy.shape[0]
    Wo, bo = weights.output_heads(T)  # (T, N), (T,)
    y = np.zeros((B, N))  # y_{-1}
    pre, hidden, outputs = [], [], []
    for t in range(T):
        z = y @ weights.Wy + X[t] @ weights.Wx + weights.b  # (B, N)
        y = act(z)
        pre.append(z)
        hidden.append(y)
        outputs.append(y @ Wo[t] + bo[t])  # (B,)
    return Trace(
        pre_activation=np.stack(pre) if T else np.zeros((0, B, N)),
        hidden=np.stack(hidden) if T else np.zeros((0, B, N)),
        outputs=np.stack(outputs) if T else np.zeros((0, B)),
    )


def one_step(
    X: np.ndarray, weights: Weights, activation: str, hidden_prev: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Every step at once from given previous states: z_t = y_{t-1}·Wy + X_t·Wx + b, y_t = act(z_t).

    hidden_prev is (T, B, N) with hidden_prev[t] = y_{t-1} (zeros at t = 0). Checking an engine step by
    step from its own previous states keeps the check exact where the free-running recurrence is
    chaotic (rounding differences of 1e-16 can grow several-fold per step at large sizes).
    """
    z = hidden_prev @ weights.Wy + X @ weights.Wx + weights.b  # (T, B, N)
    return z, ACTIVATIONS[activation].f(z)


def previous_states(hidden: np.ndarray) -> np.ndarray:
    """(T, B, N) y_t -> (T, B, N) y_{t-1}, with y_{-1} = 0."""
    return np.concatenate([np.zeros_like(hidden[:1]), hidden[:-1]])
