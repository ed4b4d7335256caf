"""Pushes to the pages in a class: one thread per server process reads the version of each class its
pages are in, every POLL_S, and when one changed it reruns each of those pages' follow part at once,
as that part's timer would (app/sections/classroom.py `_follow`).

Without it every student's page polled with its own timer: a fragment run of ~3.4 ms every 0.75 s,
which at 200 students on 2 replicas took 46% of a core per replica doing nothing but asking
(bench/class_follow.py). With it a class costs one store read per class per process every POLL_S, and
a page's timer only beats (the store's presence count) and catches what a push missed, every few
seconds. The push carries no widget values (a timer's request carries the browser's, stale when the
page reran just before: page_state.a_timers_run).

Streamlit has no public way to rerun a session from outside its own run: this asks its script
runner as `st.rerun` does, on the event loop, through Runtime's get_app_session and AppSession's
runner (private in Streamlit 1.67, as app/gc_policy.py's expired sessions are). Without a runtime
(AppTest) there are no pushes, and the pages poll as before (`live()` says which)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from streamlit.runtime.scriptrunner_utils.script_run_context import ThreadState, get_script_run_ctx

_LOG = logging.getLogger(__name__)

POLL_S = 0.2  # a teacher's change reaches the pages' follow parts within this (plus their reruns)
STALE_S = 12.0  # a page whose follow part has not run for this long is in no class any more

Version = Callable[[str], int]  # a class code -> its version (the store's; may raise)


@dataclass
class _Page:
    code: str
    fragment_id: str  # the page's follow part, where it was drawn when it called watch()
    query_string: str
    page_script_hash: str
    seen: float  # time.monotonic() of its follow part's last run


class _Watcher:
    def __init__(self, version: Version, push: Callable[[list[tuple[str, _Page]]], None]) -> None:
        self.version, self.push = version, push
        self.pages: dict[str, _Page] = {}  # by session id
        self.versions: dict[str, int] = {}  # by class code: the last version read
        self.lock = threading.Lock()

    def start(self) -> _Watcher:
        threading.Thread(target=self._forever, name="class-pushes", daemon=True).start()
        return self

    def watch(self, session_id: str, page: _Page, version: int) -> None:
        with self.lock:
            self.pages[session_id] = page
            self.versions.setdefault(page.code, version)

    def _forever(self) -> None:
        while True:
            time.sleep(POLL_S)
            try:
                self._once()
            except Exception:  # (a Streamlit upgrade that moved its internals: the timers still poll)
                _LOG.exception("class pushes failed")

    def _once(self) -> None:
        now = time.monotonic()
        with self.lock:
            for session_id in [sid for sid, page in self.pages.items() if now - page.seen > STALE_S]:
                del self.pages[session_id]
                with _pushed_lock:  # (a page gone before its pushed run: its mark goes too)
                    _pushed.discard(session_id)
            pages = dict(self.pages)
            for code in set(self.versions) - {page.code for page in pages.values()}:
                del self.versions[code]
            codes = list(self.versions)
        changed = set()
        for code in codes:
            try:
                version = self.version(code)
            except Exception:  # (a class that ended, a store away for a moment: the timers tell the pages)
                continue
            with self.lock:
                if self.versions.get(code, version) != version:
                    changed.add(code)
                self.versions[code] = version
        pushed = [(sid, page) for sid, page in pages.items() if page.code in changed]
        if pushed:
            self.push(pushed)


_watcher: _Watcher | None = None
_start = threading.Lock()
_pushed: set[str] = set()  # sessions whose follow part a push asked to rerun, not yet run (took_push)
_pushed_lock = threading.Lock()


def live() -> bool:
    """Are pages in a class pushed to (a Streamlit server runs this page, not AppTest)?"""
    from streamlit import runtime

    return runtime.exists()


def watch(code: str, version: int, store_version: Version) -> None:
    """From a page's follow part (in its run, full or its own): when class `code` moves past
    `version`, rerun that part at once, as its timer would, but with no widget values: it checks the
    class and reruns the page when the page must show something new (app/sections/classroom.py
    `_follow`). One path for the timer and the push: whichever runs second finds the page up to date,
    so a change does not rerun a page twice. A page that stops calling this is dropped after STALE_S."""
    global _watcher
    ctx = get_script_run_ctx()
    fragment_id = ThreadState.get().fragment_id  # (the fragment running this call)
    if ctx is None or fragment_id is None or not live():
        return
    with _start:
        if _watcher is None:
            _watcher = _Watcher(store_version, _push).start()
    page = _Page(code, fragment_id, ctx.query_string, ctx.page_script_hash, time.monotonic())
    _watcher.watch(ctx.session_id, page, version)


def took_push() -> bool:
    """In a follow part's run: did a push ask for it (then it may carry no widget values from the
    browser; a timer's run carries every one the browser holds)? Consumes the mark."""
    ctx = get_script_run_ctx()
    if ctx is None:
        return False
    with _pushed_lock:
        if ctx.session_id not in _pushed:
            return False
        _pushed.discard(ctx.session_id)
        return True


def _push(pushed: list[tuple[str, _Page]]) -> None:
    """Streamlit's sessions are not thread-safe: their reruns are asked for on its event loop."""
    from streamlit import runtime

    runtime.get_instance()._get_async_objs().eventloop.call_soon_threadsafe(_rerun_follow_parts, pushed)


def _rerun_follow_parts(pushed: list[tuple[str, _Page]]) -> None:
    """On the event loop: each page's follow part, as st.rerun asks for a run: no widget values (a
    request with some, even none, first settles what the page wrote in a run cut short, and a value
    the snapshot set would then not reach the browser), and not fragment-scoped (which would cut short
    a run in progress). AppSession.request_rerun's own path always passes widget values."""
    from streamlit import runtime
    from streamlit.runtime.app_session import AppSessionState
    from streamlit.runtime.scriptrunner_utils.script_requests import RerunData

    rt = runtime.get_instance()
    for session_id, page in pushed:
        session = rt.get_app_session(session_id)
        if session is None or session._state == AppSessionState.SHUTDOWN_REQUESTED:
            continue  # (gone: dropped after STALE_S)
        if not session.has_fragment(page.fragment_id):
            continue  # (drawn elsewhere since: its next follow run, on its timer, says where)
        rerun = RerunData(
            query_string=page.query_string,
            page_script_hash=page.page_script_hash,
            fragment_id=page.fragment_id,
            is_auto_rerun=True,
        )
        with _pushed_lock:
            _pushed.add(session_id)
        runner = session._scriptrunner  # (a fragment's rerun: fastReruns does not apply)
        if runner is None or not runner.request_rerun(rerun):
            session._create_scriptrunner(rerun)
