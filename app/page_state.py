"""The one owner of a session's page state.

Streamlit keeps widget values under the widget's key, so those keys are named here once: the state's
scalar fields keep their field names (rnn_core.state.WIDGET_FIELDS), the sizes and the view have the
keys below. Everything else the page remembers between reruns is a typed field of `Memory`, stored
under one session key. Nothing else reads or writes st.session_state by a string key.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
import streamlit as st
from streamlit.errors import StreamlitAPIException
from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

from rnn_core.config import LIMITS, StateError, check_size
from rnn_core.state import SPECS, WIDGET_FIELDS, State, View

SIZE_KEYS = ("n_steps", "batch", "n_inputs")  # the inputs grid's size controls
VIEW_KEYS = {"step": "view_step", "row": "view_row", "neuron": "view_neuron", "present": "present"}
PICKER_KEYS = (VIEW_KEYS["step"], VIEW_KEYS["row"], VIEW_KEYS["neuron"])  # the pickers' widgets
UPLOAD_KEY = "state_file"
IMAGE_FORMAT_KEY = "image_format"
MEMORY_KEY = "page"
LESSON_KEY_PREFIX = "lesson_"  # the lesson's widgets (app/sections/lesson.py): lesson_<what>_<step id>
RESULTS_FRAGMENT = "results"  # the key of the page's part drawn from the result (app/main.py)
EXPLAIN_FRAGMENT = "explain"  # the key of the explanation's part, inside it (app/main.py)
CONTROLS_FRAGMENT = "view_controls"  # the key of the view's controls' part, just before it
FOLLOW_FRAGMENT = "class_follow"  # the key of a student's follow part (app/sections/classroom.py)
CODE_OPEN_KEY = "code_open"  # the Code panel's "show the scripts" toggle
CHAPTERS = {  # the page's chapters (app/components/chapter.py): closed ones are not built
    # name: (its heading when a lesson step shows it, what its closed title says is inside)
    "weights": ("Weights", "presets (no memory, long memory, exploding …) and editing by hand"),
    "compare": ("Compare two networks", "pin A, change anything, see B − A; nudge an input"),
    "code": ("Code: this network as a script", "runnable (TF 1, Keras, numpy), and its weights"),
    "training": ("Training", "targets, Train and Step, the loss curve"),
    "gradients": ("Gradients through time", "backpropagation, vanishing and exploding"),
    "share": ("Share and export", "the link to this exact view, the charts' image format, downloads"),
}


def chapter_title(name: str) -> str:
    """A closed chapter's title: its heading in bold, then what is inside."""
    heading, inside = CHAPTERS[name]
    return f"**{heading}** — {inside}"


NoticeKind = Literal["info", "warning", "error"]


@dataclass
class Notice:
    kind: NoticeKind
    text: str  # shown as text, never as markdown: it may quote a link or a file name


@dataclass
class GridMemory:
    """An editable grid between reruns: the table the editor starts from, a version that gives the
    editor a fresh key when the table is replaced, and the last values that parsed."""

    name: str  # the editor's key starts with it
    base: pd.DataFrame
    values: np.ndarray
    version: int = 0

    @property
    def editor_key(self) -> str:
        return f"{self.name}_editor_{self.version}"

    def replace_base(self, base: pd.DataFrame, values: np.ndarray) -> None:
        """A new table for the editor (a new key: the editor's own edits start afresh)."""
        self.base, self.values, self.version = base, values, self.version + 1


@dataclass
class Player:
    playing: bool = False
    tick: int = 0  # the step shown by the next tick
    pending_step: int | None = None  # applied to the slider before it is drawn (set when play stops)
    known_steps: int = 0  # the number of steps at the last run (to follow the last step when it grows)
    started: float | None = None  # a play drawn by the browser: when (monotonic) its step 0 was shown


@dataclass
class Training:
    """The training section between reruns (app/sections/training.py)."""

    owner: str = ""  # this session's name at the engine (one job per owner)
    job_id: str | None = None  # the engine's "train" job while one runs
    job_key: str = ""  # the job's key for train_settings (a new one per job)
    data_key: str = ""  # what the job trains on (inputs, targets, sizes, activation): an edit stops it
    applied: int = -1  # the job's step count last applied to the page
    before: dict[str, np.ndarray] | None = None  # the explicit weights before this run ("Reset")
    start_losses: list[float] = field(default_factory=list)  # the run's losses before this job
    losses: list[float] = field(default_factory=list)  # the run so far: before training, then each step
    opt: Any = None  # rnn_core.training.OptState to continue the run
    status: str = ""  # "", "running", "paused", "done", "diverged", "reached"
    runs: list[list[float]] = field(default_factory=list)  # earlier runs' losses (the last few)
    widget_settings: Any = None  # the settings the training widgets were last set from or read as
    queued: int | None = None  # the job waits for a training slot: how many wait before it (None: runs)
    unshown: bool = False  # the job reported weights that the page's charts do not show yet
    full_at: float = 0.0  # time.monotonic() of the page's last full run


@dataclass
class Behind:
    """A value a student's browser was seen showing that its page no longer holds."""

    value: Any
    first: float  # time.monotonic() when first seen
    last: float  # ... and last
    resent: int = 0  # how often the page reran to send the page's value again


@dataclass
class ClassSeat:
    """This session's place in a class (app/sections/classroom.py). The teacher key lives only here
    (and in the teacher's own link); a student has a random anonymous client id instead."""

    code: str
    teacher_key: str | None = None  # set: this session is the teacher
    client_id: str = ""  # a student's id in the store (random, per browser session)
    following: bool = True  # a student shows the teacher's snapshot
    version: int = 0  # the snapshot version last taken
    snapshot: dict[str, Any] | None = None  # the teacher's last snapshot taken
    loaded: str | None = None  # the teacher's state token now in this page
    pending: bool = False  # the snapshot is loaded into the page at the start of the next run
    baseline: Any = None  # the page's state key right after a load: a change means the student edited
    last_beat: float = 0.0  # time.monotonic() of the last heartbeat
    published: str | None = None  # teacher: the JSON of the last snapshot published
    revealed: list[str] = field(default_factory=list)  # teacher: questions revealed, in order
    lesson: tuple[str | None, int | None, str | None] = (None, None, None)  # teacher: lesson, step, question
    answered: dict[str, Any] = field(default_factory=dict)  # student: question id -> the answer sent
    widgets: dict[str, Any] = field(
        default_factory=dict
    )  # student: widget values at the end of the last full run
    behind: dict[str, Behind] = field(default_factory=dict)  # student: widget key -> the stale value its
    # browser shows (app/sections/classroom.py _browser_behind)


@dataclass
class Memory:
    initialized: bool = False
    notices: list[Notice] = field(default_factory=list)
    grids: dict[str, GridMemory] = field(default_factory=dict)
    weights: dict[str, np.ndarray] = field(default_factory=dict)  # explicit weights of the state
    targets: np.ndarray | None = None
    training_state: Any = None  # the state's training settings, kept as loaded
    last_result: Any = None  # weakref.ref to the last app.compute.Result (app/sections/results.py)
    player: Player = field(default_factory=Player)
    classroom: ClassSeat | None = None  # in a class (app/sections/classroom.py)
    class_client_id: str = ""  # this browser's anonymous id in classes (its cookie, or made on first join)
    class_cookie_written: bool = False  # the id was put into this browser's cookie
    class_link_read: bool = False  # ?class= and ?teacher= are read on the first run only
    good_widgets: dict[str, Any] = field(default_factory=dict)  # the last value of each that passed
    drawn_image_format: str | None = None  # the camera format the page's charts were last drawn with
    training: Training = field(default_factory=Training)
    target_task: str = ""  # the task preset the targets were last filled from ("" : typed)
    lesson: Any = None  # app.sections.lesson.LessonMemory: the open lesson, its step and answers
    pinned: Any = None  # rnn_core.state.State of network A while comparing (app/sections/compare.py)
    weights_undo: tuple[str, dict] | None = None  # (what replaced them, the explicit weights before)
    weights_seed: tuple | None = None  # (seed, weight scale) the explicit weights were set under
    results_only: bool = False  # nothing but the results depends on the seed now (app/main.py)
    numbers_edited: bool = False  # a numbers edit asked for a results-only rerun (app/sections/sidebar.py)
    results_state: Any = None  # the State the last results-only rerun drew (None: the full run's)
    charts_preloaded: bool = False  # plotly.js was asked for on the first run (app/components/charts/)
    view_free: bool = False  # a step or neuron pick may rerun only the explanation (app/main.py)
    view_picked: bool = False  # such a pick asked for it (app/sections/hidden.py view_picked)
    view_clicked: bool = False  # a click on a cell asked for it (the controls show the clicked cell)
    rows_free: bool = False  # a row pick may too: the charts hold every row's row view
    in_browser: dict[str, int] = field(default_factory=dict)  # PICKER_KEYS drawn for the browser alone
    # (on_change="ignore": app/sections/hidden.py view_controls) -> their count of values
    view_below: bool = False  # the last full run drew the row and neuron outside the results part
    drawn_key: str = ""  # the numbers key of the network the results part last drew (app/main.py)
    frames_key: str = ""  # the network whose every step the charts hold (a pick asked for it)
    looked: bool = False  # a pick was made in the network frames_key names (app/main.py carries it)
    pickers_show: dict[str, Any] = field(default_factory=dict)  # PICKER_KEYS' values the pickers show
    pickers_behind: dict[str, Any] = field(default_factory=dict)  # picker key -> a value the browser
    # shows that the page does not hold, found by this timer's run (hidden.view_picked; read by a class's
    # follow part, app/sections/classroom.py)

    def begin_full_run(self) -> None:
        """A run of the whole page begins: what a results-only rerun left is void (also when Streamlit
        turned a results-only request into a full run); the run's end says whether the next may be."""
        self.results_only = self.numbers_edited = False
        self.view_free = self.view_picked = self.view_clicked = self.rows_free = False
        self.in_browser = {}  # (this run's controls say, if it draws them: hidden.view_controls)
        self.view_below = False  # (the gradients say, if this run draws them: app/main.py)
        self.results_state = None
        self.pickers_behind = {}


def pickers_drawn(*keys: str) -> None:
    """The pickers were drawn (or, with keys, the reader moved these): they show these values now."""
    memory().pickers_show |= {key: get(key) for key in keys or PICKER_KEYS}


def pickers_show_the_view() -> bool:
    """Do the pickers show the view the page holds (nothing else changed it without redrawing them)?
    A control drawn for the browser alone shows the value the run brought: the reader moved it."""
    mem = memory()
    mem.pickers_show |= {key: get(key) for key in mem.in_browser}
    return mem.pickers_show == {key: get(key) for key in PICKER_KEYS}


def a_timers_run() -> bool:
    """Is this the run of a part's timer (a class's follow part, a play's tick, training's poll),
    rather than of the reader's pickers or of the whole page? A timer's request carries every widget
    value the browser holds, and one it held from before the page's last run (a teacher's snapshot
    that moved the view) reads as a change: a pick's callback in such a run is not the reader's. A run
    with the follow part in it is one (Streamlit merges requests that arrive during a run: a pick's
    with the timer's, which the follow part then undoes, app/sections/classroom.py)."""
    ctx = get_script_run_ctx()
    if ctx is None or not ctx.fragment_ids_this_run:
        return False
    ran = set(ctx.fragment_ids_this_run)
    if _ids(ctx, FOLLOW_FRAGMENT) & ran:
        return True
    return not _ids(ctx, CONTROLS_FRAGMENT) & ran


def _ids(ctx, key: str) -> set[str]:
    try:
        return set(ctx.fragment_storage.resolve_target(key))
    except StreamlitAPIException:  # (no such part on the page)
        return set()


def rerun_view() -> None:
    """From a callback that changes the view (step, row, neuron) other than through the pickers: rerun
    the pickers (they show it) and the results part (app/main.py: the pickers are a part of their own,
    which an edit does not rerun). While the page shows the row and neuron below those parts too (the
    gradients chapter explains the picked cell's gradient: Memory.view_below), the whole page."""
    if memory().view_below:
        st.rerun()
    rerun_parts(CONTROLS_FRAGMENT, RESULTS_FRAGMENT)


def rerun_parts(*keys: str) -> None:
    """From a widget's callback: rerun only the page's parts (keyed fragments) with these keys instead
    of what the widget would rerun; nothing when one of them is not on the page."""
    with contextlib.suppress(StreamlitAPIException):
        st.rerun(list(keys))


def memory() -> Memory:
    ss = st.session_state
    if MEMORY_KEY not in ss:
        ss[MEMORY_KEY] = Memory()
    return ss[MEMORY_KEY]


def notify(kind: NoticeKind, text: str) -> None:
    memory().notices.append(Notice(kind, text))


def take_notices() -> list[Notice]:
    mem = memory()
    notices, mem.notices = mem.notices, []
    return notices


# ---- widget values ---------------------------------------------------------------------------------


def get(key: str, default: Any = None) -> Any:
    return st.session_state.get(key, default)


def put(key: str, value: Any) -> None:
    st.session_state[key] = value


def keep(keys: Iterable[str]) -> None:
    """Keep the values of widgets this run does not draw (Streamlit forgets them otherwise): a value
    written through the session state stays until its widget is drawn again."""
    for key in keys:
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]


def chapter_key(name: str) -> str:
    """The widget key of a chapter's expander (True: open)."""
    return f"open_{name}"


def widget_values() -> dict[str, Any]:
    """The state's scalar fields as the widgets hold them, cast to the field's type."""
    ss = st.session_state
    casts = {int: int, float: float, bool: bool, str: str}
    values = {}
    for name in WIDGET_FIELDS:
        default = State.__dataclass_fields__[name].default
        values[name] = casts.get(type(default), lambda v: v)(ss.get(name, default))
    return values


def check_widgets() -> None:
    """Before any widget is drawn: every value the session holds for the state's fields and the sizes
    passes the same checks as a state file (rnn_core.state's Spec, rnn_core.config's limits). A value
    that does not (a crafted message may send anything) is put back to the last good one, with a notice."""
    ss = st.session_state
    mem = memory()
    for name in WIDGET_FIELDS:
        if name in ss:
            try:
                SPECS[name].parse(ss[name], {})
            except (StateError, TypeError, ValueError, OverflowError) as err:
                good = mem.good_widgets.get(name, State.__dataclass_fields__[name].default)
                del ss[name]  # the widget's stored state too, not only the value read from it
                ss[name] = good
                notify("warning", f"{err}; kept {good!r}.")
                continue
            mem.good_widgets[name] = ss[name]
    for key in SIZE_KEYS:
        if key in ss:
            try:
                mem.good_widgets[key] = check_size(key, ss[key])
            except (StateError, TypeError, ValueError, OverflowError) as err:
                ss[key] = mem.good_widgets.get(key, LIMITS[key][0])
                notify("warning", f"{err}; kept {ss[key]!r}.")
    if not isinstance(ss.get(VIEW_KEYS["present"], False), bool):
        ss[VIEW_KEYS["present"]] = False


def load_widgets(state: State) -> None:
    """The state's scalar fields, sizes and view into their widget keys."""
    ss = st.session_state
    for name in WIDGET_FIELDS:
        ss[name] = getattr(state, name)
    for key, size in zip(SIZE_KEYS, state.inputs.shape, strict=True):
        ss[key] = int(size)
    for name, key in VIEW_KEYS.items():
        ss[key] = getattr(state.view, name)


def view(n_steps: int, batch: int, n_neurons: int) -> View:
    """The view the widgets hold, kept inside the current sizes."""
    ss = st.session_state
    return View(
        step=_within(ss.get(VIEW_KEYS["step"]), n_steps),
        row=_within(ss.get(VIEW_KEYS["row"]), batch),
        neuron=_within(ss.get(VIEW_KEYS["neuron"]), n_neurons),
        present=bool(ss.get(VIEW_KEYS["present"], False)),
    )


def _within(value: Any, count: int) -> int:
    try:
        index = int(value)
    except (TypeError, ValueError, OverflowError):
        return 0
    return min(max(index, 0), count - 1)
