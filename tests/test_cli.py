"""`python -m rnn_core run`: the trace as JSON, and one clear line when the state is wrong."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from rnn_core import reference
from rnn_core.state import MAX_STATE_CHARS, State, load_state
from tests.proctools import ctrl_c, kill_tree, wait_for_descendant, wait_for_mapping

ROOT = Path(__file__).resolve().parents[1]


def run_cli(*args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "rnn_core", "run", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def shape(value) -> list[int]:
    return list(np.array(value).shape)


def assert_matches_reference(data: dict, state: State) -> None:
    expected = reference.forward(state.inputs, state.resolved_weights(), state.activation)
    for name in ("pre_activation", "hidden", "outputs"):
        got = np.array(data[name])
        assert got.shape == getattr(expected, name).shape, name
        assert np.abs(got - getattr(expected, name)).max() < 1e-9, name


@pytest.fixture(scope="module")
def tutorial_tf():
    """The default run through the TensorFlow worker (about 4 s, so once for the module)."""
    result = run_cli()
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout)


def test_default_run_prints_the_trace(tutorial_tf):
    assert set(tutorial_tf) == {"hidden", "pre_activation", "outputs", "weights"}
    assert shape(tutorial_tf["hidden"]) == [3, 3, 8]
    assert shape(tutorial_tf["pre_activation"]) == [3, 3, 8]
    assert shape(tutorial_tf["outputs"]) == [3, 3]
    weights = tutorial_tf["weights"]
    assert set(weights) == {"Wx", "Wy", "b", "Wo", "bo"}
    assert shape(weights["Wx"]) == [2, 8]
    assert shape(weights["Wy"]) == [8, 8]
    assert shape(weights["Wo"]) == [3, 8]
    assert_matches_reference(tutorial_tf, State())
    # and y0 from the printed weights, by hand: no Wy term at the first step
    Wx = np.array(weights["Wx"])
    np.testing.assert_allclose(tutorial_tf["hidden"][0][0], np.tanh(1 * Wx[0] + 2 * Wx[1]), atol=1e-12)


def test_numpy_engine_equals_tensorflow(tutorial_tf):
    result = run_cli("--engine", "numpy")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["weights"] == tutorial_tf["weights"]
    for name in ("pre_activation", "hidden", "outputs"):
        assert np.abs(np.array(data[name]) - np.array(tutorial_tf[name])).max() < 1e-9, name


def test_state_file_sets_the_sizes(tmp_path):
    inputs = [[[0.5, -1.0], [2.0, 0.25]], [[1.0, 1.0], [-3.0, 0.0]], [[0.0, 2.0], [1.5, -0.5]]]
    path = tmp_path / "small.json"
    path.write_text(json.dumps({"inputs": inputs, "n_neurons": 4, "activation": "sigmoid", "seed": 3}))
    result = run_cli(str(path))  # TensorFlow, the second and last time in this module
    assert result.returncode == 0, result.stderr[-2000:]
    data = json.loads(result.stdout)
    assert shape(data["hidden"]) == [3, 2, 4]
    assert shape(data["pre_activation"]) == [3, 2, 4]
    assert shape(data["outputs"]) == [3, 2]
    assert shape(data["weights"]["Wy"]) == [4, 4]
    assert all(0 < y < 1 for step in data["hidden"] for row in step for y in row)  # sigmoid
    assert_matches_reference(data, load_state(path.read_text()))


def test_numpy_run_of_a_state_file_with_explicit_weights(tmp_path):
    path = tmp_path / "w.json"
    path.write_text(
        json.dumps({"inputs": [[[1.0]], [[2.0]]], "n_neurons": 1, "weights": {"Wx": [[0.5]], "Wy": [[2.0]]}})
    )
    result = run_cli(str(path), "--engine", "numpy")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    y0 = np.tanh(0.5)
    y1 = np.tanh(2.0 * y0 + 1.0)
    np.testing.assert_allclose(np.array(data["hidden"]).ravel(), [y0, y1], atol=1e-15)


BAD_FILES = [
    ("malformed", '{"inputs": [[[1, 2]]', "json"),
    ("too many neurons", '{"n_neurons": 257}', "n_neurons"),
    ("text input", '{"inputs": [[[1, "x"]]]}', "inputs[0][0][1]"),
    ("NaN input", '{"inputs": [[[NaN]]]}', "inputs[0][0][0]"),
    ("unknown key", '{"n_neuron": 4}', "n_neuron"),
    ("bad view", '{"view": {"step": 7}}', "view.step"),
    ("bad weights", '{"weights": {"Wx": [1, 2]}}', "weights.Wx"),
]


@pytest.mark.parametrize("text, field", [case[1:] for case in BAD_FILES], ids=[case[0] for case in BAD_FILES])
def test_bad_state_file_exits_2_with_one_line(tmp_path, text, field):
    path = tmp_path / "bad.json"
    path.write_text(text)
    result = run_cli(str(path))  # the default engine: the state is refused before any worker starts
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert field in lines[0]
    assert "Traceback" not in result.stderr


def test_missing_file_exits_2(tmp_path):
    missing = tmp_path / "nowhere.json"
    result = run_cli(str(missing), "--engine", "numpy")
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "nowhere.json" in lines[0]
    assert "Traceback" not in result.stderr


def test_directory_or_binary_file_exits_2(tmp_path):
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\xff\xfe\x00\x81")
    for path in (tmp_path, binary):
        result = run_cli(str(path), "--engine", "numpy")
        assert result.returncode == 2, result.stderr
        assert len(result.stderr.splitlines()) == 1, result.stderr
        assert "Traceback" not in result.stderr


# ---- hostile files: bounded, never blocking, one line ------------------------------------------


def assert_refused_fast(path: Path | str, words: str) -> None:
    start = time.monotonic()
    result = run_cli(str(path), "--engine", "numpy", timeout=30)
    assert time.monotonic() - start < 20
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and words in lines[0], result.stderr
    assert "Traceback" not in result.stderr


def test_dev_zero_is_refused_without_reading_it():
    assert_refused_fast("/dev/zero", "is a character device, not a regular file")


def test_a_fifo_without_a_writer_is_refused_at_once(tmp_path):
    fifo = tmp_path / "state.json"
    os.mkfifo(fifo)
    assert_refused_fast(fifo, "is a FIFO (named pipe), not a regular file")


def test_a_sparse_1gb_file_is_refused_by_its_size(tmp_path):
    sparse = tmp_path / "huge.json"
    with open(sparse, "wb") as f:
        f.truncate(2**30)  # no blocks on disk: reading it would still take 1 GB of memory
    assert_refused_fast(sparse, f"is {2**30} bytes; a state file is at most {MAX_STATE_CHARS}")


def test_a_directory_is_refused(tmp_path):
    assert_refused_fast(tmp_path, "is a directory, not a regular file")


def test_a_file_just_over_the_limit_is_refused(tmp_path):
    big = tmp_path / "big.json"
    big.write_text(" " * MAX_STATE_CHARS + "{}")
    assert_refused_fast(big, "a state file is at most")
    big.write_text(" " * (MAX_STATE_CHARS - 2) + "{}")  # exactly at the limit: read and accepted
    assert run_cli(str(big), "--engine", "numpy").returncode == 0


def test_read_limited_never_reads_past_the_limit(tmp_path, monkeypatch):
    """A file that grows after fstat (a log being written): the read stops at limit + 1 bytes."""
    from rnn_core.cli import common
    from rnn_core.state import StateError

    path = tmp_path / "grows.json"
    path.write_text("{}")
    reads = []
    real_read = os.read

    def growing_read(fd, n):
        reads.append(n)
        return b" " * n  # the file never ends

    monkeypatch.setattr(common.os, "read", growing_read)
    with pytest.raises(StateError, match="over 100 bytes"):
        common.read_limited(str(path), limit=100)
    assert sum(reads) == 101
    monkeypatch.setattr(common.os, "read", real_read)
    assert common.read_limited(str(path), limit=100) == "{}"


# ---- Ctrl-C: status 130, one line, no traceback (from the command or its TensorFlow worker) ------


def start_cli(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "rnn_core", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, like a terminal's foreground job
    )


def interrupted(process: subprocess.Popen) -> subprocess.CompletedProcess:
    try:
        out, err = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        kill_tree(process)
        raise AssertionError("still running 60 s after Ctrl-C") from None
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


@pytest.mark.slow
def test_ctrl_c_while_the_worker_imports_tensorflow_exits_130_quietly():
    process = start_cli("run")
    worker = wait_for_descendant(process, "rnn_core.worker")
    wait_for_mapping(worker, "site-packages/tensorflow/")  # TensorFlow is being imported in the worker
    ctrl_c(process)
    result = interrupted(process)
    assert result.returncode == 130, result.stderr[-2000:]
    assert result.stdout == ""
    assert "Traceback" not in result.stderr and "KeyboardInterrupt" not in result.stderr, result.stderr[
        -3000:
    ]
    assert result.stderr.strip().splitlines() == ["interrupted"]
