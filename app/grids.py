"""The page's editable grids: what values each holds and how they become a table and back."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .components.grid import GridKind
from .table import (
    format_number,
    inputs_to_frame,
    parse_cell,
    parse_frame,
    resize_frame,
    resize_inputs,
    row_name,
)

# The inputs: (T, B, F) values as B rows of T·F text cells (columns X0[0], X0[1], X1[0], ...).
INPUTS = GridKind(
    to_frame=inputs_to_frame,
    parse=lambda frame, shape: parse_frame(frame, shape[0], shape[2]),
    resize_frame=lambda frame, shape: resize_frame(frame, *shape),
    resize_values=lambda values, shape: resize_inputs(values, *shape),
)


# The targets: (T, B) values as B rows of T text cells (columns out0, out1, ...), one per output.
def target_column(step: int) -> str:
    return f"out{step}"


def targets_to_frame(targets: np.ndarray) -> pd.DataFrame:
    T, B = targets.shape
    text = [[format_number(targets[t, b]) for t in range(T)] for b in range(B)]
    return pd.DataFrame(
        text,
        columns=[target_column(t) for t in range(T)],
        index=[row_name(b) for b in range(B)],
        dtype=object,
    )


def parse_targets(frame: pd.DataFrame, shape: tuple[int, ...]) -> tuple[np.ndarray | None, list[str]]:
    T, B = shape
    columns = [target_column(t) for t in range(T)]
    cells = frame.reindex(columns=columns).to_numpy(dtype=object)  # (B, T); missing -> NaN
    values, errors = np.zeros((B, T)), []
    for b in range(cells.shape[0]):
        for t in range(T):
            value, problem = parse_cell(cells[b, t])
            if problem:
                errors.append(f"{row_name(b)}, {columns[t]}: {problem}")
            else:
                values[b, t] = value
    return (None, errors) if errors else (values.T.copy(), [])


def resize_targets_frame(frame: pd.DataFrame, shape: tuple[int, ...]) -> pd.DataFrame:
    T, B = shape
    columns = [target_column(t) for t in range(T)]
    resized = pd.DataFrame("0", columns=columns, index=[row_name(b) for b in range(B)], dtype=object)
    keep = min(B, len(frame))
    for name in columns:
        if name in frame.columns:
            resized.iloc[:keep, resized.columns.get_loc(name)] = frame[name].iloc[:keep].to_numpy()
    return resized


def resize_targets(values: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    T, B = shape
    out = np.zeros((T, B))
    t, b = min(T, values.shape[0]), min(B, values.shape[1])
    out[:t, :b] = values[:t, :b]
    return out


TARGETS = GridKind(
    to_frame=targets_to_frame,
    parse=parse_targets,
    resize_frame=resize_targets_frame,
    resize_values=resize_targets,
)
