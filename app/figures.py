"""Trace -> plotly figures. Pure: no streamlit, no I/O; the page and the exporter share them."""

from __future__ import annotations

import base64
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

# One diverging, colorblind-safe scale (ColorBrewer RdBu): blue is negative, red is positive,
# white is zero, fixed at [-1, 1] so a color means the same value in every chart.
COLORSCALE = [
    [0.0, "#053061"],
    [0.1, "#2166ac"],
    [0.2, "#4393c3"],
    [0.3, "#92c5de"],
    [0.4, "#d1e5f0"],
    [0.5, "#f7f7f7"],
    [0.6, "#fddbc7"],
    [0.7, "#f4a582"],
    [0.8, "#d6604d"],
    [0.9, "#b2182b"],
    [1.0, "#67001f"],
]
SATURATION = 0.95  # |y| above this: the unit is stuck at its limit; its gradient is ~0
MAX_CELLS_WITH_TEXT = 400  # print values while a grid is small enough to read them
ROW_COLORS = ["#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#000000"]


@dataclass(frozen=True)
class Style:
    """Sizes for the screen or for a slide (presentation mode)."""

    font_size: int = 13
    cell_font_size: int = 12
    title_size: int = 15
    cell_px: int = 34  # height of one heatmap row
    chart_height: int = 320

    def present(self) -> Style:
        return Style(font_size=20, cell_font_size=18, title_size=24, cell_px=52, chart_height=440)


SCREEN = Style()
SLIDE = Style().present()


def saturated_mask(values: np.ndarray) -> np.ndarray:
    return np.abs(values) > SATURATION


def saturation_count(hidden: np.ndarray) -> tuple[int, int]:
    """(saturated units, all units) in any array of hidden states."""
    return int(saturated_mask(hidden).sum()), int(hidden.size)


# A small explicit template: the default ones cost ~20 ms per figure to copy (measured), and the
# page and the exported PNGs must look the same, whatever theme Streamlit would apply.
TEMPLATE = {
    "layout": {
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "font": {"family": "Arial, Helvetica, sans-serif", "color": "#111111"},
        "colorway": ROW_COLORS,
        "hoverlabel": {"font": {"size": 14}},
    }
}
GRID = {"gridcolor": "#dddddd", "linecolor": "#444444", "zerolinecolor": "#888888", "automargin": True}
NO_GRID = {"showgrid": False, "zeroline": False, "automargin": True}


class PlainFigure(go.Figure):
    """A go.Figure kept as the plain dicts it was built from, arrays already in plotly's typed-array
    form. Streamlit calls to_dict() on every chart of every rerun: here that is a shallow copy, where
    a go.Figure deep-copies and converts (measured ~2 ms per heatmap, plus ~1 ms to construct it).
    The full plotly object (.data, .layout, plotly's methods) is built only when something asks."""

    def __init__(self, data: list[dict], layout: dict):  # no super().__init__: that is the cost
        self._plain = {"data": [_typed_trace(trace) for trace in data], "layout": layout}
        self._full = None

    def _figure(self) -> go.Figure:
        if self._full is None:
            self._full = go.Figure(self._plain["data"], self._plain["layout"], _validate=False)
        return self._full

    @property
    def data(self):
        return self._figure().data

    @property
    def layout(self):
        return self._figure().layout

    def __getattr__(self, name: str):  # everything else a go.Figure has (write_image, show, ...)
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._figure(), name)

    def to_dict(self) -> dict:
        return {"data": list(self._plain["data"]), "layout": dict(self._plain["layout"])}

    def to_plotly_json(self) -> dict:
        return self.to_dict()


def _typed_trace(trace: dict) -> dict:
    """A trace's numpy arrays (top-level values only) -> plotly's typed-array JSON {dtype, bdata, shape}."""
    return {key: _typed(value) if isinstance(value, np.ndarray) else value for key, value in trace.items()}


def _typed(value: np.ndarray) -> dict:
    kind = ("f4" if value.dtype == np.float32 else "f8") if value.dtype.kind == "f" else "i4"
    array = np.ascontiguousarray(value, dtype=kind)
    spec = {"dtype": array.dtype.str[1:], "bdata": base64.b64encode(array.tobytes()).decode("ascii")}
    if array.ndim > 1:
        spec["shape"] = ", ".join(str(n) for n in array.shape)
    return spec


def figure(data: list[dict], layout: dict) -> go.Figure:
    """A figure from plain dicts, without plotly's per-property validation (3-4x faster to build;
    tests/test_figures.py validates every figure the page draws)."""
    return PlainFigure(data, layout)


def _layout(chart_id: str, title: str, style: Style, height: int, **extra) -> dict:
    """Layout as a plain dict (no update_* calls).

    `meta` names the chart ("hidden-y1", "row-0", "outputs"): export file names and tests use it.
    """
    return {
        "meta": chart_id,
        "template": TEMPLATE,
        "title": {"text": title, "font": {"size": style.title_size}, "x": 0.0, "xanchor": "left"},
        "font": {"size": style.font_size},
        "height": height,
        "margin": {"l": 10, "r": 10, "t": 20 + 2 * style.title_size, "b": 10},
        "showlegend": False,
        **extra,
    }


def _grid(z: np.ndarray, hover: str, style: Style, name: str) -> list:
    """A heatmap fixed on [-1, 1] plus corner flags on its saturated cells."""
    show_text = z.size <= MAX_CELLS_WITH_TEXT
    # Past that size cells are a few pixels wide: no corner flags (a 6 px marker cannot show; the title
    # still counts them) and float32 values (hover shows 4 decimals): a quarter of the bytes (measured).
    big = not show_text
    heatmap = dict(
        type="heatmap",
        z=z.astype(np.float32) if big else z,
        zmin=-1.0,
        zmax=1.0,
        colorscale=COLORSCALE,
        texttemplate="%{z:.2f}" if show_text else None,
        textfont={"size": style.cell_font_size},
        hovertemplate=hover + "<extra></extra>",
        colorbar={"thickness": 12, "len": 0.9, "tickvals": [-1, -0.5, 0, 0.5, 1]},
        xgap=1,
        ygap=1,
        name=name,
    )
    rows, cols = np.nonzero(saturated_mask(z) & (not big))
    flags = dict(
        type="scatter",
        x=cols + 0.36,  # the top-right corner of the cell (rows run downwards)
        y=rows - 0.36,
        mode="markers",
        marker={
            "symbol": "triangle-ne",
            "size": 6,
            "color": "#ffffff",
            "line": {"width": 1, "color": "#000"},
        },
        hoverinfo="skip",
        name="saturated",
        unselected={"marker": {"opacity": 1}},  # a click on a cell must not dim the flags
    )
    return [heatmap, flags, *_click_layer(z, hover, style)]


MAX_CLICKABLE_CELLS = 1024  # past this, cells are picked with the pickers only (payload)


def _click_layer(z: np.ndarray, hover: str, style: Style) -> list:
    """Invisible points on the cell centres: Streamlit's plotly selection returns nothing for a
    heatmap (streamlit/streamlit#8760), but it returns a clicked scatter point."""
    if z.size > MAX_CLICKABLE_CELLS:
        return []
    rows, cols = np.mgrid[0 : z.shape[0], 0 : z.shape[1]]
    return [
        dict(
            type="scatter",
            x=cols.ravel(),
            y=rows.ravel(),
            customdata=z.ravel(),
            mode="markers",
            marker={"size": max(style.cell_px - 8, 10), "symbol": "square", "opacity": 0, "color": "#000"},
            selected={"marker": {"opacity": 0}},
            unselected={"marker": {"opacity": 0}},
            hovertemplate=hover.replace("%{z", "%{customdata") + "<extra></extra>",
            name="cells",
        )
    ]


def _heatmap_axes(x_title: str, y_title: str, n_x: int, n_y: int, y_labels: list | None = None) -> dict:
    return {
        # Fixed ranges (rows run downwards): the invisible click points must not pad the axes.
        "xaxis": {
            "title": {"text": x_title},
            "dtick": 1 if n_x <= 32 else None,
            "range": [-0.5, n_x - 0.5],
            **NO_GRID,
        },
        "yaxis": {
            "title": {"text": y_title},
            "dtick": 1 if n_y <= 32 else None,
            "range": [n_y - 0.5, -0.5],
            **NO_GRID,
            **({"tickvals": list(range(n_y)), "ticktext": y_labels} if y_labels else {}),
        },
    }


def hidden_heatmap(hidden_t: np.ndarray, step: int, style: Style = SCREEN) -> go.Figure:
    """y_t for every row (down) and neuron (across)."""
    B, N = hidden_t.shape
    n_sat, n_all = saturation_count(hidden_t)
    hover = f"step {step}<br>row %{{y}}<br>neuron %{{x}}<br>y{step} = %{{z:.4f}}"
    title = f"y{step}: {n_sat} of {n_all} units saturated"
    height = 110 + 2 * style.title_size + style.cell_px * max(B, 2)
    layout = _layout(f"hidden-y{step}", title, style, height, **_heatmap_axes("neuron", "row", N, B))
    return figure(_grid(hidden_t, hover, style, f"y{step}"), layout)


def row_heatmap(hidden: np.ndarray, row: int, style: Style = SCREEN) -> go.Figure:
    """One row's hidden state through time: steps (down) by neurons (across)."""
    T, _, N = hidden.shape
    z = hidden[:, row, :]  # (T, N)
    steps = [f"y{t}" for t in range(T)]
    hover = f"row {row}<br>step %{{y}}<br>neuron %{{x}}<br>y = %{{z:.4f}}"
    n_sat, n_all = saturation_count(z)
    title = f"Row {row} through time: {n_sat} of {n_all} units saturated"
    height = 110 + 2 * style.title_size + style.cell_px * max(T, 2)
    layout = _layout(f"row-{row}", title, style, height, **_heatmap_axes("neuron", "step", N, T, steps))
    return figure(_grid(z, hover, style, f"row {row}"), layout)


def outputs_chart(outputs: np.ndarray, style: Style = SCREEN) -> go.Figure:
    """out_t for every row across the steps, one line per row."""
    T, B = outputs.shape
    steps = [f"out{t}" for t in range(T)]
    lines = [
        dict(
            type="scatter",
            x=steps,
            y=outputs[:, r],
            mode="lines+markers",
            name=f"row {r}",
            line={"color": ROW_COLORS[r % len(ROW_COLORS)], "width": 3 if B <= 8 else 1.5},
            marker={"size": 9 if B <= 8 else 5},
            hovertemplate=f"row {r}<br>%{{x}} = %{{y:.4f}}<extra></extra>",
        )
        for r in range(B)
    ]
    layout = _layout(
        "outputs",
        "Outputs out_t = y_t·Wo_t + bo_t, per row",
        style,
        style.chart_height,
        xaxis={"title": {"text": "step"}, **GRID},
        yaxis={"title": {"text": "output"}, "zeroline": True, **GRID},
        showlegend=B <= 12,
        legend={"orientation": "h", "y": -0.2},
    )
    return figure(lines, layout)


def page_figures(hidden: np.ndarray, outputs: np.ndarray, style: Style = SCREEN) -> dict[str, go.Figure]:
    """Every figure of the page by its id: each y_t, each row through time, and the outputs."""
    T, B, _ = hidden.shape
    found = {f"hidden-y{t}": hidden_heatmap(hidden[t], t, style) for t in range(T)}
    found |= {f"row-{r}": row_heatmap(hidden, r, style) for r in range(B)}
    found["outputs"] = outputs_chart(outputs, style)
    return found


MAX_DIAGRAM_STEPS = 8
HIGHLIGHT = "#e69f00"  # the current step, in the diagram and around the explained cell


def _arrow(x0: float, y0: float, x1: float, y1: float, label: str, style: Style, dx: float = 0.0) -> dict:
    """An annotation drawing an arrow from (x0, y0) to (x1, y1), labelled next to its middle."""
    return {
        "x": x1,
        "y": y1,
        "ax": x0,
        "ay": y0,
        "xref": "x",
        "yref": "y",
        "axref": "x",
        "ayref": "y",
        "showarrow": True,
        "arrowhead": 2,
        "arrowsize": 1.2,
        "arrowwidth": 2,
        "arrowcolor": "#333333",
        "text": "",
    }, {
        "x": (x0 + x1) / 2 + dx,
        "y": (y0 + y1) / 2,
        "xref": "x",
        "yref": "y",
        "text": label,
        "showarrow": False,
        "font": {"size": style.cell_font_size},
        "xanchor": "left" if dx >= 0 else "right",
        "bgcolor": "rgba(255,255,255,0.85)",
    }


def _box(x: float, y: float, w: float, h: float, text: str, fill: str, line: str, style: Style) -> tuple:
    shape = {
        "type": "rect",
        "x0": x,
        "x1": x + w,
        "y0": y,
        "y1": y + h,
        "fillcolor": fill,
        "line": {"color": line, "width": 2},
    }
    label = {
        "x": x + w / 2,
        "y": y + h / 2,
        "text": text,
        "showarrow": False,
        "font": {"size": style.font_size},
        "xref": "x",
        "yref": "y",
    }
    return shape, label


def unrolled_diagram(
    n_steps: int,
    n_inputs: int,
    n_neurons: int,
    current: int,
    shared_output: bool,
    activation: str = "tanh",
    style: Style = SCREEN,
) -> go.Figure:
    """One block per step; Wx, Wy and Wo arrows labelled with their shapes; the current step highlighted."""
    first = max(0, min(current - MAX_DIAGRAM_STEPS // 2, n_steps - MAX_DIAGRAM_STEPS))
    steps = range(first, min(n_steps, first + MAX_DIAGRAM_STEPS))
    F, N = n_inputs, n_neurons
    shapes, notes = [], []
    for i, t in enumerate(steps):  # block i of the window shows step t
        x = 3.0 * i
        now = t == current
        fill = "#fff3d6" if now else ("#f2f2f2" if t < current else "#ffffff")
        line = HIGHLIGHT if now else ("#555555" if t <= current else "#bbbbbb")
        for shape, label in (
            _box(
                x,
                0,
                2,
                1.2,
                f"<b>y{t}</b> = {activation}({'' if t == 0 else f'y{t - 1}·Wy + '}X{t}·Wx + b)",
                fill,
                line,
                style,
            ),
            _box(x + 0.5, -2.4, 1, 0.8, f"X{t}", "#ffffff", line, style),
            _box(x + 0.5, 2.4, 1, 0.8, f"out{t}", "#ffffff", line, style),
        ):
            shapes.append(shape)
            notes.append(label)
        head = "Wo" if shared_output else f"Wo{t}"
        notes += _arrow(x + 1, -1.6, x + 1, 0, f"Wx [{F}×{N}]", style, 0.08)
        notes += _arrow(x + 1, 1.2, x + 1, 2.4, f"{head} [{N}×1]", style, 0.08)
        if i > 0 or t > 0:
            notes += _arrow(x - 1, 0.6, x, 0.6, "", style)[:1]
            notes.append(
                {
                    "x": x - 0.5,
                    "y": 0.95,
                    "text": f"Wy [{N}×{N}]",
                    "showarrow": False,
                    "font": {"size": style.cell_font_size},
                }
            )
    last = 3.0 * (len(steps) - 1) + 2
    layout = _layout(
        "unrolled",
        f"Unrolled through time: the same Wx [{F}×{N}] and Wy [{N}×{N}] are used at every step",
        style,
        style.chart_height,
        shapes=shapes,
        annotations=notes,
        xaxis={"visible": False, "range": [-1.2, last + 0.4], "fixedrange": True},
        yaxis={"visible": False, "range": [-2.7, 3.5], "fixedrange": True},
    )
    if first > 0 or steps[-1] < n_steps - 1:
        layout["title"]["text"] += f" (steps {first}–{steps[-1]} of {n_steps})"
    return figure([], layout)


def highlight_cell(fig: go.Figure, row: int, neuron: int) -> go.Figure:
    """Outline one heatmap cell (the explained one) in the highlight color."""
    outline = {"type": "rect", "x0": neuron - 0.5, "x1": neuron + 0.5, "y0": row - 0.5, "y1": row + 0.5}
    outline["line"] = {"color": HIGHLIGHT, "width": 4}
    spec = fig.to_plotly_json()
    spec["layout"]["shapes"] = [*spec["layout"].get("shapes", []), outline]
    return figure(spec["data"], spec["layout"])
