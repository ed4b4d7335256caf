"""A seed or weight-scale edit reruns only the results part of the page (a keyed fragment,
app/sections/sidebar.results_only) while nothing else on the page depends on it, and the whole page
otherwise. AppTest keeps only the elements of the last run, so a results-only rerun shows as a tree
that holds the results and not the inputs grid (in a browser the rest of the page stays)."""

from __future__ import annotations

import numpy as np

from rnn_core import reference
from rnn_core.params import tutorial_inputs
from rnn_core.state import State
from tests.pagetools import charts, drawn_texts, heatmap_z, new_app


def expected_hidden(**changes) -> np.ndarray:
    return reference.forward(tutorial_inputs(), State(**changes).resolved_weights()).hidden


def whole_page(at) -> bool:
    """Did the last run draw the whole page (the inputs grid and the sidebar), not only the results?"""
    return "n_steps" in {w.key for w in at.number_input} and len(at.sidebar.number_input) > 0


def edit(at, key: str, value):
    return at.sidebar.number_input(key=key).set_value(value).run()


def test_a_seed_edit_reruns_only_the_results_and_they_are_the_new_seeds():
    at = new_app().run()
    assert whole_page(at)
    edit(at, "seed", 7)
    assert not at.exception
    assert not whole_page(at)  # the results part alone
    hidden = expected_hidden(seed=7)
    for t in range(3):
        np.testing.assert_allclose(heatmap_z(charts(at)[f"hidden-y{t}"]), hidden[t], atol=1e-9)
    at.run()  # the next full run agrees (the state kept the new seed)
    assert whole_page(at) and at.sidebar.number_input(key="seed").value == 7
    np.testing.assert_allclose(heatmap_z(charts(at)["hidden-y2"]), hidden[2], atol=1e-9)


def test_a_weight_scale_edit_reruns_only_the_results():
    at = new_app().run()
    edit(at, "weight_scale", 0.5)
    assert not at.exception and not whole_page(at)
    np.testing.assert_allclose(
        heatmap_z(charts(at)["hidden-y1"]), expected_hidden(weight_scale=0.5)[1], atol=1e-9
    )


def test_a_view_pick_after_a_results_only_edit_keeps_the_new_numbers():
    at = new_app().run()
    edit(at, "seed", 7)
    at.run()  # (AppTest keeps a part's run's elements only: the pickers' part is not among the edit's)
    at.selectbox(key="view_row").set_value(2).run()  # (drawn by the browser: the explanation alone ran)
    assert not at.exception
    assert f"{expected_hidden(seed=7)[2, 2, 0]:.4f}" in " ".join(drawn_texts(at))  # the new seed's y2[2, 0]
    at.run()
    np.testing.assert_allclose(heatmap_z(charts(at)["row-2"]), expected_hidden(seed=7)[:, 2, :], atol=1e-9)
    assert at.selectbox(key="view_neuron").options == [f"neuron {n}" for n in range(8)]


def test_with_the_weights_chapter_open_a_seed_edit_reruns_the_whole_page():
    at = new_app(chapters=("weights",)).run()
    edit(at, "seed", 7)
    assert not at.exception and whole_page(at)  # the weights shown follow the seed
    np.testing.assert_allclose(heatmap_z(charts(at)["hidden-y2"]), expected_hidden(seed=7)[2], atol=1e-9)


def test_in_presentation_mode_a_seed_edit_reruns_the_whole_page():
    at = new_app().run()
    at.toggle(key="present").set_value(True).run()
    edit(at, "seed", 7)
    assert not at.exception and len(at.sidebar.number_input) > 0


def test_a_code_chapter_open_follows_the_seed():
    at = new_app(chapters=("code",)).run()
    edit(at, "seed", 7)
    assert not at.exception and whole_page(at)
