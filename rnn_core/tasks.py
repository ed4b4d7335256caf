"""Task presets: targets (T, B) made from the inputs (T, B, F), each a lesson about memory.

Pure functions of the inputs' feature 0; the page fills the targets grid with one of them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .config import MAX_ABS_TARGET


@dataclass(frozen=True)
class Task:
    name: str
    label: str
    make: Callable[[np.ndarray], np.ndarray]  # inputs (T, B, F) -> targets (T, B)
    lesson: str


def copy_current(X: np.ndarray) -> np.ndarray:
    """target_t[r] = X_t[r, 0]: no memory needed (Wy = 0 can do it)."""
    return X[:, :, 0].copy()


def echo_first(X: np.ndarray) -> np.ndarray:
    """target_t[r] = X_0[r, 0] at every step: the network must remember X0."""
    return np.broadcast_to(X[0, :, 0], X.shape[:2]).copy()


def running_sum(X: np.ndarray) -> np.ndarray:
    """target_t[r] = Σ_{k≤t} X_k[r, 0]: the state must accumulate."""
    return np.cumsum(X[:, :, 0], axis=0)


def previous_input(X: np.ndarray) -> np.ndarray:
    """target_t[r] = X_{t-1}[r, 0], 0 at t = 0: one step of memory."""
    out = np.zeros(X.shape[:2])
    out[1:] = X[:-1, :, 0]
    return out


TASKS: dict[str, Task] = {
    t.name: t
    for t in (
        Task("copy", "copy the current input", copy_current, "No memory needed: even Wy = 0 can learn it."),
        Task(
            "echo",
            "echo X0 at every step",
            echo_first,
            "Needs memory: X0 must survive through Wy to every later step (with Wy frozen at 0 it fails).",
        ),
        Task("sum", "running sum", running_sum, "Needs memory that adds up: the state must accumulate."),
        Task(
            "previous",
            "the previous input",
            previous_input,
            "One step of memory: out_t depends on X_(t-1) only.",
        ),
    )
}


def make_targets(name: str, X: np.ndarray) -> np.ndarray:
    """The targets of task `name` for inputs X, kept inside the state's limit (|v| ≤ MAX_ABS_TARGET)."""
    return np.clip(TASKS[name].make(np.asarray(X, dtype=np.float64)), -MAX_ABS_TARGET, MAX_ABS_TARGET)
