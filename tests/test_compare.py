"""Comparing two networks: Δ = B − A exactly, what differs, the largest |Δ|; a nudge's Δ/ε is the
Jacobian; the pinned network A travels in links and files, and a crafted one is refused with a notice."""

from __future__ import annotations

import base64
import json
import zlib

import numpy as np
import pytest

from rnn_core import compare, presets, reference
from rnn_core.state import State, StateError, decode_link, dump_state, encode_link, load_state
from tests.pagetools import charts, decode_array, heatmap_z, messages, new_app

CHAPTERS_USED = ("weights", "compare")  # the chapters these tests read (closed until opened)

A = State()
B = State(seed=7, weights={"Wy": 0.5 * np.eye(8)})


def test_delta_is_b_minus_a_exactly_and_largest_finds_it():
    ta = reference.forward(A.inputs, A.resolved_weights())
    tb = reference.forward(B.inputs, B.resolved_weights())
    d = compare.delta(ta, tb)
    np.testing.assert_array_equal(d.hidden, tb.hidden - ta.hidden)
    np.testing.assert_array_equal(d.outputs, tb.outputs - ta.outputs)
    size, where = compare.largest(d.hidden)
    assert size == np.abs(d.hidden).max() and abs(d.hidden[where]) == size
    assert compare.largest(np.array([1.0, np.nan, -3.0]))[1] == (1,)  # not finite counts as largest
    with pytest.raises(ValueError):
        compare.delta(ta, reference.forward(np.ones((2, 3, 2)), A.resolved_weights()))


def test_the_summary_names_settings_weights_and_the_largest_delta():
    ta = reference.forward(A.inputs, A.resolved_weights())
    tb = reference.forward(B.inputs, B.resolved_weights())
    d = compare.delta(ta, tb).hidden
    text = compare.summary(A, B, d)
    _, (t, r, n) = compare.largest(d)
    assert "seed 42 → 7" in text and "Wy" in text and f"y{t}[row {r}, neuron {n}]" in text
    same_seed = State(weights=presets.apply("fading", A.config, 42, {}))
    assert "Wy (64 of 64 cells" in compare.summary(A, same_seed, None)
    assert compare.summary(A, A, d * 0).startswith("A and B are the same network")


def central_jacobian(X: np.ndarray, weights, cell: tuple[int, int, int], h: float = 1e-4) -> np.ndarray:
    """∂y_t/∂X[cell] for every t, row and neuron by central differences of the numpy reference."""
    up, down = X.copy(), X.copy()
    up[cell] += h
    down[cell] -= h
    return (reference.forward(up, weights).hidden - reference.forward(down, weights).hidden) / (2 * h)


def test_a_nudge_delta_over_epsilon_is_the_jacobian():
    state = State(inputs=0.3 * np.random.default_rng(1).normal(size=(6, 2, 2)))
    weights = state.resolved_weights()
    eps, cell = 1e-6, (1, 0, 1)
    nudged = state.inputs.copy()
    nudged[cell] += eps
    b = state.with_changes(inputs=nudged)
    assert compare.nudge_of(state, b)[0] == cell
    eps_used = compare.nudge_of(state, b)[1]  # the ε that float64 holds
    d = compare.delta(reference.forward(state.inputs, weights), reference.forward(nudged, weights)).hidden
    jac = central_jacobian(state.inputs, weights, cell)
    assert not d[0].any()  # nothing before step 1 changes
    scale = np.abs(jac[1:]).max()
    assert scale > 1e-3  # a real signal to compare
    np.testing.assert_allclose(d / eps_used, jac, rtol=0, atol=1e-4 * scale)  # 1e-4 relative
    curve = compare.memory_curve(d, 0)
    assert curve[0] == 0 and curve[1] > 0


def test_a_nudge_of_the_outputs_matches_the_backward_pass_when_there_is_one():
    """With the `learn` branch's reference.input_sensitivities (BPTT by hand): Δout/ε ≈ ∂out_t/∂X_k."""
    if not hasattr(reference, "input_sensitivities"):
        pytest.skip("rnn_core.reference has no backward pass yet (the learn branch adds it)")
    state = State(inputs=0.3 * np.random.default_rng(2).normal(size=(5, 2, 2)))
    weights = state.resolved_weights()
    trace = reference.forward(state.inputs, weights)
    eps, (k, r, f) = 1e-6, (1, 1, 0)
    nudged = state.inputs.copy()
    nudged[k, r, f] += eps
    eps = nudged[k, r, f] - state.inputs[k, r, f]
    d_out = (reference.forward(nudged, weights).outputs - trace.outputs) / eps  # (T, B)
    exact = reference.input_sensitivities(state.inputs, weights, "tanh", trace)[:, k, r, f]  # (T,)
    np.testing.assert_allclose(d_out[:, r], exact, rtol=0, atol=1e-4 * np.abs(exact).max())


def test_the_pinned_network_travels_in_the_link_and_the_file():
    state = B.with_changes(pinned=A.with_changes(weights=presets.apply("long", A.config, 42, {})).pinnable())
    for back in (decode_link(encode_link(state)), load_state(dump_state(state))):
        assert back.pinned.seed == 42 and back.seed == 7
        np.testing.assert_array_equal(back.pinned.weights["Wy"], 0.9 * np.eye(8))
        assert back.pinned.pinned is None


def raw_link(data: dict) -> str:
    text = json.dumps(data).encode()
    return base64.urlsafe_b64encode(zlib.compress(text, 9)).rstrip(b"=").decode()


CRAFTED = [
    ({"version": 2, "pinned": {"weights": {"Wy": [[1.0]]}}}, "pinned.weights.Wy"),
    ({"version": 2, "pinned": {"inputs": [[[1]] * 40] * 60}}, "pinned.inputs"),
    ({"version": 2, "pinned": {"pinned": {}}}, "pinned.pinned"),
    ({"version": 2, "pinned": {"view": {"step": 0}}}, "pinned.view"),
    ({"version": 2, "pinned": "A"}, "pinned"),
    ({"version": 2, "pinned": {"n_neurons": 1e300}}, "pinned.n_neurons"),
    ({"version": 1, "pinned": {}}, "pinned"),
]


@pytest.mark.parametrize("data, field", CRAFTED)
def test_a_crafted_pinned_state_is_refused_naming_the_field(data, field):
    with pytest.raises(StateError) as err:
        decode_link(raw_link(data))
    assert err.value.field.startswith(field)


def test_a_crafted_pinned_link_opens_the_tutorial_with_a_notice():
    at = new_app({"s": raw_link(CRAFTED[0][0])}, chapters=CHAPTERS_USED).run()
    assert not at.exception
    assert any("pinned.weights.Wy" in w for w in messages(at, "warning"))
    assert "compare-A-y2" not in charts(at)
    huge = "A" * 300_000
    at = new_app({"s": huge}, chapters=CHAPTERS_USED).run()
    assert not at.exception and any("limit" in w for w in messages(at, "warning"))


def test_pin_change_and_a_link_restores_both():
    at = new_app(chapters=CHAPTERS_USED).run()
    [pin] = [b for b in at.button if b.proto.label == "Pin as A"]
    pin.click().run()
    at.sidebar.number_input(key="seed").set_value(7).run()
    assert not at.exception
    found = charts(at)
    ta = reference.forward(A.inputs, A.resolved_weights())
    tb = reference.forward(A.inputs, State(seed=7).resolved_weights())
    a, b, d = (heatmap_z(found[f"compare-{n}-y2"]) for n in ("A", "B", "delta"))
    np.testing.assert_allclose(a, ta.hidden[2], atol=1e-9)
    np.testing.assert_allclose(b, tb.hidden[2], atol=1e-9)
    np.testing.assert_array_equal(d, b - a)  # Δ is exactly B − A of what is shown
    assert any("seed 42 → 7" in m.value for m in at.markdown)
    link = at.query_params["s"]
    assert decode_link(link).pinned.seed == 42

    reopened = new_app({"s": link}, chapters=CHAPTERS_USED).run()
    again = charts(reopened)
    for n in ("A", "B", "delta"):
        np.testing.assert_array_equal(
            heatmap_z(again[f"compare-{n}-y2"]), heatmap_z(found[f"compare-{n}-y2"])
        )
    at.selectbox(key="view_neuron").set_value(3).run()
    for n in ("A", "B", "delta"):  # one selection outlines the same cell in all three
        shapes = charts(at)[f"compare-{n}-y2"]["layout"]["shapes"]
        assert [(s["x0"], s["y0"]) for s in shapes] == [(2.5, -0.5)]


def test_the_comparison_is_readable_in_presentation_mode():
    state = B.with_changes(pinned=A.pinnable())
    at = new_app({"s": encode_link(state), "present": "1"})
    at.session_state["present_slide"] = "Compare A/B"  # the slide bar (app/sections/present.py)
    at.run()
    assert not at.exception
    found = charts(at)
    assert "weights-Wy" not in found  # one slide at a time
    for name in ("compare-A-y2", "compare-B-y2", "compare-delta-y2", "compare-outputs"):
        assert found[name]["layout"]["font"]["size"] >= 18, name
    at = new_app({"present": "1"})  # nothing pinned: the last slide is the weights
    at.session_state["present_slide"] = "Weights"
    at.run()
    found = charts(at)
    assert "compare-A-y2" not in found and found["weights-Wy"]["layout"]["font"]["size"] >= 18


def test_the_nudge_button_pins_a_and_shows_how_long_the_input_is_remembered():
    at = new_app(chapters=CHAPTERS_USED).run()
    at.number_input(key="nudge_step").set_value(1).run()
    at.number_input(key="nudge_row").set_value(2).run()
    at.number_input(key="nudge_eps").set_value(0.5).run()
    [nudge] = [b for b in at.button if b.proto.label == "Nudge"]
    nudge.click().run()
    assert not at.exception
    state = decode_link(at.query_params["s"])
    assert state.pinned is not None and state.inputs[1, 2, 0] == 11.5 and state.pinned.inputs[1, 2, 0] == 11
    assert any("X1[2, 0], nudged by ε = 0.5" in m.value.replace("\\", "") for m in at.markdown)
    d = (
        reference.forward(state.inputs, state.resolved_weights()).hidden
        - reference.forward(state.pinned.inputs, state.pinned.resolved_weights()).hidden
    )
    shown = decode_array(charts(at)["nudge-memory"]["data"][0]["y"])  # log axis: zeros as NaN
    expected = compare.memory_curve(d, 2) / 0.5
    np.testing.assert_allclose(shown[1:], expected[1:], rtol=1e-9)
    assert np.isnan(shown[0])  # step 0 comes before the nudge


def test_the_weight_and_compare_figures_are_valid_plotly():
    from app.figures import SCREEN, SLIDE
    from app.figures import weights as wf

    scale = wf.symmetric_scale("weights", np.array([-2.0, 1.0]))
    assert (scale.low, scale.high) == (-2.0, 2.0)
    for style in (SCREEN, SLIDE):
        for name, values in (
            ("Wx", np.ones((2, 8))),
            ("Wy", np.eye(8)),
            ("b", np.zeros(8)),
            ("Wo", np.ones(8)),
        ):
            wf.weight_heatmap(name, values, scale, style).figure()  # go.Figure validates every property
        wf.weight_heatmap("bo", np.zeros(3), scale, style).figure()
        wf.compare_heatmap(
            np.zeros((3, 8)), scale, "compare-A-y0", "A: y0", 0, style, colorbar=False
        ).figure()
        wf.outputs_overlay(np.ones((3, 2)), np.zeros((3, 2)), style).figure()
        wf.memory_chart(np.array([0.0, 1e-3, 1e-9]), 1e-3, (1, 0, 0), style).figure()
    assert wf.weight_outlines("Wy", (8, 8), 2, 5, False) == [(4.5, 5.5, -0.5, 7.5)]
    assert wf.weight_outlines("Wo", (3, 8), 2, 5, False) == [(-0.5, 7.5, 1.5, 2.5)]
    assert wf.weight_outlines("bo", (1,), 2, 5, True) == [(-0.5, 0.5, -0.5, 0.5)]
