"""The page's chapters (app/components/chapter.py) under AppTest: closed ones are not built, a click
opens them, what was set in one survives while it is closed, links open the chapter they need, and a
lesson step draws its sections without them."""

from __future__ import annotations

import numpy as np
import pytest

from app.page_state import CHAPTERS, chapter_title
from rnn_core.params import tutorial_inputs
from rnn_core.state import State, TrainingSettings, encode_link
from tests.pagetools import charts, new_app, open_chapters

# What each chapter puts on the page: a button label or a chart id that only it draws.
MARKS = {
    "weights": ("button", "No memory: Wy = 0"),
    "compare": ("button", "Pin as A"),
    "code": ("toggle", "Show the scripts"),
    "training": ("button", "▶ Train"),
    "gradients": ("chart", "grad-dl-dy"),
    "share": ("radio", "Chart camera buttons save"),
}


def has(at, kind: str, what: str) -> bool:
    if kind == "chart":
        return what in charts(at)
    return any(element.label == what for element in getattr(at, kind))


def expander_titles(at) -> list[str]:
    return [expander.label for expander in at.expander]


def test_every_chapter_is_a_closed_title_and_none_is_built():
    at = new_app().run()
    assert not at.exception
    titles = expander_titles(at)
    for name in CHAPTERS:
        assert chapter_title(name) in titles
    for kind, what in MARKS.values():
        assert not has(at, kind, what), what
    assert not any(key.startswith("weights-") for key in charts(at))  # the weight heatmaps too
    assert len(at.data_editor) == 1  # the inputs; the targets grid waits for Training


@pytest.mark.parametrize("name", list(CHAPTERS))
def test_opening_a_chapter_builds_it(name):
    at = open_chapters(new_app().run(), name).run()
    assert not at.exception
    kind, what = MARKS[name]
    assert has(at, kind, what), what
    for other, (other_kind, other_what) in MARKS.items():
        if other != name:
            assert not has(at, other_kind, other_what), other_what


def test_training_brings_the_targets_grid_and_the_weights_their_heatmaps():
    at = open_chapters(new_app().run(), "training").run()
    assert len(at.data_editor) == 2
    at = open_chapters(new_app().run(), "weights").run()
    assert {"weights-Wx", "weights-Wy", "weights-b", "weights-Wo", "weights-bo"} <= charts(at).keys()


def test_what_was_set_in_a_closed_chapter_is_kept():
    at = new_app(chapters=("training", "weights", "compare", "gradients")).run()
    at.select_slider(key="train_lr").set_value(0.1).run()
    at.checkbox(key="train_freeze_Wy").check().run()
    at.slider(key="weights_alpha").set_value(2.0).run()
    at.number_input(key="nudge_eps").set_value(0.25).run()
    at.radio(key="grad_map_mode").set_value(at.radio(key="grad_map_mode").options[1]).run()
    mode = at.radio(key="grad_map_mode").value
    for name in ("training", "weights", "compare", "gradients"):
        at.session_state[f"open_{name}"] = False
    at.run()
    at.sidebar.number_input(key="seed").set_value(7).run()  # other runs while they are closed
    at.run()
    assert not at.exception
    open_chapters(at, "training", "weights", "compare", "gradients").run()
    assert at.select_slider(key="train_lr").value == 0.1
    assert at.checkbox(key="train_freeze_Wy").value is True
    assert at.slider(key="weights_alpha").value == 2.0
    assert at.number_input(key="nudge_eps").value == 0.25
    assert at.radio(key="grad_map_mode").value == mode
    assert at.session_state["page"].training_state.lr == 0.1  # the state (so the link) kept it too


def test_a_link_with_targets_opens_training_and_one_with_a_pinned_network_opens_compare():
    X = tutorial_inputs()
    trained = State(targets=X[:, :, 0], training=TrainingSettings(lr=0.03))
    at = new_app({"s": encode_link(trained)}).run()
    assert not at.exception
    assert has(at, *MARKS["training"]) and len(at.data_editor) == 2
    np.testing.assert_allclose(at.data_editor[1].value.to_numpy(dtype=float).T, X[:, :, 0])
    pinned = State(seed=3).with_changes(pinned=State().pinnable())
    at = new_app({"s": encode_link(pinned)}).run()
    assert not at.exception
    assert "compare-A-y2" in charts(at)
    assert not has(at, *MARKS["training"])


def test_a_chapter_closed_by_the_reader_stays_closed_after_a_link_opened_it():
    pinned = State(seed=3).with_changes(pinned=State().pinnable())
    at = new_app({"s": encode_link(pinned)}).run()
    at.session_state["open_compare"] = False
    at.run()
    at.run()
    assert "compare-A-y2" not in charts(at)


def test_a_lesson_step_draws_its_sections_without_chapters():
    at = new_app({"lesson": "tutorial"}).run()
    assert not at.exception
    assert not any(chapter_title(name) in expander_titles(at) for name in CHAPTERS)


def test_tables_one_click_away_are_built_only_while_open():
    at = new_app().run()
    frames = len(at.dataframe)
    at.session_state["numbers_popover"] = True
    at.session_state["printout_popover"] = True
    at.session_state["terms_popover"] = True
    at.run()
    assert not at.exception and len(at.dataframe) == frames + 3  # y_t's numbers, printout, products
    at.session_state["numbers_popover"] = False
    at.run()
    assert len(at.dataframe) == frames + 2
