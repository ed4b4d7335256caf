"""The learning part of the page under AppTest: targets and their presets, training as a job polled by
the page, Pause and Reset, the link, divergence, the gradients section, hostile training settings."""

from __future__ import annotations

import time

import numpy as np
import pytest

from app import compute
from rnn_core import gradflow, reference, tasks
from rnn_core.params import tutorial_inputs
from rnn_core.state import State, TrainingSettings, decode_link, encode_link, read_training
from tests.pagetools import charts, decode_array, heatmap_z, messages, new_app

DEADLINE_S = 300.0  # the first slice traces TensorFlow's training loop (slow on a loaded machine)
CHAPTERS_USED = ("training", "gradients")  # the chapters these tests read (closed until opened)


def memory(at):
    return at.session_state["page"]


def fill(at, task: str):
    at.selectbox(key="target_task").set_value(task)
    at.button(key="fill_targets").click()
    return at.run()


def targets_table(at) -> np.ndarray:
    """The targets grid as numbers (T, B): the second data editor on the page."""
    frame = at.data_editor[1].value
    return frame.to_numpy(dtype=float).T


def loss_points(at) -> np.ndarray:
    curve = charts(at)["loss-curve"]["data"][-1]
    return decode_array(curve["y"])


def train_until_done(at, deadline: float = DEADLINE_S):
    """Rerun the page (as the polling fragment would) until the job is over; a deadline, no sleeps."""
    end = time.monotonic() + deadline
    while memory(at).training.job_id is not None:
        assert time.monotonic() < end, "training did not finish in time"
        at.run()
        assert not at.exception
    return at


@pytest.fixture
def at():
    return new_app(chapters=CHAPTERS_USED).run()


@pytest.mark.parametrize("task", list(tasks.TASKS))
def test_task_presets_fill_the_targets_from_the_inputs(at, task):
    fill(at, task)
    assert not at.exception
    X = tutorial_inputs()
    expected = {
        "copy": X[:, :, 0],
        "echo": np.repeat(X[:1, :, 0], 3, axis=0),
        "sum": np.cumsum(X[:, :, 0], axis=0),
        "previous": np.vstack([np.zeros((1, 3)), X[:2, :, 0]]),
    }[task]
    np.testing.assert_array_equal(targets_table(at), expected)
    np.testing.assert_array_equal(memory(at).targets, expected)
    assert list(at.data_editor[1].value.columns) == ["out0", "out1", "out2"]
    assert decode_link(at.query_params["s"]).targets.tolist() == expected.tolist()


def test_training_lowers_the_loss_and_the_link_carries_weights_and_targets(at):
    fill(at, "copy")
    at.number_input(key="train_steps").set_value(300).run()
    at.button(key="train_start").click().run()
    assert memory(at).training.job_id is not None or memory(at).training.losses
    train_until_done(at)
    losses = loss_points(at)
    assert len(losses) == 301  # before training, then after every step
    assert losses[-1] < 0.5 * losses[0]
    assert "Step 300" in " ".join(c.value for c in at.caption)
    trained = memory(at).weights
    assert set(trained) == {"Wx", "Wy", "b", "Wo", "bo"}
    linked = decode_link(at.query_params["s"])
    for name, w in trained.items():
        np.testing.assert_array_equal(linked.weights[name], w)
    np.testing.assert_array_equal(linked.targets, tutorial_inputs()[:, :, 0])
    assert linked.training.steps == 300
    # the charts show the trained network: the hidden states are those of the trained weights
    ref = reference.forward(tutorial_inputs(), linked.resolved_weights())
    np.testing.assert_allclose(heatmap_z(charts(at)["hidden-y2"]), ref.hidden[2], atol=1e-9)
    # Reset: the weights before training, exactly (none explicit: the seeded ones)
    at.button(key="train_reset").click().run()
    assert memory(at).weights == {}
    seeded = reference.forward(tutorial_inputs(), State().resolved_weights())
    np.testing.assert_allclose(heatmap_z(charts(at)["hidden-y2"]), seeded.hidden[2], atol=1e-12)
    assert decode_link(at.query_params["s"]).weights == {}
    assert len(charts(at)["loss-curve"]["data"]) == 2  # the run is kept as a faded line


@pytest.fixture
def slots_taken(monkeypatch):
    """Every training slot of the page's engine taken by other owners' long jobs (then cancelled)."""
    engine = compute.get_engine()  # the page's engine (AppTest runs the page in this process)
    monkeypatch.setattr(engine, "max_jobs", 1)
    X, weights = tutorial_inputs(), State().resolved_weights()
    job = engine.start_job("forward_repeat", owner="someone-else", X=X, weights=weights, passes=10**7)
    yield engine, job
    engine.cancel_job(job)


def test_a_run_waits_for_a_free_training_slot_then_starts_by_itself(at, slots_taken):
    engine, other = slots_taken
    fill(at, "copy")
    at.button(key="train_start").click().run()
    assert not at.exception
    assert memory(at).training.queued == 0  # next in line
    assert [b.key for b in at.button if b.key in ("train_start", "train_pause")] == ["train_pause"]
    assert any("Waiting for a free training slot" in p.proto.text for p in at.get("progress"))
    at.run()
    assert memory(at).training.queued == 0 and memory(at).training.losses == []  # not one step yet
    engine.cancel_job(other)  # the slot frees: the engine starts the waiting run
    train_until_done(at)
    assert memory(at).training.queued is None
    assert loss_points(at)[-1] < loss_points(at)[0]


def test_pause_stops_a_run_waiting_for_a_slot(at, slots_taken):
    fill(at, "copy")
    at.button(key="train_start").click().run()
    assert memory(at).training.queued == 0
    at.button(key="train_pause").click().run()
    assert not at.exception and memory(at).training.job_id is None and memory(at).training.queued is None
    assert at.button(key="train_start")


def test_pause_cancels_the_job_and_the_step_count_stops(at):
    fill(at, "copy")
    at.number_input(key="train_steps").set_value(100_000).run()
    at.button(key="train_start").click().run()
    end = time.monotonic() + DEADLINE_S
    while len(memory(at).training.losses) < 2:  # a slice or more done
        assert time.monotonic() < end and memory(at).training.job_id is not None
        at.run()
    at.button(key="train_pause").click().run()
    tr = memory(at).training
    assert tr.job_id is None and tr.status == "paused"
    steps = len(tr.losses)
    assert 1 < steps < 100_001
    at.run()
    at.run()
    assert len(memory(at).training.losses) == steps
    assert len(loss_points(at)) == min(steps, 2000)
    # its weights are the last the job reported, and Train goes on from them
    at.button(key="train_start").click().run()
    assert memory(at).training.job_id is not None
    at.button(key="train_pause").click().run()
    assert len(memory(at).training.losses) >= steps


def test_steps_buttons_train_in_one_call(at):
    fill(at, "copy")
    at.button(key="train_step_10").click().run()
    assert not at.exception
    assert len(memory(at).training.losses) == 11
    at.button(key="train_step_1").click().run()
    assert len(memory(at).training.losses) == 12
    losses = memory(at).training.losses
    ref = reference.forward(
        tutorial_inputs(), State(**{}).with_changes(weights=memory(at).weights).resolved_weights()
    )
    assert abs(reference.loss_of(ref.outputs, tutorial_inputs()[:, :, 0]) - losses[-1]) < 1e-9 * max(
        1, losses[-1]
    )


def test_a_diverging_learning_rate_gives_a_notice_and_finite_weights():
    X = tutorial_inputs()
    state = State(
        targets=X[:, :, 0] * 1000,
        training=TrainingSettings(optimizer="sgd", lr=100.0, steps=50),
    )
    at = new_app({"s": encode_link(state)}, chapters=CHAPTERS_USED).run()
    assert not at.exception
    at.button(key="train_start").click().run()
    train_until_done(at)
    warnings = " ".join(messages(at, "warning"))
    assert "diverged" in warnings, (memory(at).training, messages(at, "info"), messages(at, "error"))
    assert memory(at).training.status == "diverged"
    for w in memory(at).weights.values():
        assert np.all(np.isfinite(w))
    assert all(np.isfinite(loss_points(at)))


def test_gradients_section_equals_the_numpy_backward(at):
    fill(at, "echo")
    X = tutorial_inputs()
    ref = reference.backward(X, State().resolved_weights(), "tanh", np.repeat(X[:1, :, 0], 3, axis=0))
    found = charts(at)
    np.testing.assert_allclose(
        decode_array(found["grad-dl-dy"]["data"][0]["y"]), gradflow.step_norms(ref.dL_dy), rtol=1e-9
    )
    sens = gradflow.sensitivity_map(ref.dout_dx)
    z = heatmap_z(found["grad-map"])
    lower = np.tril(np.ones((3, 3), dtype=bool))
    np.testing.assert_allclose(z[lower], np.log10(np.maximum(sens[lower], 1e-300)), rtol=1e-9)
    assert np.all(np.isnan(z[~lower]))
    assert any(m.label.startswith("Gradient check") and m.value == "equal" for m in at.metric)
    text = " ".join(m.value for m in at.markdown)
    assert f"L = {ref.loss:.6g}" in text
    # the explained cell: out2 back to X0 for row 0, the derivative's numbers printed
    d = ref.dout_dx[2, 0, 0]
    assert ", ".join(f"{v:.4g}" for v in d) in text
    at.radio(key="grad_map_mode").set_value("relative").run()
    rel = heatmap_z(charts(at)["grad-map"])
    np.testing.assert_allclose(rel[lower], gradflow.relative_rows(sens)[lower], rtol=1e-9)


def test_the_decay_view_uses_a_copy_of_the_network(at):
    at.select_slider(key="grad_decay_scale").set_value(0.3)
    at.slider(key="grad_decay_steps").set_value(40).run()
    assert not at.exception
    decay = charts(at)["grad-decay"]["data"][0]
    assert len(decode_array(decay["y"])) == 40
    assert "vanishing" in " ".join(m.value for m in at.markdown)
    assert decode_link(at.query_params["s"]).inputs.shape == (3, 3, 2)  # the page's network is unchanged


@pytest.mark.parametrize(
    "key, value",
    [  # values AppTest can send (bench/stclient sends any wire value: tests/test_hostile.py's way)
        ("train_steps", -5),
        ("train_steps", 10**12),
        ("train_steps", 2.5),
        ("train_clip", -3.0),
        ("train_clip", float("nan")),
        ("train_stop_loss", float("inf")),
        ("train_stop_loss", 1e300),
    ],
)
def test_hostile_training_settings_get_a_notice_never_an_exception(at, key, value):
    at.session_state[key] = value
    at.run()
    assert not at.exception
    kept = memory(at).training_state
    assert read_training(kept.to_dict(), {}) == kept  # whatever arrived, the state holds valid settings
    # AppTest hands a widget value through the widget's own checks (clamped or dropped); the real
    # wire values (text for a number, an index past the options, NaN) are sent by tests/test_learn_browser.py
    at.button(key="train_step_1").click().run()  # the page still trains with the kept settings
    assert not at.exception
    assert len(memory(at).training.losses) == 2


def test_a_big_network_skips_the_map_but_keeps_the_gradients():
    X = np.random.default_rng(1).normal(size=(50, 8, 2))
    state = State(inputs=X, n_neurons=128, weight_scale=0.1)  # not chaotic: numpy runs freely here
    at = new_app({"s": encode_link(state)}, chapters=CHAPTERS_USED).run()
    assert not at.exception
    found = charts(at)
    assert "grad-map" not in found and "grad-decay" in found
    ref = reference.backward(X, state.resolved_weights(), "tanh", np.zeros((50, 8)), sensitivities=False)
    np.testing.assert_allclose(
        decode_array(found["grad-dl-dy"]["data"][0]["y"]), gradflow.step_norms(ref.dL_dy), rtol=1e-9
    )
    assert any("too big for the map" in m for m in messages(at, "info"))


# ---- the pure parts: tasks and the gradient-flow numbers ----------------------------------------------


def test_fit_decay_finds_the_factor_per_step():
    norms_by_k = 0.5 ** np.arange(10)[::-1]  # k = 9 is distance 0
    decay = gradflow.fit_decay(norms_by_k * 3.0)
    assert decay.per_step == pytest.approx(0.5, rel=1e-12)
    assert "vanishing" in decay.verdict
    assert "exploding" in gradflow.fit_decay(2.0 ** np.arange(10)[::-1]).verdict


def test_last_output_sensitivity_equals_the_full_map_row():
    X = np.random.default_rng(2).normal(size=(6, 2, 3))
    state = State(inputs=X, n_neurons=5)
    w = state.resolved_weights()
    full = gradflow.sensitivity_map(reference.backward(X, w, "tanh", np.zeros((6, 2))).dout_dx)
    np.testing.assert_allclose(gradflow.last_output_sensitivity(X, w, "tanh"), full[-1], rtol=1e-12)


def test_the_knob_network_scales_a_copy():
    state = State()
    X, w = gradflow.knob_network(state, 0.5, 7)
    assert X.shape == (7, 3, 2) and w.Wo.shape == (7, 8)
    seeded = state.resolved_weights()
    np.testing.assert_allclose(w.Wy, 0.5 * seeded.Wy)
    np.testing.assert_array_equal(X[3], state.inputs[0])  # the steps repeat in turn
    assert state.resolved_weights().Wy is not w.Wy
