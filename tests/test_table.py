"""The inputs table: text cells parsed into numbers; hostile cells give messages, never exceptions."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from app.table import (
    apply_edits,
    inputs_to_frame,
    parse_cell,
    parse_frame,
    printout_lines,
    resize_frame,
    resize_inputs,
)
from rnn_core.config import MAX_ABS_INPUT
from rnn_core.params import tutorial_inputs

ANY_CELL = st.one_of(
    st.text(max_size=30),
    st.none(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.booleans(),
    st.binary(max_size=10),
    st.lists(st.integers(), max_size=3),
)


def test_the_tutorial_table_round_trips():
    frame = inputs_to_frame(tutorial_inputs())
    assert list(frame.columns) == ["X0[0]", "X0[1]", "X1[0]", "X1[1]", "X2[0]", "X2[1]"]
    assert frame.loc["row 1", "X1[0]"] == "9"
    inputs, errors = parse_frame(frame, 3, 2)
    assert errors == []
    np.testing.assert_array_equal(inputs, tutorial_inputs())


def test_every_bad_cell_is_named():
    frame = inputs_to_frame(tutorial_inputs())
    frame.loc["row 0", "X0[1]"] = "two"
    frame.loc["row 2", "X2[0]"] = "-inf"
    frame.loc["row 1", "X1[1]"] = None
    inputs, errors = parse_frame(frame, 3, 2)
    assert inputs is None
    assert errors == [
        "row 0, X0[1]: 'two' is not a number",
        "row 1, X1[1]: is blank",
        "row 2, X2[0]: is infinite",
    ]


def test_resizing_keeps_what_fits_as_typed():
    frame = inputs_to_frame(tutorial_inputs())
    frame.loc["row 0", "X0[0]"] = "typo?"
    bigger = resize_frame(frame, 4, 4, 3)
    assert bigger.shape == (4, 12)
    assert bigger.loc["row 0", "X0[0]"] == "typo?"
    assert bigger.loc["row 2", "X2[1]"] == "18"
    assert bigger.loc["row 3", "X3[2]"] == "0"
    smaller = resize_frame(bigger, 1, 2, 1)
    assert list(smaller.columns) == ["X0[0]"] and list(smaller["X0[0]"]) == ["typo?", "3"]
    np.testing.assert_array_equal(resize_inputs(tutorial_inputs(), 1, 2, 1), [[[1.0], [3.0]]])


def test_edits_are_applied_like_the_data_editor_does():
    frame = apply_edits(inputs_to_frame(tutorial_inputs()), {"edited_rows": {2: {"X1[0]": "-4.5"}}})
    assert parse_frame(frame, 3, 2)[0][1, 2, 0] == -4.5


def test_printout_is_the_tutorials_format():
    outputs = np.array([[-0.3249, 0.1], [0.5, 0.25]])  # (T, B)
    lines = printout_lines(np.array([[[1, 2], [3, 4]], [[7, 8], [9.5, 10]]]), outputs)
    assert lines == [
        "input0: [1 2] input1: [7 8] -> output0: [-0.32] output1: [0.50]",
        "input0: [3 4] input1: [9.5 10] -> output0: [0.10] output1: [0.25]",
    ]


@settings(max_examples=400, deadline=None)
@given(ANY_CELL)
def test_any_cell_is_a_number_or_a_message(cell):
    value, problem = parse_cell(cell)
    assert (value is None) != (problem is None)
    if value is not None:
        assert math.isfinite(value) and abs(value) <= MAX_ABS_INPUT
    else:
        assert isinstance(problem, str) and problem


@settings(max_examples=150, deadline=None)
@given(
    st.integers(1, 4),
    st.integers(1, 4),
    st.integers(1, 3),
    st.data(),
)
def test_any_table_parses_or_names_its_bad_cells(n_steps, batch, n_inputs, data):
    columns = [f"X{t}[{f}]" for t in range(n_steps) for f in range(n_inputs)]
    cells = [[data.draw(ANY_CELL) for _ in columns] for _ in range(batch)]
    frame = pd.DataFrame(cells, columns=columns, index=[f"row {b}" for b in range(batch)], dtype=object)
    inputs, errors = parse_frame(frame, n_steps, n_inputs)
    bad = sum(parse_cell(c)[1] is not None for row in cells for c in row)
    assert len(errors) == bad
    if bad:
        assert inputs is None
    else:
        assert inputs.shape == (n_steps, batch, n_inputs) and np.isfinite(inputs).all()


@settings(max_examples=100, deadline=None)
@given(
    st.dictionaries(
        st.one_of(st.integers(-5, 10), st.text(max_size=3)), st.dictionaries(st.text(max_size=6), ANY_CELL)
    )
)
def test_hostile_edit_states_never_raise(edited_rows):
    base = inputs_to_frame(tutorial_inputs())
    try:
        frame = apply_edits(base, {"edited_rows": edited_rows})
    except ValueError:  # a row key that is not a number: the data editor never sends one
        return
    parse_frame(frame, 3, 2)
