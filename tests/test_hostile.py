"""The page against what an attacker sends over Streamlit's own protocol (bench/stclient.py).

One real server (tests/serving.py, `python -m app.serve`) for the module; each test opens a fresh
session, loads the page, sends one hostile message, and checks what the issue requires:
- the run finishes with no exception element: the input gets a notice (an error, warning or info
  alert) or is harmless (the page shows the last valid state);
- nothing is computed past the limits (rnn_core/config.py LIMITS), and the server's memory stays
  bounded;
- no user text reaches the page as Markdown (links, images, HTML);
- the session keeps answering: a plain rerun afterwards succeeds.
"""

from __future__ import annotations

import asyncio
import base64
import json
import math
import re
import socket
import urllib.error
import urllib.request
import zlib
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from streamlit.proto.WidgetStates_pb2 import WidgetState

from bench.stclient import RUN_OK, RunResult, Session, user_key, widget_state
from rnn_core.config import LIMITS
from tests import pagetools
from tests.serving import Server, streamlit_server

pytestmark = pytest.mark.browser

MAX_ROWS = LIMITS["batch"][1]
RUN_TIMEOUT_S = 45.0  # one run; the first waits for the TensorFlow worker
MAX_RSS_GROWTH_MB = 300
QUERY_STRING_LIMIT = 524_288  # Streamlit's CLIENT_STATE_QUERY_STRING_MAX_LENGTH


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Server:
    env = {"STREAMLIT_LOGGER_ENABLE_RICH": "false"}  # plain tracebacks in the log, for last_traceback
    with streamlit_server(tmp_path_factory.mktemp("hostile"), env=env) as running:
        yield running


def rss_mb(pid: int) -> float:
    """Resident memory of a process, from /proc/<pid>/status."""
    text = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"^VmRSS:\s+(\d+) kB", text, re.M).group(1)) / 1024


def session_keys(session: Session) -> set[str]:
    """The user keys of the widgets the session has seen."""
    return {key for key in map(user_key, session.widgets) if key}


def run(server: Server, attack: Callable[[Session], Awaitable[RunResult]] | None, query_string: str = ""):
    """Open the page (with `query_string`), apply `attack` (which sends something and returns its
    run; None: the hostile part is the query string, and the first run is the attacked one), then
    rerun plainly. Returns (the attacked run, the rerun after it, the session, its charts, its
    tables' row counts)."""

    async def scenario():
        async with Session(server.url, query_string=query_string, timeout=RUN_TIMEOUT_S) as session:
            opened = await session.run()
            if attack is None:
                attacked = opened
            else:
                assert opened.exceptions == [], opened.exceptions
                attacked = await attack(session)
            specs = session.plotly_specs()
            tables = session.table_rows()
            after = await session.run()  # the session keeps answering
            return attacked, after, session, specs, tables

    return asyncio.run(asyncio.wait_for(scenario(), 3 * RUN_TIMEOUT_S))


def last_traceback(server: Server) -> str:
    """The server log's last traceback, in one line (the page shows visitors no details)."""
    log = server.log()
    start = log.rfind("Traceback (most recent call last)")
    if start < 0:
        return "no traceback in the server log"
    lines = [line.strip() for line in log[start:].splitlines()[1:40] if line.strip()]
    frames = [line for line in lines if line.startswith('File "')]
    error = next((line for line in lines if re.match(r"^[\w.]+(Error|Exception)\b", line)), "")
    return " / ".join([*frames[-4:], error])


def assert_survived(attacked: RunResult, after: RunResult, server: Server | None = None) -> None:
    detail = f" (server log: {last_traceback(server)})" if server is not None else ""
    assert attacked.exceptions == [], f"an exception element{detail}"
    assert after.exceptions == [], f"the next run raised{detail}"
    assert after.status in RUN_OK, after.status  # finished successfully (the page's run or a fragment's)


def notice_kinds(result: RunResult) -> set[str]:
    return {kind for kind, _ in result.notices}


def assert_noticed(result: RunResult, *words: str) -> None:
    bodies = " | ".join(body for _, body in result.notices)
    assert result.notices, "no notice (error, warning or info) for a hostile input"
    for word in words:
        assert word.lower() in bodies.lower(), f"{word!r} not in the notices: {bodies[:500]}"


state = widget_state  # a WidgetState with one value field set (double_array_value: a list of floats)


def editor_key(session: Session) -> str:
    keys = [
        k for k in (w.id.split("-", 2)[-1] for w in session.widgets.values()) if k.startswith("inputs_editor")
    ]
    return sorted(keys, key=lambda k: int(k.rsplit("_", 1)[1]))[-1]


async def send_editor_state(session: Session, editor_state: dict) -> RunResult:
    session.override(editor_key(session), state(string_value=json.dumps(editor_state)))
    return await session.run()


def hidden_heatmap_rows(specs: dict[str, dict]) -> list[int]:
    rows = []
    for meta, spec in specs.items():
        if meta.startswith("hidden-") or meta.startswith("row-") or meta == "outputs":
            for trace in spec.get("data", []):
                if trace.get("type") == "heatmap":
                    rows.append(len(trace.get("z") or []))
    return rows


# ---- the data editor's state -----------------------------------------------------------------------


def test_1500_added_rows_are_refused_past_the_cap(server):
    """The serious one: rows added by a crafted editor state (each with an _index) past 32."""
    import os

    n_rows = int(os.environ.get("HOSTILE_ADDED_ROWS", "1500"))
    before = rss_mb(server.process.pid)
    added = [
        {"_index": f"row {3 + i}", **{f"X{t}[{f}]": "1" for t in range(3) for f in range(2)}}
        for i in range(n_rows)
    ]

    attacked, after, _session, specs, tables = run(
        server, lambda s: send_editor_state(s, {"edited_rows": {}, "added_rows": added, "deleted_rows": []})
    )
    assert_survived(attacked, after, server)
    # the table keeps its size (rows come from the Rows control, up to 32): the added rows are refused
    assert_noticed(attacked, "added rows were refused")
    assert tables and max(tables) <= MAX_ROWS, f"a table of {max(tables)} rows"
    assert max(hidden_heatmap_rows(specs), default=0) == 3
    assert rss_mb(server.process.pid) - before < MAX_RSS_GROWTH_MB


def test_deleting_every_row_keeps_one(server):
    attacked, after, _, _specs, tables = run(
        server,
        lambda s: send_editor_state(s, {"edited_rows": {}, "added_rows": [], "deleted_rows": [0, 1, 2]}),
    )
    assert_survived(attacked, after, server)
    assert_noticed(attacked, "row")  # the table keeps its rows (the Rows control sets their number)
    assert tables and min(tables) >= 1


@pytest.mark.parametrize(
    "edited_rows",
    [
        {"999": {"X0[0]": "5"}},
        {"-1": {"X0[0]": "5"}},
        {"1.5": {"X0[0]": "5"}},
        {"0": {"X9[9]": "5"}},
        {"0": {"X0[0]": 5}},
        {"0": {"X0[0]": ["5"]}},
    ],
    ids=["row-999", "negative-row", "fractional-row", "unknown-column", "number-value", "list-value"],
)
def test_hostile_cell_edits_get_a_notice(server, edited_rows):
    attacked, after, *_ = run(
        server,
        lambda s: send_editor_state(s, {"edited_rows": edited_rows, "added_rows": [], "deleted_rows": []}),
    )
    assert_survived(attacked, after, server)
    assert attacked.notices, "a refused edit says so"


# ---- pickers, number inputs, selects ---------------------------------------------------------------


@pytest.mark.parametrize(
    "key, value",
    [
        ("view_row", "row 999"),
        ("view_neuron", "neuron 9999"),
        ("view_row", "row -1"),
        ("activation", "softmax"),
    ],
)
def test_picks_outside_the_options_are_harmless(server, key, value):
    async def attack(session: Session) -> RunResult:
        session.override(key, state(string_value=value))
        return await session.run()

    attacked, after, _, specs, _ = run(server, attack)
    assert_survived(attacked, after, server)
    assert max(hidden_heatmap_rows(specs), default=0) <= MAX_ROWS


@pytest.mark.parametrize(
    "key, proto",
    [
        ("weight_scale", state(double_value=math.nan)),
        ("weight_scale", state(double_value=math.inf)),
        ("n_neurons", state(double_value=math.nan)),
        ("n_neurons", state(int_value=10**9)),
        ("batch", state(int_value=1500)),
        ("n_steps", state(int_value=-3)),
        ("seed", state(int_value=-1)),
        ("activation", state(int_value=3)),
        ("activation", state(double_value=1.5)),
        ("view_step", state(double_array_value=[-5.0])),
        ("view_step", state(double_array_value=[math.nan])),
    ],
    ids=[
        "nan-scale",
        "inf-scale",
        "nan-neurons",
        "billion-neurons",
        "1500-rows",
        "negative-steps",
        "negative-seed",
        "activation-int",
        "activation-float",
        "negative-step",
        "nan-step",
    ],
)
def test_values_of_the_wrong_kind_or_size_are_refused(server, key, proto):
    async def attack(session: Session) -> RunResult:
        session.override(key, proto)
        return await session.run()

    attacked, after, _, specs, tables = run(server, attack)
    assert_survived(attacked, after, server)
    assert max(hidden_heatmap_rows(specs), default=0) <= MAX_ROWS
    assert not tables or max(tables) <= MAX_ROWS


CHART_CLICKS = {  # what a click on the charts drawn in the browser may carry (app/components/charts/)
    "negative": {"chart": "hidden_1", "x": -1, "y": -1},
    "text": {"chart": "hidden_1", "x": "abc", "y": "1"},
    "huge": {"chart": "hidden_1", "x": 10**9, "y": 0},
    "null-and-list": {"chart": "hidden_1", "x": None, "y": [1]},
    "fraction-and-nan": {"chart": "hidden_1", "x": 1.5, "y": math.nan},
    "not-drawn": {"chart": "hidden_9", "x": 1, "y": 1},
    "not-clickable": {"chart": "diagram", "x": 1, "y": 1},
    "script-id": {"chart": "<script>alert(1)</script>", "x": 1, "y": 1},
    "not-a-dict": "not a point",
    "long": {"chart": "x" * 100_000, "x": 1, "y": 1},
}


def explained_cell(result: RunResult) -> str:
    """The explained cell as its panel writes it ("y1[2, 5]": step 1, row 2, neuron 5)."""
    return pagetools.explained_cell(result.texts)


def test_a_click_on_a_chart_drawn_in_the_browser_picks_its_cell(server):
    """The control for the hostile clicks below: a real click's trigger does pick the cell."""

    async def attack(session: Session) -> RunResult:
        session.trigger("time_charts", "click", {"chart": "hidden_1", "x": 5, "y": 2})
        return await session.run()

    attacked, after, *_ = run(server, attack)
    assert_survived(attacked, after, server)
    assert explained_cell(attacked) == "y1[2, 5]"


@pytest.mark.parametrize("click", CHART_CLICKS.values(), ids=CHART_CLICKS.keys())
def test_chart_clicks_with_hostile_contents_are_harmless(server, click):
    async def attack(session: Session) -> RunResult:
        session.trigger("time_charts", "click", click)
        return await session.run()

    attacked, after, *_ = run(server, attack)
    assert_survived(attacked, after, server)
    assert explained_cell(attacked) == "y2[0, 0]"  # the view did not move
    assert not any("<script>" in body for body in attacked.texts)  # the chart id is never echoed


@pytest.mark.parametrize("key", ["output_charts", "explain_text", "charts_preload"])
def test_clicks_on_charts_drawn_without_a_click_action_are_harmless(server, key):
    """The outputs chart and the explanation take no click; the first run's empty charts element (it
    fetches plotly.js) is gone by the next run: a crafted click on any of them changes nothing."""

    async def attack(session: Session) -> RunResult:
        session.trigger(key, "click", {"chart": "hidden_1", "x": 5, "y": 2})
        return await session.run()

    attacked, after, *_ = run(server, attack)
    assert_survived(attacked, after, server)
    assert explained_cell(attacked) == "y2[0, 0]"


VIEW_TRIGGERS = {
    "script": "<script>alert(1)</script>",
    "huge": 1e308,
    "list": [-1, 99],
    "view": {"step": 99, "row": -1, "neuron": "<b>x</b>"},
}


@pytest.mark.parametrize("key", ["time_charts", "explain_text", "output_charts"])
@pytest.mark.parametrize("value", VIEW_TRIGGERS.values(), ids=VIEW_TRIGGERS.keys())
def test_a_view_trigger_with_any_value_shows_the_controls_own_view(server, key, value):
    """The charts' trigger "view" (an element asking for the view the controls show while their moves
    are the browser's, app/static/charts.js): its value is never read; the page shows the controls'
    own view."""

    async def attack(session: Session) -> RunResult:
        session.trigger(key, "view", value)
        return await session.run()

    attacked, after, session, *_ = run(server, attack)
    assert_survived(attacked, after, server)
    assert explained_cell(attacked) in ("", "y2[0, 0]") and explained_cell(after) == "y2[0, 0]"
    assert session.widget("view_step").value == [2.0]
    assert not any("<script>" in body or "<b>" in body for body in attacked.texts + after.texts)


CRAFTED_PICKS = {
    "past the end": "neuron 99",
    "negative": "neuron -3",
    "not a label": "<script>alert(1)</script>",
    "huge": "neuron " + "9" * 400,
}


@pytest.mark.parametrize("value", CRAFTED_PICKS.values(), ids=CRAFTED_PICKS.keys())
def test_a_crafted_pick_the_browser_alone_hears_is_put_back_in_range(server, value):
    """A neuron picker the browser alone hears (on_change="ignore"): a crafted value comes with the
    explanation's trigger "view" and no change of its own; the page explains a cell that exists and
    the picker shows it."""

    async def attack(session: Session) -> RunResult:
        assert session.widget("view_neuron").ignore  # (the browser's alone)
        session.override("view_neuron", widget_state(string_value=value))
        session.trigger("explain_text", "view", {"step": 2, "row": 0, "neuron": 99})
        return await session.run()

    attacked, after, session, *_ = run(server, attack)
    assert_survived(attacked, after, server)
    cell = explained_cell(after)
    assert cell.startswith("y2[0, ") and int(cell.split(", ")[1].rstrip("]")) in range(8), cell
    assert session.widget("view_neuron").value in {f"neuron {n}" for n in range(8)}


@pytest.mark.parametrize(
    "payload",
    ["[" * 200_000 + "]" * 200_000, '{"event": "click"', "null", '[{"event": "click", "value": 1e400}]'],
    ids=["nested-200k", "truncated", "null", "overflow"],
)
def test_chart_triggers_that_are_not_json_events_are_harmless(server, payload):
    """What a crafted client may send as the charts element's trigger list (its JSON, unparsed)."""
    from streamlit.components.v2.bidi_component.main import _make_trigger_id

    async def attack(session: Session) -> RunResult:
        forged = WidgetState(id=_make_trigger_id(session.widget("time_charts").id, "events"))
        forged.json_trigger_value = payload
        session.once.append(forged)
        return await session.run()

    attacked, after, *_ = run(server, attack)
    assert_survived(attacked, after, server)
    assert explained_cell(attacked) == "y2[0, 0]"


PLAYED_VALUES = {"a number": 2, "text": "<script>alert(1)</script>", "nested": [[[[1]]]], "huge": 1e308}


def end_of_play(element: str, value: object, playing: bool) -> Callable[[Session], Awaitable[RunResult]]:
    """An attack: pick step 0, press Play (if `playing`), then send `element`'s "played" with `value`."""

    async def attack(session: Session) -> RunResult:
        await session.run({"view_step": 0})
        if playing:
            session.press("play")
            await session.run()
        session.trigger(element, "played", value)
        return await session.run()

    return attack


@pytest.mark.parametrize("value", PLAYED_VALUES.values(), ids=PLAYED_VALUES.keys())
@pytest.mark.parametrize("playing", [False, True], ids=["not-playing", "playing"])
def test_crafted_ends_of_a_play_are_harmless(server, value, playing):
    """The charts element's "played" trigger (the browser's play ended): its value is never read.
    Not playing, it changes nothing (the step picked stays); while playing, it ends the play at the
    last step, as the browser's own would."""

    attacked, after, *_ = run(server, end_of_play("time_charts", value, playing))
    assert_survived(attacked, after, server)
    assert explained_cell(attacked) == ("y2[0, 0]" if playing else "y0[0, 0]")
    assert not any("<script>" in body for body in attacked.texts)


@pytest.mark.parametrize("value", PLAYED_VALUES.values(), ids=PLAYED_VALUES.keys())
@pytest.mark.parametrize("playing", [False, True], ids=["not-playing", "playing"])
def test_crafted_ends_of_a_slide_play_are_harmless(server, value, playing):
    """The same for the presentation's chart slide (its own charts element, "slide_charts"): not
    playing, the step picked stays; while playing, the play ends at the last step."""

    attacked, after, session, *_ = run(server, end_of_play("slide_charts", value, playing), "present=1")
    assert_survived(attacked, after, server)
    assert session.widget("view_step").value == [2.0 if playing else 0.0]
    assert "frames" not in session.component_spec("slide_charts")
    assert not any("<script>" in body for body in attacked.texts)


@pytest.mark.parametrize("key", ["output_charts", "explain_text"])
def test_an_end_of_play_from_an_element_that_does_not_report_it_changes_nothing(server, key):
    """During a play only the time charts say "played": the same trigger sent by the outputs or the
    explanation element is not read, and the play goes on."""

    async def attack(session: Session) -> RunResult:
        session.press("play")
        await session.run()
        session.trigger(key, "played", 2)
        return await session.run()

    attacked, after, session, *_ = run(server, attack)
    assert_survived(attacked, after, server)
    assert "frames" in session.component_spec("time_charts")  # still playing (a plain rerun after it)


# ---- links, uploads ------------------------------------------------------------------------------------


def link_token(data: object) -> str:
    """A share link's token for any JSON (the app's format: deflated, base64url)."""
    return base64.urlsafe_b64encode(zlib.compress(json.dumps(data).encode())).decode().rstrip("=")


MARKDOWN_INJECTIONS = [
    "[Log in again](https://evil.example)",
    "![x](https://evil.example/a.png)",
    "<img src=x onerror=alert(1)>",
    "[a](javascript:alert(1))",
]


def assert_no_markup_from(result: RunResult, text: str) -> None:
    """`text` may appear only escaped: no Markdown link or image, no tag, in any element's body."""
    for body in result.texts:
        assert "](https://evil" not in body and "](javascript:" not in body, body[:300]
        assert "<img" not in body.lower(), body[:300]


@pytest.mark.parametrize("text", MARKDOWN_INJECTIONS)
def test_links_carrying_markdown_show_it_as_text(server, text):
    token = link_token({text: 1, "n_neurons": 4})  # an unknown key: the notice names it
    attacked, after, *_ = run(server, None, query_string=f"s={token}")
    assert_survived(attacked, after, server)
    assert_noticed(attacked, "link")
    assert_no_markup_from(attacked, text)


def test_a_query_string_over_streamlits_limit_is_harmless(server):
    attacked, after, *_ = run(server, None, query_string="s=" + "A" * (QUERY_STRING_LIMIT + 10))
    assert_survived(attacked, after, server)


@pytest.mark.parametrize(
    "name, data, noticed",
    [
        ("tool.exe", b"MZ\x90\x00 not a state", False),  # refused by Streamlit's type check: ignored is fine
        ("[Log in again](https://evil.example).json", b'{"n_neurons": 999}', True),
        ("state.json", b"\xff\xfe\x00 binary", True),
    ],
    ids=["exe", "markdown-name", "binary"],
)
def test_hostile_uploads_get_a_notice(server, name, data, noticed):
    async def attack(session: Session) -> RunResult:
        try:
            session.upload("state_file", name, data)
        except urllib.error.HTTPError as refused:  # refused by the server itself: harmless
            assert refused.code in (400, 403, 413)
            return await session.run()
        return await session.run()

    attacked, after, *_ = run(server, attack)
    assert_survived(attacked, after, server)
    if noticed:
        assert_noticed(attacked)
    assert_no_markup_from(attacked, name)


# ---- the editor check as docs/SECURITY.md tells the page to wire it, on a real server ------------

WIRED_PAGE = """
import streamlit as st
from app import hardening, table
from app.text import plain
from rnn_core.params import tutorial_inputs

hardening.install()
ss = st.session_state
ss.setdefault("base", table.inputs_to_frame(tutorial_inputs()))
ss.setdefault("version", 0)
key = f"inputs_editor_{ss['version']}"
check = table.check_editor_state(ss["base"], table.read_editor_state(ss, key))
if check.reset:
    ss["base"], ss["version"] = check.frame, ss["version"] + 1
    key = f"inputs_editor_{ss['version']}"
for message in check.messages:
    st.warning(plain(message))
edited = st.data_editor(ss["base"], key=key)
edited, more = table.bound_rows(edited)
st.write(f"rows: {len(edited)}")
"""


def test_the_documented_editor_wiring_holds_on_a_real_server(tmp_path):
    """check_editor_state before st.data_editor, a new key on reset: Streamlit never applies the state."""
    script = tmp_path / "wired.py"
    script.write_text(WIRED_PAGE)
    added = [{"_index": f"x{i}", "X0[0]": "1"} for i in range(1500)]
    hostile = [
        {"edited_rows": {}, "added_rows": added, "deleted_rows": []},
        {"edited_rows": {"999": {"X0[0]": "1"}}, "added_rows": [], "deleted_rows": []},
        {"edited_rows": {"1.5": {"X0[0]": "1"}}, "added_rows": [], "deleted_rows": []},
        {"edited_rows": {}, "added_rows": [], "deleted_rows": list(range(40))},
    ]

    async def scenario(url: str) -> list[tuple[RunResult, list[int]]]:
        seen = []
        async with Session(url, timeout=RUN_TIMEOUT_S) as session:
            await session.run()
            for editor_state in hostile:
                result = await send_editor_state(session, editor_state)
                seen.append((result, session.table_rows()))
        return seen

    env = {"STREAMLIT_LOGGER_ENABLE_RICH": "false"}
    with streamlit_server(tmp_path, script=str(script), env=env) as server:
        results = asyncio.run(scenario(server.url))
        for (result, rows), editor_state in zip(results, hostile, strict=True):
            assert result.exceptions == [], (editor_state, last_traceback(server))
            assert result.notices, editor_state
            assert rows and 1 <= max(rows) <= MAX_ROWS, rows


# ---- this round's inputs: targets grid, training settings, weights, lessons, classes, pinned A ---------


def editor_key_of(session: Session, prefix: str) -> str:
    keys = [k for k in (w.id.split("-", 2)[-1] for w in session.widgets.values()) if k.startswith(prefix)]
    return sorted(keys, key=lambda k: int(k.rsplit("_", 1)[1]))[-1]


def test_the_targets_grid_refuses_1500_added_rows(server):
    added = [{"_index": f"row {3 + i}", "out0": "1", "out1": "1", "out2": "1"} for i in range(1500)]

    async def attack(session: Session) -> RunResult:
        await session.run({"open_training": True})  # the targets grid comes with the Training chapter
        key = editor_key_of(session, "targets_editor")
        edits = {"edited_rows": {}, "added_rows": added, "deleted_rows": []}
        session.override(key, state(string_value=json.dumps(edits)))
        return await session.run()

    attacked, after, _, specs, tables = run(server, attack)
    assert_survived(attacked, after, server)
    assert_noticed(attacked, "added rows were refused")
    assert max(hidden_heatmap_rows(specs), default=0) == 3
    assert tables and max(tables) <= MAX_ROWS


@pytest.mark.parametrize(
    ("key", "proto"),
    [
        ("train_lr", state(double_value=math.nan)),
        ("train_lr", state(string_value="1e9")),
        ("train_clip", state(double_value=-5.0)),
        ("train_steps", state(double_value=1e12)),
        ("train_optimizer", state(int_value=7)),
        ("target_task", state(string_value="rm -rf /")),
        ("weights_alpha", state(double_array_value=[math.inf])),
        ("open_training", state(string_value="yes")),
        ("open_gradients", state(double_value=math.nan)),
        ("open_code", state(int_value=2**40)),
        ("numbers_popover", state(string_value="open")),
        ("printout_popover", state(double_array_value=[1.0, 2.0])),
        ("terms_popover", state(string_value="<script>")),
        ("open_share", state(double_value=1e300)),
        ("class_panel", state(string_value="open")),
        ("class_panel", state(int_value=-1)),
    ],
    ids=[
        "lr-nan",
        "lr-text",
        "clip-negative",
        "steps-huge",
        "optimizer-int",
        "task-unknown",
        "alpha-inf",
        "chapter-text",
        "chapter-nan",
        "chapter-int",
        "popover-text",
        "popover-array",
        "terms-popover-text",
        "share-chapter-huge",
        "class-box-text",
        "class-box-int",
    ],
)
def test_training_and_weight_settings_of_the_wrong_kind_are_harmless(server, key, proto):
    async def attack(session: Session) -> RunResult:
        opened = await session.run({"open_training": True, "open_weights": True, "open_gradients": True})
        assert opened.exceptions == [] and "train_lr" in session_keys(session)  # the chapters opened
        session.override(key, proto)
        return await session.run()

    attacked, after, *_ = run(server, attack)
    assert_survived(attacked, after, server)


@pytest.mark.parametrize(
    "query",
    [
        "lesson=../../etc/passwd",
        "lesson=tutorial&step=99999",
        "lesson=" + "x" * 5000,
        "class=[Log in](https://evil.example)",
        "class=ABCD-EFGHJ&teacher=forged",
        "s=" + link_token({"pinned": {"n_neurons": 4, "weights": {"Wy": [[1]]}}}),
        "s=" + link_token({"pinned": {"pinned": {"n_neurons": 4}}}),
    ],
    ids=[
        "lesson-path",
        "lesson-step",
        "lesson-long",
        "class-markdown",
        "class-forged",
        "pinned-shape",
        "pinned-nested",
    ],
)
def test_hostile_lesson_class_and_pinned_links_give_a_notice_and_the_page(server, query):
    attacked, after, *_ = run(server, None, query_string=query)
    assert_survived(attacked, after, server)
    assert attacked.notices, "no notice for a hostile link"
    assert_no_markup_from(attacked, "[Log in](https://evil.example)")


# ---- HTTP itself: what reaches the server before Streamlit (the plain image has no nginx in front) --

HEALTH = b"GET /_stcore/health HTTP/1.1\r\nHost: 127.0.0.1\r\n"
HOSTILE_REQUESTS = {
    "bad request line": b"GET / HTTP/9.9 junk\r\n\r\n",
    "a 1 MB header": HEALTH + b"X-A: " + b"a" * 1_000_000 + b"\r\n\r\n",
    "a 20 MB header": HEALTH + b"X-A: " + b"a" * 20_000_000 + b"\r\n\r\n",
    "200,000 headers": HEALTH + b"X-A: a\r\n" * 200_000 + b"\r\n",
    "a bad chunk size": HEALTH.replace(b"GET", b"POST") + b"Transfer-Encoding: chunked\r\n\r\nzz\r\n\r\n",
    "a websocket key that is not one": (
        b"GET /_stcore/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: bad\r\nOrigin: http://127.0.0.1\r\n\r\n"
    ),
}


def answer_to(port: int, request: bytes) -> bytes:
    """The first bytes the server answers a raw request with (b"" if it closed the connection first)."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        try:
            sock.sendall(request)
            return sock.recv(64)
        except (ConnectionResetError, BrokenPipeError):  # refused before the whole request was read
            return b""


def test_made_up_names_for_a_static_file_add_nothing_to_what_the_server_keeps(server):
    """The browser's files are kept compressed in memory (app/static_cache.py), once per file: 300
    made-up query strings and other spellings of its path are answered, from the one kept copy (its
    tag) or as Streamlit answers them (uncompressed), and the server's memory does not grow with them;
    nor with 360 made-up share links to the page, which is kept too."""
    with urllib.request.urlopen(server.url + "/", timeout=30) as response:
        page = response.read()
    path = "/" + re.findall(rb'src="\.?/?(static/js/[^"]+\.js)"', page)[0].decode()
    tags = set()

    def ask(n: int) -> None:
        spelled = path if n % 3 else path.replace("/js/", "/" * (2 + n % 50) + "js/")
        request = urllib.request.Request(f"{server.url}{spelled}?v={n}", headers={"Accept-Encoding": "gzip"})
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 200
            zipped = response.headers.get("Content-Encoding") == "gzip"
            assert zipped == (spelled == path), spelled  # (another spelling: Streamlit's own answer)
            if zipped:
                tags.add(response.headers["ETag"])

    def ask_page(n: int) -> None:  # (the page itself, kept too: a made-up link's query is no other page)
        request = urllib.request.Request(f"{server.url}/?s=x{n}&v={n}", headers={"Accept-Encoding": "gzip"})
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 200 and response.headers.get("Content-Encoding") == "gzip"
            page_tags.add(response.headers["ETag"])

    page_tags: set[str] = set()
    for n in range(1000, 1060):  # (the server's first static requests: its thread pool, gzip)
        ask(n)
        ask_page(n)
    before = rss_mb(server.process.pid)
    for n in range(300):  # (each spelling kept would be ~0.5 MB: 200 of them up to the 64 MB cap)
        ask(n)
        ask_page(n)
    assert len({tag.rsplit("-gzip", 1)[0] for tag in tags}) == 1  # (one file: at level 1, then 9)
    assert len({tag.rsplit("-gzip", 1)[0] for tag in page_tags}) == 1
    assert rss_mb(server.process.pid) - before < 10


@pytest.mark.parametrize("name", HOSTILE_REQUESTS)
def test_hostile_http_requests_are_refused_without_holding_memory(server, name):
    """Each gets a 400 or a closed connection, none is read into memory whole (h11 refuses a head that
    one read of the socket does not complete past 16 KB; uvicorn's httptools parser, which app/serve.py
    keeps out, took a 20 MB header: +30 MB), and the server answers the next request."""
    before = rss_mb(server.process.pid)
    answer = answer_to(server.port, HOSTILE_REQUESTS[name])
    assert answer == b"" or answer.startswith(b"HTTP/1.1 400 "), answer
    assert rss_mb(server.process.pid) - before < 10
    assert answer_to(server.port, HEALTH + b"\r\n").startswith(b"HTTP/1.1 200 ")
