"""The inputs as an editable table of text cells: one row per batch row, a column per step and feature.

Cells are text so that a typo is kept as typed and reported, instead of being refused or wiped.
Pure: no streamlit.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import islice

import numpy as np
import pandas as pd

from rnn_core.config import LIMITS, MAX_ABS_INPUT

from .hardening import UNREADABLE_KEY


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


# ---- the data editor's edit state, from the browser: hostile until checked -------------------------
#
# st.data_editor keeps {"edited_rows": {position: {column: value}}, "added_rows": [{column: value,
# "_index": label}], "deleted_rows": [position]} as sent by the browser, and applies it itself when
# it is called (streamlit/elements/widgets/data_editor.py, _apply_dataframe_edits: edits, then
# deletions, then additions), whatever num_rows says, with no bound on the rows added, and raising
# on a row position or column it does not know. So the page checks the state first
# (check_editor_state) and never hands st.data_editor a state that is not plain cell edits.

MAX_ROWS = LIMITS["batch"][1]
MAX_CELL_CHARS = 64  # a number a person types is far shorter; a longer text is refused, not kept
MAX_MESSAGES = 6
_ROW_KEY = re.compile(r"[0-9]{1,6}")


@dataclass(frozen=True)
class EditorCheck:
    """What check_editor_state found.

    frame: the base table with every acceptable edit applied, 1..MAX_ROWS rows named row 0..row n-1.
    messages: one line per kind of thing refused or changed (user text shortened and quoted).
    reset: True when the state must not reach st.data_editor (anything but in-range cell edits of
    known columns with text values): the page stores `frame` as the new base and gives the editor a
    new key, so the browser's state is dropped.
    """

    frame: pd.DataFrame
    messages: list[str]
    reset: bool


def _quote(value: object, limit: int = 20) -> str:
    """A short, printable rendering of something the browser sent (never its whole text)."""
    if isinstance(value, str):
        text = "".join(ch if ch.isprintable() else "?" for ch in value[:limit])
        return f"'{text}…'" if len(value) > limit else f"'{text}'"
    if isinstance(value, bool) or value is None or isinstance(value, float):
        return repr(value)
    if isinstance(value, int):
        return str(value) if abs(value) < 10**12 else "a huge number"
    return f"a {type(value).__name__}"


def _row_position(key: object) -> int | None:
    """A row position as the browser sends it (an int, or its decimal text); None for anything else."""
    if isinstance(key, bool):
        return None
    if isinstance(key, int):
        return key if 0 <= key < 10**6 else None
    if isinstance(key, str) and _ROW_KEY.fullmatch(key):
        return int(key)
    return None


def _cell_value(value: object) -> tuple[str | None, str | None]:
    """(text to store, None) or (None, why refused). None (a cleared cell) is kept as blank."""
    if value is None:
        return "", None
    if not isinstance(value, str):
        return None, f"{type(value).__name__} instead of text"
    if len(value) > MAX_CELL_CHARS:
        return None, f"text of {len(value)} characters (the limit is {MAX_CELL_CHARS})"
    return value, None


class _Notes:
    """Messages grouped by kind, each with a count and the first few examples."""

    def __init__(self) -> None:
        self.kinds: dict[str, list] = {}

    def add(self, kind: str, example: str, count: int = 1) -> None:
        entry = self.kinds.setdefault(kind, [0, []])
        entry[0] += count
        if len(entry[1]) < 3:
            entry[1].append(example)

    def lines(self) -> list[str]:
        out = []
        for kind, (count, examples) in self.kinds.items():
            more = f" and {count - len(examples)} more" if count > len(examples) else ""
            out.append(f"{kind}: {', '.join(examples)}{more}." if examples[0] else f"{kind}.")
        return out[:MAX_MESSAGES]


EDIT_PARTS = ("edited_rows", "added_rows", "deleted_rows")  # a data editor state's parts


def has_edits(state: object) -> bool:
    """Does a data editor state hold anything for check_editor_state to apply or refuse? Not an editor
    that was never touched (None: not drawn yet; its parts all empty: drawn, not edited), which is
    every editor of a first page: the table is then the base as it is (a check that copies and renames
    it costs every run ~0.5 ms of a 3-row table)."""
    if state is None:
        return False
    try:
        if not isinstance(state, Mapping) or len(state) > len(EDIT_PARTS):
            return True
        return any(key not in EDIT_PARTS or bool(state[key]) for key in state)
    except Exception:  # (a part whose truth cannot be told: the check says what is wrong with it)
        return True


def check_editor_state(base: pd.DataFrame, state: object, max_rows: int = MAX_ROWS) -> EditorCheck:
    """The base table with a data editor state applied safely. Never raises; bounded work.

    Honours edited_rows (positions in the base), deleted_rows (positions in the base) and added_rows
    (appended, `_index` ignored: rows are always named row 0..row n-1), in Streamlit's order.
    Refused with a message: unknown, negative, huge or non-integer row keys; row positions past the
    table; unknown columns; values that are not text (or None, a cleared cell); text longer than
    MAX_CELL_CHARS; rows past max_rows (LIMITS["batch"]); a state that is not a mapping. Deleting
    every row keeps the first one, and says so.
    """
    notes = _Notes()
    frame = base.iloc[:max_rows].copy()
    if len(base) > max_rows:
        notes.add(f"The table has at most {max_rows} rows; rows past that were dropped", "")
    columns = list(frame.columns)
    known = set(columns)
    n = len(frame)
    if state is None:
        return EditorCheck(_renamed(frame, columns), notes.lines(), reset=bool(notes.kinds))
    if not isinstance(state, Mapping):
        notes.add("The table's edits were not understood and were dropped", "")
        return EditorCheck(_renamed(frame, columns), notes.lines(), reset=True)
    if UNREADABLE_KEY in state:  # Streamlit could not read it (app/hardening.py): nothing of it is used
        notes.add("The table's edits could not be read and were dropped", "")
        return EditorCheck(_renamed(frame, columns), notes.lines(), reset=True)
    unexpected = [k for k in islice(state, 10) if k not in EDIT_PARTS]
    if unexpected:
        notes.add("Unknown parts of the table's edits were ignored", _quote(unexpected[0]), len(unexpected))

    # 1. cell edits, by position in the base table
    edited = state.get("edited_rows") or {}
    if not isinstance(edited, Mapping):
        notes.add("The table's cell edits were not understood and were dropped", "")
        edited = {}
    for key, changes in islice(edited.items(), max_rows * max(len(columns), 1) + 1):
        row = _row_position(key)
        if row is None or row >= n:
            notes.add(
                "Edits to rows that do not exist were refused",
                _quote(key),
            )
            continue
        if not isinstance(changes, Mapping):
            notes.add("Edits that are not cell values were refused", f"row {row}")
            continue
        for name, value in islice(changes.items(), len(columns) + 1):
            if name not in known:
                notes.add("Edits to unknown columns were refused", _quote(name))
                continue
            text, problem = _cell_value(value)
            if problem:
                notes.add("Cell values that are not short text were refused", f"row {row}, {name}: {problem}")
                continue
            frame.iat[row, columns.index(name)] = text

    # 2. deletions, by position in the base table
    deleted = state.get("deleted_rows") or []
    positions: set[int] = set()
    if not isinstance(deleted, list | tuple):
        notes.add("The table's row deletions were not understood and were ignored", "")
        deleted = []
    for key in islice(deleted, n + 8):
        row = _row_position(key)
        if row is None or row >= n:
            notes.add(
                "Deletions of rows that do not exist were refused",
                _quote(key),
            )
            continue
        positions.add(row)

    # 3. additions, up to the cap
    added = state.get("added_rows") or []
    if not isinstance(added, list | tuple):
        notes.add("The table's added rows were not understood and were ignored", "")
        added = []
    room = max_rows - (n - len(positions))
    new_rows = []
    for item in islice(added, max(room, 0)):
        if not isinstance(item, Mapping):
            notes.add("Added rows that are not rows were refused", _quote(item))
            continue
        cells = dict.fromkeys(columns, "0")
        for name, value in islice(item.items(), len(columns) + 2):
            if name == "_index":
                continue
            if name not in known:
                notes.add("Values for unknown columns were refused", _quote(name))
                continue
            text, problem = _cell_value(value)
            if problem:
                notes.add("Cell values that are not short text were refused", f"new row, {name}: {problem}")
                continue
            cells[name] = text or ""
        new_rows.append([cells[c] for c in columns])
    if len(added) > max(room, 0):
        notes.add(
            f"The table has at most {max_rows} rows; {len(added) - max(room, 0)} added rows were refused", ""
        )
    if positions and len(positions) == n and not new_rows:
        keep = min(positions)
        positions.discard(keep)
        notes.add("The table keeps at least one row; row 0 was kept", "")
    if positions:
        frame = frame.drop(frame.index[sorted(positions)])
    if new_rows:
        frame = pd.concat([frame, pd.DataFrame(new_rows, columns=columns, dtype=object)])
    reset = bool(notes.kinds or positions or new_rows or added or deleted)
    return EditorCheck(_renamed(frame, columns), notes.lines(), reset)


def _renamed(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    frame = frame.reindex(columns=columns)
    frame.index = [row_name(b) for b in range(len(frame))]
    return frame.astype(object)


UNREADABLE = object()  # a state Streamlit itself could not deserialize


def read_editor_state(session_state: Mapping, key: str) -> object:
    """The editor's state from st.session_state, without raising: Streamlit's own deserializer
    raises on a row key that is not a number (then UNREADABLE, which check_editor_state refuses)."""
    try:
        return session_state.get(key)
    except Exception:
        return UNREADABLE


def bound_rows(frame: pd.DataFrame, max_rows: int = MAX_ROWS) -> tuple[pd.DataFrame, list[str]]:
    """Defence in depth on the frame st.data_editor returns: 1..max_rows rows, or a message."""
    if 1 <= len(frame) <= max_rows:
        return frame, []
    if len(frame) == 0:
        return frame, ["The table has no rows; the last valid inputs are shown."]
    return frame.iloc[:max_rows], [f"The table has at most {max_rows} rows; rows past that were dropped."]


def edit_frame(base: pd.DataFrame, edits: object) -> tuple[pd.DataFrame, list[str]]:
    """The base table with a data editor state applied safely, and the messages for what was refused."""
    check = check_editor_state(base, edits)
    return check.frame, check.messages


def apply_edits(base: pd.DataFrame, edits: object) -> pd.DataFrame:
    """The base table with a data editor state applied (see check_editor_state; messages dropped)."""
    return check_editor_state(base, edits).frame


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
    data: dict[str, list] = {f"input{t}": [_vector(inputs[t, b]) for b in range(B)] for t in range(T)}
    data |= {f"output{t}": [round(float(outputs[t, b]), 4) for b in range(B)] for t in range(T)}
    return pd.DataFrame(data, index=[row_name(b) for b in range(B)])
