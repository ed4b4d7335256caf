"""The inputs: the size controls and the editable table (a row per batch row, a column per step and
feature). In presentation mode the editing widgets are hidden but kept alive (their state)."""

from __future__ import annotations

import numpy as np
import streamlit as st

from rnn_core.config import LIMITS

from .. import page_state
from ..components.grid import editable_grid
from ..grids import INPUTS as INPUTS_GRID
from ..table import column_name, printout_frame


def caption(n_steps: int) -> str:
    """What a column of the inputs grid is, on an example column the grid has."""
    t = min(1, n_steps - 1)
    column = column_name(t, 0)
    return f"One row per batch row; column {column} is feature 0 of the input at step {t}. Type to edit."


def size_controls() -> tuple[int, int, int]:
    """Steps, rows and features; the values are kept inside the limits whatever the widget state says."""
    line = st.container(horizontal=True, gap="medium")  # (one block; three columns were four)
    line.number_input("Steps (T)", *LIMITS["n_steps"], step=1, key="n_steps")
    line.number_input("Rows (batch)", *LIMITS["batch"], step=1, key="batch")
    line.number_input("Features (n_inputs)", *LIMITS["n_inputs"], step=1, key="n_inputs")
    sizes = []
    for key, limit in (("n_steps", "n_steps"), ("batch", "batch"), ("n_inputs", "n_inputs")):
        lo, hi = LIMITS[limit]
        try:
            value = int(page_state.get(key, lo))
        except (TypeError, ValueError, OverflowError):
            value = lo
        sizes.append(min(max(value, lo), hi))
    T, B, F = sizes
    return T, B, F


def inputs_section(container) -> np.ndarray:
    """Draw the inputs box; return the inputs to use (T, B, F): the last valid ones while a cell is bad."""
    container.subheader("Inputs")
    with container.container(key="editing"):  # hidden in presentation mode, but kept alive
        T, B, F = size_controls()
        inputs, _ = editable_grid("inputs", INPUTS_GRID, (T, B, F), caption=caption(T), what="the network")
    return inputs


def inputs_slide(container, inputs: np.ndarray) -> None:
    """Presentation mode: the inputs, read-only and large."""
    container.table(printout_frame(inputs, inputs[:, :, 0]).filter(like="input"))
