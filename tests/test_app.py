"""The page under Streamlit's AppTest: it shows the tutorial's network and reacts to every control."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest

from app.sections import targets
from app.sections.crosscheck import verdicts
from rnn_core import reference
from rnn_core.params import tutorial_inputs
from rnn_core.state import State, View, decode_link, dump_state, encode_link
from tests.pagetools import (
    browser_pick,
    charts,
    charts_specs,
    decode_array,
    drawn_texts,
    edit_cells,
    frame_chart_ids,
    frame_texts,
    heatmap_z,
    messages,
    new_app,
    open_chapters,
    printout,
)
from tests.serving import ROOT


@pytest.fixture
def at():
    return new_app().run()


def crosscheck_verdicts(at) -> list[str]:
    return [v for m in at.markdown for v in verdicts(m.value)]


def hidden_names(at) -> list[str]:
    return sorted(name for name in charts(at) if name.startswith("hidden-"))


def test_default_page_shows_the_tutorial_network(at):
    assert not at.exception
    assert not messages(at)
    found = charts(at)
    assert hidden_names(at) == ["hidden-y0", "hidden-y1", "hidden-y2"]
    ref = reference.forward(tutorial_inputs(), State().resolved_weights())
    for t in range(3):
        np.testing.assert_allclose(heatmap_z(found[f"hidden-y{t}"]), ref.hidden[t], atol=1e-9)
    lines = printout(at).splitlines()
    assert lines[0].startswith("input0: [1 2] input1: [7 8] input2: [13 14] -> output0: [")
    assert len(lines) == 3
    assert crosscheck_verdicts(at) == ["equal", "equal"]


def test_outputs_chart_has_one_line_per_row_matching_the_reference(at):
    lines = charts(at)["outputs"]["data"]
    ref = reference.forward(tutorial_inputs(), State().resolved_weights())
    assert [line["name"] for line in lines] == ["row 0", "row 1", "row 2"]
    for r, line in enumerate(lines):
        np.testing.assert_allclose(decode_array(line["y"]), ref.outputs[:, r], atol=1e-9)


def test_row_view_follows_one_row_through_time(at):
    ref = reference.forward(tutorial_inputs(), State().resolved_weights())
    np.testing.assert_allclose(heatmap_z(charts(at)["row-0"]), ref.hidden[:, 0, :], atol=1e-9)
    browser_pick(at, row=2)  # (the first pick: the results part, every step)
    np.testing.assert_allclose(heatmap_z(charts(at)["row-2"]), ref.hidden[:, 2, :], atol=1e-9)
    browser_pick(at, row=1)  # (the browser's: tests/test_view_picks.py)
    assert charts_specs(at)["explain_text"]["view"]["row"] == 1
    at.run()
    np.testing.assert_allclose(heatmap_z(charts(at)["row-1"]), ref.hidden[:, 1, :], atol=1e-9)


def test_editing_a_cell_changes_hidden_states_and_outputs(at):
    before = heatmap_z(charts(at)["hidden-y0"])
    before_code = printout(at)
    edit_cells(at, {0: {"X0[0]": "-3"}})
    assert not at.exception and not messages(at)
    after = heatmap_z(charts(at)["hidden-y0"])
    assert not np.allclose(before[0], after[0])  # row 0 changed
    np.testing.assert_allclose(before[1:], after[1:])  # the other rows did not
    assert printout(at).startswith("input0: [-3 2]")
    assert printout(at) != before_code


@pytest.mark.parametrize(
    "typed, says",
    [
        ("abc", "is not a number"),
        ("", "is blank"),
        ("nan", "NaN"),
        ("inf", "infinite"),
        ("1e300", "too large"),
    ],
)
def test_a_bad_cell_gets_a_message_and_keeps_the_last_result(at, typed, says):
    before = heatmap_z(charts(at)["hidden-y1"])
    edit_cells(at, {1: {"X1[0]": typed}})
    assert not at.exception
    errors = messages(at)
    assert len(errors) == 1 and "row 1, X1[0]" in errors[0] and says in errors[0]
    np.testing.assert_allclose(heatmap_z(charts(at)["hidden-y1"]), before)  # last valid result stays
    assert at.data_editor[0].key.startswith("inputs_editor")  # the table is still there


def test_good_edits_survive_a_bad_cell_elsewhere(at):
    edit_cells(at, {0: {"X0[0]": "4", "X2[1]": "oops"}})
    assert "row 0, X2[1]" in messages(at)[0]
    edit_cells(at, {0: {"X0[0]": "4", "X2[1]": "5"}})
    assert not messages(at)
    assert printout(at).startswith("input0: [4 2] input1: [7 8] input2: [13 5]")


def test_changing_neurons_changes_the_heatmap_width(at):
    at.sidebar.number_input(key="n_neurons").set_value(5).run()
    assert not at.exception
    assert heatmap_z(charts(at)["hidden-y0"]).shape == (3, 5)


def test_changing_steps_and_rows_changes_the_charts(at):
    at.number_input(key="n_steps").set_value(5).run()
    assert hidden_names(at) == ["hidden-y0", "hidden-y1", "hidden-y2", "hidden-y3", "hidden-y4"]
    at.number_input(key="batch").set_value(2).run()
    assert heatmap_z(charts(at)["hidden-y4"]).shape == (2, 8)
    at.number_input(key="n_inputs").set_value(3).run()
    assert not at.exception
    assert list(at.data_editor[0].value.columns)[:4] == ["X0[0]", "X0[1]", "X0[2]", "X1[0]"]
    assert at.data_editor[0].value.iloc[1, 0] == "3"  # kept: row 1, X0[0] of the tutorial


def test_the_inputs_caption_names_a_column_the_grid_has(at):
    """Its example column is X1[0] while there is a step 1, X0[0] for one step."""
    assert "column X1[0] is feature 0 of the input at step 1" in at.caption[0].value
    at.number_input(key="n_steps").set_value(1).run()
    assert list(at.data_editor[0].value.columns) == ["X0[0]", "X0[1]"]
    assert "column X0[0] is feature 0 of the input at step 0" in at.caption[0].value
    assert "column out1 is what out₁" in targets.caption(3)  # (the targets' grid: the same rule)
    assert "column out0 is what out₀" in targets.caption(1)


def test_activation_seed_scale_and_shared_output_change_the_numbers(at):
    base = heatmap_z(charts(at)["hidden-y2"])
    for key, value in (("activation", "relu"), ("seed", 7), ("weight_scale", 0.1)):
        at.sidebar.selectbox(key=key).set_value(
            value
        ).run() if key == "activation" else at.sidebar.number_input(key=key).set_value(value).run()
        assert not at.exception
        at.run()  # (a seed or scale edit reruns only the results: AppTest then holds only those)
        now = heatmap_z(charts(at)["hidden-y2"])
        assert not np.allclose(now, base), key
        base = now
    code = printout(at)
    at.sidebar.radio(key="shared_output").set_value(True).run()
    assert printout(at) != code


def test_saturation_is_counted(at):
    ref = reference.forward(tutorial_inputs(), State().resolved_weights())
    expected = int((np.abs(ref.hidden) > 0.95).sum())
    assert any(f"{expected} of 72 hidden values are saturated" in text for text in drawn_texts(at))
    assert charts(at)["hidden-y1"]["layout"]["title"]["text"].startswith(
        f"y1: {int((np.abs(ref.hidden[1]) > 0.95).sum())} of 24"
    )


def test_reset_restores_the_tutorial(at):
    at.sidebar.number_input(key="n_neurons").set_value(3).run()
    edit_cells(at, {0: {"X0[0]": "100"}})
    at.sidebar.button[0].click().run()
    assert heatmap_z(charts(at)["hidden-y0"]).shape == (3, 8)
    assert printout(at).startswith("input0: [1 2]")


def test_a_share_link_restores_the_state():
    state = State(inputs=np.arange(8.0).reshape(2, 2, 2), n_neurons=4, seed=3, activation="sigmoid")
    at = new_app({"s": encode_link(state)}).run()
    assert not at.exception
    ref = reference.forward(state.inputs, state.resolved_weights(), "sigmoid")
    np.testing.assert_allclose(heatmap_z(charts(at)["hidden-y1"]), ref.hidden[1], atol=1e-9)
    kept = decode_link(at.query_params["s"])  # the address bar still holds the same network
    np.testing.assert_array_equal(kept.inputs, state.inputs)
    assert (kept.n_neurons, kept.seed, kept.activation) == (4, 3, "sigmoid")


def test_a_share_link_restores_the_view():
    state = State(view=View(step=1, row=2, neuron=5))
    at = new_app({"s": encode_link(state)}).run()
    assert "Explain a cell: y1[row 2, neuron 5]" in drawn_texts(at)
    assert hidden_names(at) == ["hidden-y0", "hidden-y1"]  # revealed up to the current step
    at.selectbox(key="view_neuron").set_value(6).run()
    assert decode_link(at.query_params["s"]).view == View(step=1, row=2, neuron=6)


def test_a_broken_link_opens_the_defaults_with_a_notice():
    at = new_app({"s": "not-a-link!!"}).run()
    assert not at.exception
    assert any("could not be opened" in m for m in messages(at, "warning"))  # a warning, not an info box
    assert heatmap_z(charts(at)["hidden-y0"]).shape == (3, 8)


def test_the_page_process_never_imports_tensorflow():
    """DESIGN.md section 2: run the page and an edit in a fresh process, then look at sys.modules."""
    script = (
        "import sys\n"
        "from tests.pagetools import charts, new_app, edit_cells\n"
        "at = new_app().run()\n"
        "edit_cells(at, {0: {'X0[0]': '5'}})\n"
        "assert not at.exception and len(charts(at)) >= 5\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras', 'tf_keras'))\n"
        "print('TF-MODULES', bad)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "TF-MODULES []" in done.stdout


def test_presentation_mode_uses_slide_sizes_and_a_static_table():
    at = new_app({"present": "1"}).run()
    assert not at.exception
    spec = charts(at)["hidden-states"]  # the first slide: y0 … y2 in one 16:9 figure
    assert spec["layout"]["font"]["size"] >= 18
    assert spec["data"][0]["textfont"]["size"] >= 18
    assert len(at.table) == 1  # the inputs, read-only and large
    assert at.toggle(key="present").value is True
    at.toggle(key="present").set_value(False).run()
    assert charts(at)["hidden-y0"]["layout"]["font"]["size"] < 18
    assert "present" not in at.query_params


def test_the_first_pick_sends_every_step_the_next_reruns_only_the_explanation(at):
    """(The view controls' moves are the browser's meanwhile, and the explanation's part alone asks
    for a pick: tests/test_view_picks.py and tests/test_browser.py; AppTest runs the whole page for a
    change of a widget drawn with on_change="ignore".)"""
    assert "frames" not in charts_specs(at)["time_charts"]  # the page opens with one step: y0 … y2
    browser_pick(at, neuron=1)  # the first pick in this network: the results part
    held = charts_specs(at)  # the charts follow the view from now on: every step, y2 first
    time_charts, outputs_charts = held["time_charts"], held["output_charts"]
    assert time_charts["follow"] and time_charts["start"] == 2 and len(time_charts["frames"]) == 3
    assert frame_chart_ids(time_charts, 0)[:3] == ["diagram", "legend", "hidden_0"]
    assert [i for i in frame_chart_ids(time_charts, 1) if i.startswith("hidden_")] == ["hidden_0", "hidden_1"]
    assert outputs_charts["follow"] and len(outputs_charts["frames"]) == 3
    browser_pick(at, neuron=0)
    assert not at.exception
    explanation = charts_specs(at)["explain_text"]  # every step's, for the slider's moves
    assert explanation["follow"] and len(explanation["frames"]) == 3 and explanation["start"] == 2
    assert "Explain a cell: y2[row 0, neuron 0]" in drawn_texts(at)
    assert explanation["view"] == {"step": 2, "row": 0, "neuron": 0}  # to the charts
    assert decode_link(at.query_params["s"]).view.neuron == 0  # the address bar follows
    assert [decode_link(link).view.step for link in explanation["controls"]["links"]] == [0, 1, 2]
    at.run()  # a full run agrees
    assert hidden_names(at) == ["hidden-y0", "hidden-y1", "hidden-y2"]
    assert charts_specs(at)["time_charts"]["start"] == 2


def test_explain_a_cell_prints_the_heatmap_value(at):
    browser_pick(at, row=1)  # the first pick: the results part, every step
    assert charts_specs(at)["time_charts"]["follow"]
    browser_pick(at, neuron=4)  # (the browser's: tests/test_view_picks.py)
    assert charts_specs(at)["explain_text"]["view"] == {"step": 2, "row": 1, "neuron": 4}
    text = " ".join(drawn_texts(at, marked=True))
    at.run()
    z = heatmap_z(charts(at)["hidden-y2"])
    assert "y2[1, 4] = tanh(" in text
    assert f"**{z[1, 4]:.4f}**" in text
    shapes = charts(at)["hidden-y2"]["layout"]["shapes"]  # the explained cell is outlined
    assert [(s["x0"], s["x1"], s["y0"], s["y1"]) for s in shapes] == [(3.5, 4.5, 0.5, 1.5)]


def test_share_panel_offers_the_link_and_the_downloads(at):
    assert not at.get("download_button")  # a closed chapter: the address bar is the link
    at = open_chapters(at, "share").run()
    link = at.code[-1].value
    assert "?s=" in link and link.endswith(at.query_params["s"])
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels[:2] == ["Download the state (JSON)", "Download the trace (CSV)"]  # then the Code panel's


def test_a_network_too_big_for_a_link_says_so_and_keeps_working():
    inputs = np.random.default_rng(0).normal(size=(20, 16, 2))  # 640 full-precision floats
    state = State(inputs=inputs)
    assert len(encode_link(state)) > 6000
    at = new_app({"s": encode_link(state)}).run()
    assert not at.exception
    assert any("too big for a link" in w.value for w in at.warning)
    assert "s" not in at.query_params  # no link that would not open
    assert heatmap_z(charts(at)["hidden-y19"]).shape == (16, 8)


def test_a_killed_worker_is_restarted_and_the_inputs_are_kept(own_engine):
    import os
    import signal

    at = new_app().run()  # on a worker of this test's own: the others' shared worker is never killed
    assert not at.exception
    engine = own_engine
    engine.start()  # (the tutorial's result may come from the shared cache: the page need not start it)
    old_pid = engine.pid
    os.kill(old_pid, signal.SIGKILL)
    edit_cells(at, {0: {"X0[0]": "-2"}})
    assert not at.exception
    assert engine.pid != old_pid
    assert any("restarted" in m for m in messages(at, "info"))
    assert printout(at).startswith("input0: [-2 2]")  # the edit went through on the new worker
    inputs = tutorial_inputs()
    inputs[0, 0, 0] = -2
    ref = reference.forward(inputs, State().resolved_weights())
    np.testing.assert_allclose(heatmap_z(charts(at)["hidden-y0"]), ref.hidden[0], atol=1e-9)


def test_opening_a_state_file_loads_it_and_a_bad_file_changes_nothing(at):
    state = State(inputs=np.ones((2, 4, 3)), n_neurons=5, seed=9, activation="relu")
    uploader = at.sidebar.file_uploader(key="state_file")
    uploader.set_value(("class.json", dump_state(state).encode(), "application/json")).run()
    assert not at.exception
    assert any("Opened class.json" in m for m in messages(at, "info"))
    ref = reference.forward(state.inputs, state.resolved_weights(), "relu")
    np.testing.assert_allclose(heatmap_z(charts(at)["hidden-y1"]), ref.hidden[1], atol=1e-9)
    assert at.sidebar.selectbox(key="activation").value == "relu"
    uploader = at.sidebar.file_uploader(key="state_file")
    uploader.set_value(("bad.json", b'{"n_neurons": 999}', "application/json")).run()
    assert any("bad.json could not be opened (n_neurons" in m for m in messages(at, "error"))
    assert heatmap_z(charts(at)["hidden-y1"]).shape == (4, 5)  # the network is unchanged


def test_the_warning_that_values_exploded_follows_the_step():
    """relu with a large weight scale: the warning appears from the first step with a value past 1e6
    (counted here from the numpy reference), not before; it is drawn with the charts."""
    inputs = np.random.default_rng(3).uniform(-2, 2, (10, 2, 2)).round(2)
    state = State(inputs=inputs, activation="relu", weight_scale=4.0)
    hidden = reference.forward(state.inputs, state.resolved_weights(), "relu").hidden
    first = int(np.argmax((np.abs(hidden) > 1e6).reshape(10, -1).any(axis=1)))
    assert 0 < first < 9  # (the data was chosen so)
    at = new_app({"s": encode_link(state)}).run()
    assert not at.exception
    assert any(text.startswith(f"The hidden state explodes at step {first}") for text in drawn_texts(at))
    browser_pick(at, neuron=1)  # a pick: the charts hold every step from now on
    time_charts = charts_specs(at)["time_charts"]  # every step's words, each shown with its step
    assert not any("explodes" in text for text in frame_texts(time_charts, first - 1))
    explodes = f"The hidden state explodes at step {first}"
    assert any(text.startswith(explodes) for text in frame_texts(time_charts, first))
    dead = int((hidden[:first] == 0).sum())  # relu's stuck units, y0 … y(first-1)
    words = frame_texts(time_charts, first - 1)
    assert any(text.startswith(f"{dead} of {first * 16} hidden values are dead") for text in words)
    at.slider(key="view_step").set_value(first - 1).run().run()  # the page drawn at that step
    assert not any("explodes" in text for text in drawn_texts(at))


def test_the_outputs_slide_plays_in_the_browser_with_the_warning_from_its_step():
    """Presentation mode, the Outputs slide: Play sends every step's chart and printout at once, and
    the warning that values exploded from the first step past 1e6 (the numpy reference's), not before."""
    inputs = np.random.default_rng(3).uniform(-2, 2, (10, 2, 2)).round(2)
    state = State(inputs=inputs, activation="relu", weight_scale=4.0)
    hidden = reference.forward(state.inputs, state.resolved_weights(), "relu").hidden
    first = int(np.argmax((np.abs(hidden) > 1e6).reshape(10, -1).any(axis=1)))
    at = new_app({"s": encode_link(state), "present": "1"})
    at.session_state["present_slide"] = "Outputs"
    at = at.run()
    at.button(key="play").click().run()
    assert not at.exception
    specs = [json.loads(json.loads(e.proto.json)["spec"]) for e in at.get("bidi_component")]
    (play,) = [spec for spec in specs if "frames" in spec]
    assert len(play["frames"]) == 10
    assert [any(b["kind"] == "note" for b in frame) for frame in play["frames"]] == [
        t >= first for t in range(10)
    ]
    assert all(any(b["kind"] == "printout" for b in frame) for frame in play["frames"])


def test_a_huge_explained_value_prints_in_four_significant_digits():
    """relu past 1e6: the explanation writes the cell's value as the heatmaps do (4 significant
    digits), not with every digit (a 2e52 value was written out in 53 digits)."""
    inputs = np.random.default_rng(3).uniform(-2, 2, (10, 2, 2)).round(2)
    state = State(inputs=inputs, activation="relu", weight_scale=4.0)
    hidden = reference.forward(state.inputs, state.resolved_weights(), "relu").hidden
    neuron = int(np.argmax(hidden[9, 0]))  # the largest value of row 0 at the last step
    assert hidden[9, 0, neuron] > 1e6
    at = new_app({"s": encode_link(replace(state, view=View(step=9, row=0, neuron=neuron)))}).run()
    (line,) = [t for t in drawn_texts(at) if t.startswith(f"Hidden state y9[0, {neuron}]")]
    written = line.split(") = ")[1].split(" ")[0]
    assert re.fullmatch(r"\d\.\d{3}e\+\d+", written), line  # 4 significant digits, as the heatmap's
    assert float(written) == pytest.approx(hidden[9, 0, neuron], rel=1e-3)
