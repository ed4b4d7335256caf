"""The inputs table: text cells parsed into numbers; hostile cells give messages, never exceptions."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.table import (
    MAX_ROWS,
    UNREADABLE,
    apply_edits,
    bound_rows,
    check_editor_state,
    edit_frame,
    has_edits,
    inputs_to_frame,
    parse_cell,
    parse_frame,
    printout_lines,
    read_editor_state,
    resize_frame,
    resize_inputs,
)
from rnn_core.config import LIMITS, MAX_ABS_INPUT
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


# ---- the data editor's state: whatever the browser sends ------------------------------------------

ROW_KEY = st.one_of(
    st.integers(-(10**30), 10**30),
    st.integers(-3, 40),
    st.text(max_size=8),
    st.sampled_from(["999", "-1", "1.5", "0x1", " 1", "1e3", "99999999999999999999", "nan"]),
    st.floats(allow_nan=True),
    st.booleans(),
    st.none(),
)
COLUMN = st.one_of(
    st.sampled_from(["X0[0]", "X0[1]", "X1[0]", "X2[1]", "_index", "X9[9]", ""]), st.text(max_size=6)
)
ROW = st.dictionaries(COLUMN, ANY_CELL, max_size=8)
HOSTILE_STATE = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "edited_rows": st.one_of(
                st.dictionaries(ROW_KEY, st.one_of(ROW, ANY_CELL), max_size=12), ANY_CELL
            ),
            "added_rows": st.one_of(st.lists(st.one_of(ROW, ANY_CELL), max_size=60), ANY_CELL),
            "deleted_rows": st.one_of(st.lists(ROW_KEY, max_size=12), ANY_CELL),
            "other": ANY_CELL,
        },
    ),
    ANY_CELL,
)


def tutorial_table() -> pd.DataFrame:
    return inputs_to_frame(tutorial_inputs())


def streamlit_applies(base: pd.DataFrame, state: dict) -> pd.DataFrame:
    """What st.data_editor itself returns for this state (Streamlit 1.67's own code)."""
    import pyarrow as pa
    from streamlit.elements.lib.column_config_utils import determine_dataframe_schema
    from streamlit.elements.widgets.data_editor import DataEditorState, _apply_dataframe_edits

    schema = determine_dataframe_schema(base, pa.Table.from_pandas(base).schema)
    full = {"edited_rows": {}, "added_rows": [], "deleted_rows": [], **state}
    return _apply_dataframe_edits(base.copy(), DataEditorState(full), schema)


def test_streamlit_itself_adds_rows_past_the_cap():
    """Why the page must check the state before st.data_editor: fixed num_rows does not stop it."""
    added = [{"_index": f"evil {i}", "X0[0]": "1"} for i in range(40)]
    assert len(streamlit_applies(tutorial_table(), {"added_rows": added})) == 43


def test_rows_past_the_cap_are_refused_with_a_message():
    added = [{"_index": f"row {i}", "X0[0]": "1"} for i in range(1500)]
    check = check_editor_state(tutorial_table(), {"added_rows": added})
    assert len(check.frame) == MAX_ROWS == LIMITS["batch"][1]
    assert check.reset
    assert any("at most 32 rows" in m and "1471 added rows were refused" in m for m in check.messages)
    assert list(check.frame.index) == [f"row {b}" for b in range(32)]
    assert check.frame.loc["row 3", "X0[0]"] == "1" and check.frame.loc["row 3", "X0[1]"] == "0"
    inputs, errors = parse_frame(check.frame, 3, 2)
    assert errors == [] and inputs.shape == (3, 32, 2)


def test_a_few_added_rows_are_honoured():
    check = check_editor_state(tutorial_table(), {"added_rows": [{"X0[0]": "5", "_index": "x"}]})
    assert len(check.frame) == 4 and check.frame.loc["row 3", "X0[0]"] == "5"
    assert check.messages == [] and check.reset  # honoured, but never handed to st.data_editor


def test_deleting_every_row_keeps_one_and_says_so():
    check = check_editor_state(tutorial_table(), {"deleted_rows": [0, 1, 2, 2]})
    assert len(check.frame) == 1 and check.reset
    assert list(check.frame.iloc[0]) == list(tutorial_table().iloc[0])
    assert any("at least one row" in m for m in check.messages)
    check = check_editor_state(tutorial_table(), {"deleted_rows": [1]})
    assert list(check.frame["X0[0]"]) == ["1", "5"] and check.messages == []


@pytest.mark.parametrize(
    "state, words",
    [
        ({"edited_rows": {999: {"X0[0]": "1"}}}, "do not exist were refused: 999"),
        ({"edited_rows": {-1: {"X0[0]": "1"}}}, "do not exist were refused: -1"),
        ({"edited_rows": {10**40: {"X0[0]": "1"}}}, "a huge number"),
        ({"edited_rows": {"1.5": {"X0[0]": "1"}}}, "'1.5'"),
        ({"edited_rows": {"abc": {"X0[0]": "1"}}}, "'abc'"),
        ({"edited_rows": {0: {"X9[9]": "1"}}}, "unknown columns were refused: 'X9[9]'"),
        ({"edited_rows": {0: {"X0[0]": 5}}}, "int instead of text"),
        ({"edited_rows": {0: {"X0[0]": ["1"]}}}, "list instead of text"),
        ({"edited_rows": {0: {"X0[0]": "9" * 5000}}}, "5000 characters"),
        ({"deleted_rows": [999]}, "Deletions of rows that do not exist"),
        ({"deleted_rows": "all"}, "not understood"),
        ({"added_rows": [7]}, "not rows"),
        ("garbage", "not understood"),
        (UNREADABLE, "not understood"),
    ],
)
def test_hostile_edits_are_refused_with_a_message(state, words):
    base = tutorial_table()
    check = check_editor_state(base, state)
    assert check.reset
    assert any(words in m for m in check.messages), check.messages
    assert 1 <= len(check.frame) <= MAX_ROWS
    assert all(len(m) < 300 for m in check.messages)


def test_plain_cell_edits_go_to_the_data_editor_unchanged():
    state = {
        "edited_rows": {2: {"X1[0]": "-4.5"}, "0": {"X0[0]": None}},
        "added_rows": [],
        "deleted_rows": [],
    }
    check = check_editor_state(tutorial_table(), state)
    assert not check.reset and check.messages == []
    assert check.frame.loc["row 2", "X1[0]"] == "-4.5" and check.frame.loc["row 0", "X0[0]"] == ""
    frame, messages = edit_frame(tutorial_table(), state)
    assert frame.equals(check.frame) and messages == []


def test_the_state_is_read_without_raising():
    class Broken(dict):
        def get(self, key, default=None):
            raise ValueError("invalid literal for int() with base 10: 'x'")

    assert read_editor_state(Broken(), "k") is UNREADABLE
    assert read_editor_state({"k": {"edited_rows": {}}}, "k") == {"edited_rows": {}}
    assert read_editor_state({}, "k") is None


def test_bound_rows_caps_the_returned_frame():
    big = resize_frame(tutorial_table(), 3, 32, 2)
    assert bound_rows(big) == (big, [])
    frame, messages = bound_rows(pd.concat([big, big]))
    assert len(frame) == 32 and messages
    _, messages = bound_rows(big.iloc[:0])
    assert messages


@settings(max_examples=400, deadline=None)
@given(HOSTILE_STATE, st.integers(1, 32))
def test_any_editor_state_gives_1_to_32_rows_and_never_raises(state, batch):
    base = resize_frame(tutorial_table(), 3, batch, 2)
    check = check_editor_state(base, state)
    assert 1 <= len(check.frame) <= MAX_ROWS
    assert list(check.frame.columns) == list(base.columns)
    assert list(check.frame.index) == [f"row {b}" for b in range(len(check.frame))]
    assert all(isinstance(c, str) for c in check.frame.to_numpy().flat)
    assert len(check.messages) <= 6 and all(isinstance(m, str) and len(m) < 400 for m in check.messages)
    parse_frame(check.frame, 3, 2)  # a number or a message per cell, never an exception
    if not check.reset:  # what st.data_editor is given: it applies it without error, to the same table
        assert check.messages == []
        theirs = streamlit_applies(base, dict(state or {}))
        assert theirs.shape == check.frame.shape
        assert theirs.fillna("").to_numpy().tolist() == check.frame.to_numpy().tolist()


@settings(max_examples=100, deadline=None)
@given(
    st.dictionaries(
        st.one_of(st.integers(-5, 10), st.text(max_size=3)), st.dictionaries(st.text(max_size=6), ANY_CELL)
    )
)
def test_hostile_edit_states_never_raise(edited_rows):
    base = tutorial_table()
    frame = apply_edits(base, {"edited_rows": edited_rows})
    assert frame.shape == base.shape
    parse_frame(frame, 3, 2)


def test_a_state_streamlit_cannot_read_is_refused_after_hardening():
    """app/hardening.py: Streamlit's own deserializer raises on a row key that is not a number; once
    installed it returns a marked empty state instead, which the check refuses with a message."""
    from streamlit.elements.widgets.data_editor import DataEditorSerde

    from app import hardening

    raw = json.dumps({"edited_rows": {"1.5": {"X0[0]": "1"}}})
    if not getattr(DataEditorSerde.deserialize, "_rnn_hardened", False):  # Streamlit's own, unpatched
        with pytest.raises(ValueError):
            DataEditorSerde().deserialize(raw)
    hardening.install()
    hardening.install()  # idempotent
    for bad in (raw, "[]", "5", '{"edited_rows": []}'):
        state = DataEditorSerde().deserialize(bad)
        check = check_editor_state(tutorial_table(), state)
        assert check.reset and any("could not be read" in m for m in check.messages), bad
    good = DataEditorSerde().deserialize(json.dumps({"edited_rows": {"1": {"X0[0]": "7"}}}))
    assert check_editor_state(tutorial_table(), good).frame.loc["row 1", "X0[0]"] == "7"


@settings(max_examples=400, deadline=None)
@given(st.one_of(HOSTILE_STATE, st.just({"edited_rows": {}, "added_rows": [], "deleted_rows": []})))
def test_a_state_without_edits_is_the_table_as_it_is(state):
    """has_edits lets the grid skip the check (app/components/grid.py): whenever it says there is
    nothing, the check would refuse nothing and change no cell."""
    base = tutorial_table()
    if has_edits(state):
        return
    check = check_editor_state(base, state)
    assert not check.reset and check.messages == []
    assert check.frame.to_numpy().tolist() == base.to_numpy().tolist()


@pytest.mark.parametrize(
    "state, edits",
    [
        (None, False),
        ({}, False),
        ({"edited_rows": {}, "added_rows": [], "deleted_rows": []}, False),
        ({"edited_rows": {0: {"X0[0]": "1"}}, "added_rows": [], "deleted_rows": []}, True),
        ({"deleted_rows": [0]}, True),
        ({"added_rows": [{}]}, True),
        ({"edited_rows": {}, "something": {}}, True),
        ({"_unreadable": "bad row key"}, True),
        (UNREADABLE, True),
        ("garbage", True),
        ({"edited_rows": np.zeros(2)}, True),  # (a value whose truth cannot be told)
    ],
)
def test_has_edits(state, edits):
    assert has_edits(state) is edits
