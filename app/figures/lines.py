"""The outputs chart: out_t for every row across the steps, one line per row."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .chart import Chart
from .style import GRID, ROW_COLORS, SCREEN, Style, largest_finite, layout, number

MAX_LEGEND_ROWS = 12


def output_formula(shared_output: bool) -> str:
    return "out_t = y_t·Wo + bo (one head shared)" if shared_output else "out_t = y_t·Wo_t + bo_t"


def outputs_chart(
    outputs: np.ndarray,
    style: Style = SCREEN,
    shared_output: bool = False,
    activation: str = "tanh",
    upto: int | None = None,
    width: int | None = None,
    height: int | None = None,
) -> Chart:
    """out_t for every row across steps 0 … upto (the x axis always spans every step)."""
    T, B = outputs.shape
    upto = T - 1 if upto is None else min(upto, T - 1)
    shown = outputs[: upto + 1]
    fmt = ".3e" if largest_finite(shown) >= 1e4 else ".4f"
    steps = np.arange(upto + 1)
    lines = [
        {
            "type": "scatter",
            "x": steps,
            "y": shown[:, r],
            "mode": "lines+markers",
            "name": f"row {r}",
            "line": {"color": ROW_COLORS[r % len(ROW_COLORS)], "width": 3 if B <= 8 else 1.5},
            "marker": {"size": (9 if B <= 8 else 5) if T <= 20 else 4},
            "hovertemplate": f"row {r}<br>out%{{x}} = %{{y:{fmt}}}<extra></extra>",
        }
        for r in range(B)
    ]
    legend = B <= MAX_LEGEND_ROWS
    title = f"Outputs {output_formula(shared_output)}, y_t = {activation}(…), per row"
    spec = layout(
        "outputs",
        title,
        style,
        height or style.chart_height,
        width,
        xaxis={
            "title": {"text": "step t", "standoff": 6},
            "range": [-0.4, T - 0.6],
            "dtick": 1 if T <= 12 else (5 if T <= 30 else 10),
            "tickfont": {"size": style.font_size - 1},
            **GRID,
        },
        yaxis={"title": {"text": "output", "standoff": 6}, "zeroline": True, "exponentformat": "e", **GRID},
        showlegend=legend,
        # the legend on the right of the plot, clear of both axis titles
        legend={"orientation": "v", "x": 1.02, "xanchor": "left", "y": 1, "yanchor": "top"},
    )
    spec["margin"] = {**spec["margin"], "b": 10, "r": 10}

    def table() -> pd.DataFrame:
        return pd.DataFrame(shown.T, index=[f"row {r}" for r in range(B)], columns=[f"out{t}" for t in steps])

    finite = shown[np.isfinite(shown)]
    span = (
        f"from {number(float(finite.min()))} to {number(float(finite.max()))}"
        if finite.size
        else "none finite"
    )
    alt = f"Line chart of the outputs of {B} rows over steps 0 to {upto}, values {span}."
    return Chart.build(lines, spec, alt, table)
