"""The sidebar: the network's settings, reset, and opening a state file."""

from __future__ import annotations

import streamlit as st

from rnn_core.activations import NAMES as ACTIVATIONS
from rnn_core.config import LIMITS, SEED_MAX, WEIGHT_SCALE_RANGE

from .. import session
from ..page_state import UPLOAD_KEY

OUTPUT_LAYER_LABELS = {False: "Separate per step (the tutorial)", True: "Shared across steps"}


def network_controls() -> None:
    """Widgets keyed by the state's field names (rnn_core.state.WIDGET_FIELDS)."""
    sb = st.sidebar
    sb.header("Network")
    sb.number_input("Neurons (n_neurons)", *LIMITS["n_neurons"], step=1, key="n_neurons")
    sb.number_input("Seed", 0, SEED_MAX, step=1, key="seed", help="Same seed, same weights, on any machine.")
    sb.selectbox("Activation", ACTIVATIONS, key="activation")
    sb.number_input(
        "Weight scale (std of Wx, Wy)", *WEIGHT_SCALE_RANGE, step=0.1, format="%.2f", key="weight_scale"
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
