"""Training: numpy (training.py) against TensorFlow's traced loop (tf_train) and Keras' own Adam; the
lessons it must show (copying the input is easy, echoing X0 needs Wy); frozen weights, clipping and a
diverging run; the training job in slices, in this process and through the engine's worker."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import tensorflow as tf

from rnn_core import reference, tf_train, training
from rnn_core.config import RNNConfig
from rnn_core.params import Weights, init_weights
from rnn_core.reference import GRAD_NAMES
from rnn_core.state import State, TrainingSettings


def network(T=4, B=5, F=2, N=6, seed=0, shared=False, scale=0.5):
    config = RNNConfig(n_inputs=F, n_neurons=N, n_steps=T, batch=B, shared_output=shared, weight_scale=scale)
    rng = np.random.default_rng(seed + 100)
    weights = replace(init_weights(config, seed), b=rng.normal(scale=0.3, size=N))
    return rng.normal(size=(T, B, F)), weights, rng.normal(size=(T, B))


def assert_weights_close(a: Weights, b: Weights, tol: float) -> None:
    for name in GRAD_NAMES:
        x, y = getattr(a, name), getattr(b, name)
        assert x.shape == y.shape
        assert np.all(np.abs(x - y) <= tol * np.maximum(1.0, np.abs(y))), name


def loss_of(X, weights, activation, targets) -> float:
    return reference.loss_of(reference.forward(X, weights, activation).outputs, targets)


@pytest.mark.parametrize("shared", [False, True], ids=["per-step", "shared"])
def test_one_sgd_step_is_w_minus_lr_g(shared):
    X, weights, targets = network(shared=shared)
    g = reference.backward(X, weights, "tanh", targets).grads
    settings = TrainingSettings(optimizer="sgd", lr=0.3)
    for result in (
        training.train(X, weights, "tanh", targets, settings, steps=1),
        tf_train.train(X, weights, "tanh", targets, settings, steps=1),
    ):
        expected = Weights(**{name: getattr(weights, name) - 0.3 * g[name] for name in GRAD_NAMES})
        assert_weights_close(result.weights, expected, 1e-12)
        assert result.losses[1] == pytest.approx(loss_of(X, result.weights, "tanh", targets), rel=1e-12)


@pytest.mark.parametrize(
    "activation, shared, clip", [("tanh", False, None), ("sigmoid", True, None), ("relu", False, 0.5)]
)
def test_numpy_adam_equals_tensorflow_adam_over_20_steps(activation, shared, clip):
    X, weights, targets = network(T=3, B=4, F=3, N=5, seed=1, shared=shared)
    settings = TrainingSettings(lr=0.05, clip=clip)
    ours = training.train(X, weights, activation, targets, settings, steps=20)
    theirs = tf_train.train(X, weights, activation, targets, settings, steps=20)
    assert ours.status == theirs.status == training.DONE
    assert len(ours.losses) == len(theirs.losses) == 21
    np.testing.assert_allclose(theirs.losses, ours.losses, rtol=1e-9, atol=1e-9)
    assert_weights_close(theirs.weights, ours.weights, 1e-9)
    assert theirs.opt.iterations == ours.opt.iterations == 20
    for name in GRAD_NAMES:
        np.testing.assert_allclose(theirs.opt.m[name], ours.opt.m[name], rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(theirs.opt.v[name], ours.opt.v[name], rtol=1e-9, atol=1e-12)


def test_numpy_adam_equals_keras_adam():
    """training.adam_update against tf.keras.optimizers.Adam itself (defaults), fed the same gradients."""
    X, weights, targets = network(seed=2)
    variables = [tf.Variable(getattr(weights, name), dtype=tf.float64) for name in GRAD_NAMES]
    keras_adam = tf.keras.optimizers.Adam(learning_rate=0.02)
    ours = training.train(X, weights, "tanh", targets, TrainingSettings(lr=0.02), steps=20)
    for _ in range(20):
        current = Weights(*(v.numpy() for v in variables))
        g = reference.backward(X, current, "tanh", targets, sensitivities=False).grads
        keras_adam.apply_gradients(
            [(tf.constant(g[name]), v) for name, v in zip(GRAD_NAMES, variables, strict=True)]
        )
    assert_weights_close(ours.weights, Weights(*(v.numpy() for v in variables)), 1e-12)
    for lr in (0.1, 0.003, 1 / 3):  # Keras rounds its learning rate to float32; so do we
        keras_adam = tf.keras.optimizers.Adam(learning_rate=lr)
        v = tf.Variable([0.7], dtype=tf.float64)
        keras_adam.apply_gradients([(tf.constant([0.25], tf.float64), v)])
        ours = training.adam_update(np.array([0.7]), np.array([0.25]), 0, 0, 0, training.keras_lr(lr))[0]
        assert v.numpy()[0] == pytest.approx(ours[0], rel=1e-15, abs=1e-16)


def test_adam_learns_to_copy_the_current_input():
    X, weights, _ = network(T=4, B=8, F=2, N=8, seed=3)
    copy = X[:, :, 0]  # target_t[r] = X_t[r, 0]
    result = tf_train.train(X, weights, "tanh", copy, TrainingSettings(lr=0.01), steps=500)
    assert result.status == training.DONE
    assert result.losses[-1] < result.losses[0] / 10


def test_echoing_x0_needs_the_recurrent_weights():
    """target_t[r] = X_0[r, 0] at every step: with Wy frozen at 0, y_t sees only X_t, so steps t ≥ 1
    cannot know X_0 (64 random rows are too many to memorise); with Wy free the state carries it."""
    X, weights, _ = network(T=4, B=64, F=2, N=8, seed=1, scale=0.5)
    echo = np.repeat(X[:1, :, 0], 4, axis=0)  # (T, B)
    free = tf_train.train(X, weights, "tanh", echo, TrainingSettings(lr=0.01), steps=1000)
    cut = replace(weights, Wy=np.zeros((8, 8)))
    frozen = tf_train.train(X, cut, "tanh", echo, TrainingSettings(lr=0.01, freeze=("Wy",)), steps=1000)
    assert np.array_equal(frozen.weights.Wy, np.zeros((8, 8)))
    assert frozen.losses[-1] > 0.3  # about 3/4 of Var(X_0): three steps out of four are guesses
    assert free.losses[-1] < 0.05
    assert free.losses[-1] < frozen.losses[-1] / 20


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_frozen_weights_are_bit_identical(optimizer):
    X, weights, targets = network(seed=4)
    settings = TrainingSettings(optimizer=optimizer, lr=0.05, freeze=("Wx", "bo"), clip=1.0)
    for result in (
        training.train(X, weights, "tanh", targets, settings, steps=30),
        tf_train.train(X, weights, "tanh", targets, settings, steps=30),
    ):
        assert np.array_equal(result.weights.Wx, weights.Wx)
        assert np.array_equal(result.weights.bo, weights.bo)
        for name in ("Wy", "b", "Wo"):
            assert not np.array_equal(getattr(result.weights, name), getattr(weights, name))


@pytest.mark.parametrize("engine", ["numpy", "tensorflow"])
def test_a_huge_learning_rate_stops_with_the_last_finite_weights(engine):
    X, weights, targets = network(seed=5, scale=2.0)
    train = training.train if engine == "numpy" else tf_train.train
    settings = TrainingSettings(optimizer="sgd", lr=100.0)
    result = train(X, weights, "relu", targets * 1e5, settings, steps=200)
    assert result.status == training.DIVERGED
    assert ("loss became" in result.message or "grew past" in result.message) and "last" in result.message
    assert len(result.losses) < 201 and np.all(np.isfinite(result.losses))
    for name in GRAD_NAMES:
        assert np.all(np.isfinite(getattr(result.weights, name)))
    assert loss_of(X, result.weights, "relu", targets * 1e5) == pytest.approx(result.losses[-1], rel=1e-9)
    assert result.opt.iterations == len(result.losses) - 1


@pytest.mark.parametrize("engine", ["numpy", "tensorflow"])
def test_clipping_bounds_the_global_norm_of_every_update(engine):
    X, weights, targets = network(seed=6)
    targets = targets * 10  # large gradients
    train = training.train if engine == "numpy" else tf_train.train
    clip, lr = 0.25, 0.01
    before = weights
    norms = []
    for _ in range(5):  # one SGD step at a time: the update is lr times the clipped gradient
        result = train(X, before, "tanh", targets, TrainingSettings("sgd", lr, clip, freeze=("b",)), steps=1)
        delta = [getattr(result.weights, name) - getattr(before, name) for name in GRAD_NAMES]
        norms.append(training.global_norm(delta) / lr)
        before = result.weights
    assert max(norms) <= clip * (1 + 1e-9)
    assert min(norms) > clip * (1 - 1e-9)  # these gradients are larger than the clip: each one is cut


def test_stop_loss_ends_the_run_early():
    X, weights, _ = network(seed=7)
    settings = TrainingSettings(lr=0.02, stop_loss=0.05)
    for train in (training.train, tf_train.train):
        result = train(X, weights, "tanh", X[:, :, 0], settings, steps=2000)
        assert result.status == training.REACHED
        assert result.losses[-1] <= 0.05 < result.losses[-2]


def test_the_job_in_slices_equals_one_call_and_takes_new_settings_without_retracing():
    X, weights, targets = network(seed=8)
    settings = TrainingSettings(lr=0.01)
    whole = tf_train.train(X, weights, "tanh", targets, settings, steps=300)
    traces = tf_train.slice_trace_count()
    job = tf_train.TrainJob(X, weights, "tanh", targets, settings, steps=300, key="t1")
    reports = list(job)  # every slice but the last (that one ends the iterator with the result)
    assert len(reports) >= 1 and all(result["status"] == "running" for _, result in reports)
    final = job.result()
    assert final["status"] == training.DONE and final["step"] == 300 and len(final["losses"]) == 301
    np.testing.assert_allclose(final["losses"], whole.losses, rtol=1e-9)
    assert_weights_close(final["weights"], whole.weights, 1e-9)
    assert [p for p, _ in reports] == sorted(p for p, _ in reports)

    job = tf_train.TrainJob(X, weights, "tanh", targets, settings, steps=1000, key="t2")
    next(job)
    assert tf_train.update_settings("t2", TrainingSettings(optimizer="sgd", lr=0.001, clip=0.1))
    for _ in job:
        pass
    assert job.result()["step"] == 1000 and job.opt.iterations == 1000
    assert not tf_train.update_settings("t2", settings)  # finished
    assert tf_train.slice_trace_count() == traces


def test_through_the_engine():
    """The worker's "grad" op and "train" job, as the page calls them."""
    from rnn_core.engine import Engine

    state = State()
    X, weights, targets = state.inputs, state.resolved_weights(), state.inputs[:, :, 0] / 10
    engine = Engine(call_timeout=120)
    try:
        engine.start()
        grads = engine.grad(X, weights, "tanh", targets).value
        expected = reference.backward(X, weights, "tanh", targets)
        for name in GRAD_NAMES:
            np.testing.assert_allclose(grads.grads[name], expected.grads[name], rtol=1e-9, atol=1e-12)
        settings = TrainingSettings(lr=0.02)
        job = engine.start_job("train", owner="s1", X=X, weights=weights, activation="tanh",
                               targets=targets, settings=settings, steps=400, key="s1")  # fmt: skip
        status = engine.wait_job(job, timeout=60)
        assert engine.call("train_settings", key="s1", settings=TrainingSettings(lr=0.01)).value in (
            True,
            False,
        )
        while not status.done:
            status = engine.wait_job(job, after_slices=status.slices, timeout=60)
        assert status.error is None
        result = status.result
        assert result["status"] == training.DONE and result["step"] == 400 and len(result["losses"]) == 401
        assert result["losses"][-1] < result["losses"][0] / 10
        final = loss_of(X, result["weights"], "tanh", targets)
        assert final == pytest.approx(result["losses"][-1], rel=1e-9)
    finally:
        engine.stop()


@pytest.mark.parametrize("engine", ["numpy", "tensorflow"])
def test_a_loss_that_is_not_finite_from_the_start_trains_nothing(engine):
    X, weights, targets = network(seed=9)
    train = training.train if engine == "numpy" else tf_train.train
    result = train(X, weights, "tanh", targets * 1e200, TrainingSettings(), steps=10)
    assert result.status == training.DIVERGED and "before training" in result.message
    assert len(result.losses) == 0 and result.weights is weights


@pytest.mark.parametrize("engine", ["numpy", "tensorflow"])
def test_a_loss_that_becomes_nan_stops_with_the_last_finite_weights(engine):
    """relu over 50 steps: the first clipped step makes Wy large enough that the loss overflows, the
    next gradient's norm is inf, and clipping it gives NaN (as tf.clip_by_global_norm does)."""
    T = 50
    X = np.ones((T, 2, 1))
    weights = Weights(np.ones((1, 2)), np.eye(2) * 0.9, np.zeros(2), np.ones((T, 2)), np.zeros(T))
    targets = np.full((T, 2), 1e6)
    train = training.train if engine == "numpy" else tf_train.train
    settings = TrainingSettings(optimizer="sgd", lr=1.0, clip=1000.0)
    result = train(X, weights, "relu", targets, settings, steps=20)
    assert result.status == training.DIVERGED
    assert result.message.startswith("the loss became nan at update 2")
    assert len(result.losses) == 2 and result.opt.iterations == 1
    assert loss_of(X, result.weights, "relu", targets) == pytest.approx(result.losses[-1], rel=1e-9)
