"""The general heatmap builder, and the page's heatmaps: y_t (rows × neurons) and one row through
time (steps × neurons).

Everything that depends on how big a cell is on screen (the gaps between cells, printed values and
their size, the "stuck" corner flags) is decided from the cell's size in pixels, computed from the
width the figure is drawn at: a fixed width, or for a figure that stretches with the page, the
narrowest main column the page supports (Style.narrowest_px), so nothing is ever too small.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rnn_core.activations import ACTIVATIONS

from .chart import Chart
from .style import (
    EXPLODED,
    HIGHLIGHT,
    NO_GRID,
    SCREEN,
    Scale,
    Style,
    largest_finite,
    layout,
    number,
    scale_for,
    text_px,
)

# Arial/Liberation Sans advance widths in em, for the characters values are printed with.
_EM = {"-": 0.584, ".": 0.278, "e": 0.556}
MIN_GAP_CELL_PX = 8  # narrower cells are drawn without the 1 px gap (it would eat them)
MIN_FLAG_CELL_PX = 12  # smaller cells carry no corner flag (the title still counts them)
MIN_TEXT_PX = 9  # cell values are never printed smaller than this
HEATMAP_MARGIN = {"l": 4, "r": 6, "b": 6}
# The y title's distance from the tick labels, in font sizes: turned upright, a descender ("step")
# points at them (4 px let "step" touch "y1" on a slide)
Y_TITLE_GAP = 0.45
MAX_CLICKABLE_CELLS = 1024  # past this, cells are picked with the pickers only (payload)
TEXT_PAD_PX = 1.5  # room left between a printed value and its cell's edges


def value_px(text: str, size: float) -> float:
    """The width of a printed number in px (Arial metrics: digits 0.556 em)."""
    return size * sum(_EM.get(ch, 0.556) for ch in text)


@dataclass(frozen=True)
class CellFit:
    """What a cell of w × h px can show."""

    w: float
    h: float
    gap: int  # px between cells
    text: str | None  # d3 format for the printed value ("%{z:.2f}", "%{text}"), or None
    text_size: int
    flag_px: int  # corner flag size; 0: none

    @staticmethod
    def decide(w: float, h: float, samples: list[str], style: Style, fmt: str) -> CellFit:
        """The largest font (down to MIN_TEXT_PX) at which the widest sample fits the cell."""
        gap = 1 if min(w, h) >= MIN_GAP_CELL_PX else 0
        flag = int(min(8, min(w, h) * 0.28)) if min(w, h) >= MIN_FLAG_CELL_PX else 0
        for size in range(style.cell_font_size, MIN_TEXT_PX - 1, -1):
            wide = max(value_px(s, size) for s in samples)
            # the flag sits in the top-right corner, above the centred text
            tall = size * 1.2 + (2 * flag if flag else 0)
            if wide + 2 * TEXT_PAD_PX + gap <= w and tall + gap <= h:
                return CellFit(w, h, gap, fmt, size, flag)
        return CellFit(w, h, gap, None, style.cell_font_size, flag)


def _formats(z: np.ndarray) -> tuple[list[str], str, str, np.ndarray | None]:
    """(the widest printed samples, cell text template, hover number format, text array or None)."""
    big = largest_finite(z)
    if big >= 1e4 or not np.isfinite(z).all():  # scientific, 4 significant digits, from Python
        text = np.vectorize(lambda v: number(float(v), 4), otypes=[object])(z) if z.size else z
        samples = sorted({str(s) for s in np.ravel(text)}, key=len)[-3:] or ["0"]
        return samples, "%{text}", ".3e", text
    digits = (0 if big >= 1000 else 1) if big >= 100 else 2
    lowest = -big if (z < 0).any() else big
    return [f"{lowest:.{digits}f}", f"{big:.{digits}f}"], f"%{{z:.{digits}f}}", ".4f", None


def plot_width(width_px: int, n_cols: int, y_label_px: float, style: Style, colorbar: bool) -> float:
    """The plot area's width inside a figure `width_px` wide (margins as layout() sets them)."""
    left = HEATMAP_MARGIN["l"] + style.font_size * 1.4 + y_label_px + 6  # axis title (rotated), ticks
    right = HEATMAP_MARGIN["r"] + (16 + value_px("-0.75", style.font_size - 1) + 8 if colorbar else 0)
    return max(width_px - left - right, n_cols)


def natural_width(n_cols: int, style: Style = SCREEN, colorbar: bool = False, y_label: str = "00") -> int:
    """The figure width that gives every column its preferred width (style.cell_w_px)."""
    extra = 1000 - plot_width(1000, n_cols, value_px(y_label, style.font_size), style, colorbar)
    return int(np.ceil(extra + n_cols * style.cell_w_px))


def heatmap_width(n_cols: int, style: Style = SCREEN, colorbar: bool = False, n_rows: int = 32) -> int | None:
    """A fixed figure width for a grid of n_cols columns, or None: stretch to the column (the grid
    needs more than the narrowest column the page supports)."""
    width = natural_width(n_cols, style, colorbar, str(n_rows - 1))
    return width if width <= style.narrowest_px else None


def row_height(n_rows: int, style: Style) -> float:
    """Rows shrink from style.cell_px (up to 8 rows) to 40 % of it (32 rows)."""
    return float(np.clip(style.cell_px * 8 / max(n_rows, 1), style.cell_px * 0.4, style.cell_px))


def heatmap(
    z: np.ndarray,
    *,
    scale: Scale,
    chart_id: str,
    title: str,
    axes: tuple[str, str],
    style: Style = SCREEN,
    width: int | None = None,
    n_rows: int | None = None,
    y_labels: list[str] | None = None,
    hover: str = "",
    stuck: np.ndarray | None = None,
    colorbar: bool = True,
    clickable: bool = True,
    alt: str = "",
    cell: tuple[float, float] | None = None,
) -> Chart:
    """A heatmap of z (rows down, columns across) on `scale`.

    width: the figure's fixed width in px, or None to stretch (decided at style.narrowest_px).
    n_rows: rows on the axis (more than z has: rows not shown yet stay empty, the size stays put).
    axes: (x title, y title); hover names them. stuck: a mask of cells to flag in their corner.
    clickable: a click layer (invisible points on the cells, up to MAX_CLICKABLE_CELLS) for
    st.plotly_chart, whose selection returns no heatmap cell. The charts drawn by the page's own
    component (app/components/charts) hear plotly.js's click on the heatmap itself at any size: they
    need none (a quarter of the time charts' build and an eighth of their JSON at the tutorial's size).
    """
    z = np.asarray(z, dtype=np.float64)
    shown_rows, n_cols = z.shape
    n_rows = max(n_rows or shown_rows, shown_rows, 1)
    y_label_px = max(value_px(s, style.font_size) for s in (y_labels or [str(n_rows - 1)]))
    decided_at = width or style.narrowest_px
    cell_w = plot_width(decided_at, n_cols, y_label_px, style, colorbar) / max(n_cols, 1)
    cell_h = row_height(n_rows, style)
    if cell:  # drawn inside a larger figure that knows its cells' size
        cell_w, cell_h = cell
    samples, template, hover_fmt, text = _formats(z)
    fit = CellFit.decide(cell_w, cell_h, samples, style, template)
    x_name, y_name = axes
    hover = hover or f"{y_name} %{{y}}<br>{x_name} %{{x}}<br>value = %{{z:{hover_fmt}}}"
    hover = hover.replace("%{z}", f"%{{z:{hover_fmt}}}")
    trace = {
        "type": "heatmap",
        # float32 halves the bytes of big grids; only where every value fits (no overflow to inf)
        "z": z.astype(np.float32) if z.size > 400 and largest_finite(z) < 1e30 else z,
        "zmin": scale.low,
        "zmax": scale.high,
        "colorscale": scale.colorscale,
        "showscale": colorbar,
        "hovertemplate": hover + "<extra></extra>",
        "xgap": fit.gap,
        "ygap": fit.gap,
        "name": chart_id,
    }
    if colorbar:
        trace["colorbar"] = scale.colorbar(style)
    if fit.text:
        trace["texttemplate"] = fit.text
        trace["textfont"] = {"size": fit.text_size}
        if text is not None:
            trace["text"] = text.tolist()
    traces = [trace]
    if stuck is not None and fit.flag_px and stuck.any():
        traces.append(_flags(stuck, fit))
    if clickable and z.size <= MAX_CLICKABLE_CELLS:
        traces.append(_click_layer(z, str(trace["hovertemplate"]), fit))
    height = int(MODEBAR_TOP(style) + n_rows * cell_h + 30 + style.font_size * 2.6)
    spec = layout(
        chart_id,
        title,
        style,
        height,
        width,
        **_axes(x_name, y_name, n_cols, n_rows, y_labels, style, cell_h),
    )
    spec["margin"] = {**spec["margin"], **HEATMAP_MARGIN}

    def table() -> pd.DataFrame:  # (built only when someone opens the numbers)
        return pd.DataFrame(
            z,
            index=(y_labels or [f"{y_name} {i}" for i in range(n_rows)])[:shown_rows],
            columns=[f"{x_name} {j}" for j in range(n_cols)],
        )

    return Chart.build(traces, spec, alt, table)


def MODEBAR_TOP(style: Style) -> int:
    from .style import MODEBAR_ROOM

    return MODEBAR_ROOM + 14 + 2 * style.title_size


def _flags(stuck: np.ndarray, fit: CellFit) -> dict:
    """Corner flags ◥ on the stuck cells: inside the top-right corner at any drawn size."""
    rows, cols = np.nonzero(stuck)
    dx = 0.5 - (fit.flag_px / 2 + fit.gap + 0.5) / fit.w
    dy = 0.5 - (fit.flag_px / 2 + fit.gap + 0.5) / fit.h
    return {
        "type": "scatter",
        "x": cols + dx,
        "y": rows - dy,  # rows run downwards
        "mode": "markers",
        "marker": {
            "symbol": "triangle-ne",
            "size": fit.flag_px,
            "color": "#ffffff",
            "line": {"width": 1, "color": "#000"},
        },
        "hoverinfo": "skip",
        "name": "stuck",
        "unselected": {"marker": {"opacity": 1}},  # a click on a cell must not dim the flags
    }


def _click_layer(z: np.ndarray, hover: str, fit: CellFit) -> dict:
    """Invisible points on the cell centres: Streamlit's plotly selection returns nothing for a
    heatmap (streamlit/streamlit#8760), but it returns a clicked scatter point."""
    rows, cols = np.mgrid[0 : z.shape[0], 0 : z.shape[1]]
    return {
        "type": "scatter",
        "x": cols.ravel(),
        "y": rows.ravel(),
        "customdata": z.ravel(),
        "mode": "markers",
        "marker": {"size": max(min(fit.w, fit.h) - 2, 4), "symbol": "square", "opacity": 0, "color": "#000"},
        "selected": {"marker": {"opacity": 0}},
        "unselected": {"marker": {"opacity": 0}},
        "hovertemplate": hover.replace("%{z", "%{customdata").replace("%{text}", "%{customdata}"),
        "name": "cells",
    }


LABEL_LINE = 1.2  # a tick label's height, in font sizes


def _axes(
    x_title: str, y_title: str, n_x: int, n_y: int, y_labels: list | None, style: Style, row_px: float
) -> dict:
    """Fixed ranges (rows run downwards): the invisible click points must not pad the axes. Rows
    lower than a label (a slide's small panels) are labelled every few rows, so labels never touch."""
    every = max(1, math.ceil(style.font_size * LABEL_LINE / row_px)) if row_px > 0 else 1
    return {
        "xaxis": {
            "title": {"text": x_title, "standoff": 4},
            "dtick": 1 if n_x <= 16 else None,
            "range": [-0.5, n_x - 0.5],
            "fixedrange": True,
            **NO_GRID,
        },
        "yaxis": {
            "title": {"text": y_title, "standoff": round(style.font_size * Y_TITLE_GAP)},
            "dtick": every if n_y <= 16 else None,
            "range": [n_y - 0.5, -0.5],
            "fixedrange": True,
            **NO_GRID,
            **(
                {"tickvals": list(range(0, len(y_labels), every)), "ticktext": y_labels[::every]}
                if y_labels
                else {}
            ),
        },
    }


# ---- the page's heatmaps ---------------------------------------------------------------------------


def stuck_mask(values: np.ndarray, activation: str) -> np.ndarray:
    with np.errstate(all="ignore"):
        return ACTIVATIONS[activation].stuck(np.asarray(values, dtype=np.float64))


def stuck_count(values: np.ndarray, activation: str) -> tuple[int, int]:
    """(stuck units, all units) in any array of hidden states of that activation."""
    return int(stuck_mask(values, activation).sum()), int(np.asarray(values).size)


def stuck_words(activation: str) -> str:
    """'saturated (|y| > 0.95)': the registry's word and rule."""
    act = ACTIVATIONS[activation]
    return f"{act.stuck_word} ({act.stuck_rule})"


def hidden_heatmap(
    hidden_t: np.ndarray,
    step: int,
    style: Style = SCREEN,
    activation: str = "tanh",
    scale: Scale | None = None,
    width: int | str | None = "auto",
    colorbar: bool = True,
    cell: tuple[float, float] | None = None,
    click_layer: bool = True,
) -> Chart:
    """y_t for every row (down) and neuron (across). width "auto": fixed while the grid fits the
    narrowest column (heatmap_width), else stretched. click_layer: see heatmap's `clickable`."""
    B, N = hidden_t.shape
    scale = scale or scale_for(activation, hidden_t)
    width_px = heatmap_width(N, style, colorbar, B) if width == "auto" else width
    assert not isinstance(width_px, str)
    mask = stuck_mask(hidden_t, activation)
    n_stuck, word = int(mask.sum()), ACTIVATIONS[activation].stuck_word
    title = f"y{step}: {n_stuck} of {hidden_t.size} units {word}"
    hover = f"step {step}<br>row %{{y}}<br>neuron %{{x}}<br>y{step} = %{{z}}"
    return heatmap(
        hidden_t,
        scale=scale,
        chart_id=f"hidden-y{step}",
        title=title,
        axes=("neuron", "row"),
        style=style,
        width=width_px,
        hover=hover,
        stuck=mask,
        colorbar=colorbar,
        cell=cell,
        clickable=click_layer,
        alt=(
            f"Heatmap of the hidden state y{step}: {B} rows × {N} neurons, values "
            f"{_range_words(hidden_t)} on the {scale.label} scale; {n_stuck} of {hidden_t.size} units "
            f"{stuck_words(activation)}."
        ),
    )


def row_heatmap(
    hidden: np.ndarray,
    row: int,
    style: Style = SCREEN,
    activation: str = "tanh",
    scale: Scale | None = None,
    upto: int | None = None,
    width: int | None = None,
    colorbar: bool = True,
    click_layer: bool = True,
) -> Chart:
    """One row's hidden state through time: steps (down) by neurons (across), steps 0 … upto only
    (later steps: empty rows, so playing the steps gives nothing away and the size stays put).
    click_layer: see heatmap's `clickable`."""
    T, _, N = hidden.shape
    upto = T - 1 if upto is None else min(upto, T - 1)
    z = hidden[: upto + 1, row, :]
    scale = scale or scale_for(activation, z)
    mask = stuck_mask(z, activation)
    word = ACTIVATIONS[activation].stuck_word
    shown = f" (steps 0–{upto} of {T})" if upto < T - 1 else ""
    title = f"Row {row} through time{shown}: {int(mask.sum())} of {z.size} units {word}"
    hover = f"row {row}<br>step %{{y}}<br>neuron %{{x}}<br>y = %{{z}}"
    return heatmap(
        z,
        scale=scale,
        chart_id=f"row-{row}",
        title=title,
        axes=("neuron", "step"),
        style=style,
        width=width,
        n_rows=T,
        y_labels=[f"y{t}" for t in range(T)],
        hover=hover,
        stuck=mask,
        colorbar=colorbar,
        clickable=click_layer,
        alt=(
            f"Heatmap of row {row}'s hidden state through steps 0 to {upto}: {N} neurons per step, values "
            f"{_range_words(z)} on the {scale.label} scale; {int(mask.sum())} of {z.size} units "
            f"{stuck_words(activation)}."
        ),
    )


def _range_words(z: np.ndarray) -> str:
    finite = z[np.isfinite(z)]
    if not finite.size:
        return "all not finite"
    words = f"from {number(float(finite.min()), 2)} to {number(float(finite.max()), 2)}"
    return words if finite.size == z.size else words + f" ({z.size - finite.size} not finite)"


def cell_outline(row: int, neuron: int) -> dict:
    """The outline of one heatmap cell (the explained one) in the highlight color: a layout shape. The
    browser moves this shape to another cell when the view changes there (app/components/charts: a
    rectangle one cell wide and high centred on the cell)."""
    return {
        "type": "rect",
        "x0": neuron - 0.5,
        "x1": neuron + 0.5,
        "y0": row - 0.5,
        "y1": row + 0.5,
        "line": {"color": HIGHLIGHT, "width": 4},
    }


def highlight_cell(chart: Chart, row: int, neuron: int) -> Chart:
    """Outline one heatmap cell (the explained one): a new chart."""
    return chart.with_shapes(cell_outline(row, neuron))


def explosion(hidden: np.ndarray, activation: str) -> tuple[int, str] | None:
    """(the first step with a value past 1e6 in magnitude or not finite, a message why), or None."""
    hidden = np.asarray(hidden, dtype=np.float64)
    with np.errstate(all="ignore"):
        bad = ~np.isfinite(hidden) | (np.abs(hidden) > EXPLODED)
    steps = np.flatnonzero(bad.reshape(len(hidden), -1).any(axis=1))
    if not steps.size:
        return None
    t = int(steps[0])
    count = int(bad[t].sum())
    what = "not finite" if not np.isfinite(hidden[t]).all() else f"past {EXPLODED:.0e} in magnitude"
    why = (
        "relu has no ceiling, so a unit grows by about the size of Wy (its weight scale) times the "
        "previous values at every step; lower the weight scale, or use tanh or sigmoid."
        if activation == "relu"
        else "the pre-activations grow with the inputs and with Wy's scale."
    )
    return t, f"The hidden state explodes at step {t}: {count} values of y{t} are {what}. {why}"


def colorbar_chart(scale: Scale, style: Style = SCREEN, width: int = 460) -> Chart:
    """The view's color scale alone, as a thin horizontal bar: every heatmap of the view uses it."""
    values = np.linspace(scale.low, scale.high, 129)
    trace = {
        "type": "heatmap",
        "z": values[None, :],
        "x": values,
        "zmin": scale.low,
        "zmax": scale.high,
        "colorscale": scale.colorscale,
        "showscale": False,
        "hoverinfo": "skip",
    }
    spec = layout("scale", "", style, int(30 + 3.2 * style.font_size), width)
    spec["title"] = {"text": ""}
    ends = [text_px(text, style.font_size) / 2 + 4 for text in (scale.ticktext[0], scale.ticktext[-1])]
    spec["margin"] = {  # (room for the end labels, centred on the bar's ends: plotly drops one it would cut)
        "l": int(max(12, ends[0])),
        "r": int(max(24, ends[1])),
        "t": 4,
        "b": int(6 + 2.8 * style.font_size),
    }
    spec["xaxis"] = {
        "tickvals": scale.tickvals,
        "ticktext": scale.ticktext,
        "title": {"text": f"color scale, {scale.label}", "standoff": 4},
        "fixedrange": True,
        "ticks": "outside",
        "showgrid": False,
        "zeroline": False,
    }
    spec["yaxis"] = {"visible": False, "fixedrange": True}
    return Chart.build([trace], spec, f"The color scale: {scale.label}.")
