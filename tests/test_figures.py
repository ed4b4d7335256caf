"""Figures: valid plotly (they are built without per-property validation), one color scale, the
saturation flags, the click layer, the diagram, and slide sizes."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

from app import figures
from rnn_core import reference
from rnn_core.params import tutorial_inputs
from rnn_core.state import State
from tests.pagetools import decode_array


@pytest.fixture(scope="module")
def trace():
    return reference.forward(tutorial_inputs(), State().resolved_weights())


def all_figures(trace):
    found = dict(figures.page_figures(trace.hidden, trace.outputs))
    found |= {
        f"slide-{k}": v for k, v in figures.page_figures(trace.hidden, trace.outputs, figures.SLIDE).items()
    }
    found["unrolled"] = figures.unrolled_diagram(3, 2, 8, 1, False)
    found["unrolled-long"] = figures.unrolled_diagram(50, 8, 256, 30, True, "relu", figures.SLIDE)
    found["highlighted"] = figures.highlight_cell(figures.hidden_heatmap(trace.hidden[2], 2), 1, 4)
    return found


def test_every_figure_is_valid_plotly(trace):
    for name, fig in all_figures(trace).items():
        go.Figure(fig.to_dict())  # validates every property; raises on a typo
        assert fig.layout.meta, name


def test_every_heatmap_uses_the_one_fixed_scale(trace):
    for name, fig in all_figures(trace).items():
        for data in fig.to_dict()["data"]:
            if data["type"] == "heatmap":
                assert (data["zmin"], data["zmax"]) == (-1.0, 1.0), name
                assert data["colorscale"] == figures.COLORSCALE, name


def test_saturated_cells_are_flagged_once_each(trace):
    fig = figures.hidden_heatmap(trace.hidden[1], 1).to_dict()
    flags = next(d for d in fig["data"] if d.get("name") == "saturated")
    expected = int((np.abs(trace.hidden[1]) > 0.95).sum())
    assert len(decode_array(flags["x"])) == expected
    assert fig["layout"]["title"]["text"] == f"y1: {expected} of 24 units saturated"


def test_values_are_printed_only_while_readable():
    small = figures.hidden_heatmap(np.zeros((3, 8)), 0).to_dict()["data"][0]
    big = figures.hidden_heatmap(np.zeros((32, 256)), 0).to_dict()["data"][0]
    assert small["texttemplate"] == "%{z:.2f}"
    assert big.get("texttemplate") is None


def test_the_click_layer_covers_every_cell_of_small_grids_only():
    small = figures.hidden_heatmap(np.zeros((3, 8)), 0).to_dict()["data"]
    cells = next(d for d in small if d.get("name") == "cells")
    assert len(decode_array(cells["x"])) == 24 and cells["marker"]["opacity"] == 0
    big = figures.hidden_heatmap(np.zeros((32, 256)), 0).to_dict()["data"]
    assert not any(d.get("name") == "cells" for d in big)


def test_highlight_outlines_the_cell():
    fig = figures.highlight_cell(figures.hidden_heatmap(np.zeros((3, 8)), 2), 1, 4).to_dict()
    (shape,) = fig["layout"]["shapes"]
    assert (shape["x0"], shape["x1"], shape["y0"], shape["y1"]) == (3.5, 4.5, 0.5, 1.5)


def test_the_diagram_has_a_block_per_step_and_labelled_shapes():
    fig = figures.unrolled_diagram(3, 2, 8, 1, False).to_dict()["layout"]
    texts = [a.get("text", "") for a in fig["annotations"]]
    assert sum("= tanh(" in t for t in texts) == 3
    assert texts.count("Wx [2×8]") == 3 and texts.count("Wy [8×8]") == 2
    assert {"Wo0 [8×1]", "Wo1 [8×1]", "Wo2 [8×1]"} <= set(texts)
    current = [s for s in fig["shapes"] if s["line"]["color"] == figures.HIGHLIGHT]
    assert len(current) == 3 and all(s["x0"] >= 3.0 for s in current)  # block 1's three boxes


def test_a_long_sequence_shows_a_window_around_the_current_step():
    fig = figures.unrolled_diagram(50, 2, 8, 30, True).to_dict()["layout"]
    texts = [a.get("text", "") for a in fig["annotations"]]
    assert any(t.startswith("<b>y30</b>") for t in texts)
    assert sum("<b>y" in t for t in texts) == figures.MAX_DIAGRAM_STEPS
    assert "of 50" in fig["title"]["text"] and "Wo [8×1]" in texts


def test_slide_style_is_large(trace):
    fig = figures.hidden_heatmap(trace.hidden[0], 0, figures.SLIDE).to_dict()
    assert fig["layout"]["font"]["size"] >= 18
    assert fig["data"][0]["textfont"]["size"] >= 18
