"""Charts drawn in the browser: one element for a whole group of figures.

The server builds every figure with the same builders as the export (app/figures: one source) and
sends them as one Streamlit custom component (components v2) instead of one st.plotly_chart each:
a results view of ~10 charts is one message instead of ~25, and the page's rerun does not pay
Streamlit's per-element cost for each chart (docs/PERFORMANCE.md, "Charts drawn in the browser").
plotly.js draws them in the browser (its cartesian bundle: app/static/README.md).

A click on a clickable chart comes back as one trigger {chart, x, y}; like every input it is checked
(the chart must be one this run drew as clickable, x and y whole numbers in range) before
`on_click(chart_id, y, x)` is called.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import streamlit as st

from ... import figures, page_state, render

HERE = Path(__file__).parent


@dataclass(frozen=True)
class Plot:
    """One chart: its figure, the id clicks name it by, whether a click picks a cell, a caption."""

    chart: figures.Chart
    id: str
    clickable: bool = False
    caption: bool = False


@dataclass(frozen=True)
class Blank:
    """An empty slot the size of a chart not shown yet, with a few words in it."""

    width: int | None
    height: int
    text: str


@dataclass(frozen=True)
class Row:
    """Charts side by side, wrapping onto the next line when the column is full."""

    items: tuple[Plot | Blank, ...]


Block = Plot | Blank | Row

_component = st.components.v2.component(
    "rnn_charts",
    js=(HERE / "charts.js").read_text(encoding="utf-8"),
    css=(HERE / "charts.css").read_text(encoding="utf-8"),
    isolate_styles=False,  # the page's own look (fonts) and the tests find the charts in the page
)


def _spec(block: Block, seed: int, image_format: str) -> dict[str, Any]:
    if isinstance(block, Row):
        items = [_spec(item, seed, image_format) for item in block.items]
        return {"kind": "group", "wrap": True, "items": items}
    if isinstance(block, Blank):
        return {"kind": "blank", "width": block.width, "height": block.height, "text": block.text}
    chart = block.chart
    return {
        "kind": "chart",
        "id": block.id,
        "figure": {"data": chart.data, "layout": dict(chart.layout)},  # (json.dumps only reads them)
        "config": render.chart_config(chart, seed, image_format),
        "width": chart.width,
        "clickable": block.clickable,
        "alt": figures.describe(chart),
        "caption": figures.describe(chart) if block.caption else "",
    }


def clickable_ids(blocks: Sequence[Block]) -> set[str]:
    found: set[str] = set()
    for block in blocks:
        if isinstance(block, Row):
            found |= clickable_ids(block.items)
        elif isinstance(block, Plot) and block.clickable:
            found.add(block.id)
    return found


def clicked(value: Any, allowed: set[str]) -> tuple[str, int, int] | None:
    """(chart id, y, x) of a click trigger, or None when it is not one this run could have made."""
    if not isinstance(value, dict):
        return None
    chart = value.get("chart")
    if not isinstance(chart, str) or chart not in allowed:
        return None
    cell = render.cell_at(value.get("y"), value.get("x"))
    return None if cell is None else (chart, *cell)


def preload() -> None:
    """On a session's first run only: mount the component, empty, in the sidebar, so the browser
    loads plotly.js (4.6 MB) while the server still computes the first result (the cold start's
    charts ~1.4 s sooner: docs/PERFORMANCE.md)."""
    mem = page_state.memory()
    if mem.charts_preloaded:
        return
    mem.charts_preloaded = True
    with st.sidebar:
        _component(key="charts_preload", data={"spec": '{"blocks": []}'})


def charts(
    blocks: Sequence[Block],
    key: str,
    seed: int,
    on_click: Callable[[str, int, int], None] | None = None,
) -> None:
    """Draw the blocks as one element. on_click(chart id, y, x) runs before the next run."""
    image_format = page_state.get(page_state.IMAGE_FORMAT_KEY, "png")
    spec = {"blocks": [_spec(block, seed, image_format) for block in blocks]}
    allowed = clickable_ids(blocks)

    def click() -> None:
        result = st.session_state.get(key)
        value = getattr(result, "click", None) if result is not None else None
        cell = clicked(value, allowed)
        if cell is not None and on_click is not None:
            on_click(*cell)

    _component(key=key, data={"spec": json.dumps(spec, separators=(",", ":"))}, on_click_change=click)
