"""Sizes, fonts, the plotly template, and one color scale per activation.

Pure: no streamlit, no I/O. Everything here is a plain value the builders read.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np

from rnn_core.activations import ACTIVATIONS

# ColorBrewer RdBu (colorblind-safe, diverging): blue negative, white zero, red positive.
RDBU = [
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
COLORSCALE = RDBU  # tanh's scale (the page's default network)
# viridis (perceptually uniform, colorblind-safe, sequential; never white): sigmoid and relu.
VIRIDIS = [
    [0.0, "#440154"],
    [0.125, "#472d7b"],
    [0.25, "#3b528b"],
    [0.375, "#2c728e"],
    [0.5, "#21918c"],
    [0.625, "#28ae80"],
    [0.75, "#5ec962"],
    [0.875, "#addc30"],
    [1.0, "#fde725"],
]
ROW_COLORS = ["#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#000000"]
HIGHLIGHT = "#e69f00"  # the current step, in the diagram and around the explained cell
EXPLODED = 1e6  # |y| past this (or not finite): the network has blown up


@dataclass(frozen=True)
class Style:
    """Sizes for the screen or for a slide (presentation mode)."""

    font_size: int = 13
    cell_font_size: int = 12
    title_size: int = 15
    cell_px: int = 34  # preferred height of one heatmap row
    cell_w_px: int = 30  # preferred width of one heatmap column (room for "-1.00" at 11 px)
    chart_height: int = 320
    # The narrowest main column the page is drawn in (a 768 px tablet, sidebar collapsed: 736 px).
    # Figures laid out at a fixed width never exceed it; stretched ones are decided at this width.
    narrowest_px: int = 736

    def present(self) -> Style:
        return replace(
            self, font_size=20, cell_font_size=18, title_size=24, cell_px=52, cell_w_px=52, chart_height=440
        )


SCREEN = Style()
SLIDE = Style().present()


@dataclass(frozen=True)
class Scale:
    """The color scale of one view: every heatmap of the view uses the same one."""

    activation: str
    low: float
    high: float
    colorscale: list
    diverging: bool

    @property
    def label(self) -> str:
        """What the colorbar means, in words (relu's range is printed: it has no ceiling)."""
        if self.activation == "relu":
            return f"relu: 0 to {number(self.high, 2)} (largest value shown)"
        return f"{self.activation}: {number(self.low, 2)} to {number(self.high, 2)}"

    @cached_property  # (a frozen scale: its ticks are worked out once, however many charts use it)
    def tickvals(self) -> list[float]:
        """Both ends (the scale's extremes: relu's is the largest value shown), and between them round
        numbers about a quarter of the range apart, none crowding an end (54.59: 0, 10 … 40, 54.6)."""
        span = self.high - self.low
        if not (math.isfinite(span) and span > 0):
            return [self.low, self.high]
        raw = span / 4
        power = 10 ** math.floor(math.log10(raw))
        step = min((m * power for m in (1, 2, 2.5, 5, 10)), key=lambda c: abs(math.log(c / raw)))
        inner = [k * step for k in range(math.ceil(self.low / step), math.floor(self.high / step) + 1)]
        room = 0.15 * span  # (an inner tick closer than this to an end would print over it)
        return [self.low, *(v for v in inner if self.low + room < v < self.high - room), self.high]

    @cached_property
    def ticktext(self) -> list[str]:
        return [significant(v) for v in self.tickvals]

    def colorbar(self, style: Style, title: bool = True) -> dict:
        bar = {
            "thickness": 12,
            "len": 0.9,
            "tickvals": self.tickvals,
            "ticktext": self.ticktext,
            "tickfont": {"size": style.font_size - 1},
        }
        if title:
            bar["title"] = {"text": self.activation, "side": "top", "font": {"size": style.font_size}}
        return bar


def scale_for(activation: str, shown: np.ndarray | None = None) -> Scale:
    """One scale per activation: tanh [-1, 1] diverging (RdBu); sigmoid [0, 1] sequential;
    relu [0, the largest finite value in `shown`] sequential (1 when nothing is above 0)."""
    act = ACTIVATIONS[activation]
    if act.bounded:
        colors = RDBU if act.diverging else VIRIDIS
        return Scale(activation, act.low, float(act.high or 0.0), colors, act.diverging)
    high = largest_finite(shown) if shown is not None else 0.0
    return Scale(activation, act.low, high if high > 0 else 1.0, VIRIDIS, False)


def largest_finite(values: np.ndarray) -> float:
    """The largest finite |value| (0.0 for none), without warnings for inf, nan or 1e300."""
    values = np.asarray(values, dtype=np.float64)
    finite = values[np.isfinite(values)]
    return float(np.abs(finite).max()) if finite.size else 0.0


def number(x: float, digits: int = 4) -> str:
    """A number for people: fixed while small, scientific with `digits` significant digits past 1e4."""
    if not math.isfinite(x):
        return "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")
    if x != 0 and (abs(x) >= 1e4 or abs(x) < 10**-(digits)):
        return f"{x:.{digits - 1}e}".replace("e+0", "e").replace("e-0", "e-").replace("e+", "e")
    return f"{x:.{digits}f}".rstrip("0").rstrip(".") if digits > 2 else f"{x:.{digits}f}"


def significant(x: float, digits: int = 3) -> str:
    """A tick's number: at most `digits` significant digits, no trailing zeros (54.593: "54.6", 2.0:
    "2", 6.17e53: "6.17e53")."""
    if x == 0 or not math.isfinite(x):
        return number(x)
    if abs(x) >= 1e4 or abs(x) < 1e-3:
        mantissa, exponent = f"{x:.{digits - 1}e}".split("e")
        return f"{_trim(mantissa)}e{int(exponent)}"
    return _trim(f"{x:.{max(0, digits - 1 - math.floor(math.log10(abs(x))))}f}")


def _trim(fixed: str) -> str:
    return fixed.rstrip("0").rstrip(".") if "." in fixed else fixed


def text_px(text: str, size: float) -> float:
    """The width of `text` in Arial at `size` px, estimated (digits and most letters are ~0.56 em)."""
    return 0.58 * size * len(re.sub(r"<[^>]+>", "", text))


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
# The mode bar sits above the plot area, clear of the title (which starts at the top left).
MODEBAR_ROOM = 28


def layout(chart_id: str, title: str, style: Style, height: int, width: int | None = None, **extra) -> dict:
    """A layout as a plain dict (no update_* calls). `meta` names the chart ("hidden-y1", "row-0",
    "outputs"): export file names and tests use it."""
    spec = {
        "meta": chart_id,
        "template": TEMPLATE,
        "title": {
            "text": title,
            "font": {"size": style.title_size},
            "x": 0.0,
            "xanchor": "left",
            "xref": "paper",
            "y": 1.0,
            "yref": "container",
            "yanchor": "top",
            "pad": {"t": MODEBAR_ROOM},
        },
        "font": {"size": style.font_size},
        "height": height,
        "margin": {"l": 10, "r": 10, "t": MODEBAR_ROOM + 14 + 2 * style.title_size, "b": 10},
        "showlegend": False,
        **extra,
    }
    if width:
        spec["width"] = width
    return spec
