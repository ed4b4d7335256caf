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
    if kind.shape_of(mem.values) != shape:
        typed = _as_shown(mem)
        mem.replace_base(kind.resize_frame(typed, shape), kind.resize_values(mem.values, shape))
    config = {column: st.column_config.TextColumn(column, width="small") for column in mem.base.columns}
    edited = st.data_editor(mem.base, key=mem.editor_key, column_config=config, width="stretch")
    if caption:
        st.caption(caption)
    edited, dropped = _same_cells(edited, mem.base)
    values, errors = kind.parse(edited, shape)
    if dropped:
        errors = [dropped, *errors]
    if values is None:
        _show_errors(errors, what)
        return mem.values, errors
    if errors:
        _show_errors(errors, what)
    mem.values = values
    return values, errors


def _as_shown(mem: GridMemory) -> pd.DataFrame:
    """The table with the editor's current edits applied (what the user sees)."""
    edits = page_state.get(mem.editor_key) or {}
    frame = mem.base.copy()
    rows = edits.get("edited_rows") if isinstance(edits, dict) else None
    for row, changes in (rows or {}).items():
        try:
            index = int(row)
        except (TypeError, ValueError):
            continue
        if 0 <= index < len(frame) and isinstance(changes, dict):
            for column, value in changes.items():
                if column in frame.columns:
                    frame.iloc[index, frame.columns.get_loc(column)] = value
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
    lead = "this cell" if len(errors) == 1 else "these cells"
    st.error(
        f"Fix {lead} to update {what} (the charts show the last valid values):\n{_escape(shown + more)}",
        icon="✏️",
    )


def _escape(text: str) -> str:
    """Cell text is the user's: no markdown or HTML from it (list markers kept)."""
    from ..text import plain_lines

    return plain_lines(text)
