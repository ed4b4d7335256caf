"""The tutorial's result stored on disk (app/stored_result.py): a fresh server's first page without
TensorFlow, and nothing but TensorFlow's own, checked numbers ever used from it."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import numpy as np
import pytest

from app import stored_result
from bench.stclient import Session
from rnn_core import reference
from rnn_core.state import State
from tests.pagetools import decode_array
from tests.serving import streamlit_server


def tutorial() -> tuple[reference.Trace, np.ndarray]:
    """The tutorial's trace and SimpleRNN's one-step states, as the worker returns them (the numpy
    reference stands in for TensorFlow here: equal to 1e-13, and the test of the store needs no worker)."""
    state = State()
    trace = reference.forward(state.inputs, state.resolved_weights(), state.activation)
    return trace, trace.hidden.reshape(1, -1, state.n_neurons).copy()


def test_a_stored_result_comes_back_equal_and_cross_checked(tmp_path):
    trace, one_step = tutorial()
    path = stored_result.save(trace, one_step, tmp_path)
    assert path == tmp_path / stored_result.FILE_NAME
    loaded = stored_result.load(tmp_path)
    assert loaded is not None
    got, weights, check = loaded
    np.testing.assert_array_equal(got.hidden, trace.hidden)
    np.testing.assert_array_equal(got.outputs, trace.outputs)
    np.testing.assert_array_equal(got.pre_activation, trace.pre_activation)
    np.testing.assert_array_equal(weights.Wy, State().resolved_weights().Wy)
    assert check.numpy_equal and check.simple_rnn_equal and check.diff_simple_rnn == 0.0


def altered(path: Path, **changes) -> None:
    with np.load(path, allow_pickle=False) as stored:
        arrays = {name: stored[name] for name in stored.files}
    arrays.update(changes)
    np.savez(path, **arrays)


@pytest.mark.parametrize(
    "spoil",
    [
        "hidden off by 1e-3",
        "SimpleRNN off by 1e-3",
        "another key",
        "a field missing",
        "wrong shape",
        "truncated",
        "not an npz",
        "too big",
        "a pickled object",
    ],
)
def test_a_stale_or_altered_store_is_ignored(tmp_path, spoil):
    trace, one_step = tutorial()
    path = stored_result.save(trace, one_step, tmp_path)
    assert path is not None and stored_result.load(tmp_path) is not None  # (the control)
    if spoil == "hidden off by 1e-3":
        altered(path, hidden=trace.hidden + 1e-3)
    elif spoil == "SimpleRNN off by 1e-3":
        altered(path, simple_rnn=trace.hidden + 1e-3)
    elif spoil == "another key":  # another TensorFlow, numpy, model code or state
        altered(path, key=np.array("0" * 64))
    elif spoil == "a field missing":
        with np.load(path) as stored:
            kept = {name: stored[name] for name in stored.files if name != "outputs"}
        np.savez(path, **kept)
    elif spoil == "wrong shape":
        altered(path, hidden=np.zeros((3, 4, 9)), pre_activation=np.zeros((3, 4, 9)))
    elif spoil == "truncated":
        path.write_bytes(path.read_bytes()[:700])
    elif spoil == "not an npz":
        path.write_text("hidden = [[0.5]]")
    elif spoil == "too big":
        path.write_bytes(path.read_bytes() + b"\0" * stored_result.MAX_BYTES)
    elif spoil == "a pickled object":
        altered(path, hidden=np.array([{"x": 1}], dtype=object))
    assert stored_result.load(tmp_path) is None


def test_no_store_when_off(monkeypatch):
    trace, one_step = tutorial()
    monkeypatch.setenv("RNN_RESULT_STORE", "off")
    assert stored_result.store_dir() is None
    assert stored_result.save(trace, one_step) is None and stored_result.load() is None


def test_a_read_only_store_dir_is_not_written(tmp_path):
    """The container's read-only file system: a save fails quietly (as root too: the path is a file)."""
    trace, one_step = tutorial()
    blocked = tmp_path / "file"
    blocked.write_text("")
    assert stored_result.save(trace, one_step, blocked / "results") is None


def test_the_key_changes_with_what_computed_it(monkeypatch):
    first = stored_result.key()
    monkeypatch.setattr(stored_result, "_version", lambda name: "0.0.0")  # another TensorFlow
    assert stored_result.key() != first


@pytest.mark.slow
def test_a_fresh_server_shows_the_stored_tutorial_without_tensorflow(tmp_path):
    """A server whose TensorFlow cannot even import: the first page is the tutorial's, from the store
    (its charts drawn with TensorFlow's stored numbers); a network that is not stored says TensorFlow
    could not start, as before."""
    trace, one_step = tutorial()
    store = tmp_path / "store"
    assert stored_result.save(trace, one_step, store) is not None
    broken = tmp_path / "broken"
    (broken / "tensorflow").mkdir(parents=True)
    (broken / "tensorflow" / "__init__.py").write_text("raise ImportError('no TensorFlow here')\n")
    env = {
        "RNN_RESULT_STORE": str(store),
        "PYTHONPATH": os.pathsep.join([str(broken), *sys.path]),  # the worker finds the broken one
    }

    async def visit(url: str) -> tuple:
        async with Session(url, timeout=120) as session:
            first = await session.open()
            specs = session.plotly_specs()
            edit = await session.run({"seed": 7})
            return first, specs, edit

    with streamlit_server(tmp_path, env=env) as server:
        first, specs, edit = asyncio.run(visit(server.url))
    assert first.ok, first.errors
    np.testing.assert_allclose(decode_array(specs["hidden-y0"]["data"][0]["z"]), trace.hidden[0], atol=1e-12)
    assert not any("could not start" in text for _, text in first.notices)
    assert any("could not start" in text or "failed" in text for _, text in edit.notices), edit.notices
