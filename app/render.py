"""Drawing helpers the sections share: a chart with its export settings and click handling, the
clicked cell of a chart, and the presentation look."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import streamlit as st

from . import figures

PRESENTATION_CSS = """
<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stHeader"],
[data-testid="stToolbar"], [data-testid="stDecoration"], [data-testid="stExpandSidebarButton"],
.st-key-editing, .st-key-share, footer { display: none !important; }
[data-testid="stMainBlockContainer"] { padding-top: 1rem; padding-bottom: 0.5rem; max-width: 100%; }
.st-key-offstage { display: none !important; }
[data-testid="stMarkdownContainer"] p, [data-testid="stMarkdownContainer"] li { font-size: 24px; }
[data-testid="stMarkdownContainer"] h1 { font-size: 44px; }
[data-testid="stMarkdownContainer"] h3, [data-testid="stHeadingWithActionElements"] h3 { font-size: 32px; }
[data-testid="stTable"] td, [data-testid="stTable"] th { font-size: 22px; }
.rv-text, .rv-note { font-size: 24px; } .rv-pre pre { font-size: 20px; } .rv-heading { font-size: 32px; }
.rv-text.rv-small { font-size: 20px; } .rv-caption, [data-testid="stCaptionContainer"] { font-size: 18px; }
[data-testid="stWidgetLabel"] p, [data-testid="stSelectbox"] input, [data-testid="stSliderThumbValue"],
[data-testid="stNumberInput"] input, [data-testid="stTextInput"] input { font-size: 20px; }
body, .stApp { background: #ffffff; color: #000000; }
</style>
"""


# Streamlit 1.67 draws an st.plotly_chart no narrower than this (its frontend's PlotlyChart) whatever
# width it is given: a narrower element (bo, one column: 82 px) showed its figure cut to the element.
PLOTLY_MIN_PX = 150


def apply_presentation_look() -> None:
    """Hide controls and Streamlit's chrome, raise the type size: the page as a slide."""
    st.html(PRESENTATION_CSS)


def chart_config(fig: figures.Chart, seed: int, image_format: str) -> dict[str, Any]:
    """A chart's plotly.js config: a mode bar on hover whose camera saves a 3x image named after the
    chart and the seed (st.plotly_chart's and the charts drawn in the browser: app/components/charts)."""
    return {
        "displaylogo": False,
        "displayModeBar": "hover",  # above the plot area, clear of the title (figures leave it room)
        "toImageButtonOptions": {"format": image_format, "scale": 3, "filename": f"{fig.meta}-seed{seed}"},
        "modeBarButtonsToRemove": [
            "select2d",
            "lasso2d",
            "autoScale2d",
            "zoom2d",
            "pan2d",
            "zoomIn2d",
            "zoomOut2d",
        ],
    }


def chart(
    fig: figures.Chart, seed: int, key: str, image_format: str = "png", on_click=None, caption: bool = False
) -> None:
    """A chart at its own fixed width (or the column's, when it has none), whose camera button saves
    a 3x image named after the chart and the seed; its description is the chart's text alternative
    (and, with caption=True, a caption under it).

    on_click(key) is called (before the next run) when a cell of a heatmap is clicked.
    """
    config = chart_config(fig, seed, image_format)
    options: dict[str, Any] = {
        "theme": None,
        "key": key,
        "config": config,
        "width": max(fig.width, PLOTLY_MIN_PX) if fig.width else "stretch",
        "alt": figures.describe(fig) or None,
    }
    if on_click is not None:
        options |= {"on_select": functools.partial(on_click, key), "selection_mode": "points"}
    st.plotly_chart(fig.for_streamlit(), **options)
    if caption:
        st.caption(figures.describe(fig))


def numbers(build: Callable[[], figures.Chart], label: str, key: str) -> None:
    """The chart's numbers, one click away: a popover whose table is built only while it is open."""
    table(lambda: figures.as_table(build()), label, key)


def table(build: Callable[[], Any], label: str, key: str) -> None:
    """A table one click away (a popover): built only while open (a closed one costs no rerun)."""
    box = st.popover(label, key=key, on_change="rerun")
    if box.open:
        with box:
            st.dataframe(build(), width="stretch")


def clicked_cell(key: str) -> tuple[int, int] | None:
    """(y, x) of the clicked heatmap cell in the chart `key`, from its selection state."""
    state: Any = st.session_state.get(key)
    try:
        point = state["selection"]["points"][0]
        return cell_at(point["y"], point["x"])
    except (KeyError, IndexError, TypeError):
        return None


MAX_CELL = 10_000  # far past any chart's cells (50 steps, 32 rows, 256 neurons)


def cell_at(y: Any, x: Any) -> tuple[int, int] | None:
    """(y, x) of a clicked cell as whole numbers, or None for a crafted click (negative, text, NaN, a
    fraction or far outside any chart): every chart click passes here."""
    if not all(isinstance(v, int | float) and not isinstance(v, bool) and 0 <= v < MAX_CELL for v in (y, x)):
        return None
    if y != int(y) or x != int(x):
        return None
    return int(y), int(x)
