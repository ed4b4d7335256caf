"""Reading the page under AppTest: charts' data, messages."""

from __future__ import annotations

import base64
import json
import re

import numpy as np
from streamlit.testing.v1 import AppTest

from app.components.charts import first_drawn
from app.components.charts import marked as charts_marked
from app.page_state import CHAPTERS, chapter_key
from bench.stclient import VIEW_CONTROLS, asks, user_key
from tests.serving import ROOT

APP = str(ROOT / "app" / "main.py")


def new_app(query: dict | None = None, chapters: tuple[str, ...] = ()) -> AppTest:
    """The page, with a link's query and the named chapters open (weights, compare, code, training,
    gradients: closed until the reader opens them)."""
    at = AppTest.from_file(APP, default_timeout=120)
    for name, value in (query or {}).items():
        at.query_params[name] = value
    return open_chapters(at, *chapters)


def open_chapters(at: AppTest, *names: str) -> AppTest:
    """Open chapters as a click on their title does (the next run draws them)."""
    for name in names:
        assert name in CHAPTERS, name
        at.session_state[chapter_key(name)] = True
    return at


def decode_array(value) -> np.ndarray:
    """Plotly's JSON arrays: a list, or {"dtype", "bdata", "shape"} (base64 typed array)."""
    if isinstance(value, dict) and "bdata" in value:
        array = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
        if "shape" in value:
            array = array.reshape([int(n) for n in str(value["shape"]).split(",")])
        return array
    return np.asarray(value, dtype=float)


def flat(items: list[dict]) -> list[dict]:
    """Blocks with their groups (rows of charts) opened."""
    found: list[dict] = []
    for block in items:
        found += flat(block["items"]) if block["kind"] == "group" else [block]
    return found


def drawn_blocks(at: AppTest) -> list[dict]:
    """The blocks of every charts component on the page (app/components/charts/), flattened."""
    return [block for spec in charts_specs(at).values() for block in flat(first_drawn(spec))]


def charts_specs(at: AppTest) -> dict[str, dict]:
    """The spec of every charts element the last run drew, by its key ("time_charts", "explain_text")."""
    found = {}
    for element in at.get("bidi_component"):
        if element.proto.component_name.endswith("rnn_charts"):
            found[user_key(element.proto.id) or ""] = json.loads(json.loads(element.proto.json)["spec"])
    return found


def browser_pick(at: AppTest, **values) -> AppTest:
    """A pick as a browser makes it while the view controls are its alone ({field: value}: step=1,
    neuron=5; app/static/charts.js): the controls change (on_change="ignore": nothing of their own is
    sent), then the charts element that cannot show the new view asks for it (the trigger "view").
    AppTest reruns the whole page for it; which part a server reruns is tests/test_view_picks.py's."""
    from streamlit.components.v2.bidi_component.main import _make_trigger_id
    from streamlit.proto.WidgetStates_pb2 import WidgetState

    def control(field: str):
        key = VIEW_CONTROLS[field]
        return at.slider(key=key) if field == "step" else at.selectbox(key=key)

    for field, value in values.items():
        control(field).set_value(value)
    shown = {field: control(field).value for field in VIEW_CONTROLS}  # (a picker's: its number)
    asking = asks(charts_specs(at), shown)
    states = at._tree.get_widget_states()
    if asking is not None:
        (element,) = [e for e in at.get("bidi_component") if user_key(e.proto.id) == asking[0]]
        state = WidgetState(id=_make_trigger_id(element.proto.id, "events"))
        state.json_trigger_value = json.dumps([{"event": "view", "value": shown}])
        states.widgets.append(state)
    return at._run(states)


def frame_texts(spec: dict, step: int) -> list[str]:
    """The words of one frame of a spec with frames (the page's charts that follow the view)."""
    return [
        "".join(t for t, _ in b["parts"]) if b["kind"] == "text" else b["text"]
        for b in flat(spec["frames"][step])
        if b["kind"] in ("text", "heading", "note")
    ]


def frame_chart_ids(spec: dict, step: int) -> list[str]:
    return [b["id"] for b in flat(spec["frames"][step]) if b["kind"] == "chart"]


def drawn_texts(at: AppTest, marked: bool = False) -> list[str]:
    """The words the charts elements draw (paragraphs, headings, warnings), as the reader sees them
    (`marked`: bold parts between **, as markdown writes them)."""
    found = []
    for block in drawn_blocks(at):
        if block["kind"] == "text":
            found.append(charts_marked(block["parts"]) if marked else "".join(t for t, _ in block["parts"]))
        elif block["kind"] in ("heading", "note"):
            found.append(block["text"])
    return found


def explained_cell(texts: list[str]) -> str:
    """The last explained cell the texts write ("y1[2, 5]": step 1, row 2, neuron 5), "" if none: from
    the line "**Hidden state** y1[2, 5] = ..." as the charts elements' words come over the protocol."""
    cells = [
        m.group(1) for body in texts for m in re.finditer(r"\*\*Hidden state\*\* (y\d+\[\d+, \d+\])", body)
    ]
    return cells[-1] if cells else ""


def printout(at: AppTest) -> str:
    """The tutorial's printout as the page shows it (a block of the outputs' charts element)."""
    (text,) = [block["text"] for block in drawn_blocks(at) if block["kind"] == "printout"]
    return text


def blank_slots(at: AppTest) -> list[str]:
    """The words in the empty slots of the steps not revealed yet ("y2: not revealed yet")."""
    return [block["text"] for block in drawn_blocks(at) if block["kind"] == "blank"]


def charts(at: AppTest) -> dict[str, dict]:
    """Every plotly chart on the page as its figure JSON, by its id (layout.meta: "hidden-y0", ...):
    those of st.plotly_chart and those drawn in the browser by the charts component."""
    found = {}
    for element in at.get("plotly_chart"):
        spec = json.loads(element.proto.spec)
        found[spec["layout"].get("meta", "")] = spec
    for block in drawn_blocks(at):
        if block["kind"] == "chart":
            found[block["figure"]["layout"].get("meta", "")] = block["figure"]
    return found


def heatmap_z(spec: dict) -> np.ndarray:
    return decode_array(spec["data"][0]["z"])


def shown(markdown: str) -> str:
    """What a reader sees of markdown source: backslash escapes and &lt; &gt; &amp; undone."""
    text = re.sub(r"\\(.)", r"\1", markdown)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def messages(at: AppTest, kind: str = "error") -> list[str]:
    """The text of every message of that kind (error, warning, info), as the reader sees it."""
    return [shown(e.value) for e in getattr(at, kind)]


def edit_cells(at: AppTest, edits: dict[int, dict[str, str]]) -> AppTest:
    """Type into the inputs table: {row: {"X0[1]": "5"}}, as the browser's data editor sends it."""
    key = at.data_editor[0].key
    at.session_state[key] = {"edited_rows": edits, "added_rows": [], "deleted_rows": []}
    return at.run()
