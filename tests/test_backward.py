"""The backward pass three ways: numpy BPTT by hand (reference.backward), TensorFlow's GradientTape
(tf_train.backward) and central finite differences of the numpy forward pass."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from rnn_core import reference, tf_train
from rnn_core.activations import ACTIVATIONS, NAMES
from rnn_core.params import Weights
from rnn_core.reference import GRAD_NAMES
from rnn_core.state import State

H = 1e-6  # finite-difference step


def assert_rel(actual, expected, tol: float, what: str = "") -> None:
    """|a - b| <= tol·max(1, |a|), elementwise."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, what
    bound = tol * np.maximum(1.0, np.abs(expected))
    worst = float(np.max(np.abs(actual - expected) - bound, initial=-1.0))
    assert worst <= 0, f"{what}: max |diff| {np.abs(actual - expected).max():.3g}"


def case(T, B, F, N, activation, shared, seed=0):
    """Random inputs, weights and targets; relu's pre-activations kept at least 1e-3 from its kink."""
    for attempt in range(100):
        rng = np.random.default_rng(1000 * seed + attempt)
        X = rng.normal(size=(T, B, F))
        heads = (N,) if shared else (T, N)
        weights = Weights(
            Wx=rng.normal(size=(F, N)),
            Wy=rng.normal(scale=0.5, size=(N, N)),
            b=rng.normal(scale=0.5, size=N),
            Wo=rng.normal(size=heads),
            bo=rng.normal(size=(1,) if shared else (T,)),
        )
        targets = rng.normal(size=(T, B))
        z = reference.forward(X, weights, activation).pre_activation
        if activation != "relu" or np.abs(z).min() > 1e-3:
            return X, weights, targets
    raise AssertionError("no case with pre-activations away from 0")


def loss(X, weights, activation, targets) -> float:
    return reference.loss_of(reference.forward(X, weights, activation).outputs, targets)


def fd_weights(X, weights, activation, targets) -> dict[str, np.ndarray]:
    grads = {}
    for name in GRAD_NAMES:
        W = getattr(weights, name)
        g = np.zeros_like(W)
        for idx in np.ndindex(W.shape):
            for sign in (1, -1):
                bumped = W.copy()
                bumped[idx] += sign * H
                g[idx] += sign * loss(X, replace(weights, **{name: bumped}), activation, targets) / (2 * H)
        grads[name] = g
    return grads


def fd_dL_dy(X, weights, activation, targets) -> np.ndarray:
    """dL/dy_t by nudging y_t itself inside the recurrence (so the change flows on to later steps)."""
    f = ACTIVATIONS[activation].f
    T, B, _ = X.shape
    N = weights.Wy.shape[0]
    Wo, bo = weights.output_heads(T)

    def loss_nudged(t0, r, n, h):
        y = np.zeros((B, N))
        outs = []
        for t in range(T):
            y = f(y @ weights.Wy + X[t] @ weights.Wx + weights.b)
            if t == t0:
                y = y.copy()
                y[r, n] += h
            outs.append(y @ Wo[t] + bo[t])
        return reference.loss_of(np.stack(outs), targets)

    g = np.zeros((T, B, N))
    for idx in np.ndindex(g.shape):
        g[idx] = (loss_nudged(*idx, H) - loss_nudged(*idx, -H)) / (2 * H)
    return g


def fd_dout_dx(X, weights, activation) -> np.ndarray:
    T, B, F = X.shape
    d = np.zeros((T, T, B, F))
    for k, r, f in np.ndindex(T, B, F):
        up, down = X.copy(), X.copy()
        up[k, r, f] += H
        down[k, r, f] -= H
        diff = (
            reference.forward(up, weights, activation).outputs
            - reference.forward(down, weights, activation).outputs
        )
        d[:, k, r, f] = diff[:, r] / (2 * H)  # (T,): out_t[r] for every t
    return d


SIZES = [(4, 3, 2, 5), (1, 2, 3, 4), (3, 2, 2, 1)]  # (T, B, F, N): odd sizes, one step, one neuron


@pytest.mark.parametrize("shared", [False, True], ids=["per-step", "shared"])
@pytest.mark.parametrize("activation", NAMES)
@pytest.mark.parametrize("sizes", SIZES, ids=lambda s: "T{}B{}F{}N{}".format(*s))
def test_numpy_tf_and_finite_differences_agree(sizes, activation, shared):
    X, weights, targets = case(*sizes, activation, shared)
    ours = reference.backward(X, weights, activation, targets)
    tf_ = tf_train.backward(X, weights, activation, targets)
    assert ours.loss == pytest.approx(loss(X, weights, activation, targets), rel=1e-15)
    assert_rel(tf_.loss, ours.loss, 1e-9, "loss")
    numeric = fd_weights(X, weights, activation, targets)
    for name in GRAD_NAMES:
        assert ours.grads[name].shape == getattr(weights, name).shape
        assert_rel(tf_.grads[name], ours.grads[name], 1e-9, f"tf {name}")
        assert_rel(numeric[name], ours.grads[name], 1e-5, f"fd {name}")
    assert_rel(tf_.dL_dy, ours.dL_dy, 1e-9, "tf dL_dy")
    assert_rel(fd_dL_dy(X, weights, activation, targets), ours.dL_dy, 1e-5, "fd dL_dy")
    assert_rel(tf_.dout_dx, ours.dout_dx, 1e-9, "tf dout_dx")
    assert_rel(fd_dout_dx(X, weights, activation), ours.dout_dx, 1e-5, "fd dout_dx")


def test_tutorial_network_with_targets():
    state = State()
    X, weights = state.inputs, state.resolved_weights()
    targets = X[:, :, 0] / 10
    ours = reference.backward(X, weights, "tanh", targets)
    tf_ = tf_train.backward(X, weights, "tanh", targets)
    for name in GRAD_NAMES:
        assert_rel(tf_.grads[name], ours.grads[name], 1e-9, name)
    assert_rel(tf_.dout_dx, ours.dout_dx, 1e-9, "dout_dx")
    assert ours.dout_dx.shape == (3, 3, 3, 2) and ours.dL_dy.shape == (3, 3, 8)


@pytest.mark.parametrize("engine", ["numpy", "tensorflow"])
def test_no_sensitivity_to_later_inputs_and_none_back_through_a_zero_Wy(engine):
    backward = reference.backward if engine == "numpy" else tf_train.backward
    X, weights, targets = case(5, 3, 2, 4, "tanh", False, seed=3)
    d = backward(X, weights, "tanh", targets).dout_dx  # (t, k, B, F)
    later = np.triu(np.ones((5, 5), bool), k=1)  # k > t
    assert np.all(d[later] == 0)
    assert np.all(np.abs(d[np.diag_indices(5)]) > 0)
    cut = backward(X, replace(weights, Wy=np.zeros((4, 4))), "tanh", targets).dout_dx
    earlier = np.tril(np.ones((5, 5), bool), k=-1)  # k < t
    assert np.all(cut[earlier] == 0)


def test_the_last_step_gets_gradient_only_through_its_output():
    X, weights, targets = case(3, 2, 2, 4, "sigmoid", False, seed=5)
    g = reference.backward(X, weights, "sigmoid", targets)
    out = reference.forward(X, weights, "sigmoid").outputs
    d_out = 2 * (out[-1] - targets[-1]) / out.size  # (B,)
    assert_rel(g.dL_dy[-1], np.outer(d_out, weights.Wo[-1]), 1e-12, "dL/dy_(T-1)")


def test_gradients_trace_once_per_activation():
    for sizes in [(2, 1, 1, 3), (6, 4, 3, 7), (1, 1, 8, 2)]:
        for shared in (False, True):
            X, weights, targets = case(*sizes, "tanh", shared)
            tf_train.backward(X, weights, "tanh", targets)
    assert tf_train.GRAD["tanh"].experimental_get_tracing_count() == 1
