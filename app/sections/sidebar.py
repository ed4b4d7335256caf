"""The sidebar: the network's settings, reset, and opening a state file."""

from __future__ import annotations

import streamlit as st

from rnn_core.activations import NAMES as ACTIVATIONS
from rnn_core.config import LIMITS, SEED_MAX, WEIGHT_SCALE_RANGE, StateError
from rnn_core.state import SPECS

from .. import page_state, session
from ..page_state import RESULTS_FRAGMENT, UPLOAD_KEY

OUTPUT_LAYER_LABELS = {False: "Separate per step (the tutorial)", True: "Shared across steps"}


def results_only(name: str) -> None:
    """on_change of a setting that changes only the numbers (seed, weight scale): when nothing but the
    results depends on it now (no lesson, class, presentation or player; the weights, code, training
    and gradients chapters closed; no weights of your own: app/main.py decides), rerun only the results
    part of the page (a keyed fragment) instead of the whole page, ~1/3 of the server's CPU per edit
    (docs/PERFORMANCE.md). A value that fails its check reruns the whole page (which puts the last
    good value back), and so does anything Streamlit cannot scope to the fragment."""
    mem = page_state.memory()
    if not mem.results_only:
        return
    try:
        SPECS[name].parse(page_state.get(name), {})
    except (StateError, TypeError, ValueError, OverflowError):
        return
    mem.numbers_edited = True
    page_state.rerun_parts(RESULTS_FRAGMENT)  # (not on the page: Streamlit reruns it all)


def network_controls() -> None:
    """Widgets keyed by the state's field names (rnn_core.state.WIDGET_FIELDS)."""
    sb = st.sidebar
    sb.header("Network")
    sb.number_input("Neurons (n_neurons)", *LIMITS["n_neurons"], step=1, key="n_neurons")
    sb.number_input(
        "Seed",
        0,
        SEED_MAX,
        step=1,
        key="seed",
        help="Same seed, same weights, on any machine.",
        on_change=results_only,
        args=("seed",),
    )
    sb.selectbox("Activation", ACTIVATIONS, key="activation")
    sb.number_input(
        "Weight scale (std of Wx, Wy)",
        *WEIGHT_SCALE_RANGE,
        step=0.1,
        format="%.2f",
        key="weight_scale",
        on_change=results_only,
        args=("weight_scale",),
    )
    sb.radio("Output layer", (False, True), format_func=OUTPUT_LAYER_LABELS.get, key="shared_output")
    sb.button("Reset to the tutorial", on_click=session.reset_to_tutorial, width="stretch")
    sb.file_uploader(
        "Open a state file (JSON)",
        type=["json"],
        key=UPLOAD_KEY,
        on_change=session.load_uploaded_file,
        help="A file from “Download the state”, or one written by hand (format in the README).",
    )
