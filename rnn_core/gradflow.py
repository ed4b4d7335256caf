"""How gradients flow back through time, read off a backward pass: the numbers the page's gradients
section shows (pure numpy; reference.backward computes the gradients themselves)."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .activations import ACTIVATIONS
from .params import Weights
from .reference import Trace, forward
from .state import State

TINY = 1e-300  # norms below this are drawn at this floor on a log axis


def step_norms(dL_dy: np.ndarray) -> np.ndarray:
    """(T,): ‖dL/dy_t‖ over rows and neurons."""
    return np.sqrt(np.sum(dL_dy**2, axis=(1, 2)))


def sensitivity_map(dout_dx: np.ndarray) -> np.ndarray:
    """(T, T): [t][k] = ‖∂out_t/∂X_k‖ over rows and features; 0 for k > t (the future cannot matter)."""
    return np.sqrt(np.sum(dout_dx**2, axis=(2, 3)))


def relative_rows(sens: np.ndarray) -> np.ndarray:
    """Each row t scaled to its largest value (NaN above the diagonal, 0 for an all-zero row)."""
    out = np.full_like(sens, np.nan)
    for t in range(sens.shape[0]):
        top = sens[t, : t + 1].max()
        out[t, : t + 1] = sens[t, : t + 1] / top if top > 0 else 0.0
    return out


@dataclass(frozen=True)
class ChainLink:
    """One step back of the chain, for one row: ∂y_j/∂y_(j−1) = diag(f'(z_j))·Wyᵀ."""

    step: int  # j
    z: float  # z_j[row, neuron]
    y: float  # y_j[row, neuron]
    slope: float  # f'(z_j[row, neuron])
    wy_row: np.ndarray  # Wy[:, neuron]: how y_(j−1)[m] feeds z_j[neuron]
    factors: np.ndarray  # slope · Wy[m, neuron] for every m: the row of ∂y_j/∂y_(j−1) for this neuron
    jacobian_norm: float  # ‖diag(f'(z_j[row]))·Wyᵀ‖₂ (all neurons): how much one step back can grow or shrink
    stuck: bool


def chain(
    trace: Trace, weights: Weights, activation: str, row: int, neuron: int, t: int, k: int
) -> list[ChainLink]:
    """The steps j = t, t−1, …, k+1 that ∂out_t/∂X_k passes through, for `row` and `neuron`."""
    act = ACTIVATIONS[activation]
    links = []
    for j in range(t, k, -1):
        z, y = trace.pre_activation[j, row], trace.hidden[j, row]
        slopes = act.df(z, y)  # (N,)
        jac = slopes[:, None] * weights.Wy.T  # (N, N): ∂y_j[n]/∂y_(j−1)[m]
        links.append(
            ChainLink(
                step=j,
                z=float(z[neuron]),
                y=float(y[neuron]),
                slope=float(slopes[neuron]),
                wy_row=weights.Wy[:, neuron].copy(),
                factors=slopes[neuron] * weights.Wy[:, neuron],
                jacobian_norm=float(np.linalg.norm(jac, 2)),
                stuck=bool(act.stuck(y[neuron : neuron + 1])[0]),
            )
        )
    return links


def last_output_sensitivity(X: np.ndarray, weights: Weights, activation: str) -> np.ndarray:
    """(T,): ‖∂out_(T−1)/∂X_k‖ over rows and features, for k = 0 … T−1 (one pass back: O(T))."""
    df = ACTIVATIONS[activation].df
    trace = forward(X, weights, activation)
    T = X.shape[0]
    Wo, _ = weights.output_heads(T)
    z, y = trace.pre_activation, trace.hidden
    norms = np.zeros(T)
    dy = np.broadcast_to(Wo[T - 1], y[T - 1].shape)
    with np.errstate(over="ignore", invalid="ignore"):
        for k in reversed(range(T)):
            dz = dy * df(z[k], y[k])
            norms[k] = np.sqrt(np.sum((dz @ weights.Wx.T) ** 2))
            dy = dz @ weights.Wy.T
    return norms


@dataclass(frozen=True)
class Decay:
    distance: np.ndarray  # (T,): T−1−k, from 0
    norms: np.ndarray  # (T,): ‖∂out_(T−1)/∂X_k‖ at that distance
    per_step: float | None  # the factor one step back multiplies the gradient by (fit), None if not fittable
    verdict: str


def fit_decay(norms_by_k: np.ndarray) -> Decay:
    """Fit log10‖·‖ against the distance T−1−k (least squares, finite nonzero points only)."""
    T = len(norms_by_k)
    distance = np.arange(T)
    norms = norms_by_k[::-1].copy()  # by distance
    ok = np.isfinite(norms) & (norms > TINY)
    if ok.sum() < 2:
        return Decay(distance, norms, None, "too few nonzero points to fit (more steps, or another scale)")
    slope = float(np.polyfit(distance[ok], np.log10(norms[ok]), 1)[0])
    per_step = 10.0**slope
    if per_step < 0.9:
        verdict = f"vanishing: each step back multiplies the gradient by about {per_step:.3g}"
    elif per_step > 1.1:
        verdict = f"exploding: each step back multiplies the gradient by about {per_step:.3g}"
    else:
        verdict = f"about steady: each step back multiplies the gradient by about {per_step:.3g}"
    return Decay(distance, norms, per_step, verdict)


def knob_network(state: State, weight_scale: float, n_steps: int) -> tuple[np.ndarray, Weights]:
    """A copy of the state's network with another weight scale and number of steps (the page's own
    network is not changed): inputs repeat the state's steps in turn; Wx and Wy are the current ones
    scaled by weight_scale / state.weight_scale (seeded ones are drawn at weight_scale); the last
    output head is the state's last one."""
    X = state.inputs
    reps = np.resize(np.arange(X.shape[0]), n_steps)  # 0, 1, …, T−1, 0, 1, …
    X_new = X[reps]
    weights = state.resolved_weights()
    if state.weight_scale > 0:
        ratio = weight_scale / state.weight_scale
        Wx, Wy = weights.Wx * ratio, weights.Wy * ratio
    else:  # a zero scale gives zero seeded weights: draw them at the knob's scale
        seeded = state.with_changes(weight_scale=weight_scale, weights={}).resolved_weights()
        Wx = weights.Wx if "Wx" in state.weights else seeded.Wx
        Wy = weights.Wy if "Wy" in state.weights else seeded.Wy
    Wo, bo = weights.output_heads(X.shape[0])
    if weights.shared_output:
        heads = {"Wo": weights.Wo, "bo": weights.bo}
    else:
        heads = {"Wo": np.tile(Wo[-1], (n_steps, 1)), "bo": np.repeat(bo[-1], n_steps)}
    return X_new, replace(weights, Wx=Wx, Wy=Wy, **heads)
