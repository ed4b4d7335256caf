"""Charts drawn in the browser: one element for a whole group of figures.

The server builds every figure with the same builders as the export (app/figures: one source) and
sends them as one Streamlit custom component (components v2) instead of one st.plotly_chart each:
a results view of ~10 charts is one message instead of ~25, and the page's rerun does not pay
Streamlit's per-element cost for each chart (docs/PERFORMANCE.md, "Charts drawn in the browser").
plotly.js draws them in the browser (its cartesian bundle: app/static/README.md).

A click on a clickable chart sets the view controls in the browser when they are the browser's
(`Controls`); else it comes back as one trigger {chart, x, y}, checked like every input (the chart
must be one this run drew as clickable, x and y whole numbers in range) before `on_click(chart_id, y,
x)` is called.

The player (app/components/player.py) hands it a whole play at once: `frames`, one group of blocks
per step, that the browser shows one after another on its own clock (a figure repeated across frames
is sent once); at the end it sends the trigger "played" and the page takes over again.

Frames without a clock follow the page's view: the element holds every step and shows the one the
page's explanation element last announced (`charts(..., view=...)`), or the view controls' as the
reader moves them in the browser (`Controls`), with the explained cell outlined on the charts marked
`outlined`. So a step, row or neuron pick, or a click on a cell, reruns at most the explanation's
small part of the page; the charts change in the browser (docs/PERFORMANCE.md, "View picks in the
browser").

Every figure goes with a revision (a hash of its JSON): the browser redraws a chart only when its
figure or its config changed, so a view pick or a play's next step redraws the one or two charts that
differ, not all ~15 (docs/PERFORMANCE.md, "Redraw only what changed").

Blocks given as `Made` (named by everything they are made of) are built and written out once per
server process while the name stays in `DRAWN` (shared by every session, bounded): a class opening
the page on the tutorial's defaults, or following its teacher's state, sends what the first page of
that state wrote (docs/PERFORMANCE.md, "The same state drawn once").
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Container, Hashable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import streamlit as st

from ... import figures, page_state, render
from ...shared_lru import SharedLRU

HERE = Path(__file__).parent


@dataclass(frozen=True)
class Plot:
    """One chart: its figure, the id clicks name it by, whether a click picks a cell, a caption."""

    chart: figures.Chart
    id: str
    clickable: bool = False
    caption: bool = False
    outlined: bool = False  # in frames with a cell: the browser outlines the view's cell on it


@dataclass(frozen=True)
class Blank:
    """An empty slot the size of a chart not shown yet, with a few words in it."""

    width: int | None
    height: int
    text: str


@dataclass(frozen=True)
class Printout:
    """Lines of monospaced text (wrapped, with a copy button) under a line of words: drawn with the
    charts, it needs no Streamlit code block (whose syntax highlighter cost the first page ~0.3 s of
    the browser's main thread, docs/PERFORMANCE.md)."""

    label: str
    text: str


@dataclass(frozen=True)
class Text:
    """A paragraph of plain text, some parts bold: (text, bold) pairs; `small`: in small type. Part
    of a frame, so a play shows the words of its step (what is stuck by then, the explanation)."""

    parts: tuple[tuple[str, bool], ...]
    small: bool = False


def marked(parts: Sequence[Sequence[Any]]) -> str:
    """A Text's (text, bold) parts as markdown writes them (bold between **): for a text drawn as
    markdown elsewhere (Compare's explanations) and for tests and benchmarks reading what was sent."""
    return "".join(f"**{text}**" if bold else str(text) for text, bold in parts)


@dataclass(frozen=True)
class Heading:
    """A section's heading (as st.subheader draws it), when it names the step: part of a frame."""

    text: str


@dataclass(frozen=True)
class Note:
    """A warning in words (e.g. values that exploded by this step): part of a frame, so a play shows
    it from the step it is about."""

    text: str


@dataclass(frozen=True)
class Row:
    """Charts side by side, wrapping onto the next line when the column is full."""

    items: tuple[Plot | Blank, ...]


@dataclass(frozen=True)
class Rows:
    """One chart per batch row (the row view): in frames with a cell, the browser shows the view's
    row's, so a row pick needs no new figure."""

    items: tuple[Plot, ...]


Block = Plot | Blank | Printout | Text | Heading | Note | Row | Rows


@dataclass(frozen=True)
class Made:
    """Blocks (for charts) or frames (for frames) named by everything they are made of: the state's
    numbers (numbers_key), the view, the style, ... Equal names are equal blocks, so a name sent
    before is sent as written then, without calling `build` (DRAWN)."""

    name: Hashable
    build: Callable[[], Sequence[Any]]


@dataclass(frozen=True)
class _Body:
    """Blocks as sent: their specs (JSON), their distinct figures (JSON, in the order of their numbers)
    with a revision of each, and the ids of the charts a click may name."""

    specs: str
    figures: tuple[str, ...]
    revisions: tuple[str, ...]
    clickable: frozenset[str]

    @property
    def nbytes(self) -> int:
        return len(self.specs) + sum(map(len, self.figures)) + 16 * len(self.revisions)


DRAWN_BYTES = 16 * 2**20  # ~500 views at the tutorial's size; one play at the caps is ~4 MB
DRAWN: SharedLRU[_Body] = SharedLRU(DRAWN_BYTES, lambda body: body.nbytes)

CODE = HERE.parents[1] / "static" / "charts.js"  # served at app/static/charts.js (static serving)
PLOTLY_JS = "app/static/plotly-cartesian.min.js"  # the bundle charts.js loads (app/static/README.md)


def loader(code: bytes) -> str:
    """The component's own JavaScript: a few lines that import the charts' code from the static route,
    once per page (the browser's module map) and cached between visits. Streamlit copies a component's
    JavaScript into every element it draws: the code itself (12 KB) made most of a pick's message
    (docs/PERFORMANCE.md). The URL names the code's hash, so a new version is never read from a cache.
    Until it has loaded, the element's box says it is drawing (`pending`, which the tests wait on).
    plotly.js, which the code loads next, is fetched meanwhile (a preload): on a cold start the
    server answers both while it runs the first visitor's page."""
    version = hashlib.sha256(code).hexdigest()[:16]
    return f"""// app/components/charts/__init__.py loader(): the code is app/static/charts.js
const url = new URL("app/static/charts.js?v={version}", window.location.href).href;
let code = null;
if (!window.Plotly && !document.querySelector("link[data-rv-plotly]")) {{
  const link = document.createElement("link");
  link.rel = "preload";
  link.as = "script";
  link.href = new URL("{PLOTLY_JS}", window.location.href).href;
  link.dataset.rvPlotly = "1";
  document.head.appendChild(link);
}}
export default function (component) {{
  const root = component.parentElement;
  let host = root.querySelector(":scope > .rv");
  if (!host) {{
    host = document.createElement("div");
    host.className = "rv";
    root.appendChild(host);
  }}
  if (!host.dataset.pending || host.dataset.pending === "0") host.dataset.pending = "loading";
  code = code || import(url);
  code.then(
    (module) => module.default(component),
    (error) => {{
      code = null;
      host.textContent = `The charts could not be drawn: ${{error.message}}`;
      host.dataset.pending = "0";
    }},
  );
}}
"""


_component = st.components.v2.component(
    "rnn_charts",
    js=loader(CODE.read_bytes()),
    css=(HERE / "charts.css").read_text(encoding="utf-8"),
    isolate_styles=False,  # the page's own look (fonts) and the tests find the charts in the page
)


class _Figures:
    """The distinct figures of one spec, in the order of their numbers: their JSON is the key (equal
    figures are sent once); a chart object met again (a heatmap in every frame after its step) is
    not written out again."""

    def __init__(self) -> None:
        self.numbers: dict[str, int] = {}  # JSON -> number
        self._by_chart: dict[int, tuple[figures.Chart, int]] = {}  # id -> (the chart, kept alive; number)

    def number(self, chart: figures.Chart) -> int:
        known = self._by_chart.get(id(chart))
        if known is not None:
            return known[1]
        figure = {"data": chart.data, "layout": dict(chart.layout)}  # (json.dumps only reads them)
        number = self.numbers.setdefault(json.dumps(figure, separators=(",", ":")), len(self.numbers))
        self._by_chart[id(chart)] = (chart, number)
        return number


def _spec(block: Block, seed: int, image_format: str, figures_seen: _Figures) -> dict:
    """The block as the browser reads it; each figure is a number: its place in the list of distinct
    figures."""
    if isinstance(block, Row):
        items = [_spec(item, seed, image_format, figures_seen) for item in block.items]
        return {"kind": "group", "wrap": True, "items": items}
    if isinstance(block, Rows):
        return {
            "kind": "rows",
            "items": [_spec(item, seed, image_format, figures_seen) for item in block.items],
        }
    if isinstance(block, Blank):
        return {"kind": "blank", "width": block.width, "height": block.height, "text": block.text}
    if isinstance(block, Printout):
        return {"kind": "printout", "label": block.label, "text": block.text}
    if isinstance(block, Note):
        return {"kind": "note", "text": block.text}
    if isinstance(block, Text):
        return {"kind": "text", "parts": [[text, bold] for text, bold in block.parts], "small": block.small}
    if isinstance(block, Heading):
        return {"kind": "heading", "text": block.text}
    chart = block.chart
    return {
        "kind": "chart",
        "id": block.id,
        "figure": figures_seen.number(chart),
        "config": render.chart_config(chart, seed, image_format),
        "width": chart.width,
        "clickable": block.clickable,
        "alt": figures.describe(chart),
        "caption": figures.describe(chart) if block.caption else "",
        "outlined": block.outlined,
    }


def _body(blocks: Sequence[Any] | Made, seed: int, framed: bool) -> _Body:
    """The blocks (`framed`: the frames) as sent, from DRAWN when they are Made and drawn before.
    Each figure goes with a revision: a hash of its JSON, which the browser compares with what a chart
    shows to skip redrawing a figure that did not change."""
    image_format = page_state.get(page_state.IMAGE_FORMAT_KEY, "png")
    key = (blocks.name, seed, image_format, framed) if isinstance(blocks, Made) else None
    if key is not None and (drawn := DRAWN.get(key)) is not None:
        return drawn
    shown = blocks.build() if isinstance(blocks, Made) else blocks
    seen = _Figures()
    if framed:
        specs: list = [[_spec(block, seed, image_format, seen) for block in frame] for frame in shown]
    else:
        specs = [_spec(block, seed, image_format, seen) for block in shown]
    figures_json = tuple(seen.numbers)
    revisions = tuple(hashlib.blake2b(text.encode(), digest_size=8).hexdigest() for text in figures_json)
    specs_json = json.dumps(specs, separators=(",", ":"))
    body = _Body(specs_json, figures_json, revisions, frozenset(clickable_ids(shown)))
    if key is not None:
        DRAWN.put(key, body)
    return body


def _sent(head: dict, name: str, body: _Body) -> str:
    """The spec as sent: `head` (the view it follows, a play's clock, ...), the blocks or frames
    (`name`), the revisions, then the figures."""
    start = json.dumps({**head, "revisions": body.revisions}, separators=(",", ":"))[:-1]
    return f'{start},"{name}":{body.specs},"figures":[{",".join(body.figures)}]}}'


def first_drawn(spec: dict) -> list[dict]:
    """The blocks the browser draws first for a spec this module sent (of frames: the start frame),
    each figure in place of its number (a chart marked `outlined` with the outline of the spec's
    cell). For tests and benchmarks, which read what was sent."""
    figures = spec["figures"]

    def figure(block: dict) -> dict:
        drawn = figures[block["figure"]]
        if not (block.get("outlined") and "outline" in spec):
            return drawn
        layout = drawn["layout"]
        return {**drawn, "layout": {**layout, "shapes": [*layout.get("shapes", []), spec["outline"]]}}

    def placed(block: dict) -> dict:
        if block["kind"] == "group":
            return {**block, "items": [placed(item) for item in block["items"]]}
        if block["kind"] == "rows":  # the spec's row's chart
            return placed(block["items"][spec.get("cell", [0])[0]])
        return {**block, "figure": figure(block)} if block["kind"] == "chart" else block

    blocks = spec["frames"][spec["start"]] if "frames" in spec else spec["blocks"]
    return [placed(block) for block in blocks]


def clickable_ids(blocks: Sequence[Block | Sequence[Block]]) -> set[str]:
    found: set[str] = set()
    for block in blocks:
        if isinstance(block, Row | Rows):
            found |= clickable_ids(block.items)
        elif isinstance(block, list | tuple):  # a frame
            found |= clickable_ids(block)
        elif isinstance(block, Plot) and block.clickable:
            found.add(block.id)
    return found


def clicked(value: Any, allowed: Container[str]) -> tuple[str, int, int] | None:
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
        _component(key="charts_preload", data={"spec": '{"blocks": [], "figures": [], "revisions": []}'})


VIEW_FIELDS = ("step", "row", "neuron")  # the view's fields, as the browser names them


@dataclass(frozen=True)
class Controls:
    """The page's view controls whose moves the browser alone hears (Streamlit's on_change="ignore":
    the step slider, app/components/player.py; the row and neuron pickers, app/sections/hidden.py),
    as an element drawn with them knows them. When one moves, every element that follows the view
    shows the new view at once (`shows`: which of step, row and neuron it draws alone); the first (in
    `ask` order) of those drawn for a view they cannot show asks the server for it (the trigger
    "view": `on_view`; the page reruns that element's part, which reads the controls' values). A click
    on a cell sets the controls in the browser the same way. `links`: the share link of every step
    (`s` in the address bar, which the browser sets when only the step moved)."""

    keys: dict[str, str]  # view field -> the widget key of its control (the browser finds st-key-<key>)
    labels: dict[str, str]  # view field -> its picker's option label before the number ("neuron ")
    view: tuple[int, int, int]  # the (step, row, neuron) the element is drawn for
    shows: tuple[str, ...]  # the view fields whose moves the element draws alone
    ask: int  # which element asks when more than one cannot show a move (the lowest)
    on_view: Callable[[], None]
    links: tuple[str, ...] = ()

    def head(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            "keys": self.keys,
            "labels": self.labels,
            "view": dict(zip(VIEW_FIELDS, self.view, strict=True)),
            "shows": list(self.shows),
            "ask": self.ask,
        }
        return {"controls": found | ({"links": list(self.links)} if self.links else {})}


def charts(
    blocks: Sequence[Block] | Made,
    key: str,
    seed: int,
    on_click: Callable[[str, int, int], None] | None = None,
    view: tuple[int, int, int] | None = None,
    controls: Controls | None = None,
) -> None:
    """Draw the blocks (or Made: built unless drawn before) as one element. on_click(chart id, y, x)
    runs before the next run. `view`:
    (step, row, neuron) announced to the elements whose frames follow the page's view. `controls`: the
    view controls the browser hears (the element asks for a view it cannot show when they move)."""
    body = _body(blocks, seed, framed=False)
    spec = _sent(_follow(view, controls), "blocks", body)
    click = _click_handler(key, body.clickable, on_click)
    _component(key=key, data={"spec": spec}, on_click_change=click, **_on_view(controls))


def _follow(view: tuple[int, int, int] | None, controls: Controls | None) -> dict[str, Any]:
    """What a spec carries for the elements that follow the page's view: the view it announces, and
    the view controls the browser hears."""
    found: dict[str, Any] = {}
    if view is not None:
        found["view"] = dict(zip(VIEW_FIELDS, view, strict=True))
    return found | (controls.head() if controls is not None else {})


def _on_view(controls: Controls | None) -> dict[str, Any]:
    """The trigger "view" (the element asks for the view the controls show in the browser): its value
    is not read, the controls' own values come with the run (the page checks them like every widget
    value). An element drawn without controls does nothing with it (a crafted one)."""
    return {"on_view_change": controls.on_view if controls is not None else lambda: None}


def _click_handler(
    key: str, allowed: frozenset[str], on_click: Callable[[str, int, int], None] | None
) -> Callable:
    def click() -> None:
        result = st.session_state.get(key)
        value = getattr(result, "click", None) if result is not None else None
        cell = clicked(value, allowed)
        if cell is not None and on_click is not None:
            on_click(*cell)

    return click


def frames(
    frames: Sequence[Sequence[Block]] | Made,
    key: str,
    seed: int,
    start: int,
    period_s: float | None = None,
    on_played: Callable[[], None] | None = None,
    on_click: Callable[[str, int, int], None] | None = None,
    cell: tuple[int, int] | None = None,
    view: tuple[int, int, int] | None = None,
    controls: Controls | None = None,
) -> None:
    """Every step's blocks at once (or Made: built unless drawn before), frames[start] shown first.
    With `period_s`, a play: the browser shows the next every `period_s` seconds, alone (no rerun per
    step); after the last, on_played()
    runs (with `on_played`: one element per play says so; the trigger's value is not read: it can only
    end the play early, as Pause does). Without, the frames follow the page's view: the browser shows
    the view the explanation element announces, or the view controls' as they move (`controls`). `cell`:
    (row, neuron) outlined on the charts marked `outlined` (the browser moves the outline to the cell
    the view announces). `view`: announced, as charts() does."""
    body = _body(frames, seed, framed=True)
    head: dict[str, Any] = {"start": start}
    if period_s is None:
        head["follow"] = True
    else:
        head |= {"period_ms": round(period_s * 1000), "report": on_played is not None}
    if cell is not None:
        head |= {"cell": list(cell), "outline": figures.cell_outline(*cell)}
    head |= _follow(view, controls)
    _component(
        key=key,
        data={"spec": _sent(head, "frames", body)},
        on_played_change=on_played or (lambda: None),
        on_click_change=_click_handler(key, body.clickable, on_click),
        **_on_view(controls),
    )
