"""One session's state: loaded once from the link (or the defaults), kept in widget keys, synced back.

The canonical State is rebuilt every run from the widget values and the inputs table; this module
is the only place that writes those keys outside the widgets themselves.
"""

from __future__ import annotations

import streamlit as st

from rnn_core.state import State, StateError, View, decode_link, encode_link, load_state, weight_shapes

from .compute import fingerprint
from .table import inputs_to_frame

SETTINGS = ("n_neurons", "seed", "activation", "weight_scale", "shared_output")
SIZES = ("n_steps", "batch", "n_inputs")


def load(state: State) -> None:
    """Put a whole state into the session: widget keys, the table, explicit weights, the view."""
    ss = st.session_state
    for name in SETTINGS:
        ss[name] = getattr(state, name)
    ss["weight_scale"] = float(state.weight_scale)
    ss["n_steps"], ss["batch"], ss["n_inputs"] = state.inputs.shape
    ss["table_base"] = inputs_to_frame(state.inputs)
    ss["table_version"] = ss.get("table_version", 0) + 1
    ss["last_inputs"] = state.inputs
    ss["weights"] = dict(state.weights)
    # Without a view (a fresh page or a hand-written file) every step is shown: the current step is the last.
    ss["view_step"] = state.view.step if state.view != View() else state.inputs.shape[0] - 1
    ss["view_row"], ss["view_neuron"] = state.view.row, state.view.neuron
    ss["present"] = state.view.present


def init_from_link() -> None:
    """On a session's first run: the state in the link, or the defaults with a notice saying why."""
    ss = st.session_state
    if ss.get("initialized"):
        return
    ss["initialized"] = True
    ss["notices"] = []
    token = st.query_params.get("s")
    state = State()
    if token is not None:
        try:
            state = decode_link(token)
        except StateError as err:
            ss["notices"].append(f"The link could not be opened ({err}). Showing the tutorial's network.")
    load(state)
    if st.query_params.get("present") in ("1", "true", "yes"):
        ss["present"] = True


def reset_to_tutorial() -> None:
    """Button callback: the tutorial's network, and a clean link."""
    load(State())
    st.session_state["notices"] = ["Reset to the tutorial's network."]


def current_state(inputs) -> State:
    """The state the widgets describe now (explicit weights kept while their shapes still fit)."""
    ss = st.session_state
    state = State(
        inputs=inputs,
        n_neurons=int(ss["n_neurons"]),
        seed=int(ss["seed"]),
        activation=ss["activation"],
        shared_output=bool(ss["shared_output"]),
        weight_scale=float(ss["weight_scale"]),
    )
    weights = ss.get("weights") or {}
    if weights:
        shapes = weight_shapes(state.config)
        fitting = {name: w for name, w in weights.items() if w.shape == shapes[name]}
        if len(fitting) < len(weights):
            ss["notices"].append("The explicit weights no longer fit the new sizes; seeded weights are used.")
            ss["weights"] = fitting
        state = state.with_changes(weights=fitting)
    T, B = inputs.shape[:2]
    view = View(
        step=min(int(ss.get("view_step", 0)), T - 1),
        row=min(int(ss.get("view_row", 0)), B - 1),
        neuron=min(int(ss.get("view_neuron", 0)), state.n_neurons - 1),
        present=bool(ss.get("present", False)),
    )
    return state.with_changes(view=view)


MAX_LINK_TOKEN = 6000  # nginx's default request line limit is 8 KB; past this, share the state file


def sync_link(state: State) -> str | None:
    """Keep the page URL equal to the state, so the address bar is always the share link.

    Returns the link token, or None when the state is too big for a link (the file is the way then).
    """
    key = (fingerprint(state), state.view)  # encoding walks every number: once per change, not per run
    cached = st.session_state.get("link_cache")
    token = cached[1] if cached and cached[0] == key else encode_link(state)
    st.session_state["link_cache"] = (key, token)
    if len(token) > MAX_LINK_TOKEN:
        token = None
        if "s" in st.query_params:
            del st.query_params["s"]
    elif st.query_params.get("s") != token:
        st.query_params["s"] = token
    if state.view.present:
        st.query_params["present"] = "1"
    elif "present" in st.query_params:
        del st.query_params["present"]
    return token


def take_notices() -> list[str]:
    ss = st.session_state
    notices, ss["notices"] = ss.get("notices", []), []
    return notices


def load_uploaded_file() -> None:
    """Uploader callback: open a state file (as downloaded from the page or written by hand)."""
    ss = st.session_state
    upload = ss.get("state_file")
    if upload is None:
        return
    try:
        state = load_state(upload.getvalue())
    except StateError as err:
        ss["notices"] = [f"The file {upload.name} could not be opened ({err}). Nothing was changed."]
        return
    load(state)
    ss["notices"] = [f"Opened {upload.name}."]
