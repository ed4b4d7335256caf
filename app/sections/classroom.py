"""A class on the page (issue 15): start one, join it, follow the teacher, pool the answers.

Who is who, all in this session's `page_state.memory().classroom` (a ClassSeat):
- the teacher: the session that pressed "Start a class", or opened the teacher link
  (`?class=CODE&teacher=KEY`; the key is taken out of the address bar at once and kept only in the
  session). Its page publishes a snapshot (the state's link token, the view, the lesson position,
  the revealed questions) at the end of every run in which that snapshot changed.
- a student: `?class=CODE`, or a code typed in the sidebar. A random anonymous client id; no name.
  A small fragment checks `store.version(code)` once a second and only on a new version fetches the
  snapshot and reruns the page once, which loads it before any widget is drawn. Changing anything
  detaches ("Explore on my own"); "Back to the class" loads the teacher's snapshot again.

The lesson section plugs its questions in with four calls: `lesson_position` (teacher: where the
class is), `followed_lesson` (student: where the teacher is), `submit_answer` and `revealed`, and it
draws `question_panel` under a question (the teacher's live distribution and "Reveal to the class").
The store enforces who may do what; the page offers teacher controls only with a valid key.
"""

from __future__ import annotations

import dataclasses
import html
import io
import json
import time
from typing import Any

import plotly.graph_objects as go
import segno
import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from app.classroom import (
    CLASS_TTL_S,
    ClassNotFound,
    ClassroomError,
    ClassStore,
    Distribution,
    NotTeacher,
    StoreUnavailable,
    format_code,
    new_client_id,
    normalize_code,
    open_store,
    valid_client_id,
)
from rnn_core.state import WIDGET_FIELDS, State, StateError, decode_link, numbers_key

from .. import page_state, pushes, session
from ..page_state import VIEW_KEYS, Behind, ClassSeat
from ..text import plain

CLIENT_COOKIE = "rnn_class_client"  # this browser's anonymous id in classes (app/classroom/codes.py)
FOLLOW_EVERY_S = 0.75  # a student's check for the teacher's next change (~4 ms each: bench/class_follow.py)
HEARTBEAT_EVERY_S = 3.0  # the store counts a student connected for 10 s after a heartbeat
BEHIND_S = 2.5  # a browser still showing a value this long after its follow timer first showed it: resent
FORGET_BEHIND_S = 30.0  # a stale value not seen again for this long is forgotten
MAX_RESENDS = 2  # a value sent again that often and still stale is on no widget of the page: left
# (with pushes, app/pushes.py, a student's follow part runs at the teacher's changes and beats in between)
TEACHER_EVERY_S = 2.0  # the teacher's live counts and distribution
MAX_REVEALED = 100  # revealed question ids carried in a snapshot (the newest)
JOIN_CODE_KEY = "class_join_code"  # the sidebar's "join with a code" box
PANEL_KEY = "class_panel"  # the sidebar's Class box while not in a class (open: its buttons are drawn)
SHOW_JOIN_KEY = "class_show_join"  # the teacher's "show the join code on the page" toggle


# ---- the store: one per server process -------------------------------------------------------------


@st.cache_resource(show_spinner=False)
def class_store() -> ClassStore:
    return open_store()


def _store() -> ClassStore | None:
    try:
        return class_store()
    except (ValueError, ClassroomError, OSError) as err:  # a bad RNN_CLASS_STORE: the page still works
        page_state.notify("error", f"Classes are not available on this server: {err}")
        return None


def _seat() -> ClassSeat | None:
    return page_state.memory().classroom


def _client_id() -> str:
    """This browser's anonymous id in classes: the one its cookie holds (a reload, a second tab), or a
    new random one, which `remember_browser` then writes into the cookie."""
    mem = page_state.memory()
    if not mem.class_client_id:
        held = _cookie()
        mem.class_client_id = held if held is not None and valid_client_id(held) else new_client_id()
    return mem.class_client_id


def _cookie() -> str | None:
    """The client id cookie the browser sent with this session (a reload, another tab), if any."""
    try:
        return st.context.cookies.get(CLIENT_COOKIE)
    except Exception:  # (no browser request: a test harness)
        return None


def remember_browser() -> None:
    """Once per session in a class: the client id into a cookie of this site (12 h, the longest a class
    lasts), so that a reload is the same student (one answer each), not a new one. The id is made here
    (URL-safe base64: nothing to escape), never taken from the page."""
    mem = page_state.memory()
    client_id = mem.class_client_id
    if mem.class_cookie_written or not valid_client_id(client_id):
        return
    mem.class_cookie_written = True
    if _cookie() == client_id:
        return
    script = (
        f"<script>document.cookie = '{CLIENT_COOKIE}={client_id}; max-age={CLASS_TTL_S}; path=/; "
        "SameSite=Strict';</script>"
    )
    st.html(script, unsafe_allow_javascript=True, width="content")


def _leave(kind: page_state.NoticeKind, text: str) -> None:
    page_state.memory().classroom = None
    page_state.notify(kind, text)


def _base_url() -> str:
    return (st.context.url or "").split("?")[0].split("#")[0]


def join_link(code: str) -> str:
    return f"{_base_url()}?class={code}"


def teacher_link(code: str, key: str) -> str:
    return f"{_base_url()}?class={code}&teacher={key}"


# ---- arriving: the link, and a snapshot the follower fetched -----------------------------------------


def arrive():
    """At the top of every run, before any widget: on the first run, the class in the link; then, for
    a following student, the teacher's newest snapshot, loaded into the page. Returns the container
    for the class bar (filled by `class_section`)."""
    mem = page_state.memory()
    if not mem.class_link_read:
        mem.class_link_read = True
        _read_link()
    seat = mem.classroom
    if seat is not None and seat.teacher_key is None:
        if seat.following:
            _keep_what_the_browser_missed(seat)
        _check_for_update(seat)  # a full run takes a new version here: no extra rerun
        if seat is mem.classroom and seat.pending:
            _load_snapshot(seat)
    return st.container()


def _read_link() -> None:
    code = st.query_params.get("class")
    key = st.query_params.get("teacher")
    if key is not None:
        del st.query_params["teacher"]  # never left in the address bar
    if code is None:
        if key is not None:
            page_state.notify("warning", "A teacher key without a class code was ignored.")
        return
    if key is not None:
        become_teacher(code, key)
    else:
        join(code)


def join(text: str) -> bool:
    """Join the class `text` names (a typed or linked code) as a student; False with a notice if not."""
    canonical = normalize_code(text)
    if canonical is None:
        shown = text if len(text) <= 40 else text[:40] + "…"
        page_state.notify(
            "warning",
            f"“{shown}” is not a class code (9 letters and digits, like ABCD-EFGHJ). "
            "Showing the page on its own.",
        )
        return False
    store = _store()
    if store is None:
        return False
    client_id = _client_id()
    try:
        store.join(canonical, client_id, address=st.context.ip_address)
        version, snapshot = store.current(canonical)
        store.heartbeat(canonical, client_id, True)
    except ClassroomError as err:
        page_state.notify("warning", f"{err} Showing the page on its own.")
        return False
    seat = ClassSeat(code=canonical, client_id=client_id, version=version, last_beat=time.monotonic())
    seat.snapshot, seat.pending = snapshot, snapshot is not None
    page_state.memory().classroom = seat
    page_state.notify("info", f"You joined class {format_code(canonical)}: your page follows the teacher's.")
    return True


def become_teacher(text: str, key: str) -> None:
    """The teacher link: a valid key makes this session the teacher (the class's current view is
    loaded); a wrong one joins as a student, with a notice."""
    canonical = normalize_code(text)
    store = _store()
    if canonical is None or store is None:
        join(text)
        return
    try:
        store.presence(canonical, key)  # the store checks the key
        version, snapshot = store.current(canonical)
    except NotTeacher:
        page_state.notify(
            "warning",
            f"This teacher link is not valid for class {format_code(canonical)}: "
            "only the teacher's own link opens the teacher's controls.",
        )
        join(canonical)
        return
    except ClassroomError as err:
        page_state.notify("warning", f"{err} Showing the page on its own.")
        return
    seat = ClassSeat(code=canonical, teacher_key=key, version=version)
    page_state.memory().classroom = seat
    if snapshot is not None:  # back on another device or tab: where the class was
        seat.snapshot, seat.pending = snapshot, True
        revealed = snapshot.get("revealed")
        seat.revealed = [q for q in revealed if isinstance(q, str)] if isinstance(revealed, list) else []
        _load_snapshot(seat)
    page_state.notify("info", f"You are the teacher of class {format_code(canonical)}.")


def _check_for_update(seat: ClassSeat) -> bool:
    """A student's check: one version read; on a new version the snapshot. True when the page must
    rerun (a following student, or a detached one whose revealed questions changed)."""
    store = _store()
    if store is None:
        return False
    try:
        if store.version(seat.code) == seat.version:
            return False
        version, snapshot = store.current(seat.code)
    except ClassNotFound:
        _leave("info", f"Class {format_code(seat.code)} has ended. Your page stays as it is.")
        return True
    except ClassroomError:  # the store is unreachable for a moment: try again at the next check
        return False
    old = seat.snapshot or {}
    seat.version, seat.snapshot = version, snapshot
    if snapshot is None:
        return False
    if seat.following:
        seat.pending = True
        return True
    return snapshot.get("revealed") != old.get("revealed") or snapshot.get("question") != old.get("question")


def _load_snapshot(seat: ClassSeat) -> None:
    """The teacher's network and view into this page (the student keeps their own presentation mode)."""
    seat.pending, seat.baseline = False, None
    snapshot = seat.snapshot or {}
    token = snapshot.get("state")
    if not isinstance(token, str) or token == seat.loaded:
        return
    try:
        state = decode_link(token)
    except StateError as err:
        page_state.notify("warning", f"The teacher's network could not be opened ({err}).")
        return
    present = bool(page_state.get(VIEW_KEYS["present"], False))
    view = dataclasses.replace(state.view, present=present)
    session.load(state.with_changes(view=view))
    for name, key in VIEW_KEYS.items():  # exactly the teacher's step, row and neuron
        page_state.put(key, getattr(view, name))
    player = page_state.memory().player
    player.playing, player.known_steps = False, int(state.inputs.shape[0])
    seat.loaded = token


# ---- the class on the page: sidebar panel, class bar, live fragments ----------------------------------


def class_section(bar, state: State, present: bool) -> None:
    """The sidebar's Class panel, and the class bar at the top of the page (`bar`, from `arrive`)."""
    seat = _seat()
    sidebar_panel(seat)
    seat = _seat()
    if seat is None:
        if "class" in st.query_params:
            del st.query_params["class"]
        return
    if st.query_params.get("class") != seat.code:
        st.query_params["class"] = seat.code  # a reload joins again (the key is never in the URL)
    with bar:
        if seat.teacher_key is not None:
            teacher_bar(seat, present)
        else:
            remember_browser()  # a reload is the same student (one answer each)
            student_bar(seat, state)


def sidebar_panel(seat: ClassSeat | None) -> None:
    """The sidebar's Class box. Out of a class it is closed, and its buttons are drawn only once it is
    opened (as a chapter's content, app/components/chapter.py): every page that never starts or joins
    a class by hand (a student comes by the join link) is 3 widgets lighter, ~1 ms of each full run."""
    if seat is None:
        box = st.sidebar.expander("Class", key=PANEL_KEY, on_change="rerun")
        if not box.open:
            page_state.keep((JOIN_CODE_KEY,))  # (a code typed, the box closed and opened again)
            return
        box.button(
            "Start a class",
            on_click=start_class,
            width="stretch",
            help="Students join with a code and their pages follow yours.",
        )
        box.text_input("Join a class", key=JOIN_CODE_KEY, placeholder="ABCD-EFGHJ", max_chars=32)
        box.button("Join", on_click=join_typed, width="stretch")
        return
    box = st.sidebar.expander("Class", expanded=True)
    box.markdown(f"Class **{format_code(seat.code)}**")
    if seat.teacher_key is None:
        box.button("Leave the class", on_click=leave_class, width="stretch")
        return
    box.caption("Join link for students:")
    box.code(join_link(seat.code), language=None, wrap_lines=True)
    box.toggle("Show the join code on the page", value=True, key=SHOW_JOIN_KEY)
    with box.expander("Your teacher link (private)"):
        st.caption(
            "Opens your teacher controls on another device or after closing this tab. "
            "Never share it: it can reveal answers and end the class."
        )
        st.code(teacher_link(seat.code, seat.teacher_key), language=None, wrap_lines=True)
    box.button("End the class", on_click=end_class, width="stretch", type="primary")


def start_class() -> None:
    store = _store()
    if store is None:
        return
    try:
        code, key = store.create_class()
    except ClassroomError as err:
        page_state.notify("error", str(err))
        return
    page_state.memory().classroom = ClassSeat(code=code, teacher_key=key)
    page_state.notify(
        "info", f"Class {format_code(code)} started: students join with the code, the link or the QR code."
    )


def join_typed() -> None:
    text = page_state.get(JOIN_CODE_KEY, "")
    if isinstance(text, str) and text.strip():
        join(text)


def leave_class() -> None:
    seat = _seat()
    if seat is not None:
        _leave("info", f"You left class {format_code(seat.code)}.")


def end_class() -> None:
    seat, store = _seat(), _store()
    if seat is None or seat.teacher_key is None or store is None:
        return
    try:
        store.end(seat.code, seat.teacher_key)
    except ClassNotFound:
        pass
    except ClassroomError as err:
        page_state.notify("error", str(err))
        return
    _leave("info", f"Class {format_code(seat.code)} has ended.")


def detach() -> None:
    seat = _seat()
    if seat is not None:
        seat.following = False
        _beat(seat, force=True)


def reattach() -> None:
    seat = _seat()
    if seat is not None:
        seat.following, seat.loaded, seat.pending = True, None, True
        seat.version = -1  # fetch the newest snapshot at the start of the run
        _beat(seat, force=True)


def _beat(seat: ClassSeat, force: bool = False) -> None:
    now = time.monotonic()
    if not force and now - seat.last_beat < HEARTBEAT_EVERY_S:
        return
    store = _store()
    if store is None:
        return
    try:
        store.heartbeat(seat.code, seat.client_id, seat.following)
        seat.last_beat = now
    except ClassNotFound:
        _leave("info", f"Class {format_code(seat.code)} has ended. Your page stays as it is.")
    except ClassroomError:
        pass  # the next beat retries


# ---- a student's bar and the follower ---------------------------------------------------------------


def _page_key(state: State) -> str:
    """What a student's own edit changes (a view pick does not detach: the next snapshot sets it)."""
    return numbers_key(state)


def student_bar(seat: ClassSeat, state: State) -> None:
    if seat.following:
        key = _page_key(state)
        if seat.baseline is None:
            seat.baseline = key
        elif key != seat.baseline:  # the student changed something: it is theirs alone now
            seat.following = False
            _beat(seat, force=True)
    text, button = st.columns([4, 1], vertical_alignment="center")
    code = format_code(seat.code)
    if seat.following:
        text.markdown(f"**Class {code}**: your page follows the teacher's (update {seat.version}).")
        button.button("Explore on my own", on_click=detach, width="stretch")
    else:
        text.markdown(
            f"**Class {code}**: you are exploring on your own; the teacher's changes are not applied."
        )
        button.button("Back to the class", on_click=reattach, width="stretch", type="primary")
    every = HEARTBEAT_EVERY_S if pushes.live() else FOLLOW_EVERY_S
    st.fragment(_follow, run_every=every, key=page_state.FOLLOW_FRAGMENT)()


def _follow() -> None:
    """At each change of the class (a push: app/pushes.py) and on its timer: one version read (and a
    heartbeat every few seconds); the page reruns only when the teacher changed something this page
    shows. Without pushes (AppTest) the timer is the check, every FOLLOW_EVERY_S."""
    seat = _seat()
    if seat is None or seat.teacher_key is not None:
        return
    store = _store()
    if store is not None:
        pushes.watch(seat.code, seat.version, store.version)
    behind = _fragment_run() and _browser_behind(seat, browsers_values=not pushes.took_push())
    if _check_for_update(seat) or seat.pending or behind:  # (pending: a rerun asked for earlier was lost)
        st.rerun()
    _beat(seat)
    if _seat() is None:
        st.rerun()


def _browser_behind(seat: ClassSeat, browsers_values: bool) -> bool:
    """In the follow part's own run. A browser's timer sends it with every widget value the browser
    holds, and Streamlit applies them. A value other than the page's is not the student's edit (an
    edit reruns the whole page first): the browser is behind. Either the timer fired while the page's
    run with the teacher's snapshot was on its way, or that run's values never reached it (at 200
    students some pages never showed a change; likely Streamlit dropping what a run left unsent when
    the next run of the whole page starts: docs/PERFORMANCE.md). Each such value is put back
    (the view's pickers were put back by their callback, hidden.view_picked, which knows the student's
    own picks) and noted in `seat.behind`; a run with the browser's values (`browsers_values`: a
    timer's, not a push's) that shows the page's value ends the note. True when one has been shown
    for BEHIND_S: the page reruns, and its widgets send their values again (a page rerun for a value
    on its way would cost the server a run per student at every change when it is busiest), at most
    MAX_RESENDS times."""
    now, mem = time.monotonic(), page_state.memory()
    shown = {key: page_state.get(key) for key, value in seat.widgets.items() if page_state.get(key) != value}
    shown |= mem.pickers_behind
    mem.pickers_behind = {}
    for key in shown.keys() & seat.widgets.keys():
        page_state.put(key, seat.widgets[key])
    old = {
        key: seen
        for key, seen in seat.behind.items()
        if now - seen.last < FORGET_BEHIND_S and (key in shown or not browsers_values)
    }  # (a run without the browser's values, a push's, says nothing of keys not shown stale in it)
    seat.behind = old | {
        key: old[key] if key in old and old[key].value == value else Behind(value, now, now)
        for key, value in shown.items()
    }
    stale = [seat.behind[key] for key in shown]
    resend = [seen for seen in stale if now - seen.first >= BEHIND_S and seen.resent < MAX_RESENDS]
    for seen in resend:  # (sent again and still shown: no widget of the page shows it; a client's own)
        seen.resent += 1
    for seen in stale:
        seen.last = now
    return bool(resend)


def _keep_what_the_browser_missed(seat: ClassSeat) -> None:
    """At the start of a following student's full run: a value its browser is still known to show
    stale (seat.behind: no timer's run since showed it the page's) came with this run's request
    (Streamlit merges a timer's request into a run of the whole page asked for while it waited): not
    the student's edit either. Put back, and sent again. (Once the browser showed the page's value, the
    same old value typed again is the student's.)"""
    for key, seen in seat.behind.items():
        if key in seat.widgets and page_state.get(key) == seen.value != seat.widgets[key]:
            page_state.put(key, seat.widgets[key])


def _fragment_run() -> bool:
    """This run is the fragment's own (its timer), not the whole page (where it runs inline)."""
    ctx = get_script_run_ctx()
    return bool(ctx is not None and ctx.fragment_ids_this_run)


def _remember_widgets(seat: ClassSeat) -> None:
    keys = (*WIDGET_FIELDS, *page_state.SIZE_KEYS)  # (not the view: a student's pick reruns a part)
    seat.widgets = {key: page_state.get(key) for key in keys}


# ---- the teacher's bar --------------------------------------------------------------------------------


@st.cache_data(max_entries=32, show_spinner=False)
def qr_png(url: str) -> bytes:
    """The join link as a QR code, a PNG (segno writes it without Pillow)."""
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="png", scale=10, border=2)
    return out.getvalue()


def teacher_bar(seat: ClassSeat, present: bool) -> None:
    assert seat.teacher_key is not None
    code = format_code(seat.code)
    if page_state.get(SHOW_JOIN_KEY, True):
        link = join_link(seat.code)
        words, qr = st.columns([3, 1], vertical_alignment="center")
        size = 88 if present else 56
        words.html(
            f'<div style="font-size:{size // 3}px">Join the class with the code</div>'
            f'<div style="font-size:{size}px;font-weight:700;letter-spacing:0.08em;'
            f'font-family:monospace">{html.escape(code)}</div>'
            f'<div style="font-size:{size // 3}px;word-break:break-all">{html.escape(link)}</div>'
        )
        qr.image(qr_png(link), caption="Scan to join", width=260 if present else 180)
    st.fragment(_teacher_counts, run_every=TEACHER_EVERY_S)()


def _teacher_counts() -> None:
    seat, store = _seat(), _store()
    if seat is None or seat.teacher_key is None or store is None:
        return
    try:
        presence = store.presence(seat.code, seat.teacher_key)
    except ClassNotFound:
        _leave("info", f"Class {format_code(seat.code)} has ended (a class lasts at most 12 hours).")
        st.rerun()
    except ClassroomError as err:
        st.caption(plain(str(err)))
        return
    st.markdown(
        f"**Class {format_code(seat.code)}**: {presence.connected} students connected, "
        f"{presence.following} following your page ({presence.joined} joined)."
    )


def end_of_page(state: State) -> None:
    """At the end of every full run. The teacher's page publishes its snapshot when it changed since
    the last one published; a student's page remembers its widget values (see _undo_stale_widgets)."""
    seat, store = _seat(), _store()
    if seat is None or store is None:
        return
    if seat.teacher_key is None:
        _remember_widgets(seat)
        return
    token = session.link_text(state)  # (encoded once per change, as the page's own link)
    lesson, lesson_step, question = seat.lesson
    snapshot = {
        "state": token,
        "view": {"step": state.view.step, "row": state.view.row, "neuron": state.view.neuron},
        "lesson": lesson,
        "lesson_step": lesson_step,
        "question": question,
        "revealed": seat.revealed[-MAX_REVEALED:],
    }
    text = json.dumps(snapshot, sort_keys=True)
    if text == seat.published:
        return
    try:
        seat.version = store.publish(seat.code, seat.teacher_key, snapshot)
    except ClassNotFound:
        _leave("info", f"Class {format_code(seat.code)} has ended (a class lasts at most 12 hours).")
        return
    except StoreUnavailable as err:
        st.error(plain(str(err)))  # published again at the next run
        return
    except ClassroomError as err:
        st.warning(plain(f"The class keeps the last network you shared: {err}"))
    seat.published = text


# ---- the lesson's questions ---------------------------------------------------------------------------


def _qid(question_id: str) -> str:
    """A lesson's question id ("lesson/step") as the store spells ids (no "/")."""
    return question_id.replace("/", ":")


def in_class() -> bool:
    return _seat() is not None


def is_teacher() -> bool:
    seat = _seat()
    return seat is not None and seat.teacher_key is not None


def lesson_position(lesson: str | None, step: int | None, question_id: str | None) -> None:
    """The lesson section, on every run: what it shows. On the teacher's page it goes into the snapshot."""
    seat = _seat()
    if seat is not None and seat.teacher_key is not None:
        seat.lesson = (lesson, step, question_id)


def followed_lesson() -> tuple[str | None, int | None] | None:
    """On a following student's page: the teacher's (lesson, step), which the lesson section shows
    (set its widgets to them before drawing them); None when not following a class."""
    seat = _seat()
    if seat is None or seat.teacher_key is not None or not seat.following or not seat.snapshot:
        return None
    lesson, step = seat.snapshot.get("lesson"), seat.snapshot.get("lesson_step")
    return (
        lesson if isinstance(lesson, str) else None,
        step if isinstance(step, int) and not isinstance(step, bool) else None,
    )


def submit_answer(question_id: str, answer: dict[str, Any]) -> str | None:
    """A student's answer into the class's pool: {"choice": i}, {"number": x} or {"cell": [row, neuron]}.
    None when it was taken (or there is no class: nothing to do), else a message to show as text."""
    seat, store = _seat(), _store()
    if seat is None or seat.teacher_key is not None or store is None:
        return None
    try:
        store.answer(seat.code, seat.client_id, _qid(question_id), answer)
    except ClassroomError as err:
        return str(err)
    seat.answered[question_id] = answer
    return None


def revealed(question_id: str) -> bool | None:
    """In a class: whether the teacher has revealed this question (the lesson shows the right answer
    only then). None outside a class (the lesson decides by itself)."""
    seat = _seat()
    if seat is None:
        return None
    if seat.teacher_key is not None:
        return _qid(question_id) in seat.revealed
    found = (seat.snapshot or {}).get("revealed")
    return isinstance(found, list) and _qid(question_id) in found


def reveal(question_id: str) -> None:
    """The teacher: close the question; the next snapshot shows its answer on every following page."""
    seat, store = _seat(), _store()
    if seat is None or seat.teacher_key is None or store is None:
        return
    question_id = _qid(question_id)
    try:
        store.reveal(seat.code, seat.teacher_key, question_id)
    except ClassroomError as err:
        page_state.notify("error", str(err))
        return
    if question_id not in seat.revealed:
        seat.revealed.append(question_id)


def question_panel(
    question_id: str, kind: str, choices: list[str] | None = None, rows: int = 0, neurons: int = 0
) -> None:
    """Under a lesson question. Teacher: how many answered and the distribution, live, and "Reveal to
    the class". Student: whether their answer is in; after the reveal, the class's pooled answers."""
    seat = _seat()
    if seat is None:
        return
    question_id = _qid(question_id)
    if seat.teacher_key is not None:
        st.fragment(_teacher_question, run_every=TEACHER_EVERY_S)(question_id, kind, choices, rows, neurons)
        return
    if revealed(question_id):
        store = _store()
        try:
            pooled = store.results(seat.code, question_id) if store else None
        except ClassroomError:
            pooled = None
        if pooled is not None:
            st.caption(f"The class's answers ({pooled.total}):")
            st.plotly_chart(
                distribution_figure(pooled, kind, choices, rows, neurons), key=f"class_{question_id}"
            )
    elif question_id in seat.answered:
        st.caption("Your answer is in the class's pool; you can change it until the teacher reveals it.")


def _teacher_question(
    question_id: str, kind: str, choices: list[str] | None, rows: int, neurons: int
) -> None:
    seat, store = _seat(), _store()
    if seat is None or seat.teacher_key is None or store is None:
        return
    try:
        pooled = store.distribution(seat.code, seat.teacher_key, question_id)
    except ClassroomError as err:
        st.caption(plain(str(err)))
        return
    done = question_id in seat.revealed
    st.markdown(f"**{pooled.total} answered**" + (" (revealed)" if done else " (not revealed yet)"))
    st.plotly_chart(distribution_figure(pooled, kind, choices, rows, neurons), key=f"class_{question_id}")
    if not done and st.button("Reveal to the class", key=f"reveal_{question_id}", type="primary"):
        reveal(question_id)
        st.rerun()  # the whole page (a click here reruns only this fragment): it publishes the reveal


def distribution_figure(
    pooled: Distribution, kind: str, choices: list[str] | None = None, rows: int = 0, neurons: int = 0
) -> go.Figure:
    """Bars for a choice, a histogram for a number, a heatmap of clicks for a cell."""
    if kind == "choice":
        labels = list(choices or [str(i) for i in range(max(pooled.choices, default=-1) + 1)])
        counts = [pooled.choices.get(i, 0) for i in range(len(labels))]
        fig = go.Figure(go.Bar(x=labels, y=counts, text=counts, textposition="auto"))
        fig.update_layout(yaxis_title="students")
    elif kind == "number":
        fig = go.Figure(go.Histogram(x=pooled.numbers, nbinsx=20))
        fig.update_layout(xaxis_title="answer", yaxis_title="students")
    else:
        n_rows = max(rows, 1 + max((r for r, _ in pooled.cells), default=0))
        n_cols = max(neurons, 1 + max((n for _, n in pooled.cells), default=0))
        z = [[pooled.cells.get((r, n), 0) for n in range(n_cols)] for r in range(n_rows)]
        fig = go.Figure(go.Heatmap(z=z, colorscale="Blues", zmin=0, colorbar={"title": "clicks"}))
        fig.update_layout(xaxis_title="neuron", yaxis_title="row", yaxis_autorange="reversed")
    fig.update_layout(height=260, margin={"l": 40, "r": 10, "t": 10, "b": 40}, meta=f"class-{kind}")
    return fig
