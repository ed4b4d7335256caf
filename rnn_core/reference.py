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


# ---- the backward pass: backpropagation through time, written out ------------------------------

GRAD_NAMES = ("Wx", "Wy", "b", "Wo", "bo")


@dataclass(frozen=True)
class Grads:
    """The loss of one forward pass and every gradient of it."""

    loss: float  # L = mean over steps t and rows r of (out_t[r] - target_t[r])²
    grads: dict[str, np.ndarray]  # dL/dWx (F, N), dL/dWy (N, N), dL/db (N,), dL/dWo, dL/dbo (as the weights)
    dL_dy: np.ndarray  # (T, B, N): the total dL/dy_t, through out_t and through every later step
    dout_dx: np.ndarray | None  # (T, T, B, F): [t][k][r][f] = ∂out_t[r]/∂X_k[r, f]; zero for k > t

    def to_lists(self) -> dict:
        return {
            "loss": self.loss,
            "grads": {name: self.grads[name].tolist() for name in GRAD_NAMES},
            "dL_dy": self.dL_dy.tolist(),
            "dout_dx": None if self.dout_dx is None else self.dout_dx.tolist(),
        }


def loss_of(outputs: np.ndarray, targets: np.ndarray) -> float:
    """L = mean over steps and rows of (out_t[r] - target_t[r])²; outputs and targets (T, B)."""
    return float(np.mean((outputs - targets) ** 2))


def backward(
    X: np.ndarray,
    weights: Weights,
    activation: str,
    targets: np.ndarray,
    trace: Trace | None = None,
    sensitivities: bool = True,
) -> Grads:
    """Gradients of L by hand, going back from the last step to the first (DESIGN.md section 5).

    trace: the forward pass of these weights, when already computed; sensitivities=False leaves out
    dout_dx (training does not need it, and it costs T times the rest)."""
    df = ACTIVATIONS[activation].df
    trace = forward(X, weights, activation) if trace is None else trace
    T, B, F = X.shape
    N = weights.Wy.shape[0]
    Wo, _ = weights.output_heads(T)  # (T, N)
    z, y = trace.pre_activation, trace.hidden  # (T, B, N) each
    y_prev = previous_states(y)  # (T, B, N): y_{t-1}, zeros at t = 0

    dWx, dWy, db = np.zeros((F, N)), np.zeros((N, N)), np.zeros(N)
    dWo, dbo = np.zeros((T, N)), np.zeros(T)  # per step; summed below when the head is shared
    dL_dy = np.zeros((T, B, N))
    dz_next = np.zeros((B, N))  # dL/dz_{t+1}; nothing flows back into the last step
    for t in reversed(range(T)):
        d_out = 2.0 * (trace.outputs[t] - targets[t]) / (T * B)  # (B,)
        dWo[t] = y[t].T @ d_out  # (N,)
        dbo[t] = d_out.sum()
        dy = np.outer(d_out, Wo[t]) + dz_next @ weights.Wy.T  # (B, N): through out_t + through z_{t+1}
        dz = dy * df(z[t], y[t])  # (B, N)
        dWx += X[t].T @ dz  # (F, N)
        db += dz.sum(axis=0)
        if t > 0:  # z_0 has no Wy term
            dWy += y_prev[t].T @ dz  # (N, N)
        dL_dy[t] = dy
        dz_next = dz

    if weights.shared_output:  # one head used at every step: its gradient is the sum over steps
        dWo, dbo = dWo.sum(axis=0), dbo.sum(keepdims=True)
    grads = {"Wx": dWx, "Wy": dWy, "b": db, "Wo": dWo, "bo": dbo}
    dout_dx = input_sensitivities(X, weights, activation, trace) if sensitivities else None
    return Grads(loss_of(trace.outputs, targets), grads, dL_dy, dout_dx)


def input_sensitivities(X: np.ndarray, weights: Weights, activation: str, trace: Trace) -> np.ndarray:
    """(T, T, B, F): ∂out_t[r]/∂X_k[r, f], each out_t traced back through y_t, y_(t-1), ..., y_k.

    One row's sensitivity passes through the factor diag(f'(z_j))·Wyᵀ once per step between k and t:
    saturated (or dead) units pass almost nothing back, and ‖Wy‖ sets whether the product shrinks or grows.
    """
    df = ACTIVATIONS[activation].df
    T, B, F = X.shape
    Wo, _ = weights.output_heads(T)  # (T, N)
    z, y = trace.pre_activation, trace.hidden
    dout_dx = np.zeros((T, T, B, F))
    for t in range(T):
        dy = np.broadcast_to(Wo[t], y[t].shape)  # (B, N): ∂out_t/∂y_t, the same for every row
        for k in reversed(range(t + 1)):
            dz = dy * df(z[k], y[k])  # (B, N): ∂out_t/∂z_k
            dout_dx[t, k] = dz @ weights.Wx.T  # (B, F)
            dy = dz @ weights.Wy.T  # (B, N): ∂out_t/∂y_(k-1)
    return dout_dx
