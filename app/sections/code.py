"""The Code panel: the network on the page as a runnable script (TensorFlow 1 as in the tutorial, Keras,
numpy: rnn_core.codegen), with a copy button and a .py download per style, and the weights as .npz and
.json. Scripts are built only when the panel is open or a download is clicked (a 256-neuron script is
over a megabyte), and kept in a small cache shared by the sessions."""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict

import streamlit as st

from rnn_core import codegen
from rnn_core.state import State, numbers_key

from ..page_state import CODE_OPEN_KEY

TAB_TITLES = {"tf1": "TensorFlow 1 (the tutorial)", "keras": "Keras (tf.keras)", "numpy": "numpy"}
MAX_SHOWN_CHARS = 60_000  # longer scripts: the first lines on the page, the whole script in the download
CACHE_ITEMS = 12

_cache: OrderedDict[tuple[str, str], str] = OrderedDict()
_lock = threading.Lock()


def script(state: State, style: str) -> str:
    """codegen.generate, cached by the numbers of the state (the view and training settings do not matter)."""
    key = (numbers_key(state), style)
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    text = codegen.generate(state, style)
    with _lock:
        _cache[key] = text
        while len(_cache) > CACHE_ITEMS:
            _cache.popitem(last=False)
    return text


def file_name(state: State, style: str) -> str:
    return f"rnn-{style}-seed{state.seed}.py"


def code_section(state: State) -> None:
    st.caption(
        "Each script is complete and runnable: every weight written out, the tutorial's printout, and a last "
        'check against the numbers on this page (it prints "matches the page").'
    )
    if st.toggle("Show the scripts", key=CODE_OPEN_KEY):
        tabs = st.tabs([TAB_TITLES[style] for style in codegen.STYLES])
        for tab, style in zip(tabs, codegen.STYLES, strict=True):
            with tab:
                text = script(state, style)
                if len(text) > MAX_SHOWN_CHARS:
                    cut = text[:MAX_SHOWN_CHARS].rsplit("\n", 1)[0]
                    st.caption(
                        f"The first {len(cut):,} of {len(text):,} characters; download the whole script."
                    )
                    text = cut + "\n# … (download the whole script)\n"
                st.code(text, language="python")  # the code block has a copy button
                st.download_button(
                    f"Download {file_name(state, style)}",
                    functools.partial(script, state, style),
                    file_name=file_name(state, style),
                    mime="text/x-python",
                    on_click="ignore",
                    key=f"code_download_{style}",
                )
    else:
        columns = st.columns(len(codegen.STYLES))
        for column, style in zip(columns, codegen.STYLES, strict=True):
            column.download_button(
                f"Download the {style} script (.py)",
                functools.partial(script, state, style),
                file_name=file_name(state, style),
                mime="text/x-python",
                on_click="ignore",
                key=f"code_download_{style}",
                width="stretch",
            )
    npz, json_ = st.columns(2)
    npz.download_button(
        "Download the weights (.npz)",
        lambda: codegen.weights_npz(state),
        file_name=f"rnn-weights-seed{state.seed}.npz",
        mime="application/octet-stream",
        on_click="ignore",
        width="stretch",
    )
    json_.download_button(
        "Download the weights (.json)",
        lambda: codegen.weights_json(state),
        file_name=f"rnn-weights-seed{state.seed}.json",
        mime="application/json",
        on_click="ignore",
        width="stretch",
    )
