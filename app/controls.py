"""Widget groups: each draws its widgets (bound to session keys) and returns plain values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from rnn_core.activations import NAMES as ACTIVATIONS
from rnn_core.config import LIMITS, WEIGHT_SCALE_RANGE
from rnn_core.state import SEED_MAX

from . import session
from .table import apply_edits, parse_frame, resize_frame, resize_inputs

OUTPUT_LAYER_LABELS = {False: "Separate per step (the tutorial)", True: "Shared across steps"}
MAX_ERRORS_SHOWN = 8


def network_controls() -> None:
    """Sidebar: the network's settings. Values live in session keys named like the state's fields."""
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
        key="state_file",
        on_change=session.load_uploaded_file,
        help="A file from “Download the state”, or one written by hand (format in the README).",
    )


def size_controls() -> tuple[int, int, int]:
    """Steps, rows and features of the inputs table; the table follows (cells that fit are kept)."""
    steps, rows, features = st.columns(3)
    steps.number_input("Steps (T)", *LIMITS["n_steps"], step=1, key="n_steps")
    rows.number_input("Rows (batch)", *LIMITS["batch"], step=1, key="batch")
    features.number_input("Features (n_inputs)", *LIMITS["n_inputs"], step=1, key="n_inputs")
    ss = st.session_state
    T, B, F = int(ss["n_steps"]), int(ss["batch"]), int(ss["n_inputs"])
    base = ss["table_base"]
    if base.shape != (B, T * F) or base.columns[-1] != f"X{T - 1}[{F - 1}]":
        current = apply_edits(base, ss.get(editor_key()))
        ss["table_base"] = resize_frame(current, T, B, F)
        ss["table_version"] += 1
    return T, B, F


def editor_key() -> str:
    return f"inputs_editor_{st.session_state['table_version']}"


def inputs_table(n_steps: int, n_inputs: int) -> tuple[np.ndarray, list[str]]:
    """The editable inputs; returns the inputs to use (the last valid ones while a cell is bad)."""
    base: pd.DataFrame = st.session_state["table_base"]
    config = {name: st.column_config.TextColumn(name, width="small") for name in base.columns}
    edited = st.data_editor(base, key=editor_key(), column_config=config, width="stretch")
    inputs, errors = parse_frame(edited, n_steps, n_inputs)
    if errors:
        shown = "\n".join(f"- {e}" for e in errors[:MAX_ERRORS_SHOWN])
        more = f"\n- … and {len(errors) - MAX_ERRORS_SHOWN} more" if len(errors) > MAX_ERRORS_SHOWN else ""
        st.error(
            f"Fix {'this cell' if len(errors) == 1 else 'these cells'} to update the network "
            f"(the charts show the last valid inputs):\n{shown}{more}",
            icon="✏️",
        )
        last = st.session_state["last_inputs"]
        B = len(base)
        if last.shape != (n_steps, B, n_inputs):
            last = resize_inputs(last, n_steps, B, n_inputs)
        return last, errors
    st.session_state["last_inputs"] = inputs
    return inputs, []


def pick(label: str, count: int, key: str, prefix: str, container=st) -> int:
    """A selectbox over 0..count-1 shown as prefix+index; keeps a stale pick in range."""
    if st.session_state.get(key, 0) >= count:
        st.session_state[key] = count - 1
    return container.selectbox(label, range(count), format_func=lambda i: f"{prefix}{i}", key=key)


PLAY_SECONDS = 1.2  # one step revealed per tick while playing


def presentation_toggle() -> bool:
    _, right = st.columns([4, 1])
    return right.toggle(
        "Presentation mode", key="present", help="Big type, no controls: the page as a slide."
    )


def step_controls(n_steps: int, container=st) -> int:
    """The step slider (which y_t is current) and play/pause; returns the current step."""
    ss = st.session_state
    if "pending_step" in ss:  # set by the player when it stops; applied before the slider exists
        ss["view_step"] = ss.pop("pending_step")
    at_end = ss.get("view_step", 0) >= ss.get("known_steps", n_steps) - 1  # following the last step
    ss["view_step"] = n_steps - 1 if at_end else min(int(ss["view_step"]), n_steps - 1)
    ss["known_steps"] = n_steps
    if n_steps == 1:
        return 0
    slider, button = container.columns([4, 1], vertical_alignment="bottom")
    step = slider.slider("Current step: reveal y0 … y_t", 0, n_steps - 1, key="view_step", format="y%d")
    if ss.get("playing"):
        if button.button("⏸ Pause", width="stretch"):
            ss["playing"] = False
            ss["pending_step"] = max(0, min(ss.get("play_step", 1) - 1, n_steps - 1))
            st.rerun()
    elif button.button("▶ Play", width="stretch", help=f"Reveal one step every {PLAY_SECONDS:g} s"):
        ss["playing"], ss["play_step"] = True, 0
        st.rerun()
    return step


def pick_clicked_cell(key: str) -> None:
    """Chart click callback: a cell of y_t ("hidden_t": row, neuron) or of the row view ("row_view":
    step, neuron) becomes the explained cell."""
    from .render import clicked_cell

    cell = clicked_cell(key)
    if cell is None:
        return
    ss = st.session_state
    if key.startswith("hidden_"):
        ss["view_step"] = int(key.removeprefix("hidden_"))
        ss["view_row"], ss["view_neuron"] = cell
    elif key == "row_view":
        ss["view_step"], ss["view_neuron"] = cell
