"""Weights in the open: the presets (pure), carrying edited weights to new sizes, and the page: a weight
edit round-trips through the link and the state file, a seed change never loses it without a prompt
and an undo, and bad weight cells are named without an exception."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from rnn_core import presets, reference
from rnn_core.config import RNNConfig
from rnn_core.params import init_weights
from rnn_core.state import State, decode_link, dump_state, encode_link, load_state, weight_shapes
from tests.pagetools import charts, heatmap_z, messages, new_app

CHAPTERS_USED = ("weights",)  # the chapter these tests read (closed until opened)

CONFIG = RNNConfig(n_inputs=3, n_neurons=6, n_steps=10, batch=2)


def small_inputs(config: RNNConfig = CONFIG, seed: int = 0) -> np.ndarray:
    """Inputs of 0.1·N(0, 1): tanh stays in its linear range, so a nudge is not hidden by saturation."""
    rng = np.random.default_rng(seed)
    return 0.1 * rng.normal(size=(config.n_steps, config.batch, config.n_inputs))


def run(config: RNNConfig, explicit: dict, X: np.ndarray, seed: int = 1):
    return reference.forward(X, presets.resolved(config, seed, explicit), config.activation)


# ---- presets --------------------------------------------------------------------------------------


def test_no_memory_gives_every_step_the_one_step_network_on_its_own_input():
    X = small_inputs()
    explicit = presets.apply("no_memory", CONFIG, 1, {})
    weights = presets.resolved(CONFIG, 1, explicit)
    trace = reference.forward(X, weights)
    for t in range(CONFIG.n_steps):
        head = replace(weights, Wo=weights.Wo[t : t + 1], bo=weights.bo[t : t + 1])
        alone = reference.forward(X[t : t + 1], head)  # a one-step network on X_t alone
        np.testing.assert_array_equal(trace.hidden[t], alone.hidden[0])  # exact
        np.testing.assert_array_equal(trace.outputs[t], alone.outputs[0])


def nudged_last_step(preset: str, eps: float = 1e-3) -> float:
    """max |Δy_(T-1)| over rows and neurons after X0[0, 0] += ε, with Keras' Wx (not saturated)."""
    explicit = presets.apply(preset, CONFIG, 1, presets.keras_defaults(CONFIG, 1, {}))
    X = small_inputs()
    B = X.copy()
    B[0, 0, 0] += eps
    d = run(CONFIG, explicit, B).hidden - run(CONFIG, explicit, X).hidden
    return float(np.abs(d[-1]).max())


def test_long_memory_keeps_a_nudge_of_x0_at_the_last_step_and_no_memory_does_not():
    """Threshold 1e-3·ε: with Wy = 0.9·I and unsaturated tanh (|z| ≲ 0.5, tanh' ≳ 0.8), Δy_t ≈ 0.9^t ·
    Π tanh' · ε·Wx[0, :], so after 9 steps about 0.39 · 0.8^10 · |Wx| ≈ 0.03·ε (Glorot |Wx| up to 0.82):
    1e-3·ε is 30× below that, and 1e10× above float64 rounding of y (1e-16). No memory: Wy = 0, so
    y_(T-1) depends on X_(T-1) alone and Δ is exactly 0."""
    eps = 1e-3
    assert nudged_last_step("long", eps) > 1e-3 * eps
    assert nudged_last_step("no_memory", eps) == 0.0
    assert nudged_last_step("fading", eps) < nudged_last_step("long", eps)  # 0.5^9 fades faster


def test_keras_defaults_orthogonal_glorot_zero_bias_seeded():
    big = RNNConfig(n_inputs=8, n_neurons=64)
    w = presets.keras_defaults(big, 5, {})
    np.testing.assert_allclose(w["Wy"].T @ w["Wy"], np.eye(64), rtol=0, atol=1e-12)
    limit = np.sqrt(6 / (8 + 64))
    assert np.abs(w["Wx"]).max() <= limit and np.abs(w["Wx"]).max() > 0.8 * limit
    np.testing.assert_array_equal(w["b"], np.zeros(64))
    again = presets.keras_defaults(big, 5, {})
    for name in ("Wx", "Wy"):
        np.testing.assert_array_equal(w[name], again[name])  # same seed, same numbers
    assert not np.array_equal(w["Wy"], presets.keras_defaults(big, 6, {})["Wy"])
    rng = np.random.default_rng(5)  # Keras' recipe: QR of a normal matrix, Q's columns signed by diag(R)
    rng.uniform(size=(8, 64))  # Wx's draws come first
    q, r = np.linalg.qr(rng.normal(size=(64, 64)))
    np.testing.assert_array_equal(w["Wy"], q * np.sign(np.diag(r)))


def test_identity_presets_zeros_and_scaling_wy():
    w = presets.apply("exploding", CONFIG, 1, {"b": np.ones(6)})
    np.testing.assert_array_equal(w["Wy"], 1.5 * np.eye(6))
    np.testing.assert_array_equal(w["b"], np.ones(6))  # a Wy preset keeps the other weights
    zeros = presets.apply("zeros", CONFIG, 1, w)
    assert set(zeros) == set(weight_shapes(CONFIG)) and all(not v.any() for v in zeros.values())
    assert presets.apply("tutorial", CONFIG, 1, w) == {}
    seeded_wy = init_weights(CONFIG, 1).Wy
    np.testing.assert_array_equal(presets.scale_wy(0.5)(CONFIG, 1, {})["Wy"], 0.5 * seeded_wy)
    np.testing.assert_array_equal(presets.scale_wy(2)(CONFIG, 1, w)["Wy"], 3.0 * np.eye(6))
    assert all(p.teaches for p in presets.PRESETS.values())


def test_a_change_of_size_keeps_the_weight_cells_that_still_fit():
    w = presets.keras_defaults(CONFIG, 1, {})
    smaller = RNNConfig(n_inputs=2, n_neurons=4, n_steps=10, batch=2)
    fitted, changed = presets.fit_weights(w, smaller, 1)
    assert set(changed) == {"Wx", "Wy", "b"}
    np.testing.assert_array_equal(fitted["Wy"], w["Wy"][:4, :4])
    bigger = RNNConfig(n_inputs=3, n_neurons=8, n_steps=10, batch=2)
    fitted, _ = presets.fit_weights(w, bigger, 1)
    np.testing.assert_array_equal(fitted["Wy"][:6, :6], w["Wy"])
    np.testing.assert_array_equal(fitted["Wy"][6:, :], init_weights(bigger, 1).Wy[6:, :])  # new: seeded
    heads = {"Wo": np.arange(60.0).reshape(10, 6), "bo": np.arange(10.0)}
    shared, _ = presets.fit_weights(
        heads, RNNConfig(n_inputs=3, n_neurons=6, n_steps=10, shared_output=True), 1
    )
    np.testing.assert_array_equal(shared["Wo"], heads["Wo"][0])
    np.testing.assert_array_equal(shared["bo"], [0.0])
    back, _ = presets.fit_weights(shared, CONFIG, 1)
    np.testing.assert_array_equal(back["Wo"], np.tile(heads["Wo"][0], (10, 1)))  # the same network


def test_explicit_weights_round_trip_through_the_link_and_the_file():
    weights = presets.apply("keras", State().config, 3, {"Wo": np.full((3, 8), 0.25)})
    state = State(weights=weights)
    for back in (decode_link(encode_link(state)), load_state(dump_state(state))):
        assert set(back.weights) == set(weights)
        for name, w in weights.items():
            np.testing.assert_array_equal(back.weights[name], w)  # exact: full-precision floats


# ---- the page -------------------------------------------------------------------------------------


def button(at, label: str):
    found = [b for b in at.button if b.proto.label == label]
    assert found, f"no button {label!r}; have {[b.proto.label for b in at.button]}"
    return found[0]


def by_hand(at):
    """Open "Edit the weights by hand" (built only while open)."""
    if not at.toggle(key="weights_by_hand").value:
        at.toggle(key="weights_by_hand").set_value(True).run()
    return at


def weight_grid(at, name: str = "Wx"):
    by_hand(at)
    at.selectbox(key="weights_grid_pick").set_value(name).run()
    found = [e for e in at.data_editor if e.key.startswith(f"weights_{name}_editor")]
    assert len(found) == 1
    return found[0]


def edit_weight(at, name: str, edits: dict[int, dict[str, str]]):
    key = weight_grid(at, name).key
    at.session_state[key] = {"edited_rows": edits, "added_rows": [], "deleted_rows": []}
    return at.run()


@pytest.fixture
def at():
    return new_app(chapters=CHAPTERS_USED).run()


def test_the_page_shows_every_weight_on_one_scale_with_the_explained_column_outlined(at):
    found = charts(at)
    w = State().resolved_weights()
    limit = max(float(np.abs(getattr(w, n)).max()) for n in ("Wx", "Wy", "b", "Wo", "bo"))
    for name in ("Wx", "Wy", "b", "Wo", "bo"):
        spec = found[f"weights-{name}"]
        np.testing.assert_array_equal(heatmap_z(spec).ravel(), getattr(w, name).ravel())
        assert (spec["data"][0]["zmin"], spec["data"][0]["zmax"]) == (-limit, limit)
    at.selectbox(key="view_neuron").set_value(5).run()
    shapes = charts(at)["weights-Wy"]["layout"]["shapes"]
    assert [(s["x0"], s["x1"], s["y0"], s["y1"]) for s in shapes] == [(4.5, 5.5, -0.5, 7.5)]  # column 5
    assert any(f"±{limit:.3g}" in c.value for c in at.caption)  # the range is printed


def test_a_weight_edit_round_trips_through_the_link_and_the_state_file(at):
    edit_weight(at, "Wx", {1: {"3": "0.125"}})
    assert not at.exception and not messages(at)
    assert heatmap_z(charts(at)["weights-Wx"])[1, 3] == 0.125
    state = decode_link(at.query_params["s"])
    assert state.weights["Wx"][1, 3] == 0.125
    expected = reference.forward(state.inputs, state.resolved_weights())
    np.testing.assert_allclose(heatmap_z(charts(at)["hidden-y2"]), expected.hidden[2], atol=1e-9)

    reopened = new_app({"s": at.query_params["s"]}, chapters=CHAPTERS_USED).run()
    assert heatmap_z(charts(reopened)["weights-Wx"])[1, 3] == 0.125
    uploader = reopened.sidebar.file_uploader(key="state_file")
    uploader.set_value(("w.json", dump_state(state).encode(), "application/json")).run()
    assert not reopened.exception
    assert load_state(dump_state(state)).weights["Wx"][1, 3] == 0.125
    assert heatmap_z(charts(reopened)["weights-Wx"])[1, 3] == 0.125


def test_a_seed_change_keeps_edited_weights_asks_and_can_be_undone(at):
    button(at, "Long memory: Wy = 0.9·I").click().run()
    np.testing.assert_array_equal(heatmap_z(charts(at)["weights-Wy"]), 0.9 * np.eye(8))
    at.sidebar.number_input(key="seed").set_value(7).run()
    assert not at.exception
    assert any("edited weights (Wy) are kept" in w for w in messages(at, "warning"))
    np.testing.assert_array_equal(heatmap_z(charts(at)["weights-Wy"]), 0.9 * np.eye(8))  # not lost
    button(at, "Use the seed's weights").click().run()
    np.testing.assert_array_equal(heatmap_z(charts(at)["weights-Wy"]), State(seed=7).resolved_weights().Wy)
    button(at, "Undo").click().run()
    np.testing.assert_array_equal(heatmap_z(charts(at)["weights-Wy"]), 0.9 * np.eye(8))
    button(at, "All zeros").click().run()  # a preset over edited weights: undo offered
    assert not heatmap_z(charts(at)["weights-Wy"]).any()
    button(at, "Undo").click().run()
    np.testing.assert_array_equal(heatmap_z(charts(at)["weights-Wy"]), 0.9 * np.eye(8))


def test_a_size_change_keeps_the_edited_cells_that_fit(at):
    edit_weight(at, "Wy", {2: {"1": "3"}})
    at.sidebar.number_input(key="n_neurons").set_value(5).run()
    assert not at.exception
    wy = heatmap_z(charts(at)["weights-Wy"])
    assert wy.shape == (5, 5) and wy[2, 1] == 3.0
    assert any("keep every cell that still fits" in m for m in messages(at, "info"))


@pytest.mark.parametrize("typed, says", [("abc", "is not a number"), ("nan", "NaN"), ("1e300", "too large")])
def test_a_bad_weight_cell_is_named_and_nothing_is_lost(at, typed, says):
    before = heatmap_z(charts(at)["hidden-y2"])
    edit_weight(at, "Wy", {0: {"0": "0.5", "4": typed}})
    key = weight_grid(at, "Wy").key
    assert not at.exception
    errors = messages(at)
    assert len(errors) == 1 and "Wy[0, 4]" in errors[0] and says in errors[0]
    np.testing.assert_array_equal(heatmap_z(charts(at)["hidden-y2"]), before)  # the last valid network
    assert weight_grid(at, "Wy").key == key  # the same editor: what was typed is kept
    assert at.session_state[key]["edited_rows"] == {0: {"0": "0.5", "4": typed}}
    at.text_input(key="weights_value").input(typed).run()
    button(at, "Set").click().run()
    assert any("Wx[0, 0]" in m and says in m for m in messages(at))
