"""Figures of the weights and of a comparison of two networks, built with the general heatmap builder.
Pure: no streamlit, no I/O.

- weight_heatmap: one weight (Wx, Wy, b, Wo, bo) on the one scale all weights share (symmetric around 0).
- compare_heatmap: A's or B's y_t on their shared scale, or Δ = B − A on its own symmetric scale.
- outputs_overlay: A's outputs dashed, B's solid, one color per row.
- memory_chart: |Δy_t| / ε per step after a nudge (how long the network remembers an input).
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pandas as pd

from .chart import Chart
from .heatmap import colorbar_chart, heatmap, heatmap_width
from .style import (
    GRID,
    HIGHLIGHT,
    RDBU,
    ROW_COLORS,
    SCREEN,
    Scale,
    Style,
    largest_finite,
    layout,
    number,
    text_px,
)

COMPARE_CELL_W_PX = 24  # A, B and Δ side by side in the page's column (values on hover)
HOVER_DIGITS = 15  # hover shows a weight to 15 significant digits: the exact value as typed


def symmetric_scale(name: str, *arrays: np.ndarray) -> Scale:
    """RdBu on [-m, m], m the largest finite |value| of all arrays (1 when all are 0)."""
    m = max((largest_finite(a) for a in arrays), default=0.0)
    m = m if m > 0 else 1.0
    return Scale(name, -m, m, RDBU, True)


def scale_legend(scale: Scale, chart_id: str, style: Style = SCREEN) -> Chart:
    """The one color bar of a view, with its range printed."""
    return colorbar_chart(scale, style).with_layout(meta=chart_id)


def outline(chart: Chart, boxes: list[tuple[float, float, float, float]]) -> Chart:
    """Outline cell ranges (x0, x1, y0, y1 in cell coordinates) in the highlight color: a new chart."""
    return chart.with_shapes(
        *(
            {"type": "rect", "x0": x0, "x1": x1, "y0": y0, "y1": y1, "line": {"color": HIGHLIGHT, "width": 4}}
            for x0, x1, y0, y1 in boxes
        )
    )


def column_box(column: int, n_rows: int) -> tuple[float, float, float, float]:
    return column - 0.5, column + 0.5, -0.5, n_rows - 0.5


def row_box(row: int, n_cols: int) -> tuple[float, float, float, float]:
    return -0.5, n_cols - 0.5, row - 0.5, row + 0.5


def cell_box(row: int, column: int) -> tuple[float, float, float, float]:
    return column - 0.5, column + 0.5, row - 0.5, row + 0.5


# ---- the weights ------------------------------------------------------------------------------------

WEIGHT_AXES = {  # (x title, y title)
    "Wx": ("neuron", "feature"),
    "Wy": ("neuron (to)", "neuron (from)"),
    "b": ("neuron", ""),
    "Wo": ("neuron", "head"),
    "bo": ("", "head"),
}
WEIGHT_TITLES = {
    "Wx": "Wx: input → hidden",
    "Wy": "Wy: y_(t-1) → y_t",
    "b": "b",
    "Wo": "Wo: hidden → output",
    "bo": "bo",
}


def weight_grid(name: str, values: np.ndarray) -> np.ndarray:
    """A weight as the 2-D grid it is drawn as: b and a shared Wo as one row, bo as one column."""
    values = np.asarray(values, dtype=np.float64)
    return values.reshape(-1, 1) if name == "bo" else np.atleast_2d(values)


def _labels(name: str, values: np.ndarray, n_rows: int) -> list[str]:
    if name == "b":
        return ["b"]
    if name in ("Wo", "bo"):
        shared = (name == "Wo" and values.ndim == 1) or (name == "bo" and values.shape == (1,))
        return [name] if shared else [f"{name}{t}" for t in range(n_rows)]
    return [str(i) for i in range(n_rows)]


def weight_heatmap(name: str, values: np.ndarray, scale: Scale, style: Style = SCREEN) -> Chart:
    """One weight on the weights' shared scale; hover gives its exact value."""
    z = weight_grid(name, values)
    n_rows, n_cols = z.shape
    one_index = name in ("b", "bo") or (name == "Wo" and np.asarray(values).ndim == 1)
    if name == "bo":
        index = "bo[%{y}]"
    elif one_index:
        index = f"{name}[%{{x}}]"
    else:
        index = f"{name}[%{{y}}, %{{x}}]"
    shape = "×".join(str(n) for n in np.asarray(values).shape)
    title = f"{WEIGHT_TITLES[name]} [{shape}]"
    width = heatmap_width(n_cols, style, False, n_rows)
    if width is not None:  # a narrow grid (bo: one column) still shows its whole title
        width = max(width, int(text_px(title, style.title_size)) + 30)
    return heatmap(
        z,
        scale=scale,
        chart_id=f"weights-{name}",
        title=title,
        axes=WEIGHT_AXES[name],
        style=style,
        width=width,
        y_labels=_labels(name, np.asarray(values), n_rows),
        hover=f"{index} = %{{z:.{HOVER_DIGITS}g}}",
        colorbar=False,
        clickable=False,
        alt=f"Heatmap of {name} [{shape}] on the weights' scale {scale.label}.",
    )


def weight_outlines(name: str, shape: tuple[int, ...], step: int, neuron: int, shared: bool) -> list[tuple]:
    """What the explained cell y_step[row, neuron] and its output use: column `neuron` of Wx and Wy,
    b[neuron], the head of step `step` in Wo and bo."""
    n_rows, n_cols = weight_grid(name, np.zeros(shape)).shape
    if name in ("Wx", "Wy", "b"):
        return [column_box(neuron, n_rows)] if neuron < n_cols else []
    head = 0 if shared else step
    if head >= n_rows:
        return []
    return [row_box(head, n_cols)] if name == "Wo" else [cell_box(head, 0)]


# ---- a comparison -----------------------------------------------------------------------------------


def compare_heatmap(
    z: np.ndarray,
    scale: Scale,
    chart_id: str,
    title: str,
    step: int,
    style: Style = SCREEN,
    colorbar: bool = True,
) -> Chart:
    """A's or B's y_t, or Δy_t: rows × neurons, clickable (A and B share one scale: one colorbar)."""
    B, N = z.shape
    if style.cell_w_px > COMPARE_CELL_W_PX and style.font_size < 18:  # three panels side by side on screen
        style = replace(style, cell_w_px=COMPARE_CELL_W_PX)
    return heatmap(
        z,
        scale=scale,
        chart_id=chart_id,
        title=title,
        axes=("neuron", "row"),
        style=style,
        width=heatmap_width(N, style, colorbar, B),
        colorbar=colorbar,
        hover=f"step {step}<br>row %{{y}}<br>neuron %{{x}}<br>value = %{{z:.6g}}",
        alt=f"{title}: {B} rows × {N} neurons on the scale {scale.label}.",
    )


def outputs_overlay(a: np.ndarray, b: np.ndarray, style: Style = SCREEN) -> Chart:
    """out_t per row: A dashed, B solid (the same color per row)."""
    lines = []
    for label, outputs, dash in (("A", a, "dash"), ("B", b, "solid")):
        T, B = outputs.shape
        for r in range(B):
            color = ROW_COLORS[r % len(ROW_COLORS)]
            lines.append(
                {
                    "type": "scatter",
                    "x": np.arange(T),
                    "y": outputs[:, r],
                    "mode": "lines+markers",
                    "name": f"{label} row {r}",
                    "legendgroup": label,
                    "line": {"color": color, "width": 3 if B <= 8 else 1.5, "dash": dash},
                    "marker": {
                        "size": 8 if B <= 8 else 4,
                        "symbol": "circle-open" if label == "A" else "circle",
                    },
                    "hovertemplate": f"{label}, row {r}<br>out%{{x}} = %{{y:.6g}}<extra></extra>",
                }
            )
    T = max(a.shape[0], b.shape[0])
    spec = layout(
        "compare-outputs",
        "Outputs: A dashed, B solid",
        style,
        style.chart_height,
        xaxis={"title": {"text": "step t"}, "dtick": 1 if T <= 12 else 5, "range": [-0.4, T - 0.6], **GRID},
        yaxis={"title": {"text": "output"}, "zeroline": True, "exponentformat": "e", **GRID},
        showlegend=len(lines) <= 16,
        legend={"orientation": "v", "x": 1.02, "xanchor": "left", "y": 1, "yanchor": "top"},
    )

    def table() -> pd.DataFrame:
        columns = {
            f"{label} row {r}": pd.Series(o[:, r])
            for label, o in (("A", a), ("B", b))
            for r in range(o.shape[1])
        }
        return pd.DataFrame(columns).T

    alt = f"Line chart of the outputs of A (dashed) and B (solid), {b.shape[1]} rows, over the steps."
    return Chart.build(lines, spec, alt, table)


def memory_chart(curve: np.ndarray, eps: float, cell: tuple[int, int, int], style: Style = SCREEN) -> Chart:
    """max over neurons of |Δy_t[row]| / ε for every step: how long the nudge of X_k is remembered."""
    k, r, f = cell
    T = len(curve)
    ratio = np.asarray(curve, dtype=np.float64) / abs(eps)
    shown = np.where(ratio > 0, ratio, np.nan)  # log axis: the zeros before the nudge are left out
    finite = shown[np.isfinite(shown)]
    low = max(float(finite.min()), 1e-12) if finite.size else 1e-6
    high = float(finite.max()) if finite.size else 1.0
    line = {
        "type": "scatter",
        "x": np.arange(T),
        "y": shown,
        "mode": "lines+markers",
        "name": "|Δy_t| / ε",
        "line": {"color": ROW_COLORS[0], "width": 3},
        "marker": {"size": 9},
        "hovertemplate": "step %{x}<br>max |Δy| / ε = %{y:.3g}<extra></extra>",
    }
    spec = layout(
        "nudge-memory",
        f"Nudge of X{k}[{r}, {f}] by ε = {number(eps, 3)}: max |Δy_t[row {r}]| / ε ≈ |∂y_t/∂X{k}|",
        style,
        style.chart_height,
        xaxis={"title": {"text": "step t"}, "dtick": 1 if T <= 20 else 5, "range": [-0.4, T - 0.6], **GRID},
        yaxis={
            "title": {"text": "|Δy_t| / ε (log)"},
            "type": "log",
            "range": [math.log10(low) - 0.5, math.log10(high) + 0.5],
            "exponentformat": "e",
            **GRID,
        },
    )

    def table() -> pd.DataFrame:
        return pd.DataFrame({"max |Δy_t| / ε": ratio}, index=[f"y{t}" for t in range(T)])

    alt = f"Line chart, log scale: after X{k}[{r}, {f}] is nudged, max |Δy_t| / ε at each step t."
    return Chart.build([line], spec, alt, table)
