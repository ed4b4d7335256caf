"""The computation as the page sees it: start the worker if needed, compute (or reuse the cache),
show the notices of this session, and decide what can be shown when the computation fails."""

from __future__ import annotations

import weakref

import streamlit as st

from rnn_core.state import State, numbers_key

from .. import compute, page_state
from ..compute import Result
from ..text import plain

SHOW = {"info": st.info, "warning": st.warning, "error": st.error}


def compute_result(state: State) -> Result | None:
    """The result for `state`, or the last one when the worker cannot answer and the last one still
    fits the current sizes; None when there is nothing that can be shown (the page stops there)."""
    engine = compute.get_engine()
    notices: list[str] = []  # the engine's notices for this session's calls, and no one else's
    if not engine.ready and (stored := compute.get_cache().get(numbers_key(state))) is not None:
        page_state.memory().last_result = weakref.ref(stored)  # (a cold start's first page: the
        return stored  # tutorial's stored result; a result in the cache needs no worker)
    if not engine.ready:
        with st.spinner("Starting TensorFlow in its worker process (about 5 s, once per server)…"):
            try:
                notices += engine.start(wait=engine.start_wait)  # a hung start holds no one longer
            except compute.EngineError as err:
                notices += err.notices
                page_state.notify("error", f"TensorFlow could not start: {err}")
    mem = page_state.memory()
    result: Result | None
    try:
        result = compute.compute(state, engine, compute.get_cache(), notices)
        mem.last_result = weakref.ref(result)  # never kept alive by a session: the shared cache bounds it
    except compute.EngineError as err:
        notices += err.notices
        last = last_result()
        result = last if last is not None and last.fits(state) else None
        shown = (
            "the last result is shown" if result is not None else "nothing can be drawn for the new sizes yet"
        )
        page_state.notify(
            "error",
            f"The computation failed: {err}. Your inputs are kept ({shown}); change anything to try again.",
        )
    for notice in dict.fromkeys(notices):
        page_state.notify("info", notice)
    return result


def last_result() -> Result | None:
    """This session's last successful result, while the shared cache (or a run) still holds it."""
    ref = page_state.memory().last_result
    return ref() if isinstance(ref, weakref.ref) else None


def recall(state: State) -> Result | None:
    """The result this run shows for `state`, for the parts of the page that rerun alone (a view pick, a
    tick of the player): from the shared cache, else the last result if it fits, else computed again."""
    cached = compute.get_cache().get(numbers_key(state))
    if cached is not None:
        return cached
    last = last_result()
    if last is not None and last.fits(state):
        return last
    return compute_result(state)


def made_of(state: State, result: Result) -> tuple[str, str]:
    """What the charts of `result` shown for `state` are made of, as far as the network goes (the
    view and style are the caller's to add): a name for charts.Made. Both keys: the result may be the
    last one, for another state of the same sizes (compute_result)."""
    return numbers_key(state), result.key


def show_notices() -> None:
    """This session's notices, as text (they may quote a link or a file name)."""
    for notice in page_state.take_notices():
        SHOW[notice.kind](plain(notice.text, 600))
