"""Pushes to the pages in a class: one thread per server process reads the version of each class its
pages are in, every POLL_S, and when one changed it reruns each of those pages' follow part at once,
as that part's timer would (app/sections/classroom.py `_follow`).

Without it every student's page polled with its own timer: a fragment run of ~3.4 ms every 0.75 s,
which at 200 students on 2 replicas took 46% of a core per replica doing nothing but asking
(bench/class_follow.py). With it a class costs one store read per class per process every POLL_S, and
a page's timer only beats (the store's presence count) and catches what a push missed, every few
seconds. The push carries no widget values (a timer's request carries the browser's, stale when the
page reran just before: page_state.a_timers_run).

Streamlit has no public way to rerun a session from outside its own run: this uses what its own
`st.rerun` and the browser's timer use (AppSession.request_rerun on the event loop, Runtime's
get_app_session), as app/gc_policy.py does for expired sessions. Without a runtime (AppTest) there
are no pushes, and the pages poll as before (`live()` says which)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from streamlit.proto.ClientState_pb2 import ClientState
from streamlit.runtime.scriptrunner_utils.script_run_context import ThreadState, get_script_run_ctx

_LOG = logging.getLogger(__name__)

POLL_S = 0.2  # a teacher's change reaches the pages' follow parts within this (plus their reruns)
STALE_S = 12.0  # a page whose follow part has not run for this long is in no class any more

Version = Callable[[str], int]  # a class code -> its version (the store's; may raise)


@dataclass
class _Page:
    code: str
    fragment_id: str  # the page's follow part
    query_string: str
    page_script_hash: str
    seen: float  # time.monotonic() of its follow part's last run


class _Watcher:
    def __init__(self, version: Version) -> None:
        self.version = version
        self.pages: dict[str, _Page] = {}  # by session id
        self.versions: dict[str, int] = {}  # by class code: the last version read
        self.lock = threading.Lock()
        threading.Thread(target=self._forever, name="class-pushes", daemon=True).start()

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
            _on_event_loop(_rerun_follow_parts, pushed)


_watcher: _Watcher | None = None
_start = threading.Lock()


def live() -> bool:
    """Are pages in a class pushed to (a Streamlit server runs this page, not AppTest)?"""
    from streamlit import runtime

    return runtime.exists()


def watch(code: str, version: int, store_version: Version) -> None:
    """From a page's follow part (in its run, full or its own): push to this page when class `code`
    moves past `version`. A page that stops calling this is dropped after STALE_S."""
    global _watcher
    ctx = get_script_run_ctx()
    fragment_id = ThreadState.get().fragment_id  # (the fragment running this call)
    if ctx is None or fragment_id is None or not live():
        return
    with _start:
        if _watcher is None:
            _watcher = _Watcher(store_version)
    page = _Page(code, fragment_id, ctx.query_string, ctx.page_script_hash, time.monotonic())
    _watcher.watch(ctx.session_id, page, version)


def _on_event_loop(call: Callable, *args) -> None:
    """Streamlit's sessions are not thread-safe: their reruns are asked for on its event loop."""
    from streamlit import runtime

    runtime.get_instance()._get_async_objs().eventloop.call_soon_threadsafe(call, *args)


def _rerun_follow_parts(pushed: list[tuple[str, _Page]]) -> None:
    from streamlit import runtime

    rt = runtime.get_instance()
    for session_id, page in pushed:
        session = rt.get_app_session(session_id)
        if session is None:  # (gone: dropped after STALE_S)
            continue
        request = ClientState(
            fragment_id=page.fragment_id,
            query_string=page.query_string,
            page_script_hash=page.page_script_hash,
            is_auto_rerun=True,
        )
        session.request_rerun(request)
