"""A headless Streamlit client speaking the browser's protocol, for the load and payload benchmarks.

What a browser does, and what this does the same way (Streamlit 1.67, read from its source:
web/server/starlette/starlette_websocket.py, runtime/app_session.py, runtime/forward_msg_cache.py):
- opens the websocket `/_stcore/stream` with subprotocol `streamlit` and the server as Origin;
- sends a `BackMsg.rerun_script`: a ClientState with the query string, the page hash, every widget
  state it holds and the hashes of the messages it has cached; reads `ForwardMsg`s (one per
  websocket message) until `script_finished`;
- learns each widget from the deltas (`new_element.<widget>.id`, `$$ID-<hash>-<user key>`) with its
  current value, and on an edit sends all of them with the edited one changed;
- follows `page_info_changed.query_string` (the page writing st.query_params), like the address bar;
- caches elements marked `metadata.cacheable` by hash and resolves `ref_hash` messages from them.
Widgets whose value this does not model (buttons, the data editor, charts) are not sent; the server
keeps their last value, as it does for a browser in which they were not touched.

Edits may overlap (a fast user): each edit is resolved by the first successful script_finished of
a run that started (new_session) after the edit was sent (a whole-page run or a fragment's); a run
stopped early for a rerun resolves nothing, so its edit waits for the run that replaced it.

For the hostile-input tests (tests/test_hostile.py) a session can also send what no browser would:
`override(key, WidgetState)` replaces a widget's state (any widget, any value type) until the page
sets that widget itself; `upload(...)` puts a file through the upload endpoint as the browser does.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass, field

import websockets
from streamlit.proto.Alert_pb2 import Alert
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.NumberInput_pb2 import NumberInput
from streamlit.proto.WidgetStates_pb2 import WidgetState

from app.page_state import VIEW_KEYS

Status = ForwardMsg.ScriptFinishedStatus
RUN_DONE = {
    Status.FINISHED_SUCCESSFULLY,
    Status.FINISHED_FRAGMENT_RUN_SUCCESSFULLY,
    Status.FINISHED_WITH_COMPILE_ERROR,
}
RUN_OK = {Status.FINISHED_SUCCESSFULLY, Status.FINISHED_FRAGMENT_RUN_SUCCESSFULLY}  # a fragment's run too
MODELLED_WIDGETS = ("number_input", "selectbox", "radio", "checkbox", "slider", "expander")


@dataclass
class Widget:
    id: str
    kind: str  # number_input, selectbox, radio, checkbox, slider, ...
    value: object  # what the browser would send: int, float, str, bool, [float]; None: not sent
    options: list[str] = field(default_factory=list)
    fragment_id: str = ""  # the fragment it was drawn in: a browser reruns only that fragment for it
    ignore: bool = False  # drawn with on_change="ignore": a browser sends no rerun when it changes


@dataclass
class RunResult:
    """One edit as the client saw it, up to the end of the run that showed it."""

    seconds: float  # from sending the BackMsg to script_finished
    status: int
    n_messages: int = 0  # ForwardMsgs received since the previous run ended
    n_bytes: int = 0  # their size on the wire (serialized protobuf)
    bytes_by_kind: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)  # exception elements and error alerts
    exceptions: list[str] = field(default_factory=list)  # exception elements only
    notices: list[tuple[str, str]] = field(default_factory=list)  # (ERROR/WARNING/INFO/SUCCESS, body)
    texts: list[str] = field(default_factory=list)  # markdown, alert and charts elements' words, as sent
    sent: bool = True  # False: a change a browser keeps to itself (Widget.ignore); nothing was sent

    @property
    def ok(self) -> bool:
        return self.status in RUN_OK and not self.errors


VIEW_CONTROLS = {name: VIEW_KEYS[name] for name in ("step", "row", "neuron")}  # field -> widget key


def view_number(value: object) -> float:
    """A view control's value as a number: a slider's [2.0], a picker's label "neuron 5"."""
    value = value[0] if isinstance(value, list | tuple) else value
    return float(str(value).rsplit(" ", 1)[-1])


def asks(specs: dict[str, dict], values: dict[str, object]) -> tuple[str, str] | None:
    """(key, event) of the charts element that asks for the view the controls show, as the browser
    picks it (app/static/charts.js askFor): the first (controls.ask) drawn for a view other than theirs
    that it cannot draw alone (controls.shows); None when every element shows it. `values`: the
    controls' by view field, as their widgets hold them. (Code before the pickers were the browser's
    drew the step slider's link alone, spec.slider, and asked with "step": for benchmarks of it.)"""
    view = {name: view_number(value) for name, value in values.items()}
    late = []
    for key, spec in specs.items():
        controls, event = spec.get("controls"), "view"
        if "slider" in spec:  # (the earlier code's: frames that follow the view show any step)
            shows = ["step"] if spec.get("follow") else []
            controls, event = {"view": {"step": spec["step"]}, "shows": shows, "ask": spec["ask"]}, "step"
        if controls is not None and any(
            view.get(name, drawn) != drawn and name not in controls["shows"]
            for name, drawn in controls["view"].items()
        ):
            late.append((controls["ask"], key, event))
    return min(late)[1:] if late else None


def widget_state(**fields) -> WidgetState:
    """A WidgetState with value fields set as given (double_array_value: a list of floats); the id is
    filled in by Session.override."""
    proto = WidgetState()
    for name, value in fields.items():
        if name == "double_array_value":
            proto.double_array_value.data.extend(value)
        else:
            setattr(proto, name, value)
    return proto


def _drawn_figures(data: object) -> list[dict]:
    """The figures a charts component (app/components/charts/) was sent: {"spec": JSON of blocks}."""
    from app.components.charts import first_drawn

    try:
        blocks = first_drawn(json.loads(data["spec"]))  # type: ignore[index]
    except (TypeError, KeyError, ValueError, IndexError):
        return []
    figures, todo = [], list(blocks)
    while todo:
        block = todo.pop(0)
        if isinstance(block, dict) and block.get("kind") == "group":
            todo[:0] = block.get("items", [])
        elif isinstance(block, dict) and block.get("kind") == "chart":
            figures.append(block["figure"])
    return figures


def _drawn_words(data: object) -> list[str]:
    """The words a charts component draws first (its paragraphs, headings, warnings), as markdown
    would write them (bold parts between **): what a reader sees next to the charts."""
    from app.components.charts import first_drawn, marked

    try:
        blocks = first_drawn(json.loads(data["spec"]))  # type: ignore[index]
    except (TypeError, KeyError, ValueError, IndexError):
        return []
    words = []
    for block in blocks:
        kind = block.get("kind") if isinstance(block, dict) else None
        if kind == "text":
            words.append(marked(block["parts"]))
        elif kind in ("heading", "note"):
            words.append(block["text"])
    return words


def user_key(widget_id: str) -> str | None:
    """`$$ID-<hash>-<key>` -> key (None for widgets without a user key)."""
    if not widget_id.startswith("$$ID-"):
        return None
    parts = widget_id.split("-", 2)
    return parts[2] if len(parts) == 3 and parts[2] != "None" else None


def _widget(element) -> Widget | None:
    widget = _widget_value(element)
    if widget is not None:
        widget.ignore = bool(getattr(getattr(element, widget.kind), "ignore_rerun", False))
    return widget


def _widget_value(element) -> Widget | None:
    kind = element.WhichOneof("type")
    proto = getattr(element, kind)
    if not any(f.name == "id" for f in proto.DESCRIPTOR.fields) or not proto.id:
        return None
    if kind == "number_input":
        value = proto.value if proto.set_value else proto.default
        return Widget(proto.id, kind, int(value) if proto.data_type == NumberInput.INT else value)
    if kind in ("selectbox", "radio"):
        options = list(proto.options)
        value = proto.raw_value if proto.set_value else (options[proto.default] if options else "")
        return Widget(proto.id, kind, value, options)
    if kind == "checkbox":
        return Widget(proto.id, kind, bool(proto.value if proto.set_value else proto.default))
    if kind == "slider" and not proto.options:  # a numeric slider: one or two numbers
        return Widget(proto.id, kind, [float(x) for x in (proto.value if proto.set_value else proto.default)])
    return Widget(proto.id, kind, None)


def message_kind(msg: ForwardMsg) -> str:
    """A short name for what a ForwardMsg carries (the element type for new elements)."""
    kind = msg.WhichOneof("type")
    if kind == "delta":
        delta_kind = msg.delta.WhichOneof("type")
        if delta_kind == "new_element":
            return msg.delta.new_element.WhichOneof("type")
        return delta_kind
    return kind or "empty"


@dataclass
class _Pending:
    sent: float
    future: asyncio.Future
    started: bool = False  # a run started after this edit was sent


class Session:
    """One browser tab: a websocket, a reader task, and what the page showed last."""

    def __init__(
        self,
        url: str,
        query_string: str = "",
        timeout: float = 120.0,
        cookie: str | None = None,
        chart_words: bool = True,
    ):
        self.url = url.rstrip("/")
        # Read the words the charts elements draw into RunResult.texts (their JSON parsed: ~1.7 ms of
        # this client's CPU per first page). The load generator, which shares the server's cores where
        # a class's browsers would not, leaves them unread: it checks errors and alerts only.
        self.chart_words = chart_words
        self.cookie = cookie  # the Cookie header the browser would send (a proxy's affinity cookie)
        self.query_string = query_string
        self.timeout = timeout
        self.widgets: dict[str, Widget] = {}  # by widget id
        self.page_script_hash = ""
        self.cache: dict[str, ForwardMsg] = {}  # the browser's message cache, by hash
        self.elements: dict[tuple[int, ...], ForwardMsg] = {}  # the page's elements by delta path (as a
        # browser keeps them: a full run's, with what later fragment runs replaced)
        self._drawn: set[tuple[int, ...]] = set()  # the paths the current run drew
        self._drawn_widgets: set[str] = set()  # ... and the widgets' ids
        self.ws = None
        self._reader: asyncio.Task | None = None
        self._pending: list[_Pending] = []
        self._acc = RunResult(float("nan"), -1)  # what arrived since the last run ended
        self.total_bytes = 0
        self.runs_started = 0  # new_session messages: every script run the server began
        self.runs_finished = 0  # runs that ended successfully
        self.session_id = ""  # the server's id of this session (new_session.initialize)
        self.overrides: dict[str, WidgetState] = {}  # by widget id: states no browser would send
        self.once: list[WidgetState] = []  # one-time events (component triggers), sent with the next rerun
        self.once_fragments: set[str] = set()  # the fragments those events were drawn in
        self._specs: dict[int, tuple[ForwardMsg, dict]] = {}  # parsed charts specs (component_specs)

    # -- connection ------------------------------------------------------------------------------

    async def connect(self) -> None:
        ws_url = self.url.replace("http://", "ws://").replace("https://", "wss://") + "/_stcore/stream"
        self.ws = await websockets.connect(
            ws_url,
            subprotocols=["streamlit"],
            origin=self.url,
            max_size=None,
            ping_interval=None,
            open_timeout=self.timeout,
            compression=None,  # Streamlit's browser client does not negotiate permessage-deflate
            additional_headers={"Cookie": self.cookie} if self.cookie else None,
        )
        self._reader = asyncio.create_task(self._read_forever())

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await self.ws.close()

    async def __aenter__(self) -> Session:
        await self.connect()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    # -- widgets ---------------------------------------------------------------------------------

    def widget(self, key: str) -> Widget:
        for widget in self.widgets.values():
            if user_key(widget.id) == key:
                return widget
        seen = sorted(filter(None, map(user_key, self.widgets)))
        raise KeyError(f"no widget with key {key!r}; seen: {seen}")

    def override(self, key: str, state: WidgetState) -> None:
        """Send `state` (its id is filled in) for the widget with this user key on every rerun, until
        the page sets that widget's value itself (as a browser would then show the page's value)."""
        widget_id = self.widget(key).id
        forced = WidgetState()
        forced.CopyFrom(state)
        forced.id = widget_id
        self.overrides[widget_id] = forced

    def press(self, key: str) -> None:
        """Press the button with this user key on the next rerun (as a click does, once)."""
        widget = self.widget(key)
        self.once.append(WidgetState(id=widget.id, trigger_value=True))
        self.once_fragments.add(widget.fragment_id)

    def trigger(self, key: str, event: str, value: object) -> None:
        """A custom component's one-time event (components v2: a trigger, as its JavaScript's
        setTriggerValue(event, value) sends it), sent with the next rerun only."""
        from streamlit.components.v2.bidi_component.main import _make_trigger_id

        widget = self.widget(key)
        state = WidgetState(id=_make_trigger_id(widget.id, "events"))
        state.json_trigger_value = json.dumps([{"event": event, "value": value}])
        self.once.append(state)
        self.once_fragments.add(widget.fragment_id)

    def _states(self) -> list[WidgetState]:
        states = list(self.overrides.values()) + self.once
        self.once = []
        for widget in self.widgets.values():
            value = widget.value
            if widget.id in self.overrides:
                continue
            if value is None or widget.kind not in MODELLED_WIDGETS:
                continue
            state = WidgetState(id=widget.id)
            if widget.kind in ("checkbox", "expander"):  # (an expander with a key: open or closed)
                state.bool_value = bool(value)
            elif widget.kind == "slider":
                values = value if isinstance(value, list | tuple) else [value]
                state.double_array_value.data.extend(float(v) for v in values)
            elif widget.kind == "number_input":
                state.double_value = float(value)  # Streamlit 1.67 reads double_value for every number input
            else:
                state.string_value = str(value)
            states.append(state)
        return states

    def rerun_message(self, fragment_id: str = "") -> BackMsg:
        msg = BackMsg()
        client_state = msg.rerun_script
        client_state.fragment_id = fragment_id  # a widget inside a fragment: the browser reruns only it
        client_state.query_string = self.query_string
        client_state.page_script_hash = self.page_script_hash
        client_state.widget_states.widgets.extend(self._states())
        client_state.cached_message_hashes.extend(sorted(self.cache))
        client_state.context_info.timezone = "UTC"
        client_state.context_info.locale = "en-US"
        client_state.context_info.url = f"{self.url}/?{self.query_string}" if self.query_string else self.url
        return msg

    # -- edits -----------------------------------------------------------------------------------

    async def edit(self, changes: dict[str, object] | None = None) -> asyncio.Future:
        """Set widgets ({user key: value}), send the rerun request; the future gives a RunResult. As a
        browser: a change of widgets drawn with on_change="ignore" alone sends nothing (its value goes
        with the next rerun); the result then says so (RunResult.sent)."""
        fragments, self.once_fragments = self.once_fragments, set()  # (a press, a component's trigger)
        kept = bool(changes) and not fragments and not self.once
        for key, value in (changes or {}).items():
            widget = self.widget(key)
            widget.value = value
            kept = kept and widget.ignore
            if not widget.ignore:
                fragments.add(widget.fragment_id)
        if kept:
            future = asyncio.get_running_loop().create_future()
            future.set_result(RunResult(0.0, Status.FINISHED_SUCCESSFULLY, sent=False))
            return future
        fragment_id = fragments.pop() if len(fragments) == 1 else ""  # (as the browser's widget does)
        payload = self.rerun_message(fragment_id).SerializeToString()
        future = asyncio.get_running_loop().create_future()
        sent = time.perf_counter()
        self._pending.append(_Pending(sent, future))
        await self.ws.send(payload)
        return future

    async def run(self, changes: dict[str, object] | None = None) -> RunResult:
        """One edit, waited for (a user who waits for the charts before the next change)."""
        future = await self.edit(changes)
        return await asyncio.wait_for(future, self.timeout)

    async def open(self) -> RunResult:
        """A new tab: connect, then the first run (the browser requests it right after connecting)."""
        if self.ws is None:
            await self.connect()
        return await self.run()

    # -- reading ---------------------------------------------------------------------------------

    async def _read_forever(self) -> None:
        try:
            async for raw in self.ws:
                self._receive(raw)
        except Exception as err:  # the connection dropped: every waiting edit fails
            self._fail(f"connection: {type(err).__name__}: {err}")
            return
        self._fail("connection closed by the server")

    def _fail(self, reason: str) -> None:
        for pending in self._pending:
            if not pending.future.done():
                pending.future.set_exception(ConnectionError(reason))
        self._pending.clear()

    def _receive(self, raw: bytes) -> None:
        msg = ForwardMsg()
        msg.ParseFromString(raw)
        acc = self._acc
        acc.n_messages += 1
        acc.n_bytes += len(raw)
        self.total_bytes += len(raw)
        kind = message_kind(msg)
        acc.bytes_by_kind[kind] = acc.bytes_by_kind.get(kind, 0) + len(raw)
        self._take(msg, acc)
        if msg.HasField("new_session"):
            self.runs_started += 1
            for pending in self._pending:
                pending.started = True
            for found in (acc.errors, acc.exceptions, acc.notices, acc.texts):
                found.clear()  # these belong to a run; an interrupted run's are not shown
        elif msg.WhichOneof("type") == "script_finished" and msg.script_finished in RUN_DONE:
            self.runs_finished += 1
            if msg.script_finished == Status.FINISHED_SUCCESSFULLY:  # as a browser: a full run's end
                self.elements = {p: m for p, m in self.elements.items() if p in self._drawn}  # drops the rest
                self.widgets = {i: w for i, w in self.widgets.items() if i in self._drawn_widgets}  # (and
                # their values: Streamlit's WidgetStateManager.removeInactive)
            now = time.perf_counter()
            done = [p for p in self._pending if p.started]
            self._pending = [p for p in self._pending if not p.started]
            for pending in done:
                if not pending.future.done():
                    result = RunResult(
                        seconds=now - pending.sent,
                        status=msg.script_finished,
                        n_messages=acc.n_messages,
                        n_bytes=acc.n_bytes,
                        bytes_by_kind=dict(acc.bytes_by_kind),
                        errors=list(acc.errors),
                        exceptions=list(acc.exceptions),
                        notices=list(acc.notices),
                        texts=list(acc.texts),
                    )
                    pending.future.set_result(result)
            self._acc = RunResult(float("nan"), -1)

    def _take(self, msg: ForwardMsg, acc: RunResult) -> None:
        kind = msg.WhichOneof("type")
        if kind == "ref_hash":
            cached = self.cache.get(msg.ref_hash)
            if cached is None:
                acc.errors.append(f"ref_hash {msg.ref_hash} not in the client cache")
                return
            full = ForwardMsg()
            full.CopyFrom(cached)
            full.metadata.CopyFrom(msg.metadata)
            msg, kind = full, "delta"
        elif msg.metadata.cacheable and msg.hash:
            self.cache[msg.hash] = msg
        if kind == "new_session":
            self.page_script_hash = msg.new_session.page_script_hash
            self.session_id = msg.new_session.initialize.session_id or self.session_id
            self._drawn = set()  # the paths this run draws (a full run's end drops the others)
            self._drawn_widgets = set()  # ... and the widgets' ids
        elif kind == "page_info_changed":
            self.query_string = msg.page_info_changed.query_string
        elif kind == "delta" and msg.delta.WhichOneof("type") == "add_block":
            block = msg.delta.add_block
            kind = block.WhichOneof("type")
            if kind in ("expandable", "popover"):  # with a key: a widget (a chapter's title, a table)
                proto = getattr(block, kind)
                opened = proto.expanded if kind == "expandable" else proto.open
                if proto.id and proto.id not in self.widgets:  # open or closed, as the browser sends it
                    self.widgets[proto.id] = Widget(proto.id, "expander", bool(opened))
                self._drawn_widgets.add(proto.id)
        elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
            element = msg.delta.new_element
            path = tuple(msg.metadata.delta_path)
            self.elements.pop(path, None)  # (newest last: an element a fragment run moved is read there)
            self.elements[path] = msg
            self._drawn.add(path)
            element_type = element.WhichOneof("type")
            if element_type == "exception":
                acc.errors.append(f"exception: {element.exception.type}: {element.exception.message}")
                acc.exceptions.append(f"{element.exception.type}: {element.exception.message}")
            elif element_type == "alert":
                if element.alert.format == Alert.ERROR:
                    acc.errors.append(f"error: {element.alert.body[:200]}")
                acc.notices.append((Alert.Format.Name(element.alert.format), element.alert.body))
                acc.texts.append(element.alert.body)
            elif element_type == "markdown":
                acc.texts.append(element.markdown.body)
            else:
                if element_type == "bidi_component" and self.chart_words:  # (the charts draw words too)
                    acc.texts.extend(_drawn_words(json.loads(element.bidi_component.json)))
                widget = _widget(element)
                if widget is None:
                    return
                widget.fragment_id = msg.delta.fragment_id
                self._drawn_widgets.add(widget.id)
                known = self.widgets.get(widget.id)
                # A browser keeps what the user set; only a value the script set (set_value) wins.
                forced = getattr(getattr(element, element_type), "set_value", False)
                if known is None or forced:
                    self.widgets[widget.id] = widget
                else:
                    known.options, known.fragment_id, known.ignore = (
                        widget.options,
                        widget.fragment_id,
                        widget.ignore,
                    )
                if forced:
                    self.overrides.pop(widget.id, None)

    # -- reading the page ------------------------------------------------------------------------

    def plotly_specs(self) -> dict[str, dict]:
        """The last run's plotly charts by their layout.meta id."""
        found = {}
        for msg in self.elements.values():
            element = msg.delta.new_element
            if element.WhichOneof("type") == "plotly_chart":
                spec = json.loads(element.plotly_chart.spec)
                found[str(spec.get("layout", {}).get("meta", ""))] = spec
            elif element.WhichOneof("type") == "bidi_component" and element.bidi_component.json:
                for figure in _drawn_figures(json.loads(element.bidi_component.json)):
                    found[str(figure.get("layout", {}).get("meta", ""))] = figure
        return found

    def component_spec(self, key: str) -> dict | None:
        """The spec last sent to the charts element with this user key (app/components/charts/)."""
        return self.component_specs().get(key)

    def component_specs(self) -> dict[str, dict]:
        """The spec last sent to each charts element, by user key (each parsed once)."""
        found: dict[str, dict] = {}
        kept: dict[int, tuple[ForwardMsg, dict]] = {}
        for msg in reversed(self.elements.values()):
            element = msg.delta.new_element
            if element.WhichOneof("type") != "bidi_component":
                continue
            key = user_key(element.bidi_component.id)
            if key is None or key in found:
                continue
            cached = self._specs.get(id(msg))
            if cached is None or cached[0] is not msg:
                cached = (msg, json.loads(json.loads(element.bidi_component.json)["spec"]))
            found[key] = cached[1]
            kept[id(msg)] = cached
        self._specs = kept  # (the elements on the page now)
        return found

    async def move(self, changes: dict[str, object]) -> RunResult:
        """Move view controls as a browser does ({user key: value}, a slider's as a number). Controls
        drawn for the browser alone (on_change="ignore") send nothing: the charts elements drawn with
        them (app/static/charts.js: spec.controls) show the new view where they follow it, and the
        first (controls.ask) of those drawn for a view they cannot show (controls.shows) asks for it
        (the trigger "view"), which this then sends. The result: that run's, or not sent."""
        moved = await self.run(
            {key: [float(v)] if self.widget(key).kind == "slider" else v for key, v in changes.items()}
        )
        if moved.sent:
            return moved
        view = self.controls_values()
        asking = asks(self.component_specs(), view)
        if asking is None:
            return moved
        self.trigger(*asking, view)
        return await self.run()

    def controls_values(self) -> dict[str, object]:
        """The view controls' values by view field, as their widgets hold them."""
        found = {}
        for name, key in VIEW_CONTROLS.items():
            with contextlib.suppress(KeyError):
                found[name] = self.widget(key).value
        return found

    async def click(self, chart: str, y: int, x: int) -> RunResult:
        """A click on a cell of the time charts, as a browser makes it (app/static/charts.js clickCell):
        it sets the view controls when every one it moves is the browser's (then as `move`), else it
        sends the trigger "click"."""
        spec = self.component_spec("time_charts") or {}
        keys = spec.get("controls", {}).get("keys", {})
        now = {name: int(view_number(value)) for name, value in self.controls_values().items()}
        if chart.startswith("hidden_"):
            view = {"step": int(chart.removeprefix("hidden_")), "row": y, "neuron": x}
        else:  # the row view: (step, neuron)
            view = {**now, "step": y, "neuron": x}
        moves = [name for name in view if view[name] != now.get(name)]
        if not moves:  # (the explained cell: nothing moves, nothing is sent)
            return RunResult(0.0, Status.FINISHED_SUCCESSFULLY, sent=False)
        if all(name in keys for name in moves):  # (a picker's value: its option's label)
            labels = spec["controls"].get("labels", {})
            return await self.move(
                {keys[n]: f"{labels[n]}{view[n]}" if n in labels else view[n] for n in moves}
            )
        self.trigger("time_charts", "click", {"chart": chart, "x": x, "y": y})
        return await self.run()

    def table_rows(self) -> list[int]:
        """The row count of every table and data editor (Arrow data) the last run drew."""
        import pyarrow as pa

        rows = []
        for msg in self.elements.values():
            element = msg.delta.new_element
            kind = element.WhichOneof("type")
            if kind in ("arrow_data_frame", "dataframe", "arrow_table", "table"):
                data = getattr(element, kind)
                raw = data.arrow_data.data if hasattr(data, "arrow_data") else data.data
                if raw:
                    rows.append(pa.ipc.open_stream(raw).read_all().num_rows)
        return rows

    # -- uploads ---------------------------------------------------------------------------------

    def upload(
        self, key: str, name: str, data: bytes, content_type: str = "application/octet-stream"
    ) -> None:
        """Upload a file as the browser's file_uploader does (XSRF cookie and header, multipart PUT to
        /_stcore/upload_file/<session>/<file id>), then override the widget's state to name it.
        Raises urllib.error.HTTPError when the server refuses the upload itself."""
        import http.cookiejar
        import urllib.request
        import uuid

        from streamlit.proto.Common_pb2 import FileUploaderState

        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        opener.open(f"{self.url}/_stcore/health", timeout=10).read()
        token = next((c.value for c in jar if c.name == "_streamlit_xsrf"), "")
        file_id = uuid.uuid4().hex
        boundary = uuid.uuid4().hex
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
                f"Content-Type: {content_type}\r\n\r\n"
            ).encode()
            + data
            + f"\r\n--{boundary}--\r\n".encode()
        )
        upload_url = f"/_stcore/upload_file/{self.session_id}/{file_id}"
        request = urllib.request.Request(
            self.url + upload_url,
            data=body,
            method="PUT",
            headers={
                "Content-Type": f"multipart/form-data; boundary={boundary}",
                "X-Xsrftoken": token,
                "Origin": self.url,
            },
        )
        opener.open(request, timeout=30).read()
        state = WidgetState()
        info = FileUploaderState()
        file = info.uploaded_file_info.add()
        file.file_id, file.name, file.size = file_id, name, len(data)
        file.file_urls.file_id = file_id
        file.file_urls.upload_url = upload_url
        file.file_urls.delete_url = upload_url
        state.file_uploader_state_value.CopyFrom(info)
        self.override(key, state)
