"""16:9 slide compositions (1920 × 1080; PNG at 2×): the hidden states y0 … y(T−1) in one figure,
the diagram, one row through time, the outputs; and every chart of the page by its id."""

from __future__ import annotations

import math

import numpy as np

from rnn_core.activations import ACTIVATIONS

from .chart import Chart
from .diagram import unrolled_diagram
from .heatmap import CellFit, hidden_heatmap, row_heatmap, stuck_mask
from .lines import outputs_chart
from .style import SCREEN, SLIDE, Scale, Style, layout, scale_for, text_px

SLIDE_W, SLIDE_H = 1920, 1080
MAX_GRID = 12  # hidden states on one slide (and on the page): a window ending at the current step


def window(n_steps: int, upto: int, size: int = MAX_GRID) -> range:
    """The steps shown: up to `size` of them, ending at `upto`."""
    first = max(0, upto + 1 - size)
    return range(first, upto + 1)


def panel_gaps(style: Style) -> tuple[float, float]:
    """px between panels: the next panel's row labels (x); this panel's ticks and the next title (y)."""
    return 2.4 * style.font_size, 3.0 * style.font_size + 12


def panel_cells(
    r: int, c: int, rows: int, cols: int, width: float, height: float, style: Style
) -> tuple[float, float]:
    """(cell width, cell height) in px with panels in r × c, in a plot area of width × height."""
    gap_x, gap_y = panel_gaps(style)
    panel_w = (width - gap_x * (c - 1)) / c
    panel_h = (height - gap_y * (r - 1)) / r
    return panel_w / cols, panel_h / rows


def grid_shape(
    n: int, rows: int, cols: int, width: float, height: float, style: Style = SLIDE
) -> tuple[int, int]:
    """(panel rows, panel columns) for n panels of rows × cols cells in width × height px: the
    arrangement whose cells print values the largest (then: the biggest cells)."""

    def score(c: int) -> tuple:
        r = math.ceil(n / c)
        w, h = panel_cells(r, c, rows, cols, width, height, style)
        fit = CellFit.decide(w, h, ["-1.00"], style, "%{z:.2f}")
        return (fit.text is not None, fit.text_size if fit.text else 0, min(w, h))

    c = max(range(1, n + 1), key=score)
    return math.ceil(n / c), c


def hidden_states_figure(
    hidden: np.ndarray,
    activation: str = "tanh",
    upto: int | None = None,
    style: Style = SLIDE,
    width: int = SLIDE_W,
    height: int = SLIDE_H,
    scale: Scale | None = None,
    chart_id: str = "slide-hidden",
) -> Chart:
    """y0 … y_upto (a window of MAX_GRID) as panels of one figure, one shared colorbar."""
    T, B, N = hidden.shape
    upto = T - 1 if upto is None else min(upto, T - 1)
    steps = list(window(T, upto))
    scale = scale or scale_for(activation, hidden[: upto + 1])
    top, right, bottom, left = 24 + 2 * style.title_size, 110, 10 + 2 * style.font_size, 70
    area_w, area_h = width - left - right, height - top - bottom
    n_r, n_c = grid_shape(len(steps), B, N, area_w, area_h, style)
    gap_x, gap_y = panel_gaps(style)
    pad_x, pad_y = gap_x / area_w, gap_y / area_h
    cw, ch = (1 - pad_x * (n_c - 1)) / n_c, (1 - pad_y * (n_r - 1)) / n_r
    cell = panel_cells(n_r, n_c, B, N, area_w, area_h, style)
    data, axes, notes = [], {}, []
    word = ACTIVATIONS[activation].stuck_word
    for k, t in enumerate(steps):
        r, c = divmod(k, n_c)
        x0, y1 = c * (cw + pad_x), 1 - r * (ch + pad_y)
        panel = hidden_heatmap(hidden[t], t, style, activation, scale, colorbar=False, cell=cell)
        suffix = "" if k == 0 else str(k + 1)
        for trace in panel.to_dict()["data"]:
            if trace.get("name") == "cells":
                continue
            data.append({**trace, "xaxis": f"x{suffix}", "yaxis": f"y{suffix}"})
        source = panel.layout
        x_domain = [round(max(x0, 0.0), 6), round(min(x0 + cw, 1.0), 6)]
        y_domain = [round(max(y1 - ch, 0.0), 6), round(min(y1, 1.0), 6)]
        axes[f"xaxis{suffix}"] = {**source["xaxis"], "domain": x_domain, "anchor": f"y{suffix}"}
        axes[f"yaxis{suffix}"] = {**source["yaxis"], "domain": y_domain, "anchor": f"x{suffix}"}
        axes[f"xaxis{suffix}"]["title"] = {"text": ""}  # the title says "rows × neurons"
        if c:
            axes[f"yaxis{suffix}"]["title"] = {"text": ""}
        n_stuck = int(stuck_mask(hidden[t], activation).sum())
        notes.append(
            {
                "text": f"<b>y{t}</b>: {n_stuck} of {hidden[t].size} {word}",
                "x": x0,
                "y": y1,
                "xref": "paper",
                "yref": "paper",
                "xanchor": "left",
                "yanchor": "bottom",
                "showarrow": False,
                "font": {"size": style.font_size},
            }
        )
    data[0]["showscale"] = True
    data[0]["colorbar"] = {**scale.colorbar(style), "x": 1.01, "xanchor": "left", "len": 1.0, "y": 0.5}
    shown = f"y{steps[0]} … y{steps[-1]}" if len(steps) > 1 else f"y{steps[0]}"
    title = f"Hidden states {shown}, each rows × neurons, on one {scale.label} scale"
    if text_px(title, style.title_size) > width - left:  # (a long scale label on a 1280 px slide)
        title = f"Hidden states {shown} on one scale: {scale.label}"
    spec = layout(chart_id, title, style, height, width, annotations=notes, **axes)
    spec["margin"] = {"t": top, "r": right, "b": bottom, "l": left}
    alt = f"The hidden states {shown} side by side: {B} rows × {N} neurons each, on the {scale.label} scale."
    return Chart.build(data, spec, alt)


def _sized(chart: Chart, width: int = SLIDE_W, height: int = SLIDE_H) -> Chart:
    return chart.with_layout(width=width, height=height)


def slide_figures(
    hidden: np.ndarray,
    outputs: np.ndarray,
    n_inputs: int,
    activation: str = "tanh",
    shared_output: bool = False,
    row: int = 0,
    upto: int | None = None,
    style: Style = SLIDE,
) -> dict[str, Chart]:
    """The presentation's slides, 16:9 each: (a) hidden states, (b) diagram, (c) a row through time,
    (d) outputs; then every chart of the page alone, at the same size."""
    T, _, N = hidden.shape
    upto = T - 1 if upto is None else min(upto, T - 1)
    scale = scale_for(activation, hidden[: upto + 1])
    slides = {
        "slide-hidden": hidden_states_figure(hidden, activation, upto, style, scale=scale),
        "slide-diagram": _sized(
            unrolled_diagram(
                T, n_inputs, N, upto, shared_output, activation, style, width_px=SLIDE_W
            ).with_layout(meta="slide-diagram")
        ),
        "slide-row": _sized(
            row_heatmap(hidden, row, style, activation, scale, upto, width=SLIDE_W).with_layout(
                meta="slide-row"
            )
        ),
        "slide-outputs": outputs_chart(
            outputs, style, shared_output, activation, upto, SLIDE_W, SLIDE_H
        ).with_layout(meta="slide-outputs"),
    }
    for chart_id, chart in page_figures(
        hidden, outputs, style, activation, shared_output, scale, upto
    ).items():
        slides[chart_id] = _sized(chart)
    return slides


def page_figures(
    hidden: np.ndarray,
    outputs: np.ndarray,
    style: Style = SCREEN,
    activation: str = "tanh",
    shared_output: bool = False,
    scale: Scale | None = None,
    upto: int | None = None,
) -> dict[str, Chart]:
    """Every figure of the page by its id: each y_t, each row through time, and the outputs."""
    T, B, _ = hidden.shape
    upto = T - 1 if upto is None else min(upto, T - 1)
    scale = scale or scale_for(activation, hidden[: upto + 1])
    found = {f"hidden-y{t}": hidden_heatmap(hidden[t], t, style, activation, scale) for t in range(upto + 1)}
    found |= {f"row-{r}": row_heatmap(hidden, r, style, activation, scale, upto) for r in range(B)}
    found["outputs"] = outputs_chart(outputs, style, shared_output, activation, upto)
    return found
