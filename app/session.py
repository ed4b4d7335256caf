"""A session's state: loaded once from the link (or the defaults), held by the widgets and the page
memory (app.page_state), rebuilt into a State every run, and written back to the URL."""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from rnn_core.presets import fit_weights
from rnn_core.state import State, StateError, View, decode_link, encode_links, load_state, numbers_key

from . import page_state
from .components import grid
from .grids import INPUTS as INPUTS_GRID
from .grids import TARGETS as TARGETS_GRID
from .page_state import UPLOAD_KEY
from .shared_lru import SharedLRU

MAX_LINK_TOKEN = 6000  # nginx's default request line limit is 8 KB; past this, share the state file
MAX_QUERY_CHARS = 524_288  # Streamlit drops a longer query string: say so instead of silently


def load(state: State) -> None:
    """Put a whole state into the session: widget keys, the grids, explicit weights, the view."""
    page_state.load_widgets(state)
    grid.load("inputs", INPUTS_GRID, state.inputs)
    grid.load("targets", TARGETS_GRID, state.resolved_targets())
    mem = page_state.memory()
    mem.weights = dict(state.weights)
    mem.targets = state.targets
    mem.training_state = state.training
    mem.pinned = state.pinned
    mem.weights_undo = None
    mem.weights_seed = (state.seed, state.weight_scale) if state.weights else None
    if state.view == type(state.view)():  # a fresh page or a hand-written file: show every step
        page_state.put(page_state.VIEW_KEYS["step"], state.inputs.shape[0] - 1)


def init_from_link() -> None:
    """On a session's first run: the state in the link, or the defaults with a notice saying why."""
    mem = page_state.memory()
    if mem.initialized:
        return
    mem.initialized = True
    token = st.query_params.get("s")
    state = State()
    if token is not None:
        try:
            state = decode_link(token)
        except StateError as err:
            page_state.notify(
                "warning", f"The link could not be opened ({err}). Showing the tutorial's network."
            )
    load(state)
    if st.query_params.get("present") in ("1", "true", "yes"):
        page_state.put(page_state.VIEW_KEYS["present"], True)


def reset_to_tutorial() -> None:
    """Button callback: the tutorial's network, and a clean link."""
    load(State())
    page_state.notify("info", "Reset to the tutorial's network.")


def current_state(inputs) -> State:
    """The state the widgets and grids describe now (explicit weights: the cells that still fit kept)."""
    mem = page_state.memory()
    state = State(inputs=inputs, **page_state.widget_values())
    if mem.weights:
        fitting, changed = fit_weights(mem.weights, state.config, state.seed)
        if changed:
            page_state.notify(
                "info",
                f"The sizes changed: your weights {', '.join(changed)} keep every cell that still fits; "
                "new cells come from the seed.",
            )
            mem.weights = fitting
        state = state.with_changes(weights=fitting)
    if mem.pinned is not None:
        state = state.with_changes(pinned=mem.pinned)
    if mem.targets is not None and mem.targets.shape == inputs.shape[:2]:
        state = state.with_changes(targets=mem.targets)
    if mem.training_state is not None:
        state = state.with_changes(training=mem.training_state)
    T, B = inputs.shape[:2]
    return state.with_changes(view=page_state.view(T, B, state.n_neurons))


def with_current_view(state: State) -> State:
    """The state with the view the widgets hold now (a view pick reruns only part of the page)."""
    T, B = state.inputs.shape[:2]
    return state.with_changes(view=page_state.view(T, B, state.n_neurons))


def link_token(state: State) -> str | None:
    """The state's share link token (`s`), or None when the state is too big for a link."""
    (token,) = _links(state, (state.view,))
    return token if len(token) <= MAX_LINK_TOKEN else None


def link_text(state: State) -> str:
    """The state's link token, however long (a class snapshot carries it whole)."""
    return _links(state, (state.view,))[0]


def step_links(state: State, n_steps: int) -> tuple[str, ...]:
    """The share link token of the state at each step 0 … n_steps-1 (the rest of the view kept), for
    the browser to put in the address bar as the step slider moves there; none when the state is too
    big for a link."""
    if link_token(state) is None:
        return ()
    return _links(state, tuple(replace(state.view, step=t) for t in range(n_steps)))


# A link is ~230 bytes at the tutorial's size; at the size caps 26 KB (37 ms to encode), ~150 KB with
# weights of one's own: a class of 200 at the caps keeps every student's (each run asks for its own)
LINKS_BYTES = 32 * 2**20
LINKS: SharedLRU[tuple[str, ...]] = SharedLRU(LINKS_BYTES, lambda links: sum(map(len, links)))


def _links(state: State, views: tuple[View, ...]) -> tuple[str, ...]:
    """encode_links, once per server process for what a link writes (every field but the view: the
    numbers by their key, the training settings, network A's; then the views): encoding walks every
    number, and a class on one network picks the same cells."""
    pinned = None if state.pinned is None else (numbers_key(state.pinned), state.pinned.training)
    key = (numbers_key(state), state.training, pinned, views)
    links = LINKS.get(key)
    if links is None:
        links = tuple(encode_links(state, views))
        LINKS.put(key, links)
    return links


def sync_link(state: State) -> str | None:
    """Keep the page URL equal to the state, so the address bar is always the share link.

    Returns the link token, or None when the state is too big for a link (the file is the way then).
    """
    token = link_token(state)
    if token is None:
        if "s" in st.query_params:
            del st.query_params["s"]
    elif st.query_params.get("s") != token:
        st.query_params["s"] = token
    if state.view.present:
        st.query_params["present"] = "1"
    elif "present" in st.query_params:
        del st.query_params["present"]
    return token


def load_uploaded_file() -> None:
    """Uploader callback: open a state file (as downloaded from the page or written by hand)."""
    upload = page_state.get(UPLOAD_KEY)
    if upload is None:
        return
    name = str(getattr(upload, "name", "the file"))
    if not name.lower().endswith(".json"):
        page_state.notify("error", f"{name} is not a state file (a .json file). Nothing was changed.")
        return
    try:
        state = load_state(upload.getvalue())
    except StateError as err:
        page_state.notify("error", f"The file {name} could not be opened ({err}). Nothing was changed.")
        return
    load(state)
    page_state.notify("info", f"Opened {name}.")
