"""Two networks side by side: A (pinned) and B (the page's). Pure functions: what differs between two
states (settings, inputs, weights), Δ = B − A of two traces, and where |Δ| is largest.

A nudge is the comparison where B is A with one input cell changed by ε: Δ/ε ≈ ∂y_t/∂X_k, and Δ over
time shows how long the network remembers that input.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .params import Weights
from .reference import Trace
from .state import WEIGHT_NAMES, State

SETTINGS = ("n_neurons", "seed", "activation", "shared_output", "weight_scale")


@dataclass(frozen=True)
class WeightDiff:
    name: str
    changed: int  # cells that differ (all of them when the shapes differ)
    total: int
    largest: float  # the largest |B − A| (nan when the shapes differ)
    same_shape: bool


@dataclass(frozen=True)
class StateDiff:
    settings: dict[str, tuple]  # name -> (A's value, B's value)
    sizes: tuple | None  # ((T, B, F) of A, of B) when they differ
    inputs: list[tuple[int, int, int]]  # cells (step, row, feature) that differ (same sizes only)
    weights: list[WeightDiff]  # the weights that differ

    @property
    def same(self) -> bool:
        return not (self.settings or self.sizes or self.inputs or self.weights)

    @property
    def one_input(self) -> bool:
        """The only difference is one input cell (a nudge)."""
        return not (self.settings or self.sizes or self.weights) and len(self.inputs) == 1


def diff_weights(a: Weights, b: Weights) -> list[WeightDiff]:
    """The weights (resolved: seeded or explicit) that differ between two networks."""
    found = []
    for name in WEIGHT_NAMES:
        wa, wb = getattr(a, name), getattr(b, name)
        if wa.shape != wb.shape:
            found.append(WeightDiff(name, max(wa.size, wb.size), max(wa.size, wb.size), float("nan"), False))
            continue
        delta = np.abs(wb - wa)
        changed = int(np.count_nonzero(delta))
        if changed:
            found.append(WeightDiff(name, changed, int(wa.size), float(delta.max()), True))
    return found


def diff_states(a: State, b: State) -> StateDiff:
    settings = {
        name: (getattr(a, name), getattr(b, name))
        for name in SETTINGS
        if getattr(a, name) != getattr(b, name)
    }
    sizes = None if a.inputs.shape == b.inputs.shape else (a.inputs.shape, b.inputs.shape)
    inputs: list[tuple[int, int, int]] = []
    if sizes is None:
        inputs = [(int(t), int(r), int(f)) for t, r, f in np.argwhere(a.inputs != b.inputs)]
    return StateDiff(settings, sizes, inputs, diff_weights(a.resolved_weights(), b.resolved_weights()))


def nudge_of(a: State, b: State, diff: StateDiff | None = None) -> tuple[tuple[int, int, int], float] | None:
    """((step, row, feature), ε = B's input − A's) when B is A with one input cell changed."""
    diff = diff or diff_states(a, b)
    if not diff.one_input:
        return None
    cell = diff.inputs[0]
    return cell, float(b.inputs[cell] - a.inputs[cell])


def delta(a: Trace, b: Trace) -> Trace:
    """Δ = B − A of every part of two traces of the same sizes (raises ValueError otherwise)."""
    if a.hidden.shape != b.hidden.shape:
        raise ValueError(f"the traces have different sizes: {a.hidden.shape} and {b.hidden.shape}")
    return Trace(
        pre_activation=b.pre_activation - a.pre_activation,
        hidden=b.hidden - a.hidden,
        outputs=b.outputs - a.outputs,
    )


def comparable(a: Trace, b: Trace) -> bool:
    return a.hidden.shape == b.hidden.shape


def largest(values: np.ndarray) -> tuple[float, tuple[int, ...]]:
    """(the largest |value|, its index); non-finite values count as largest. (0.0, zeros) when empty."""
    values = np.asarray(values, dtype=np.float64)
    if values.size == 0:
        return 0.0, tuple(0 for _ in values.shape)
    with np.errstate(invalid="ignore"):
        magnitude = np.where(np.isfinite(values), np.abs(values), np.inf)
    index = np.unravel_index(int(np.argmax(magnitude)), values.shape)
    return float(magnitude[index]), tuple(int(i) for i in index)


def memory_curve(d_hidden: np.ndarray, row: int) -> np.ndarray:
    """max over neurons of |Δy_t[row]| for every step t: how long a change is remembered."""
    return np.abs(d_hidden[:, row, :]).max(axis=1)


def _value(v: object) -> str:
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, bool):
        return "shared" if v else "per step"
    return str(v)


def summary(a: State, b: State, d_hidden: np.ndarray | None, diff: StateDiff | None = None) -> str:
    """One line: what differs (settings, sizes, inputs, weights) and the largest |Δ| and where."""
    diff = diff or diff_states(a, b)
    if diff.same:
        return "A and B are the same network: change anything to see what it does."
    parts = []
    for name, (va, vb) in diff.settings.items():
        parts.append(f"{name} {_value(va)} → {_value(vb)}")
    if diff.sizes:
        (ta, ba, fa), (tb, bb, fb) = diff.sizes
        parts.append(f"sizes {ta}×{ba}×{fa} → {tb}×{bb}×{fb} (steps × rows × features)")
    nudge = nudge_of(a, b, diff)
    if nudge:
        (t, r, f), eps = nudge
        parts.append(f"one input, X{t}[{r}, {f}], nudged by ε = {eps:g}")
    elif diff.inputs:
        cells = ", ".join(f"X{t}[{r}, {f}]" for t, r, f in diff.inputs[:3])
        more = f" and {len(diff.inputs) - 3} more" if len(diff.inputs) > 3 else ""
        parts.append(f"{len(diff.inputs)} input cell{'s' if len(diff.inputs) > 1 else ''} ({cells}{more})")
    if diff.weights and not diff.settings.keys() & {"seed", "weight_scale", "n_neurons"}:
        for w in diff.weights:
            if w.same_shape:
                parts.append(f"{w.name} ({w.changed} of {w.total} cells, up to {w.largest:.3g})")
            else:
                parts.append(f"{w.name} (another shape)")
    elif diff.weights:
        parts.append("weights " + ", ".join(w.name for w in diff.weights))
    text = "B differs from A in: " + "; ".join(parts) + "."
    if d_hidden is not None:
        size, (t, r, n) = largest(d_hidden)
        text += f" Largest |Δy| = {size:.3g} at y{t}[row {r}, neuron {n}]."
    else:
        text += " Δ needs the same sizes (steps, rows, neurons) in A and B."
    return text
