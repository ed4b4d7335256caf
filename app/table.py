"""The inputs as an editable table of text cells: one row per batch row, a column per step and feature.

Cells are text so that a typo is kept as typed and reported, instead of being refused or wiped.
Pure: no streamlit.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from rnn_core.config import MAX_ABS_INPUT


def column_name(step: int, feature: int) -> str:
    return f"X{step}[{feature}]"


def row_name(row: int) -> str:
    return f"row {row}"


def format_number(x: float) -> str:
    """1.0 -> '1', 0.25 -> '0.25': what a person would type."""
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e15 else repr(float(x))


def inputs_to_frame(inputs: np.ndarray) -> pd.DataFrame:
    """(T, B, F) numbers -> a B-row table of text, columns X0[0], X0[1], X1[0], ..."""
    T, B, F = inputs.shape
    columns = [column_name(t, f) for t in range(T) for f in range(F)]
    cells = inputs.transpose(1, 0, 2).reshape(B, T * F)  # (B, T*F), step-major columns
    text = [[format_number(x) for x in row] for row in cells]
    return pd.DataFrame(text, columns=columns, index=[row_name(b) for b in range(B)], dtype=object)


def parse_cell(text: object) -> tuple[float | None, str | None]:
    """(value, None) or (None, what is wrong)."""
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return None, "is blank"
    raw = str(text).strip()
    if not raw:
        return None, "is blank"
    try:
        value = float(raw)
    except (ValueError, OverflowError):
        return None, f"'{raw[:20]}' is not a number"
    if math.isnan(value):
        return None, "is NaN (not a number)"
    if math.isinf(value):
        return None, "is infinite"
    if abs(value) > MAX_ABS_INPUT:
        return None, f"{raw[:20]} is too large (the limit is ±{MAX_ABS_INPUT:g})"
    return value, None


def parse_frame(frame: pd.DataFrame, n_steps: int, n_inputs: int) -> tuple[np.ndarray | None, list[str]]:
    """The table as inputs (T, B, F), or None and one message per bad cell (row-major order)."""
    B = len(frame)
    columns = [column_name(t, f) for t in range(n_steps) for f in range(n_inputs)]
    cells = frame.reindex(columns=columns).to_numpy(dtype=object)  # (B, T*F); missing -> NaN
    try:
        if not all(type(c) is str for c in cells.flat):  # the editor sends text; anything else: slow path
            raise TypeError
        values = cells.astype(np.float64)  # fast path: every cell is a plain number
        ok = bool(np.isfinite(values).all() and (np.abs(values) <= MAX_ABS_INPUT).all())
    except (TypeError, ValueError, OverflowError):
        ok = False
    if not ok:
        errors = []
        for b in range(B):
            for c, name in enumerate(columns):
                _, problem = parse_cell(cells[b, c])
                if problem:
                    errors.append(f"{row_name(b)}, {name}: {problem}")
        if errors:
            return None, errors
        values = np.array([[parse_cell(x)[0] for x in row] for row in cells], dtype=np.float64)
    return values.reshape(B, n_steps, n_inputs).transpose(1, 0, 2).copy(), []


def resize_frame(frame: pd.DataFrame, n_steps: int, batch: int, n_inputs: int) -> pd.DataFrame:
    """A table of the new size keeping every cell that still fits, as typed; new cells are 0."""
    columns = [column_name(t, f) for t in range(n_steps) for f in range(n_inputs)]
    resized = pd.DataFrame("0", columns=columns, index=[row_name(b) for b in range(batch)], dtype=object)
    keep_rows = min(batch, len(frame))
    for name in columns:
        if name in frame.columns:
            resized.iloc[:keep_rows, resized.columns.get_loc(name)] = frame[name].iloc[:keep_rows].to_numpy()
    return resized


def apply_edits(base: pd.DataFrame, edits: dict | None) -> pd.DataFrame:
    """The base table with a data_editor edit state ({"edited_rows": {row: {column: value}}}) applied."""
    frame = base.copy()
    for row, changes in ((edits or {}).get("edited_rows") or {}).items():
        for name, value in changes.items():
            if name in frame.columns and 0 <= int(row) < len(frame):
                frame.iloc[int(row), frame.columns.get_loc(name)] = value
    return frame


def resize_inputs(inputs: np.ndarray, n_steps: int, batch: int, n_inputs: int) -> np.ndarray:
    """Numbers of a new size: the overlap kept, the rest 0."""
    resized = np.zeros((n_steps, batch, n_inputs))
    T, B, F = (min(a, b) for a, b in zip(inputs.shape, resized.shape, strict=True))
    resized[:T, :B, :F] = inputs[:T, :B, :F]
    return resized


def _vector(values: np.ndarray, digits: int | None = None) -> str:
    if digits is None:
        return "[" + " ".join(format_number(v) for v in values) + "]"
    return "[" + " ".join(f"{v:.{digits}f}" for v in values) + "]"


def printout_lines(inputs: np.ndarray, outputs: np.ndarray) -> list[str]:
    """The tutorial's printout, one line per row: input0: [1 2] ... -> output0: [-0.32] ..."""
    T, B, _ = inputs.shape
    lines = []
    for b in range(B):
        ins = " ".join(f"input{t}: {_vector(inputs[t, b])}" for t in range(T))
        outs = " ".join(f"output{t}: [{outputs[t, b]:.2f}]" for t in range(T))
        lines.append(f"{ins} -> {outs}")
    return lines


def printout_frame(inputs: np.ndarray, outputs: np.ndarray) -> pd.DataFrame:
    """The same printout as a table: a row per batch row, inputN and outputN columns."""
    T, B, _ = inputs.shape
    data = {f"input{t}": [_vector(inputs[t, b]) for b in range(B)] for t in range(T)}
    data |= {f"output{t}": [round(float(outputs[t, b]), 4) for b in range(B)] for t in range(T)}
    return pd.DataFrame(data, index=[row_name(b) for b in range(B)])


def _inputs_grid():
    from .components.grid import GridKind

    return GridKind(
        to_frame=inputs_to_frame,
        parse=lambda frame, shape: parse_frame(frame, shape[0], shape[2]),
        resize_frame=lambda frame, shape: resize_frame(frame, *shape),
        resize_values=lambda values, shape: resize_inputs(values, *shape),
    )


INPUTS_GRID = _inputs_grid()  # the inputs as an editable grid: (T, B, F) values, B rows of T·F cells
