"""Targets: what each output should be (T, B), an editable grid beside the inputs, filled from a task
preset (rnn_core.tasks) or typed. The values go to the page memory, so the link and the file carry them."""

from __future__ import annotations

import numpy as np
import streamlit as st

from rnn_core.tasks import TASKS, make_targets

from .. import page_state
from ..components import grid
from ..components.grid import editable_grid
from ..grids import TARGETS as TARGETS_GRID
from ..grids import target_column

TASK_KEY = "target_task"


def caption(n_steps: int) -> str:
    """What a column of the targets grid is, on an example column the grid has."""
    t = min(1, n_steps - 1)
    column, symbol = target_column(t), f"out{'₀₁'[t]}"
    return f"One row per batch row; column {column} is what {symbol} of that row should be. Type to edit."


def fill_from_task() -> None:
    """Button callback: the targets of the picked task, made from the inputs as they are now."""
    mem = page_state.memory()
    name = page_state.get(TASK_KEY)
    if name not in TASKS:
        page_state.notify("warning", "Pick one of the tasks to fill the targets.")
        return
    X = mem.grids["inputs"].values
    targets = make_targets(name, X)
    grid.load("targets", TARGETS_GRID, targets)
    mem.targets = targets
    mem.target_task = name
    page_state.notify("info", f"Targets filled for the task “{TASKS[name].label}”: {TASKS[name].lesson}")


def targets_section(container, X: np.ndarray) -> np.ndarray:
    """Draw the targets box for inputs X (T, B, F); return the targets (T, B) to use."""
    mem = page_state.memory()
    T, B, _ = X.shape
    if "targets" not in mem.grids:
        grid.load("targets", TARGETS_GRID, np.zeros((T, B)) if mem.targets is None else mem.targets)
    with container:
        st.subheader("Targets")
        with st.container(key="editing_targets"):
            pick, fill = st.columns([3, 1], vertical_alignment="bottom")
            if page_state.get(TASK_KEY) not in TASKS:
                page_state.put(TASK_KEY, "copy")
            pick.selectbox(
                "Task",
                list(TASKS),
                format_func=lambda name: TASKS[name].label,
                key=TASK_KEY,
                help="Fills the targets from feature 0 of the inputs.",
            )
            fill.button("Fill the targets", on_click=fill_from_task, key="fill_targets")
            targets, errors = editable_grid(
                "targets", TARGETS_GRID, (T, B), caption=caption(T), what="the targets"
            )
    if not errors:
        mem.targets = None if mem.targets is None and not np.any(targets) else targets
    return targets
