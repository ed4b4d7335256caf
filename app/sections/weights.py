"""The weights in the open: Wx, Wy, b, Wo and bo as heatmaps on one scale (the explained cell's weights
outlined), presets, one weight typed in, a whole matrix edited in a grid. Edited weights are the state's
explicit `weights` (page memory: page_state.memory().weights); nothing replaces them without an undo.

Edits made with buttons run as callbacks (before the page is drawn); a grid edit is applied where the grid
is drawn, before the heatmaps, so the page shows it at once.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from rnn_core import presets
from rnn_core.config import MAX_ABS_WEIGHT, RNNConfig
from rnn_core.params import Weights
from rnn_core.state import WEIGHT_NAMES, State

from .. import page_state, render
from ..components import grid
from ..components.grid import GridKind
from ..figures import weights as wf
from ..table import format_number, parse_cell

PICK_NAME, PICK_I, PICK_J, PICK_VALUE = "weights_pick", "weights_i", "weights_j", "weights_value"
GRID_PICK, ALPHA, BY_HAND = "weights_grid_pick", "weights_alpha", "weights_by_hand"
KEEP = (ALPHA, BY_HAND, PICK_NAME, PICK_I, PICK_J, PICK_VALUE, GRID_PICK)  # kept while the chapter is closed
MAX_GRID_CELLS = 4096  # a 64 × 64 Wy; larger matrices are edited one weight at a time
EDITING_CSS = "<style>.st-key-weights_editing { display: none !important; }</style>"


# ---- a weight as a grid of text cells -------------------------------------------------------------


def _grid_2d(values: np.ndarray) -> np.ndarray:
    return values.reshape(1, -1) if values.ndim == 1 else values


def matrix_grid(name: str) -> GridKind:
    """A weight as a table: one row per row of the matrix (a vector is one row), a column per column."""

    def to_frame(values: np.ndarray) -> pd.DataFrame:
        z = _grid_2d(values)
        text = [[format_number(x) for x in row] for row in z]
        rows = [name] if values.ndim == 1 else [f"{name}[{i}, :]" for i in range(z.shape[0])]
        return pd.DataFrame(text, columns=[str(j) for j in range(z.shape[1])], index=rows, dtype=object)

    def parse(frame: pd.DataFrame, shape: tuple[int, ...]) -> tuple[np.ndarray | None, list[str]]:
        n_rows, n_cols = (1, shape[0]) if len(shape) == 1 else shape
        cells = frame.reindex(columns=[str(j) for j in range(n_cols)]).to_numpy(dtype=object)
        errors, values = [], np.zeros((n_rows, n_cols))
        for i in range(min(n_rows, len(cells))):
            for j in range(n_cols):
                value, problem = parse_cell(cells[i, j])
                where = f"{name}[{j}]" if len(shape) == 1 else f"{name}[{i}, {j}]"
                if problem:
                    errors.append(f"{where}: {problem}")
                else:
                    values[i, j] = value
        if errors:
            return None, errors
        return values.reshape(shape), []

    def resize_values(values: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        new = np.zeros(shape)
        if values.ndim == len(shape):
            overlap = tuple(slice(0, min(a, b)) for a, b in zip(values.shape, shape, strict=True))
            new[overlap] = values[overlap]
        return new

    return GridKind(
        to_frame=to_frame,
        parse=parse,
        resize_frame=lambda frame, shape: to_frame(resize_values(np.zeros(0), shape)),
        resize_values=resize_values,
    )


GRIDS = {name: matrix_grid(name) for name in WEIGHT_NAMES}


# ---- callbacks (run before the page is drawn) -------------------------------------------------------


def set_weights(new: dict[str, np.ndarray], seed: int, scale: float, what: str) -> None:
    """Replace the explicit weights, keeping the ones replaced for an undo."""
    mem = page_state.memory()
    mem.weights_undo = (what, dict(mem.weights))
    mem.weights = {name: np.asarray(w, dtype=np.float64) for name, w in new.items()}
    mem.weights_seed = (seed, scale) if mem.weights else None


def apply_preset(name: str, config: RNNConfig, seed: int) -> None:
    mem = page_state.memory()
    preset = presets.PRESETS[name]
    if name == "tutorial":
        page_state.put("weight_scale", 1.0)  # the tutorial's N(0, 1)
        config = RNNConfig(**{**vars(config), "weight_scale": 1.0})
    set_weights(presets.apply(name, config, seed, mem.weights), seed, config.weight_scale, preset.label)


def apply_alpha(config: RNNConfig, seed: int) -> None:
    mem = page_state.memory()
    alpha = float(page_state.get(ALPHA, 1.0))
    new = presets.scale_wy(alpha)(config, seed, mem.weights)
    set_weights(new, seed, config.weight_scale, f"Wy scaled by {alpha:g}")


def undo(seed: int, scale: float) -> None:
    mem = page_state.memory()
    if mem.weights_undo is None:
        return
    what, before = mem.weights_undo
    mem.weights, mem.weights_undo = before, None
    mem.weights_seed = (seed, scale) if before else None
    page_state.notify("info", f"Undone: {what}. The weights are back as they were.")


def use_seed(seed: int, scale: float) -> None:
    set_weights({}, seed, scale, "the seed's weights")


def keep_edits(seed: int, scale: float) -> None:
    page_state.memory().weights_seed = (seed, scale)


def set_one(shapes: dict[str, tuple[int, ...]], resolved: Weights, seed: int, scale: float) -> None:
    """Button callback: the picked weight gets the typed value (a bad value is named, nothing changes)."""
    name = page_state.get(PICK_NAME, "Wx")
    if name not in shapes:
        return
    shape = shapes[name]
    index = tuple(_index(page_state.get(key, 0), n) for key, n in zip((PICK_I, PICK_J), shape, strict=False))
    where = f"{name}[{', '.join(str(i) for i in index)}]"
    value, problem = parse_cell(page_state.get(PICK_VALUE, ""))
    if problem:
        page_state.notify("error", f"{where}: {problem} (limit ±{MAX_ABS_WEIGHT:g}); nothing was changed.")
        return
    mem = page_state.memory()
    new = dict(mem.weights)
    matrix = np.array(getattr(resolved, name), dtype=np.float64, copy=True)
    matrix[index] = value
    new[name] = matrix
    set_weights(new, seed, scale, f"{where} = {value:g}")


def _index(value: Any, count: int) -> int:
    try:
        return min(max(int(value), 0), count - 1)
    except (TypeError, ValueError, OverflowError):
        return 0


# ---- the section ------------------------------------------------------------------------------------


def weights_section(state: State, style, present: bool, shown: bool = True) -> State:
    """The weights' editing (presets, one weight, a matrix); return the state with any weight typed into
    a grid this run. The heatmaps are drawn by weights_charts, next to "Explain a cell" (they follow the
    picked cell); on the presentation slide "Weights", here. Not shown (another slide): not drawn (the
    edited weights live in the page memory)."""
    if not shown:  # another slide: nothing drawn (an empty container would still take a gap)
        return state
    with st.container():
        if present:  # (on the page the weights' chapter has the title)
            st.subheader("Weights")
        charts_box = st.container()
        with st.container(key="weights_editing"):
            if present:
                st.html(EDITING_CSS)
            st.caption(
                "Wx, Wy, b, Wo and bo are drawn as heatmaps below “Explain a cell”, with the weights the "
                "explained cell uses outlined. Edit them here: the network follows at once."
            )
            state = _editing(state)
        if present and shown:
            with charts_box:
                _charts(state, style, present)
    return state


def weights_charts(state: State, style) -> None:
    """The weights as heatmaps on one scale, the explained cell's weights outlined (page, not slides)."""
    st.subheader("The weights")
    _charts(state, style, False)


def _charts(state: State, style, present: bool) -> None:
    W = state.resolved_weights()
    scale = wf.symmetric_scale("weights", *(getattr(W, n) for n in WEIGHT_NAMES))
    t, n = state.view.step, state.view.neuron
    explicit = ", ".join(state.weights) if state.weights else "none (all from the seed)"
    text = (
        f"One color scale for every weight, symmetric around 0: **±{scale.high:.3g}** (blue negative, red "
        f"positive; hover a cell for its exact value). Outlined: what y{t}[·, {n}] and out{t} use "
        f"(column {n} of Wx and Wy, b[{n}], the step-{t} head)."
    )
    (st.markdown if present else st.caption)(text + ("" if present else f" Edited weights: {explicit}."))
    image_format = page_state.get(page_state.IMAGE_FORMAT_KEY, "png")
    render.chart(wf.scale_legend(scale, "weights-scale", style), state.seed, "weights_scale", image_format)
    with st.container(horizontal=True, wrap=True, gap="small"):
        for name in ("Wx", "Wy", "b", "Wo", "bo"):
            values = getattr(W, name)
            chart = wf.weight_heatmap(name, values, scale, style)
            boxes = wf.weight_outlines(name, values.shape, t, n, state.shared_output)
            render.chart(wf.outline(chart, boxes), state.seed, f"weights_{name}", image_format)


def _editing(state: State) -> State:
    config, seed = state.config, state.seed
    _prompts(state)
    st.markdown("**Presets** (one click; each replaces what it names, with an undo):")
    items = list(presets.PRESETS.values())
    for start in range(0, len(items), 4):
        columns = st.columns(4)
        for column, preset in zip(columns, items[start : start + 4], strict=False):
            column.button(
                preset.label,
                key=f"weights_preset_{preset.name}",
                on_click=apply_preset,
                args=(preset.name, config, seed),
                width="stretch",
                help=preset.teaches,
            )
            column.caption(preset.teaches)
    a, b = st.columns([3, 1], vertical_alignment="bottom")
    a.slider("Scale Wy by α (whatever Wy is now)", 0.0, 3.0, 1.0, 0.05, key=ALPHA)
    b.button("Scale Wy", on_click=apply_alpha, args=(config, seed), width="stretch")

    # A toggle, not an expander: an expander's content runs on every rerun, and the weight grid is the
    # costliest part of this section (~15 ms); it is built only while someone edits by hand.
    if st.toggle("Edit the weights by hand: type one weight, or a whole matrix in a grid", key=BY_HAND):
        return _by_hand(state)
    return state


def _by_hand(state: State) -> State:
    mem = page_state.memory()
    seed, scale = state.seed, state.weight_scale
    resolved = state.resolved_weights()
    shapes = {name: getattr(resolved, name).shape for name in WEIGHT_NAMES}
    c_name, c_i, c_j, c_value, c_set = st.columns([1, 1, 1, 2, 1], vertical_alignment="bottom")
    name = c_name.selectbox("Weight", WEIGHT_NAMES, key=PICK_NAME)
    shape = shapes.get(name, shapes["Wx"])
    for key, count in zip((PICK_I, PICK_J), shape, strict=False):
        if _index(page_state.get(key, 0), count) != page_state.get(key, 0):
            page_state.put(key, _index(page_state.get(key, 0), count))
    c_i.number_input("index" if len(shape) == 1 else "row", 0, shape[0] - 1, step=1, key=PICK_I)
    if len(shape) == 2:
        c_j.number_input("column", 0, shape[1] - 1, step=1, key=PICK_J)
    c_value.text_input("value", key=PICK_VALUE, placeholder="e.g. 0.5")
    c_set.button("Set", on_click=set_one, args=(shapes, resolved, seed, scale), width="stretch")

    picked = st.selectbox("Edit a matrix", WEIGHT_NAMES, key=GRID_PICK)
    values = getattr(resolved, picked)
    if values.size > MAX_GRID_CELLS:
        st.caption(f"{picked} has {values.size} cells: edit it one weight at a time above.")
        return state
    gname = f"weights_{picked}"
    held = mem.grids.get(gname)
    if held is None or held.values.shape != values.shape or not np.array_equal(held.values, values):
        grid.load(gname, GRIDS[picked], values)  # the weight changed elsewhere (seed, preset, size)
    edited, errors = grid.editable_grid(
        gname,
        GRIDS[picked],
        values.shape,
        caption=f"{picked}: type to edit; the network follows.",
        what="the weights",
    )
    if not errors and not np.array_equal(edited, values):
        mem.weights = {**mem.weights, picked: edited}
        mem.weights_undo = (f"the edit of {picked}", dict(state.weights))
        mem.weights_seed = (seed, scale)
        state = state.with_changes(weights=dict(mem.weights))
    return state


def _prompts(state: State) -> None:
    """A seed change under edited weights asks what to do; the last replacement can be undone."""
    mem = page_state.memory()
    seed, scale = state.seed, state.weight_scale
    if mem.weights and mem.weights_seed is not None and mem.weights_seed != (seed, scale):
        names = ", ".join(mem.weights)
        st.warning(
            f"You changed the seed or the weight scale, but your edited weights ({names}) are kept: edited "
            "weights win over the seed. Use the seed's weights instead?",
            icon="⚠️",
        )
        a, b = st.columns(2)
        a.button("Use the seed's weights", on_click=use_seed, args=(seed, scale), width="stretch")
        b.button("Keep my weights", on_click=keep_edits, args=(seed, scale), width="stretch")
    if mem.weights_undo is not None:
        what, _ = mem.weights_undo
        a, b = st.columns([3, 1], vertical_alignment="center")
        a.caption(f"Last change to the weights: {what}.")
        b.button("Undo", key="weights_undo", on_click=undo, args=(seed, scale), width="stretch")
