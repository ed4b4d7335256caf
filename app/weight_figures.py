"""Figures of the weights and of a comparison of two networks. Pure: no streamlit, no I/O.

Kept apart from app/figures so that they move into the figures package (its general heatmap builder)
as they are: each function takes the numbers, a symmetric range and a Style, and returns a figure.
- weight_heatmap: one weight matrix on the one scale all weights share (symmetric around 0).
- diverging_heatmap: any grid on a symmetric range (A's and B's y_t on [-1, 1], Δ on ±max|Δ|).
- outputs_overlay: A's outputs dashed, B's solid, one color per row.
- memory_chart: |Δy_t| / ε per step after a nudge (how long the network remembers an input).
"""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go

from . import figures
from .figures import COLORSCALE, GRID, HIGHLIGHT, ROW_COLORS, SCREEN, Style

MAX_TEXT_CELLS = 120  # print values in the cells of weight grids up to this many cells
MAX_TEXT_COLUMNS_THIRD = 5  # a heatmap in a third of the page prints "-1.00" in up to 5 columns


def symmetric_range(*arrays: np.ndarray) -> float:
    """The largest finite |value| of all arrays (one scale for all of them); 1.0 when all are 0."""
    largest = 0.0
    for a in arrays:
        a = np.asarray(a, dtype=np.float64)
        finite = a[np.isfinite(a)]
        if finite.size:
            largest = max(largest, float(np.abs(finite).max()))
    return largest if largest > 0 else 1.0


def range_text(limit: float) -> str:
    return f"±{limit:.3g}"


def _axes(x_title: str, y_title: str, n_x: int, n_y: int, y_labels: list[str] | None) -> dict:
    axes = {
        "xaxis": {
            "title": {"text": x_title},
            "dtick": 1 if n_x <= 32 else None,
            "range": [-0.5, n_x - 0.5],
            "showgrid": False,
            "zeroline": False,
            "automargin": True,
        },
        "yaxis": {
            "title": {"text": y_title},
            "dtick": 1 if n_y <= 32 else None,
            "range": [n_y - 0.5, -0.5],
            "showgrid": False,
            "zeroline": False,
            "automargin": True,
        },
    }
    if y_labels:
        axes["yaxis"] |= {"tickvals": list(range(n_y)), "ticktext": y_labels}
    return axes


def _click_points(z: np.ndarray, hover: str, style: Style) -> list[dict]:
    """Invisible points on the cell centres (Streamlit returns a clicked point, not a heatmap cell)."""
    if z.size > figures.MAX_CLICKABLE_CELLS:
        return []
    rows, cols = np.mgrid[0 : z.shape[0], 0 : z.shape[1]]
    return [
        {
            "type": "scatter",
            "x": cols.ravel(),
            "y": rows.ravel(),
            "customdata": z.ravel(),
            "mode": "markers",
            "marker": {"size": max(style.cell_px - 8, 10), "symbol": "square", "opacity": 0, "color": "#000"},
            "selected": {"marker": {"opacity": 0}},
            "unselected": {"marker": {"opacity": 0}},
            "hovertemplate": hover.replace("%{z", "%{customdata") + "<extra></extra>",
            "name": "cells",
        }
    ]


def diverging_heatmap(
    z: np.ndarray,
    limit: float,
    chart_id: str,
    title: str,
    axes: tuple[str, str],
    hover: str,
    style: Style = SCREEN,
    y_labels: list[str] | None = None,
    text_format: str = "%{z:.2f}",
    max_text_cells: int = figures.MAX_CELLS_WITH_TEXT,
    clickable: bool = True,
) -> go.Figure:
    """z (rows down, columns across) on RdBu fixed at [-limit, limit]; hover shows `hover`."""
    z = np.atleast_2d(np.asarray(z, dtype=np.float64))
    n_y, n_x = z.shape
    heat = {
        "type": "heatmap",
        "z": z,
        "zmin": -limit,
        "zmax": limit,
        "colorscale": COLORSCALE,
        "texttemplate": text_format if z.size <= max_text_cells else None,
        "textfont": {"size": style.cell_font_size},
        "hovertemplate": hover + "<extra></extra>",
        "colorbar": {
            "thickness": 12,
            "len": 0.9,
            "tickvals": [-limit, -limit / 2, 0, limit / 2, limit],
            "ticktext": [f"{v:.3g}" for v in (-limit, -limit / 2, 0, limit / 2, limit)],
        },
        "xgap": 1,
        "ygap": 1,
        "name": chart_id,
    }
    data = [heat, *(_click_points(z, hover, style) if clickable else [])]
    height = 110 + 2 * style.title_size + style.cell_px * max(n_y, 2)
    layout = figures._layout(chart_id, title, style, height, **_axes(*axes, n_x, n_y, y_labels))
    return figures.figure(data, layout)


def outline(fig: go.Figure, boxes: list[tuple[float, float, float, float]]) -> go.Figure:
    """Outline cell ranges (x0, x1, y0, y1 in cell coordinates) in the highlight color: a new figure."""
    spec = fig.to_plotly_json()
    shapes = [
        {"type": "rect", "x0": x0, "x1": x1, "y0": y0, "y1": y1, "line": {"color": HIGHLIGHT, "width": 4}}
        for x0, x1, y0, y1 in boxes
    ]
    return figures.figure(
        spec["data"], {**spec["layout"], "shapes": [*spec["layout"].get("shapes", []), *shapes]}
    )


def column_box(column: int, n_rows: int) -> tuple[float, float, float, float]:
    return column - 0.5, column + 0.5, -0.5, n_rows - 0.5


def row_box(row: int, n_cols: int) -> tuple[float, float, float, float]:
    return -0.5, n_cols - 0.5, row - 0.5, row + 0.5


def cell_box(row: int, column: int) -> tuple[float, float, float, float]:
    return column - 0.5, column + 0.5, row - 0.5, row + 0.5


# ---- the weights ------------------------------------------------------------------------------------

WEIGHT_AXES = {  # (x title, y title, y label prefix)
    "Wx": ("neuron", "feature", "x"),
    "Wy": ("neuron (to)", "neuron (from)", "y"),
    "b": ("neuron", "", ""),
    "Wo": ("neuron", "step (head)", "Wo"),
    "bo": ("", "step (head)", "bo"),
}
WEIGHT_TITLES = {
    "Wx": "Wx [features × neurons]: input → hidden",
    "Wy": "Wy [neurons × neurons]: y_(t-1) → y_t",
    "b": "b [neurons]",
    "Wo": "Wo: hidden → output, one row per step's head",
    "bo": "bo",
}


def weight_grid(name: str, values: np.ndarray) -> np.ndarray:
    """A weight as the 2-D grid it is drawn as: b as one row, a shared Wo as one row, bo as a column."""
    values = np.asarray(values, dtype=np.float64)
    if name == "bo":
        return values.reshape(-1, 1)
    return np.atleast_2d(values)


def weight_heatmap(name: str, values: np.ndarray, limit: float, style: Style = SCREEN) -> go.Figure:
    """One weight on the shared scale [-limit, limit]; hover gives the exact value."""
    z = weight_grid(name, values)
    n_y, n_x = z.shape
    x_title, y_title, prefix = WEIGHT_AXES[name]
    if name == "Wo" and np.asarray(values).ndim == 1:
        y_title, labels = "shared head", ["Wo"]
    elif name == "bo" and z.shape[0] == 1:
        labels = ["bo"]
    elif name == "b":
        labels = ["b"]
    else:
        labels = [f"{prefix}{i}" if name in ("Wo", "bo") else str(i) for i in range(n_y)]
    index = (
        f"{name}[%{{x}}]"
        if name == "b"
        else (f"{name}[%{{y}}]" if name == "bo" else f"{name}[%{{y}}, %{{x}}]")
    )
    if name == "Wo" and n_y == 1:
        index = f"{name}[%{{x}}]"
    hover = f"{index} = %{{z}}"  # %{z} unformatted: the exact value
    title = f"{WEIGHT_TITLES[name]} {n_y}×{n_x}" if name in ("Wx", "Wy", "Wo") else WEIGHT_TITLES[name]
    fig = diverging_heatmap(
        z,
        limit,
        f"weights-{name}",
        title,
        (x_title, y_title),
        hover,
        style,
        y_labels=labels,
        max_text_cells=MAX_TEXT_CELLS,
        clickable=False,
    )
    return fig


def weight_outlines(name: str, shape: tuple[int, ...], step: int, neuron: int, shared: bool) -> list[tuple]:
    """What the explained cell y_step[row, neuron] and its output use: column `neuron` of Wx and Wy,
    b[neuron], the head of step `step` in Wo and bo."""
    z_shape = weight_grid(name, np.zeros(shape)).shape
    if name in ("Wx", "Wy", "b"):
        return [column_box(neuron, z_shape[0])]
    head = 0 if shared else step
    if name == "Wo":
        return [row_box(head, z_shape[1])]
    return [cell_box(head, 0)]


# ---- a comparison -----------------------------------------------------------------------------------


def compare_heatmap(
    z: np.ndarray, limit: float, chart_id: str, title: str, step: int, style: Style = SCREEN
) -> go.Figure:
    """A's or B's y_t (limit 1) or Δy_t (limit max|Δ|), rows × neurons."""
    hover = f"step {step}<br>row %{{y}}<br>neuron %{{x}}<br>value = %{{z:.6g}}"
    fmt = "%{z:.2f}" if limit >= 0.1 else "%{z:.1e}"
    cells = figures.MAX_CELLS_WITH_TEXT if z.shape[1] <= MAX_TEXT_COLUMNS_THIRD else 0  # drawn in a third
    return diverging_heatmap(
        z, limit, chart_id, title, ("neuron", "row"), hover, style, text_format=fmt, max_text_cells=cells
    )


def outputs_overlay(a: np.ndarray, b: np.ndarray | None, style: Style = SCREEN) -> go.Figure:
    """out_t per row: A dashed, B solid (same color per row)."""
    lines = []
    for label, outputs, dash in (("A", a, "dash"), ("B", b, "solid")):
        if outputs is None:
            continue
        T, B = outputs.shape
        for r in range(B):
            lines.append(
                {
                    "type": "scatter",
                    "x": np.arange(T),
                    "y": outputs[:, r],
                    "mode": "lines+markers",
                    "name": f"{label} row {r}",
                    "legendgroup": label,
                    "line": {
                        "color": ROW_COLORS[r % len(ROW_COLORS)],
                        "width": 3 if B <= 8 else 1.5,
                        "dash": dash,
                    },
                    "marker": {
                        "size": 8 if B <= 8 else 4,
                        "symbol": "circle-open" if label == "A" else "circle",
                    },
                    "hovertemplate": f"{label}, row {r}<br>out%{{x}} = %{{y:.6g}}<extra></extra>",
                }
            )
    layout = figures._layout(
        "compare-outputs",
        "Outputs: A dashed, B solid",
        style,
        style.chart_height,
        xaxis={"title": {"text": "step t"}, "dtick": 1, **GRID},
        yaxis={"title": {"text": "output"}, "zeroline": True, **GRID},
        showlegend=len(lines) <= 16,
        legend={"orientation": "v", "x": 1.02, "xanchor": "left", "y": 1, "yanchor": "top"},
    )
    return figures.figure(lines, layout)


def memory_chart(
    curve: np.ndarray, eps: float, cell: tuple[int, int, int], style: Style = SCREEN
) -> go.Figure:
    """max over neurons of |Δy_t[row]| / ε for every step: how long the nudge of X_k is remembered."""
    k, r, f = cell
    T = len(curve)
    ratio = np.asarray(curve, dtype=np.float64) / abs(eps)
    shown = np.where(ratio > 0, ratio, np.nan)  # log axis: zeros (before the nudge) are left out
    floor = 1e-12
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
    finite = shown[np.isfinite(shown)]
    low = max(float(finite.min()), floor) if finite.size else 1e-6
    high = float(finite.max()) if finite.size else 1.0
    layout = figures._layout(
        "nudge-memory",
        f"Nudge of X{k}[{r}, {f}] by ε = {eps:.3g}: max over neurons of |Δy_t[row {r}]| / ε ≈ |∂y_t/∂X{k}|",
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
    return figures.figure([line], layout)
