"""TensorFlow in this process: tf_model against the numpy reference and against SimpleRNN.

The only test module that imports TensorFlow itself (about 4 s); the rest reach it through the worker.
"""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given, settings
from hypothesis import strategies as st

from rnn_core import activations, reference, tf_model
from rnn_core.activations import NAMES as ACTIVATIONS
from rnn_core.config import RNNConfig
from rnn_core.params import Weights, init_weights, tutorial_inputs
from rnn_core.state import State


def assert_close(actual: np.ndarray, expected: np.ndarray, tol: float = 1e-9) -> None:
    """Max abs difference below tol, measured in units of the values once they pass 1 (relu grows)."""
    assert actual.shape == expected.shape
    assert np.isfinite(actual).all()
    scale = max(1.0, float(np.abs(expected).max(initial=0.0)))
    diff = float(np.abs(actual - expected).max(initial=0.0))
    assert diff < tol * scale, f"max abs diff {diff:.3g} (scale {scale:.3g})"


def assert_traces_equal(actual, expected) -> None:
    assert_close(actual.pre_activation, expected.pre_activation)
    assert_close(actual.hidden, expected.hidden)
    assert_close(actual.outputs, expected.outputs)


def random_case(T, B, F, N, seed, activation, shared, scale):
    config = RNNConfig(
        n_inputs=F, n_neurons=N, n_steps=T, batch=B, activation=activation,
        shared_output=shared, weight_scale=scale,
    )  # fmt: skip
    weights = init_weights(config.validate(), seed)
    rng = np.random.default_rng(seed + 1)
    # non-zero biases, so that b and bo are exercised too
    weights = Weights(
        weights.Wx, weights.Wy, rng.normal(size=N), weights.Wo, rng.normal(size=weights.bo.shape)
    )
    X = rng.uniform(-20, 20, size=(T, B, F))
    return X, weights


def test_tutorial_forward_equals_reference():
    state = State()
    weights = state.resolved_weights()
    trace = tf_model.forward(state.inputs, weights, "tanh")
    assert trace.pre_activation.dtype == np.float64
    assert trace.outputs.shape == (3, 3)
    assert_traces_equal(trace, reference.forward(state.inputs, weights, "tanh"))


# Sizes stay where the recurrence is not chaotic: with N(0, 1) weights, 256 neurons and 50 steps, two
# correct float64 programs that sum in a different order drift apart by x3-4 per step (1e-15 -> O(1)
# by step 30); test_trace_obeys_the_recurrence_at_the_caps covers the caps without that drift.
@settings(max_examples=40, deadline=None)
@given(
    T=st.integers(1, 16),
    B=st.integers(1, 8),
    F=st.integers(1, 8),
    N=st.integers(1, 48),
    seed=st.integers(0, 2**32 - 2),
    activation=st.sampled_from(ACTIVATIONS),
    shared=st.booleans(),
    scale=st.sampled_from([0.0, 0.1, 0.5, 1.0]),
)
def test_forward_equals_reference_for_any_size(T, B, F, N, seed, activation, shared, scale):
    X, weights = random_case(T, B, F, N, seed, activation, shared, scale)
    trace = tf_model.forward(X, weights, activation)
    assert_traces_equal(trace, reference.forward(X, weights, activation))


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("shared", [False, True])
def test_trace_obeys_the_recurrence_at_the_caps(activation, shared):
    """Teacher forcing: each TF step recomputed in numpy from TF's own y_{t-1} (no drift to amplify)."""
    T, B, F, N = 50, 32, 8, 256
    X, weights = random_case(T, B, F, N, 5, activation, shared, 1.0)
    trace = tf_model.forward(X, weights, activation)
    assert trace.hidden.shape == (T, B, N)
    y_prev = np.concatenate([np.zeros((1, B, N)), trace.hidden[:-1]])  # (T, B, N), y_{-1} = 0
    z = y_prev @ weights.Wy + X @ weights.Wx + weights.b
    bound = np.abs(y_prev) @ np.abs(weights.Wy) + np.abs(X) @ np.abs(weights.Wx) + np.abs(weights.b)
    assert np.all(np.abs(trace.pre_activation - z) <= 1e-12 * (bound + 1))
    act = activations.get(activation).f
    assert np.all(np.abs(trace.hidden - act(trace.pre_activation)) <= 1e-12 * (np.abs(trace.hidden) + 1))
    Wo, bo = weights.output_heads(T)
    out = np.einsum("tbn,tn->tb", trace.hidden, Wo) + bo[:, None]
    out_bound = np.einsum("tbn,tn->tb", np.abs(trace.hidden), np.abs(Wo)) + np.abs(bo)[:, None]
    assert np.all(np.abs(trace.outputs - out) <= 1e-12 * (out_bound + 1))


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_simple_rnn_hidden_equals_reference(activation):
    for T, B, F, N, seed in [(3, 3, 2, 8, 0), (7, 2, 5, 3, 1), (1, 1, 1, 1, 2)]:
        X, weights = random_case(T, B, F, N, seed, activation, False, 0.5)
        hidden = tf_model.simple_rnn_hidden(X, weights, activation)
        assert_close(hidden, reference.forward(X, weights, activation).hidden)


def test_simple_rnn_tutorial_equals_reference():
    state = State()
    weights = state.resolved_weights()
    hidden = tf_model.simple_rnn_hidden(state.inputs, weights, "tanh")
    assert_close(hidden, reference.forward(state.inputs, weights).hidden)


def test_simple_rnn_layer_takes_new_weights_each_call():
    """The layer cache is keyed by size: a second set of weights of the same size must not see the first."""
    X, w1 = random_case(4, 3, 2, 6, 10, "tanh", False, 1.0)
    _, w2 = random_case(4, 3, 2, 6, 11, "tanh", False, 1.0)
    h1 = tf_model.simple_rnn_hidden(X, w1)
    h2 = tf_model.simple_rnn_hidden(X, w2)
    assert_close(h2, reference.forward(X, w2).hidden)
    assert not np.allclose(h1, h2)


def test_tracing_counter_counts_retraces():
    """The control: without a signature, a tf.function retraces for new shapes, and the counter shows it."""
    fn = tf.function(lambda x: x * 2.0)
    for n in range(1, 5):
        fn(tf.zeros([n, 2 * n], tf.float64))
    assert fn.experimental_get_tracing_count() >= 2


def test_changing_sizes_does_not_retrace():
    sizes = [(3, 3, 2, 8), (1, 1, 1, 1), (50, 32, 8, 256), (7, 2, 5, 3), (12, 1, 8, 64), (2, 32, 1, 200)]
    for i, (T, B, F, N) in enumerate(sizes):
        for activation in ACTIVATIONS:
            X, weights = random_case(T, B, F, N, i, activation, i % 2 == 0, 0.3)
            trace = tf_model.forward(X, weights, activation)
            assert trace.hidden.shape == (T, B, N)
            assert trace.outputs.shape == (T, B)
    # experimental_get_tracing_count: the number of times this tf.function traced a graph, over the
    # life of the process (other tests in this module called it too); one means it never retraced.
    assert tf_model.trace_count() == 1


def test_xla_equals_reference():
    X, weights = random_case(5, 4, 3, 16, 21, "tanh", False, 1.0)
    trace = tf_model.forward(X, weights, "tanh", xla=True)
    assert_traces_equal(trace, reference.forward(X, weights, "tanh"))
    state = State()
    trace = tf_model.forward(state.inputs, state.resolved_weights(), "sigmoid", xla=True)
    assert_traces_equal(trace, reference.forward(state.inputs, state.resolved_weights(), "sigmoid"))


def test_tutorial_inputs_are_used_unchanged():
    X = tutorial_inputs()
    before = X.copy()
    tf_model.forward(X, State().resolved_weights())
    np.testing.assert_array_equal(X, before)
