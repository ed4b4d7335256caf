"""The numpy reference against the math written out by hand, and the seeded weights it runs on."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rnn_core.activations import ACTIVATIONS
from rnn_core.config import RNNConfig
from rnn_core.params import Weights, init_weights, tutorial_inputs
from rnn_core.reference import forward
from rnn_core.state import State

# The tutorial's table (DESIGN.md section 1), typed out rather than computed: [step][row][feature].
TUTORIAL_TABLE = [
    [[1, 2], [3, 4], [5, 6]],
    [[7, 8], [9, 10], [11, 12]],
    [[13, 14], [15, 16], [17, 18]],
]


def hand_forward(X: list, weights: Weights, act) -> tuple[list, list, list]:
    """The recurrence with scalar loops only: no matrix products, y_{-1} = 0 and no Wy term at t = 0."""
    Wx, Wy, b = weights.Wx.tolist(), weights.Wy.tolist(), weights.b.tolist()
    n_neurons = len(b)
    pre, hidden, outputs = [], [], []
    y_prev = None  # y_{-1}: nothing to multiply
    for t, X_t in enumerate(X):
        z_t, y_t, out_t = [], [], []
        for r, x in enumerate(X_t):
            z_row = []
            for n in range(n_neurons):
                z = b[n] + sum(x[f] * Wx[f][n] for f in range(len(x)))
                if y_prev is not None:
                    z += sum(y_prev[r][m] * Wy[m][n] for m in range(n_neurons))
                z_row.append(z)
            y_row = [act(z) for z in z_row]
            Wo_t = weights.Wo.tolist() if weights.Wo.ndim == 1 else weights.Wo[t].tolist()
            bo_t = float(weights.bo[0] if weights.bo.shape == (1,) else weights.bo[t])
            z_t.append(z_row)
            y_t.append(y_row)
            out_t.append(sum(y * w for y, w in zip(y_row, Wo_t, strict=True)) + bo_t)
        pre.append(z_t)
        hidden.append(y_t)
        outputs.append(out_t)
        y_prev = y_t
    return pre, hidden, outputs


def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


SCALAR_ACTIVATIONS = {"tanh": math.tanh, "relu": lambda z: max(z, 0.0), "sigmoid": sigmoid}


def test_tutorial_inputs_are_the_table():
    X = tutorial_inputs()
    assert X.shape == (3, 3, 2)
    assert X.dtype == np.float64
    assert X.tolist() == TUTORIAL_TABLE
    assert X[:, 0, :].tolist() == [[1, 2], [7, 8], [13, 14]]  # row 0's sequence


def test_tutorial_forward_matches_the_hand_loop():
    state = State()
    weights = state.resolved_weights()
    trace = forward(state.inputs, weights, "tanh")
    pre, hidden, outputs = hand_forward(TUTORIAL_TABLE, weights, math.tanh)
    assert trace.pre_activation.shape == (3, 3, 8)
    assert trace.hidden.shape == (3, 3, 8)
    assert trace.outputs.shape == (3, 3)
    np.testing.assert_allclose(trace.pre_activation, pre, rtol=0, atol=1e-12)
    np.testing.assert_allclose(trace.hidden, hidden, rtol=0, atol=1e-12)
    np.testing.assert_allclose(trace.outputs, outputs, rtol=0, atol=1e-12)


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid"])
@pytest.mark.parametrize("shared_output", [False, True])
def test_random_network_matches_the_hand_loop(activation, shared_output):
    config = RNNConfig(n_inputs=3, n_neurons=5, n_steps=4, batch=2, shared_output=shared_output)
    weights = init_weights(config, seed=7)
    weights = Weights(weights.Wx, weights.Wy, np.linspace(-0.5, 0.5, 5), weights.Wo, weights.bo + 0.25)
    X = np.random.default_rng(3).uniform(-2, 2, size=(4, 2, 3))
    trace = forward(X, weights, activation)
    pre, hidden, outputs = hand_forward(X.tolist(), weights, SCALAR_ACTIVATIONS[activation])
    np.testing.assert_allclose(trace.pre_activation, pre, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(trace.hidden, hidden, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(trace.outputs, outputs, rtol=1e-12, atol=1e-12)


def test_first_step_has_no_recurrent_term():
    weights = State().resolved_weights()
    huge_Wy = Weights(weights.Wx, weights.Wy * 1e3 + 5.0, weights.b, weights.Wo, weights.bo)
    a = forward(tutorial_inputs(), weights)
    c = forward(tutorial_inputs(), huge_Wy)
    np.testing.assert_array_equal(a.pre_activation[0], c.pre_activation[0])
    np.testing.assert_allclose(a.pre_activation[0], tutorial_inputs()[0] @ weights.Wx, atol=1e-12)
    assert not np.allclose(a.pre_activation[1], c.pre_activation[1])  # from y1 on, Wy matters


def test_tutorial_defaults_saturate():
    """The lesson of DESIGN.md section 1: most units sit at +-1 by y1, and all rows end alike."""
    state = State()
    trace = forward(state.inputs, state.resolved_weights(), "tanh")
    saturated = (np.abs(trace.hidden) > 0.95).mean(axis=(1, 2))  # fraction per step
    assert saturated[1] > 0.5
    assert saturated[2] > 0.5
    final = trace.outputs[2]  # output2 of the three rows
    spread = final.max() - final.min()
    assert spread < 0.05
    assert spread < 0.2 * np.abs(final).mean()  # small next to the outputs themselves


def test_saturation_is_the_rule_not_the_seed():
    """Over many seeds, y2 of the tutorial network is mostly saturated on average."""
    fractions = []
    for seed in range(40):
        trace = forward(tutorial_inputs(), State(seed=seed).resolved_weights())
        fractions.append((np.abs(trace.hidden[2]) > 0.95).mean())
    assert np.mean(fractions) > 0.7


def test_relu_definition():
    z = np.array([-3.0, -1e-300, -0.0, 0.0, 1e-300, 2.5, 1e300])
    np.testing.assert_array_equal(ACTIVATIONS["relu"].f(z), [0, 0, 0, 0, 1e-300, 2.5, 1e300])


def test_sigmoid_definition():
    z = np.linspace(-30, 30, 121)
    expected = [sigmoid(v) for v in z]
    np.testing.assert_allclose(ACTIVATIONS["sigmoid"].f(z), expected, rtol=1e-13, atol=1e-16)
    assert ACTIVATIONS["sigmoid"].f(np.array([0.0]))[0] == 0.5


def test_sigmoid_has_no_overflow_at_the_extremes():
    with np.errstate(all="raise"):  # an overflow in exp would raise here
        y = ACTIVATIONS["sigmoid"].f(np.array([-1e6, -800.0, 800.0, 1e6]))
    np.testing.assert_allclose(y, [0, 0, 1, 1], atol=1e-300)


def test_tanh_definition():
    z = np.linspace(-5, 5, 41)
    np.testing.assert_allclose(ACTIVATIONS["tanh"].f(z), [math.tanh(v) for v in z], rtol=1e-14)


@pytest.mark.parametrize("activation", ["relu", "sigmoid"])
def test_forward_applies_the_named_activation(activation):
    trace = forward(tutorial_inputs(), State().resolved_weights(), activation)
    scalar = SCALAR_ACTIVATIONS[activation]
    expected = np.vectorize(scalar)(trace.pre_activation)
    np.testing.assert_allclose(trace.hidden, expected, rtol=1e-13, atol=1e-15)


def test_shared_output_uses_one_head_at_every_step():
    config = RNNConfig(n_neurons=6, n_steps=5, batch=4, n_inputs=2, shared_output=True)
    weights = init_weights(config, seed=11)
    assert weights.shared_output
    assert weights.Wo.shape == (6,)
    assert weights.bo.shape == (1,)
    weights = Weights(weights.Wx, weights.Wy, weights.b, weights.Wo, np.array([0.75]))
    X = np.random.default_rng(1).normal(size=(5, 4, 2))
    trace = forward(X, weights)
    for t in range(5):
        np.testing.assert_allclose(trace.outputs[t], trace.hidden[t] @ weights.Wo + 0.75, atol=1e-13)
    Wo, bo = weights.output_heads(5)
    assert Wo.shape == (5, 6)
    assert all(np.array_equal(Wo[t], weights.Wo) for t in range(5))
    assert bo.tolist() == [0.75] * 5


def test_per_step_heads_are_separate():
    config = RNNConfig(n_neurons=6, n_steps=5, batch=4, n_inputs=2, shared_output=False)
    weights = init_weights(config, seed=11)
    assert not weights.shared_output
    assert weights.Wo.shape == (5, 6)
    assert weights.bo.shape == (5,)
    assert len({tuple(row) for row in weights.Wo.tolist()}) == 5  # a new dense layer per step
    X = np.random.default_rng(1).normal(size=(5, 4, 2))
    trace = forward(X, weights)
    for t in range(5):
        np.testing.assert_allclose(trace.outputs[t], trace.hidden[t] @ weights.Wo[t], atol=1e-13)
    # the same heads spelled out per step give the same numbers as the shared head
    shared = Weights(weights.Wx, weights.Wy, weights.b, weights.Wo[2], np.zeros(1))
    tiled = Weights(weights.Wx, weights.Wy, weights.b, np.tile(weights.Wo[2], (5, 1)), np.zeros(5))
    np.testing.assert_allclose(forward(X, shared).outputs, forward(X, tiled).outputs, atol=1e-14)


def test_seeded_weights_are_reproducible():
    config = RNNConfig(n_neurons=16, n_inputs=3, n_steps=4)
    a, b = init_weights(config, 5), init_weights(config, 5)
    other = init_weights(config, 6)
    for name in ("Wx", "Wy", "Wo"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
        assert not np.allclose(getattr(a, name), getattr(other, name)), name


@pytest.mark.parametrize("scale", [0.5, 1.0, 2.0])
def test_weight_scale_is_the_standard_deviation(scale):
    config = RNNConfig(n_inputs=8, n_neurons=256, weight_scale=scale)
    weights = init_weights(config, seed=123)
    assert weights.Wx.shape == (8, 256)
    assert weights.Wy.shape == (256, 256)
    # 65536 draws: the sample std is within about 0.3% (1/sqrt(2n)); allow 2%
    assert abs(weights.Wy.std() / scale - 1) < 0.02
    assert abs(weights.Wy.mean()) < 0.02 * scale
    assert abs(weights.Wx.std() / scale - 1) < 0.1  # 2048 draws
    # normal, not uniform: about 4.6% of N(0, 1) lies past 2 sigma (a uniform of that std has none)
    assert 0.035 < (np.abs(weights.Wy) > 2 * scale).mean() < 0.057


def test_zero_weight_scale_gives_zero_recurrent_weights():
    weights = init_weights(RNNConfig(weight_scale=0.0), seed=1)
    assert not weights.Wx.any()
    assert not weights.Wy.any()


@pytest.mark.parametrize("n_neurons", [1, 8, 256])
@pytest.mark.parametrize("shared_output", [False, True])
def test_output_heads_are_glorot_uniform(n_neurons, shared_output):
    config = RNNConfig(n_neurons=n_neurons, n_steps=50, shared_output=shared_output)
    weights = init_weights(config, seed=9)
    limit = math.sqrt(6.0 / (n_neurons + 1))  # Glorot for a [n_neurons, 1] kernel
    assert np.all(np.abs(weights.Wo) <= limit)
    if weights.Wo.size >= 50:  # enough draws to see the whole range used
        assert np.abs(weights.Wo).max() > 0.8 * limit
        assert (weights.Wo < 0).any() and (weights.Wo > 0).any()


def test_biases_start_at_zero():
    for shared in (False, True):
        weights = init_weights(RNNConfig(n_neurons=12, n_steps=7, shared_output=shared), seed=3)
        assert weights.b.shape == (12,)
        assert weights.bo.shape == ((1,) if shared else (7,))
        assert not weights.b.any()
        assert not weights.bo.any()


def test_the_cross_checks_drift_by_step_is_each_steps_largest_difference():
    """rnn_core.crosscheck.by_step against a loop over the steps, with infinities and NaNs in it."""
    from rnn_core.crosscheck import by_step, relative_diff

    rng = np.random.default_rng(3)
    a = rng.normal(size=(5, 4, 3)) * 10.0 ** rng.integers(-3, 9, size=(5, 4, 3))
    b = a * (1 + rng.normal(size=a.shape) * 1e-12)
    a[1, 2, 0], b[1, 2, 0] = np.inf, np.inf  # the same infinity: equal
    a[2, 0, 1], b[2, 0, 1] = np.nan, np.nan  # both NaN: equal
    a[3, 1, 2], b[3, 1, 2] = 1.0, np.nan  # one NaN: infinitely apart
    looped = [max(float(relative_diff(a[t], b[t]).max()), 0.0) for t in range(5)]
    assert by_step(a, b).tolist() == looped
    assert by_step(a, b)[3] == np.inf
    assert by_step(np.zeros((4, 0)), np.zeros((4, 0))).tolist() == [0.0] * 4
