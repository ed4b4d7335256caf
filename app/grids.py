"""The page's editable grids: what values each holds and how they become a table and back."""

from __future__ import annotations

from .components.grid import GridKind
from .table import inputs_to_frame, parse_frame, resize_frame, resize_inputs

# The inputs: (T, B, F) values as B rows of T·F text cells (columns X0[0], X0[1], X1[0], ...).
INPUTS = GridKind(
    to_frame=inputs_to_frame,
    parse=lambda frame, shape: parse_frame(frame, shape[0], shape[2]),
    resize_frame=lambda frame, shape: resize_frame(frame, *shape),
    resize_values=lambda values, shape: resize_inputs(values, *shape),
)
