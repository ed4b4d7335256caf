"""Share and export: the link (the address bar is always it), the camera format, the downloads. A
chapter of the page (closed, it costs a rerun nothing; the address bar is the link all the same)."""

from __future__ import annotations

import streamlit as st

from rnn_core.state import State, dump_state

from .. import compute, page_state, session
from ..page_state import IMAGE_FORMAT_KEY

KEEP = (IMAGE_FORMAT_KEY,)  # the camera format, kept while the chapter is closed


def share_section(state: State) -> None:
    token = session.sync_link(state)
    with st.container(key="share"):
        share_panel(state, token, lambda: trace_csv(state))


def trace_csv(state: State) -> str:
    """The trace as CSV, built when the button is clicked. The button keeps this function for the
    session's life: it holds the state, not the result (the shared cache has it, or the worker)."""
    return compute.trace_csv(state, compute.compute(state, compute.get_engine(), compute.get_cache()).trace)


def too_big() -> None:
    st.warning(
        "This network is too big for a link (its numbers would not fit in an address). "
        "Download the state (under “Share and export”) and share the file instead."
    )


def share_link(token: str) -> str:
    """The full address of this page with the state in it (what the address bar shows)."""
    base = (st.context.url or "").split("?")[0]
    return f"{base}?s={token}"


def share_panel(state: State, token: str | None, trace_csv) -> None:
    """Copy link, camera format, downloads."""
    if token is None:
        too_big()
    else:
        link = share_link(token)
        st.markdown(
            f"**Share this network**: send this link ({len(link)} characters); it opens this exact view."
        )
        st.code(link, language=None, wrap_lines=True)  # the code block has a copy button
    left, middle, right = st.columns(3)
    chosen = left.radio(
        "Chart camera buttons save",
        ("png", "svg"),
        format_func=lambda f: "PNG (3×)" if f == "png" else "SVG",
        horizontal=True,
        key=IMAGE_FORMAT_KEY,
    )
    mem = page_state.memory()
    drawn, mem.drawn_image_format = mem.drawn_image_format, chosen
    if drawn is not None and drawn != chosen:  # changed in this part's own rerun: every chart of the
        st.rerun()  # page takes the new format (also those outside this part: training, gradients)
    middle.download_button(
        "Download the state (JSON)",
        lambda: dump_state(state),  # built when clicked: no copy of the state in the media files
        file_name=f"rnn-state-seed{state.seed}.json",
        mime="application/json",
        on_click="ignore",
    )
    right.download_button(
        "Download the trace (CSV)",
        trace_csv,
        file_name=f"rnn-trace-seed{state.seed}.csv",
        mime="text/csv",
        on_click="ignore",
    )
