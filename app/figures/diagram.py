"""The unrolled diagram: one block per step (X_t below, y_t in the middle, out_t above), the Wx, Wy
and Wo arrows labelled with their shapes, the current step highlighted.

Past a few steps only some blocks are drawn (the first, the last, the current one and its
neighbours, with "…" between), and every label has a long and a short form: the long one is used
only when it fits its room at the width the diagram is drawn at, so labels shorten, never overlap.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from .chart import Chart
from .style import HIGHLIGHT, SCREEN, Style, layout, text_px

BLOCK_W, GAP_W = 2.0, 1.2  # data units: a block and the space between two blocks (the Wy arrow)
PX_PER_BLOCK = 140  # at least this many px per drawn block
MAX_BLOCKS = 8
X_RANGE = (-1.4, 0.4)  # room left of the first block (its Wy arrow from y_{-1}) and right of the last
Y_RANGE = (-2.7, 3.5)


@dataclass(frozen=True)
class Slot:
    """A position in the drawing: a step's block, or '…' for steps left out."""

    step: int | None  # None: the ellipsis


def max_blocks(width_px: int) -> int:
    return max(3, min(MAX_BLOCKS, width_px // PX_PER_BLOCK))


def slots(n_steps: int, current: int, room: int) -> list[Slot]:
    """At most `room` slots: all steps if they fit, else step 0, the current step with neighbours,
    the last step, and '…' where steps are left out (an ellipsis takes a slot)."""
    if n_steps <= room:
        return [Slot(t) for t in range(n_steps)]
    keep = {0, n_steps - 1, current}
    span = 1
    while True:  # widen the window around the current step while the slots still fit
        wider = keep | {t for t in range(current - span, current + span + 1) if 0 <= t < n_steps}
        if _count(wider) > room or wider == keep:
            break
        keep, span = wider, span + 1
    if _count(keep) > room:  # tiny room: the current step and its ends only
        keep = {current, 0, n_steps - 1}
    out, previous = [], None
    for t in sorted(keep):
        if previous is not None and t > previous + 1:
            out.append(Slot(None))
        out.append(Slot(t))
        previous = t
    return out


def _count(steps: set[int]) -> int:
    ordered = sorted(steps)
    return len(ordered) + sum(b > a + 1 for a, b in itertools.pairwise(ordered))


def _fits(text: str, room_px: float, size: int) -> bool:
    return max(text_px(line, size) for line in text.split("<br>")) <= room_px


def _pick(options: list[str], room_px: float, size: int) -> str:
    """The longest label that fits, else the shortest."""
    return next((o for o in options if _fits(o, room_px, size)), options[-1])


@dataclass(frozen=True)
class Geometry:
    """Data units <-> px for the drawing."""

    n_slots: int
    width_px: int

    @property
    def x_max(self) -> float:
        return self.n_slots * (BLOCK_W + GAP_W) - GAP_W

    @property
    def px_per_unit(self) -> float:
        return self.width_px * 0.96 / (self.x_max - X_RANGE[0] + X_RANGE[1])  # 2 % margins each side

    def px(self, units: float) -> float:
        return units * self.px_per_unit


def unrolled_diagram(
    n_steps: int,
    n_inputs: int,
    n_neurons: int,
    current: int,
    shared_output: bool,
    activation: str = "tanh",
    style: Style = SCREEN,
    width_px: int | None = None,
    height: int | None = None,
) -> Chart:
    """One block per drawn step; width_px: the width it is drawn at (None: the narrowest column)."""
    width_px = width_px or style.narrowest_px
    drawn = slots(n_steps, current, max_blocks(width_px))
    geo = Geometry(len(drawn), width_px)
    shapes, notes = [], []
    for i, slot in enumerate(drawn):
        x = i * (BLOCK_W + GAP_W)
        if slot.step is None:
            notes.append(_text(x + BLOCK_W / 2, 0.6, "…", style.title_size * 2))
            continue
        block_shapes, block_notes = _block(
            slot.step, x, current, n_inputs, n_neurons, shared_output, activation, style, geo
        )
        shapes += block_shapes
        notes += block_notes
        if slot.step > 0 and (i == 0 or drawn[i - 1].step is not None):
            notes += _recurrent_arrow(x, n_neurons, style, geo)
    F, N = n_inputs, n_neurons
    part = (
        f" ({sum(s.step is not None for s in drawn)} of {n_steps} steps drawn)"
        if len(drawn) < n_steps
        else ""
    )
    title = _pick(
        [
            f"Unrolled through time: the same Wx [{F}×{N}] and Wy [{N}×{N}] at every step{part}",
            f"Unrolled: the same Wx and Wy at every step{part}",
            f"Unrolled{part}",
        ],
        width_px - 120,  # the mode bar's room on the right
        style.title_size,
    )
    spec = layout(
        "unrolled",
        title,
        style,
        height or style.chart_height,
        None,
        shapes=shapes,
        annotations=notes,
        xaxis={"visible": False, "range": [X_RANGE[0], geo.x_max + X_RANGE[1]], "fixedrange": True},
        yaxis={"visible": False, "range": list(Y_RANGE), "fixedrange": True},
    )
    alt = (
        f"Diagram of the network unrolled over {n_steps} steps (step {current} highlighted): each step "
        f"computes y_t = {activation}(y_(t-1)·Wy + X_t·Wx + b) and out_t from y_t."
    )
    return Chart.build([], spec, alt)


def _block(t, x, current, F, N, shared_output, activation, style, geo) -> tuple[list, list]:
    """Step t's three boxes (X_t, y_t, out_t) and its Wx and Wo arrows."""
    now = t == current
    fill = "#fff3d6" if now else ("#f2f2f2" if t < current else "#ffffff")
    line = HIGHLIGHT if now else ("#555555" if t <= current else "#bbbbbb")
    state_label = _state_label(t, activation, _state_tier(max(t, 1), activation, style, geo))
    boxes = [
        (x, 0.0, BLOCK_W, 1.2, state_label),
        (x + 0.5, -2.4, 1.0, 0.8, f"X{t}"),
        (x + 0.5, 2.4, 1.0, 0.8, f"out{t}"),
    ]
    shapes = [
        _rect(bx, by, w, h, fill if i == 0 else "#ffffff", line) for i, (bx, by, w, h, _) in enumerate(boxes)
    ]
    notes = [_text(bx + w / 2, by + h / 2, label, style.font_size) for bx, by, w, h, label in boxes]
    head = "Wo" if shared_output else f"Wo{t}"
    room = geo.px(BLOCK_W / 2 + GAP_W) - 10  # from the arrow to the next block
    notes += _arrow(x + 1, -1.6, x + 1, 0, _pick([f"Wx [{F}×{N}]", "Wx"], room, style.cell_font_size), style)
    notes += _arrow(
        x + 1, 1.2, x + 1, 2.4, _pick([f"{head} [{N}×1]", head], room, style.cell_font_size), style
    )
    return shapes, notes


STATE_LABELS = (
    "<b>y{t}</b> = {a}({r}X{t}·Wx + b)",
    "<b>y{t}</b> = {a}(<br>{r}X{t}·Wx + b)",
    "<b>y{t}</b> = {a}(…)",
    "<b>y{t}</b>",
)


def _state_label(t: int, activation: str, tier: int) -> str:
    recurrent = "" if t == 0 else f"y{t - 1}·Wy + "
    return STATE_LABELS[tier].format(t=t, a=activation, r=recurrent)


def _state_tier(t: int, activation: str, style: Style, geo: Geometry) -> int:
    """The longest form of the y_t label that fits a block (the same form in every block)."""
    room = geo.px(BLOCK_W) - 8
    fits = (
        i for i in range(len(STATE_LABELS)) if _fits(_state_label(t, activation, i), room, style.font_size)
    )
    return next(fits, len(STATE_LABELS) - 1)


def _recurrent_arrow(x: float, N: int, style: Style, geo: Geometry) -> list:
    """The arrow from the previous block's y into this one, labelled Wy above the gap."""
    label = _pick([f"Wy [{N}×{N}]", "Wy"], geo.px(GAP_W) - 4, style.cell_font_size)
    arrow = _arrow(x - GAP_W, 0.6, x, 0.6, "", style)[:1]
    return [*arrow, {**_text(x - GAP_W / 2, 0.95, label, style.cell_font_size), "yanchor": "bottom"}]


def _rect(x: float, y: float, w: float, h: float, fill: str, line: str) -> dict:
    return {
        "type": "rect",
        "x0": x,
        "x1": x + w,
        "y0": y,
        "y1": y + h,
        "fillcolor": fill,
        "line": {"color": line, "width": 2},
    }


def _text(x: float, y: float, text: str, size: int) -> dict:
    return {
        "x": x,
        "y": y,
        "text": text,
        "showarrow": False,
        "font": {"size": size},
        "xref": "x",
        "yref": "y",
    }


def _arrow(x0: float, y0: float, x1: float, y1: float, label: str, style: Style) -> list[dict]:
    """An arrow from (x0, y0) to (x1, y1), and its label left-aligned just right of its middle."""
    arrow = {
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
    }
    note = {
        **_text((x0 + x1) / 2 + 0.08, (y0 + y1) / 2, label, style.cell_font_size),
        "xanchor": "left",
        "bgcolor": "rgba(255,255,255,0.85)",
    }
    return [arrow, note]
