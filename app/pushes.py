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

from streamlit.errors import StreamlitAPIException
from streamlit.runtime.scriptrunner_utils.script_run_context import ThreadState, get_script_run_ctx

from . import page_state

_LOG = logging.getLogger(__name__)

POLL_S = 0.2  # a teacher's change reaches the pages' follow parts within this (plus their reruns)
STALE_S = 12.0  # a page whose follow part has not run for this long is in no class any more

Version = Callable[[str], int]  # a class code -> its version (the store's; may raise)


VIEW_PARTS = (page_state.CONTROLS_FRAGMENT, page_state.RESULTS_FRAGMENT)  # what a view drawn anew reruns


@dataclass
class _Page:
    code: str
    fragment_id: str  # its follow part (as drawn in the run that called watch)
    following: bool  # the page shows the teacher's snapshot (else its follow part checks the questions)
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


def live() -> bool:
    """Are pages in a class pushed to (a Streamlit server runs this page, not AppTest)?"""
    from streamlit import runtime

    return runtime.exists()


def watch(code: str, version: int, store_version: Version, following: bool) -> None:
    """From a page's follow part (in its run, full or its own): push to this page when class `code`
    moves past `version`. A follower's push reruns its follow part and then its view's parts, in one
    run: the follow part loads a snapshot that moved only the view, and reruns the whole page for
    anything else (app/sections/classroom.py `_follow`). A page that does not follow gets its follow
    part alone (it checks the questions). A page that stops calling this is dropped after STALE_S."""
    global _watcher
    ctx = get_script_run_ctx()
    fragment_id = ThreadState.get().fragment_id  # (this follow part's, where it is drawn now)
    if ctx is None or fragment_id is None or not live():
        return
    with _start:
        if _watcher is None:
            _watcher = _Watcher(store_version, _push).start()
    page = _Page(code, fragment_id, following, ctx.query_string, ctx.page_script_hash, time.monotonic())
    _watcher.watch(ctx.session_id, page, version)


def _push(pushed: list[tuple[str, _Page]]) -> None:
    """Streamlit's sessions are not thread-safe: their reruns are asked for on its event loop."""
    from streamlit import runtime

    runtime.get_instance()._get_async_objs().eventloop.call_soon_threadsafe(_rerun_follow_parts, pushed)


def _rerun_follow_parts(pushed: list[tuple[str, _Page]]) -> None:
    """On the event loop: each page's rerun, as its own st.rerun would ask for it (no widget values:
    a request with some, even none, first settles what the page wrote in an interrupted run, and a
    value the snapshot set would then not reach the browser). AppSession.request_rerun's own path,
    which always passes the browser's widget values."""
    from streamlit import config, runtime
    from streamlit.runtime.app_session import AppSessionState
    from streamlit.runtime.scriptrunner_utils.script_requests import RerunData

    rt = runtime.get_instance()
    for session_id, page in pushed:
        session = rt.get_app_session(session_id)
        if session is None or session._state == AppSessionState.SHUTDOWN_REQUESTED:
            continue  # (gone: dropped after STALE_S)
        parts = [page.fragment_id]
        if page.following:
            try:  # (the ids of the view's parts as the page drew them last)
                parts += session._fragment_storage.resolve_target(list(VIEW_PARTS))
            except StreamlitAPIException:  # (not drawn)
                parts = []
        if not all(session.has_fragment(part) for part in parts):  # (drawn elsewhere since)
            if not page.following:
                continue  # (its next follow run says where its follow part is now)
            parts = []
        rerun = RerunData(
            query_string=page.query_string,
            page_script_hash=page.page_script_hash,
            fragment_id_queue=parts,
            is_fragment_scoped_rerun=bool(parts),
            is_auto_rerun=True,
        )
        runner = session._scriptrunner
        if runner is not None and (parts or not config.get_option("runner.fastReruns")):
            if runner.request_rerun(rerun):
                continue
        elif runner is not None:
            runner.request_stop()
        session._create_scriptrunner(rerun)
