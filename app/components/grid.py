"""An editable grid of numbers as text cells (inputs today; targets and weights use it too).

A GridKind says how values of a shape become a table and back. The grid keeps the table the editor
starts from in the page memory; a change of shape keeps every cell that still fits, as typed. Cells
are text so that a typo is kept and reported, never wiped. Whatever the editor's state says (a crafted
message may add or delete rows), the table keeps exactly the rows and columns of the shape asked for.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import streamlit as st

from .. import page_state
from ..page_state import GridMemory
from ..table import check_editor_state, has_edits, read_editor_state
from ..text import plain_lines

MAX_ERRORS_SHOWN = 8
Shape = tuple[int, ...]


@dataclass(frozen=True)
class GridKind:
    to_frame: Callable[[np.ndarray], pd.DataFrame]  # values -> a table of text cells
    parse: Callable[[pd.DataFrame, Shape], tuple[np.ndarray | None, list[str]]]  # table -> values or errors
    resize_frame: Callable[[pd.DataFrame, Shape], pd.DataFrame]  # keep the cells that fit, new ones 0
    resize_values: Callable[[np.ndarray, Shape], np.ndarray]
    shape_of: Callable[[np.ndarray], Shape] = lambda values: values.shape


def load(name: str, kind: GridKind, values: np.ndarray) -> None:
    """Put values into the grid `name` (a new table for its editor)."""
    grids = page_state.memory().grids
    if name in grids:
        grids[name].replace_base(kind.to_frame(values), values)
    else:
        grids[name] = GridMemory(name, kind.to_frame(values), values)


def editable_grid(
    name: str, kind: GridKind, shape: Shape, *, caption: str = "", what: str = "the network"
) -> tuple[np.ndarray, list[str]]:
    """Draw the grid at `shape`; return the values to use (the last valid ones while a cell is bad)
    and the problems found (shown under the grid, each naming its cell)."""
    mem = page_state.memory().grids[name]
    refused = _guard(mem)  # before st.data_editor: Streamlit applies the state inside the call
    if kind.shape_of(mem.values) != shape:
        mem.replace_base(kind.resize_frame(_as_shown(mem), shape), kind.resize_values(mem.values, shape))
    config = {column: st.column_config.TextColumn(column, width="small") for column in mem.base.columns}
    edited = st.data_editor(mem.base, key=mem.editor_key, column_config=config, width="stretch")
    if caption:
        st.caption(caption)
    edited, dropped = _same_cells(edited, mem.base)
    values, errors = kind.parse(edited, shape)
    errors = [*refused, *([dropped] if dropped else []), *errors]
    if errors:
        _show_errors(errors, what)
    if values is None:
        return mem.values, errors
    mem.values = values
    return values, errors


def _editor_state(mem: GridMemory) -> object:
    return read_editor_state(st.session_state, mem.editor_key)


def _guard(mem: GridMemory) -> list[str]:
    """Check the editor's state (a crafted message may carry anything) against the table before
    Streamlit applies it; a state that cannot be applied safely is dropped (a fresh editor), with
    messages saying what was refused."""
    state = _editor_state(mem)
    if not has_edits(state):  # (nothing to refuse)
        return []
    check = check_editor_state(mem.base, state, max_rows=len(mem.base))
    if check.reset:
        mem.replace_base(mem.base, mem.values)
    return check.messages


def _as_shown(mem: GridMemory) -> pd.DataFrame:
    """The table with the editor's current (safe) edits applied: what the user sees."""
    state = _editor_state(mem)
    if not has_edits(state):
        return mem.base
    check = check_editor_state(mem.base, state, max_rows=len(mem.base))
    if check.reset or check.frame.shape != mem.base.shape:
        return mem.base
    frame = check.frame.copy()
    frame.index = mem.base.index
    return frame


def _same_cells(edited: pd.DataFrame, base: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """The edited table cut back to the base table's rows and columns (rows added or deleted through
    the editor's state are not a way to change the size: the size controls are)."""
    if edited.shape == base.shape and edited.index.equals(base.index) and edited.columns.equals(base.columns):
        return edited, ""
    kept = edited.reindex(index=base.index, columns=base.columns)
    kept = kept.where(kept.notna(), base)
    return kept, "Rows can only be added or removed with the size controls; the table keeps its size."


def _show_errors(errors: list[str], what: str) -> None:
    shown = "\n".join(f"- {e}" for e in errors[:MAX_ERRORS_SHOWN])
    more = f"\n- … and {len(errors) - MAX_ERRORS_SHOWN} more" if len(errors) > MAX_ERRORS_SHOWN else ""
    lead = "this" if len(errors) == 1 else "these"
    st.error(
        f"Fix {lead} to update {what} (the charts show the last valid values):\n{plain_lines(shown + more)}",
        icon="✏️",
    )
