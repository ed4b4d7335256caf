"""Chart: a finished figure as frozen, JSON-ready dicts. It cannot lose an edit, because it takes none.

Streamlit calls to_dict() on every chart of every rerun: a go.Figure deep-copies and converts
(measured ~2 ms per heatmap, plus ~1 ms to construct it), so the page keeps plain dicts with numpy
arrays already in plotly's typed-array form, builds no plotly object, and validates nothing (the
tests validate every figure). To change a chart, build a new one (`with_layout`, `with_shapes`), or
take a real, editable go.Figure with `figure()`.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go


def _copy(value: Any) -> Any:
    """A deep copy of JSON-like dicts and lists (strings and numbers are shared: immutable)."""
    if isinstance(value, dict | MappingProxyType):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_copy(item) for item in value]
    return value


def typed(value: np.ndarray) -> dict:
    """A numpy array -> plotly's typed-array JSON {dtype, bdata, shape}."""
    kind = ("f4" if value.dtype == np.float32 else "f8") if value.dtype.kind == "f" else "i4"
    array = np.ascontiguousarray(value, dtype=kind)
    spec = {"dtype": array.dtype.str[1:], "bdata": base64.b64encode(array.tobytes()).decode("ascii")}
    if array.ndim > 1:
        spec["shape"] = ", ".join(str(n) for n in array.shape)
    return spec


def _typed_trace(trace: dict) -> dict:
    return {key: typed(value) if isinstance(value, np.ndarray) else value for key, value in trace.items()}


@dataclass(frozen=True, eq=False)
class Chart:
    """A figure as plain data. `alt` says what it shows; `table` builds its numbers (rows × columns)
    when asked (as_table: a DataFrame per chart was ~10% of a view pick's CPU, for a table rarely opened)."""

    data: tuple
    layout: MappingProxyType
    alt: str = ""
    table: Callable[[], pd.DataFrame] | None = field(default=None, repr=False)

    @staticmethod
    def build(
        data: list[dict], layout: dict, alt: str = "", table: Callable[[], pd.DataFrame] | None = None
    ) -> Chart:
        """From plain dicts; numpy arrays at the top level of a trace become typed arrays."""
        return Chart(tuple(_typed_trace(t) for t in data), MappingProxyType(layout), alt, table)

    # ---- reading ------------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        """A fresh copy: editing it never changes the chart."""
        return {"data": _copy(self.data), "layout": _copy(self.layout)}

    def to_plotly_json(self) -> dict:
        return self.to_dict()

    def figure(self) -> go.Figure:
        """A real go.Figure (validated, editable, with write_image, show, ...), built on demand."""
        return go.Figure(self.to_dict())

    @property
    def meta(self) -> str:
        return self.layout.get("meta", "")

    @property
    def title(self) -> str:
        return self.layout.get("title", {}).get("text", "")

    @property
    def width(self) -> int | None:
        return self.layout.get("width")

    @property
    def height(self) -> int:
        return int(self.layout.get("height") or 0)

    # ---- new charts from this one -------------------------------------------------------------------
    def with_layout(self, **changes) -> Chart:
        return Chart(self.data, MappingProxyType({**self.layout, **changes}), self.alt, self.table)

    def with_shapes(self, *shapes: dict) -> Chart:
        return self.with_layout(shapes=[*self.layout.get("shapes", []), *shapes])

    def for_streamlit(self) -> _StreamlitFigure:
        """What st.plotly_chart is given. Streamlit validates a dict it is handed (go.Figure(**dict):
        ~3 ms a heatmap, and an error for a figure without traces), but takes a go.Figure's to_dict()
        as it is: this read-only stand-in has only that."""
        return _StreamlitFigure(self)


class _StreamlitFigure(go.Figure):
    """A go.Figure for isinstance() only: to_dict() and to_plotly_json() work, anything else raises
    (so nothing can be edited on it and lost)."""

    def __init__(self, chart: Chart):  # no super().__init__: that is the cost
        object.__setattr__(self, "_chart", chart)

    def __getattribute__(self, name: str):
        if name in ("to_dict", "to_plotly_json") or name.startswith("__"):
            return object.__getattribute__(self, name)
        raise AttributeError(f"read-only figure for st.plotly_chart: no {name!r}; use Chart.figure()")

    def __setattr__(self, name: str, value) -> None:
        raise AttributeError("read-only figure for st.plotly_chart; use Chart.figure()")

    def to_dict(self) -> dict:
        chart = object.__getattribute__(self, "_chart")
        return {"data": list(chart.data), "layout": dict(chart.layout)}  # shallow: Streamlit only reads

    def to_plotly_json(self) -> dict:
        return self.to_dict()


def describe(chart: Chart) -> str:
    """A caption saying what the chart shows (its text alternative): one line, a title's breaks too."""
    return (chart.alt or chart.title).replace("<br>", " ")


def as_table(chart: Chart) -> pd.DataFrame:
    """The chart's numbers as a table (rows and columns as the chart draws them)."""
    if chart.table is None:
        return pd.DataFrame()
    return chart.table()
