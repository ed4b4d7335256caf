"""A chapter: a part of the page its reader opens when they want it (weights, compare, code, training,
gradients). Closed, its content is not built at all: an expander's content would run on every rerun,
so a closed chapter costs the server nothing (the page's CPU per rerun is what limits a class:
docs/PERFORMANCE.md). During a lesson step the chapters the step shows are simply drawn, with their
title as a heading (the step decides what is on the page).

    box = chapter("training", training.KEEP)
    if box is not None:
        with box:
            ...
"""

from __future__ import annotations

from collections.abc import Iterable

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from .. import page_state
from ..page_state import CHAPTERS


def chapter(name: str, keep: Iterable[str] = (), *, lazy: bool = True, open_first: bool = False):
    """The chapter's container when it is open, else None (its content must not be built).

    keep: the keys of the chapter's value widgets. Streamlit forgets the value of a widget that a run
    does not draw; while the chapter is closed they are kept (a learning rate, a frozen weight).
    lazy=False (a lesson step shows it): a heading and a plain container. open_first: open the first time
    the session draws it (e.g. a pinned network opens "Compare")."""
    if not lazy:
        box: DeltaGenerator = st.container()
        box.subheader(CHAPTERS[name][0])
        return box
    key = page_state.chapter_key(name)
    if open_first and key not in st.session_state:
        page_state.put(key, True)
    box = st.expander(page_state.chapter_title(name), key=key, on_change="rerun")
    if box.open:
        return box
    page_state.keep(keep)
    return None


def is_open(name: str, *, lazy: bool = True) -> bool:
    """Is the chapter open (its expander is drawn elsewhere on the page)? Always, during a lesson step."""
    return not lazy or page_state.get(page_state.chapter_key(name)) is True
