"""Figures: valid plotly (they are built without per-property validation), one scale per activation,
the stuck flags per activation, cell sizes decide gaps, values and flags, numbers past 1e6, the
diagram's block window and labels, 16:9 slides, and the Chart type that cannot lose an edit."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import plotly.graph_objects as go
import pytest

from app import figures
from app.figures.diagram import Geometry, slots
from app.figures.heatmap import CellFit, plot_width, value_px
from app.figures.style import text_px
from rnn_core import reference
from rnn_core.params import tutorial_inputs
from rnn_core.state import State
from tests.pagetools import decode_array


@pytest.fixture(scope="module")
def trace():
    return reference.forward(tutorial_inputs(), State().resolved_weights())


def all_figures(trace) -> dict[str, figures.Chart]:
    found = dict(figures.page_figures(trace.hidden, trace.outputs))
    slides = figures.slide_figures(trace.hidden, trace.outputs, 2, "tanh", False, row=1, upto=1)
    found |= {f"slide-{k}": v for k, v in slides.items()}
    found["unrolled"] = figures.unrolled_diagram(3, 2, 8, 1, False)
    found["unrolled-long"] = figures.unrolled_diagram(50, 8, 256, 30, True, "relu", figures.SLIDE)
    found["highlighted"] = figures.highlight_cell(figures.hidden_heatmap(trace.hidden[2], 2), 1, 4)
    found["scale"] = figures.colorbar_chart(figures.scale_for("relu", trace.hidden))
    big = np.random.default_rng(1).normal(size=(32, 256)) * 1e7
    found["big"] = figures.hidden_heatmap(big, 0, activation="relu")
    return found


def heat(chart: figures.Chart) -> dict:
    return next(d for d in chart.to_dict()["data"] if d["type"] == "heatmap")


def trace_named(chart: figures.Chart, name: str) -> dict | None:
    return next((d for d in chart.to_dict()["data"] if d.get("name") == name), None)


# ---- every figure --------------------------------------------------------------------------------


def test_every_figure_is_valid_plotly(trace):
    for name, chart in all_figures(trace).items():
        go.Figure(chart.to_dict())  # validates every property; raises on a typo
        assert chart.meta, name
        assert figures.describe(chart), name  # a text alternative


def test_the_chart_type_cannot_lose_an_edit(trace):
    chart = figures.hidden_heatmap(trace.hidden[1], 1)
    with pytest.raises(AttributeError):
        chart.update_layout(title_text="lost?")  # no plotly API to edit through
    with pytest.raises(TypeError):
        chart.layout["title"] = {"text": "lost?"}  # frozen
    spec = chart.to_dict()
    spec["layout"]["title"]["text"] = "a copy"
    assert chart.title.startswith("y1:")  # to_dict() is a copy
    fig = chart.figure()  # a real go.Figure: edits stay
    fig.update_layout(title_text="kept")
    assert fig.to_dict()["layout"]["title"]["text"] == "kept"
    renamed = chart.with_layout(title={"text": "new"})
    assert renamed.title == "new" and chart.title.startswith("y1:")
    handed = chart.for_streamlit()  # what st.plotly_chart gets: only to_dict works
    assert isinstance(handed, go.Figure) and handed.to_dict()["layout"]["meta"] == "hidden-y1"
    with pytest.raises(AttributeError):
        handed.update_layout(title_text="lost?")
    with pytest.raises(AttributeError):
        handed.layout  # noqa: B018


def test_describe_and_as_table(trace):
    chart = figures.hidden_heatmap(trace.hidden[1], 1)
    assert "y1" in figures.describe(chart) and "3 rows × 8 neurons" in figures.describe(chart)
    table = figures.as_table(chart)
    assert table.shape == (3, 8)
    np.testing.assert_array_equal(table.to_numpy(), trace.hidden[1])
    outputs = figures.as_table(figures.outputs_chart(trace.outputs))
    np.testing.assert_array_equal(outputs.to_numpy(), trace.outputs.T)


# ---- scales and stuck units -----------------------------------------------------------------------


def test_one_scale_per_activation():
    tanh = figures.scale_for("tanh")
    assert (tanh.low, tanh.high, tanh.colorscale) == (-1.0, 1.0, figures.COLORSCALE)
    sigmoid = figures.scale_for("sigmoid", np.array([0.2, 0.7]))
    assert (sigmoid.low, sigmoid.high) == (0.0, 1.0) and not sigmoid.diverging
    relu = figures.scale_for("relu", np.array([[0.0, 3.5], [np.inf, 2.0]]))
    assert (relu.low, relu.high) == (0.0, 3.5) and "3.5" in relu.label


def test_relu_colorbar_covers_the_largest_value():
    z = np.array([[0.0, 1.5, 7.25], [0.0, 0.0, 2.0]])
    chart = figures.hidden_heatmap(z, 0, activation="relu")
    data = heat(chart)
    assert data["zmin"] == 0.0 and data["zmax"] >= 7.25
    assert max(data["colorbar"]["tickvals"]) >= 7.25
    assert data["colorscale"] != figures.COLORSCALE  # sequential, not tanh's diverging scale


@pytest.mark.parametrize(
    ("low", "high", "shown"),
    [
        (-1.0, 1.0, ["-1", "-0.5", "0", "0.5", "1"]),
        (0.0, 54.593, ["0", "10", "20", "30", "40", "54.6"]),  # (relu's: were 13.648, 27.297 …)
        (-2.142, 2.142, ["-2.14", "-1", "0", "1", "2.14"]),  # (the weights': were -1.071, 1.071)
        (0.0, 6.17e53, ["0", "2e53", "4e53", "6.17e53"]),
    ],
)
def test_a_color_scale_is_labelled_at_its_ends_and_round_numbers_between(low, high, shown):
    scale = figures.Scale("relu", low, high, figures.COLORSCALE, low < 0)
    assert scale.ticktext == shown
    assert scale.tickvals[0] == low and scale.tickvals[-1] == high  # (the extremes, as the title says)
    inner = scale.tickvals[1:-1]
    assert all(low + 0.15 * (high - low) < v < high - 0.15 * (high - low) for v in inner)


def test_every_heatmap_of_a_view_shares_its_scale(trace):
    for name, chart in figures.page_figures(trace.hidden, trace.outputs, activation="tanh").items():
        if name != "outputs":
            assert (heat(chart)["zmin"], heat(chart)["zmax"]) == (-1.0, 1.0), name


@pytest.mark.parametrize(
    ("activation", "z", "stuck"),
    [
        ("tanh", [[0.96, -0.99, 0.5, 0.0]], [1, 1, 0, 0]),
        ("sigmoid", [[0.0, 0.02, 0.5, 0.97]], [1, 1, 0, 1]),
        ("relu", [[0.0, 0.0, 0.5, 30.0]], [1, 1, 0, 0]),  # dead units; big values are not stuck
    ],
)
def test_stuck_units_are_flagged_per_activation(activation, z, stuck):
    z = np.array(z)
    chart = figures.hidden_heatmap(z, 1, activation=activation)
    flags = trace_named(chart, "stuck")
    assert flags is not None
    expected = np.flatnonzero(stuck)
    np.testing.assert_array_equal(np.round(decode_array(flags["x"])).astype(int), expected)
    word = "dead" if activation == "relu" else "saturated"
    assert chart.title == f"y1: {sum(stuck)} of 4 units {word}"
    assert figures.stuck_count(z, activation) == (sum(stuck), 4)


def test_saturated_cells_are_flagged_once_each(trace):
    chart = figures.hidden_heatmap(trace.hidden[1], 1)
    expected = int((np.abs(trace.hidden[1]) > 0.95).sum())
    assert len(decode_array(trace_named(chart, "stuck")["x"])) == expected
    assert chart.title == f"y1: {expected} of 24 units saturated"


# ---- cell sizes decide gaps, values and flags ------------------------------------------------------

SIZES = [(1, 1), (3, 8), (3, 16), (3, 32), (3, 64), (3, 128), (3, 160), (3, 256), (32, 256), (32, 8)]


@pytest.mark.parametrize("style", [figures.SCREEN, figures.SLIDE], ids=["screen", "slide"])
@pytest.mark.parametrize(("rows", "neurons"), SIZES)
def test_cells_never_vanish_and_printed_values_fit(rows, neurons, style):
    z = np.random.default_rng(0).uniform(-1, 1, size=(rows, neurons))
    chart = figures.hidden_heatmap(z, 0, style, colorbar=False)
    data = heat(chart)
    width = chart.width or style.narrowest_px
    assert width <= style.narrowest_px  # fits the narrowest column the page supports
    fig_w = figures.heatmap_width(neurons, style, n_rows=rows) or style.narrowest_px
    cell_w = plot_width(fig_w, neurons, value_px(str(rows - 1), style.font_size), style, False) / neurons
    assert cell_w >= 2, "a cell must keep a visible color"
    assert data["xgap"] == 0 or cell_w >= 8  # a gap never eats a small cell
    if data.get("texttemplate"):
        size = data["textfont"]["size"]
        widest = "-1.00" if (z < 0).any() else "1.00"
        assert value_px(widest, size) + 2 <= cell_w
    flags = trace_named(chart, "stuck")
    if flags:
        assert flags["marker"]["size"] <= 8


def test_the_fit_prints_values_only_when_they_fit():
    fit = CellFit.decide(60, 34, ["-1.00"], figures.SCREEN, "%{z:.2f}")
    assert fit.text and fit.text_size == figures.SCREEN.cell_font_size and fit.gap == 1
    small = CellFit.decide(20, 34, ["-1.00"], figures.SCREEN, "%{z:.2f}")
    assert small.text is None
    tiny = CellFit.decide(3, 14, ["-1.00"], figures.SCREEN, "%{z:.2f}")
    assert (tiny.gap, tiny.flag_px, tiny.text) == (0, 0, None)


def test_the_default_network_prints_values_that_fit_at_1366(trace):
    """3 heatmaps of 8 neurons in one row at 1366 px: 906 px of main column."""
    charts = [figures.hidden_heatmap(trace.hidden[t], t, colorbar=False) for t in range(3)]
    assert sum(c.width for c in charts) + 2 * 16 <= 906
    for chart in charts:
        data = heat(chart)
        assert data["texttemplate"] == "%{z:.2f}"
        assert data["textfont"]["size"] >= 10


def test_the_click_layer_covers_every_cell_of_small_grids_only():
    cells = trace_named(figures.hidden_heatmap(np.zeros((3, 8)), 0), "cells")
    assert len(decode_array(cells["x"])) == 24 and cells["marker"]["opacity"] == 0
    assert trace_named(figures.hidden_heatmap(np.zeros((32, 256)), 0), "cells") is None


def test_the_charts_the_page_draws_itself_have_no_click_layer():
    """The charts component hears plotly.js's click on the heatmap itself (tests/test_browser.py
    clicks cells): the layer is only for st.plotly_chart, and without it the time charts' JSON is
    an eighth smaller."""
    hidden = np.zeros((3, 3, 8))
    drawn = [
        figures.hidden_heatmap(hidden[0], 0, click_layer=False),
        figures.row_heatmap(hidden, 1, upto=1, click_layer=False),
    ]
    for chart in drawn:
        assert chart.data[0]["type"] == "heatmap"
        assert trace_named(chart, "cells") is None
    assert trace_named(figures.hidden_heatmap(hidden[0], 0), "cells") is not None  # (the default)


def test_highlight_outlines_the_cell():
    chart = figures.highlight_cell(figures.hidden_heatmap(np.zeros((3, 8)), 2), 1, 4)
    (shape,) = chart.layout["shapes"]
    assert (shape["x0"], shape["x1"], shape["y0"], shape["y1"]) == (3.5, 4.5, 0.5, 1.5)


# ---- explosions -------------------------------------------------------------------------------------


def test_values_past_1e4_are_printed_in_scientific_notation():
    z = np.array([[1.23456e7, 0.0], [3.0, 2.5e6]])
    data = heat(figures.hidden_heatmap(z, 3, activation="relu", width=700))
    assert data["texttemplate"] == "%{text}"
    assert data["text"][0][0] == "1.235e7" and data["text"][1][1] == "2.500e6"
    assert ":.3e}" in data["hovertemplate"]
    assert figures.number(1.23456e7) == "1.235e7"


def test_huge_and_non_finite_values_raise_no_warnings():
    hidden = np.full((3, 2, 4), 1e300)
    hidden[0] = 0.5
    hidden[2, 0, 0] = np.inf
    hidden[2, 1, 1] = np.nan
    outputs = np.full((3, 2), 1e300)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for activation in ("tanh", "relu", "sigmoid"):
            built = figures.page_figures(hidden, outputs, activation=activation)
            built |= figures.slide_figures(hidden, outputs, 2, activation)
            for chart in built.values():
                chart.to_dict()
        big = heat(figures.hidden_heatmap(np.full((32, 256), 1e300), 0, activation="relu"))
    assert big["z"]["dtype"] == "f8"  # never cast to float32 (it would overflow to inf)


def test_explosion_names_the_first_step_and_why():
    hidden = np.zeros((5, 2, 3))
    hidden[3, 1, 2] = 2e6
    hidden[4] = np.inf
    step, message = figures.explosion(hidden, "relu")
    assert step == 3 and "step 3" in message and "relu has no ceiling" in message
    assert figures.explosion(np.zeros((2, 2, 2)), "tanh") is None
    assert figures.explosion(np.full((2, 1, 1), np.nan), "sigmoid")[0] == 0


# ---- time: nothing after the current step --------------------------------------------------------


def test_upto_shows_nothing_later(trace):
    row = figures.row_heatmap(trace.hidden, 0, upto=1)
    assert decode_array(heat(row)["z"]).shape == (2, 8)
    assert row.layout["yaxis"]["range"] == [2.5, -0.5]  # the size stays put
    outputs = figures.outputs_chart(trace.outputs, upto=0)
    assert all(len(decode_array(d["y"])) == 1 for d in outputs.to_dict()["data"])
    slide = figures.hidden_states_figure(trace.hidden, upto=1)
    assert sum(d["type"] == "heatmap" for d in slide.to_dict()["data"]) == 2
    assert set(figures.page_figures(trace.hidden, trace.outputs, upto=0)) == {
        "hidden-y0",
        "row-0",
        "row-1",
        "row-2",
        "outputs",
    }


# ---- the diagram -----------------------------------------------------------------------------------


def test_the_diagram_has_a_block_per_step_and_labelled_shapes():
    layout = figures.unrolled_diagram(3, 2, 8, 1, False, width_px=1400).layout
    texts = [a.get("text", "") for a in layout["annotations"]]
    assert sum("= tanh(" in t for t in texts) == 3
    assert texts.count("Wx [2×8]") == 3 and texts.count("Wy [8×8]") == 2
    assert {"Wo0 [8×1]", "Wo1 [8×1]", "Wo2 [8×1]"} <= set(texts)
    current = [s for s in layout["shapes"] if s["line"]["color"] == figures.HIGHLIGHT]
    assert len(current) == 3 and all(s["x0"] >= 3.0 for s in current)  # block 1's three boxes


def test_the_block_window_keeps_the_current_step_and_the_ends():
    for n, current, room in itertools.product((1, 3, 8, 9, 50), (0, 4, 30, 49), (3, 5, 8)):
        if current >= n:
            continue
        drawn = slots(n, current, room)
        steps = [s.step for s in drawn if s.step is not None]
        assert len(drawn) <= max(room, 5), (n, current, room)
        assert current in steps and steps == sorted(steps)
        assert steps[0] == 0 and steps[-1] == n - 1


def label_boxes(layout: dict, width_px: int) -> list[tuple[float, float, float, float, str]]:
    """Every text label's box in px (x0, x1, y0, y1), from its position, anchors and estimated size."""
    x_lo, x_hi = layout["xaxis"]["range"]
    y_lo, y_hi = layout["yaxis"]["range"]
    height = layout["height"] - layout["margin"]["t"] - layout["margin"]["b"]
    px_x = (width_px - 20) / (x_hi - x_lo)
    px_y = height / (y_hi - y_lo)
    boxes = []
    for note in layout["annotations"]:
        text = note.get("text", "")
        if not text or note.get("showarrow"):
            continue
        size = note["font"]["size"]
        lines = text.split("<br>")
        w = max(text_px(line, size) for line in lines)
        h = 1.2 * size * len(lines)
        x = (note["x"] - x_lo) * px_x
        y = (note["y"] - y_lo) * px_y
        x0 = {"left": x, "right": x - w}.get(note.get("xanchor"), x - w / 2)
        y0 = {"bottom": y, "top": y - h}.get(note.get("yanchor"), y - h / 2)
        boxes.append((x0, x0 + w, y0, y0 + h, text))
    return boxes


@pytest.mark.parametrize("width_px", [736, 900, 1460])
@pytest.mark.parametrize(("n_steps", "current"), [(3, 1), (8, 7), (12, 5), (50, 30), (50, 0)])
@pytest.mark.parametrize("style", [figures.SCREEN, figures.SLIDE], ids=["screen", "slide"])
def test_diagram_labels_never_overlap(n_steps, current, width_px, style):
    chart = figures.unrolled_diagram(n_steps, 8, 256, current, False, "sigmoid", style, width_px)
    layout = chart.layout
    blocks = [a["text"] for a in layout["annotations"] if a.get("text", "").startswith("<b>y")]
    assert len(blocks) <= figures.max_blocks(width_px)
    assert any(t.startswith(f"<b>y{current}</b>") for t in blocks)
    boxes = label_boxes(dict(layout), width_px)
    for a, b in itertools.combinations(boxes, 2):
        overlap_x = min(a[1], b[1]) - max(a[0], b[0])
        overlap_y = min(a[3], b[3]) - max(a[2], b[2])
        assert overlap_x <= 0 or overlap_y <= 0, (a[4], b[4])
    geo = Geometry(len(blocks), width_px)
    assert geo.px_per_unit > 0
    if n_steps > len(blocks):
        assert "…" in [a.get("text") for a in layout["annotations"]]
        assert f"of {n_steps} steps drawn" in chart.title


def test_the_diagram_and_outputs_name_the_activation_and_the_head(trace):
    diagram = figures.unrolled_diagram(3, 2, 8, 2, True, "relu", width_px=1460)
    texts = [a.get("text", "") for a in diagram.layout["annotations"]]
    assert any("relu(" in t for t in texts) and "Wo [8×1]" in texts
    assert "relu" in figures.describe(diagram)
    shared = figures.outputs_chart(trace.outputs, shared_output=True, activation="sigmoid")
    assert "y_t·Wo + bo" in shared.title and "sigmoid" in shared.title
    assert "Wo_t" in figures.outputs_chart(trace.outputs).title


def test_the_outputs_legend_is_clear_of_the_axis_titles():
    outputs = np.random.default_rng(0).normal(size=(50, 3))
    layout = figures.outputs_chart(outputs).layout
    assert layout["legend"]["orientation"] == "v" and layout["legend"]["x"] > 1
    assert layout["xaxis"]["dtick"] >= 5  # 50 steps: every 10th labelled, none cut


# ---- slides ----------------------------------------------------------------------------------------


def test_slides_are_16_by_9(trace):
    slides = figures.slide_figures(trace.hidden, trace.outputs, 2, "tanh", False)
    assert {"slide-hidden", "slide-diagram", "slide-row", "slide-outputs"} <= set(slides)
    for name, chart in slides.items():
        assert (chart.width, chart.height) == (1920, 1080), name
        assert chart.width * 9 == chart.height * 16


def test_the_hidden_states_slide_holds_every_step_on_one_scale(trace):
    slide = figures.hidden_states_figure(trace.hidden)
    heatmaps = [d for d in slide.to_dict()["data"] if d["type"] == "heatmap"]
    assert len(heatmaps) == 3
    assert {(d["zmin"], d["zmax"]) for d in heatmaps} == {(-1.0, 1.0)}
    assert sum(bool(d.get("showscale")) for d in heatmaps) == 1  # one colorbar
    assert heatmaps[0]["textfont"]["size"] >= 18  # slide type
    many = np.random.default_rng(0).uniform(-1, 1, size=(50, 4, 16))
    panels = figures.hidden_states_figure(many, upto=40).to_dict()["data"]
    assert sum(d["type"] == "heatmap" for d in panels) == figures.MAX_GRID


@pytest.mark.parametrize("shape", [(3, 3, 8), (50, 4, 256), (50, 32, 256), (12, 16, 8)])
def test_row_labels_never_touch_on_a_slides_small_panels(shape):
    """The slide's panels of y_t: rows lower than a label are labelled every few rows (the y labels
    of 50 × 4 × 256 at 1280 × 720 overlapped); big rows keep every label."""
    T, B, _ = shape
    hidden = np.random.default_rng(0).uniform(-1, 1, shape)
    chart = figures.hidden_states_figure(hidden, "tanh", T - 1, figures.SLIDE, 1280, 720)
    plot_h = chart.layout["height"] - chart.layout["margin"]["t"] - chart.layout["margin"]["b"]
    for name, axis in chart.layout.items():
        if not name.startswith("yaxis") or B > 16:  # (past 16 rows plotly spaces its own labels)
            continue
        low, high = axis["domain"]
        row_px = (high - low) * plot_h / B
        assert axis["dtick"] * row_px >= figures.SLIDE.font_size, (name, axis["dtick"], row_px)
        if row_px >= 1.2 * figures.SLIDE.font_size:
            assert axis["dtick"] == 1


@pytest.mark.parametrize("width", [1280, 1920])
def test_the_hidden_states_slide_title_fits_its_width(width):
    """relu's scale label is long (0 to 2.2e54, the largest value shown): at 1280 px the title was cut."""
    from app.figures.style import text_px

    hidden = np.abs(np.random.default_rng(0).normal(size=(50, 4, 256))) * 2.2e54
    chart = figures.hidden_states_figure(hidden, "relu", 49, figures.SLIDE, width, 720)
    assert "relu: 0 to " in chart.title and "(largest value shown)" in chart.title  # the scale kept
    assert text_px(chart.title, figures.SLIDE.title_size) <= width - chart.layout["margin"]["l"]
