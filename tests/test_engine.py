"""The spawned TensorFlow worker through rnn_core.engine.Engine: answers, crashes, hangs, the queue."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from rnn_core import reference
from rnn_core.config import RNNConfig
from rnn_core.engine import Engine, EngineBusy, EngineError, EngineTimeout
from rnn_core.params import init_weights
from rnn_core.reference import Trace
from rnn_core.state import State

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow  # each worker start imports TensorFlow (about 4 s)


@pytest.fixture(scope="module")
def engine():
    eng = Engine()
    eng.start()
    yield eng
    eng.stop()


def tutorial():
    state = State()
    return state.inputs, state.resolved_weights()


def assert_trace_equals_reference(trace, X, weights, activation="tanh"):
    expected = reference.forward(X, weights, activation)
    assert isinstance(trace, Trace)
    for name in ("pre_activation", "hidden", "outputs"):
        got, want = getattr(trace, name), getattr(expected, name)
        assert got.shape == want.shape, name
        assert np.abs(got - want).max() < 1e-9, name


def wait_until_dead(pid: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().split(") ")[-1].startswith("Z"):  # a zombie: dead, not yet reaped
                    return
        except FileNotFoundError:
            return
        time.sleep(0.02)
    raise AssertionError(f"process {pid} still alive after {timeout} s")


def call_in_thread(fn, *args):
    """Run fn in a thread; the returned dict gets 'value' or 'error' (any exception at all)."""
    box: dict = {}

    def run():
        try:
            box["value"] = fn(*args)
        except BaseException as err:
            box["error"] = err

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, box


def test_forward_equals_reference(engine):
    X, weights = tutorial()
    assert_trace_equals_reference(engine.forward(X, weights), X, weights)
    assert engine.take_notice() is None  # a healthy worker has nothing to report


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid"])
@pytest.mark.parametrize("shared", [False, True])
def test_forward_equals_reference_other_sizes(engine, activation, shared):
    config = RNNConfig(n_inputs=4, n_neurons=13, n_steps=6, batch=5, shared_output=shared)
    weights = init_weights(config, seed=17)
    X = np.random.default_rng(2).normal(size=(6, 5, 4))
    assert_trace_equals_reference(engine.forward(X, weights, activation), X, weights, activation)


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid"])
def test_simple_rnn_hidden_equals_reference(engine, activation):
    X, weights = tutorial()
    hidden = engine.simple_rnn_hidden(X, weights, activation)
    expected = reference.forward(X, weights, activation).hidden
    assert hidden.shape == (3, 3, 8)
    assert np.abs(hidden - expected).max() < 1e-9


def test_sizes_share_one_trace_in_the_worker(engine):
    for T, B, F, N in [(2, 1, 1, 3), (9, 4, 8, 40), (3, 3, 2, 8)]:
        weights = init_weights(RNNConfig(n_inputs=F, n_neurons=N, n_steps=T, batch=B), seed=1)
        engine.forward(np.ones((T, B, F)), weights)
    info = engine.info()
    assert info["pid"] == engine.pid
    assert info["traces"] == 1


def test_errors_inside_the_worker_come_back_as_engine_errors(engine):
    pid = engine.pid
    with pytest.raises(EngineError, match="unknown operation"):
        engine.call("no-such-op")
    X, weights = tutorial()
    with pytest.raises(EngineError, match="TensorFlow could not compute this"):
        engine.forward(np.ones((3, 3, 5)), weights)  # 5 features against a 2-row Wx
    assert engine.pid == pid  # the worker lives on
    assert_trace_equals_reference(engine.forward(X, weights), X, weights)


def test_worker_killed_between_calls_is_restarted(engine):
    X, weights = tutorial()
    engine.forward(X, weights)
    old_pid = engine.pid
    os.kill(old_pid, signal.SIGKILL)
    wait_until_dead(old_pid)
    assert_trace_equals_reference(engine.forward(X, weights), X, weights)
    assert engine.pid != old_pid
    notice = engine.take_notice()
    assert notice is not None and "restarted" in notice
    assert engine.take_notice() is None  # taken once


def test_worker_killed_during_a_call(engine):
    X, weights = tutorial()
    engine.forward(X, weights)
    old_pid = engine.pid
    os.kill(old_pid, signal.SIGSTOP)  # the request is sent, the answer cannot come
    thread, box = call_in_thread(engine.forward, X, weights)
    time.sleep(0.5)
    assert thread.is_alive()  # the call is in flight
    os.kill(old_pid, signal.SIGKILL)
    thread.join(timeout=90)
    assert not thread.is_alive()
    if "error" in box:  # allowed: a clear EngineError, nothing else
        assert isinstance(box["error"], EngineError), repr(box["error"])
        assert "crashed" in str(box["error"])
    else:
        assert_trace_equals_reference(box["value"], X, weights)
    assert engine.stats.crashes >= 1
    notice = engine.take_notice()
    assert notice is not None and "restarted" in notice
    assert engine.pid != old_pid
    assert_trace_equals_reference(engine.forward(X, weights), X, weights)


def test_hung_worker_times_out_and_is_replaced(engine):
    X, weights = tutorial()
    engine.forward(X, weights)
    old_pid = engine.pid
    timeouts = engine.stats.timeouts
    os.kill(old_pid, signal.SIGSTOP)
    saved, engine.call_timeout = engine.call_timeout, 1.0
    try:
        start = time.monotonic()
        with pytest.raises(EngineTimeout, match="longer than 1 s"):
            engine.forward(X, weights)
        assert time.monotonic() - start < 8
    finally:
        engine.call_timeout = saved
    assert engine.stats.timeouts == timeouts + 1
    wait_until_dead(old_pid)  # the hung worker was killed, not left stopped
    assert_trace_equals_reference(engine.forward(X, weights), X, weights)
    assert engine.pid != old_pid


def test_a_full_queue_refuses_at_once():
    X, weights = tutorial()
    eng = Engine(max_waiting=1, call_timeout=60)
    try:
        eng.start()
        pid = eng.pid
        os.kill(pid, signal.SIGSTOP)
        try:
            thread, box = call_in_thread(eng.forward, X, weights)
            time.sleep(0.3)
            assert thread.is_alive()  # holding the only place in the queue
            start = time.monotonic()
            with pytest.raises(EngineBusy, match="busy"):
                eng.forward(X, weights)
            assert time.monotonic() - start < 0.5  # refused, not queued
            assert eng.stats.busy == 1
        finally:
            os.kill(pid, signal.SIGCONT)
        thread.join(timeout=30)
        assert "error" not in box, repr(box.get("error"))
        assert_trace_equals_reference(box["value"], X, weights)
        assert eng.pid == pid  # the first call was answered by the same worker
        assert_trace_equals_reference(eng.forward(X, weights), X, weights)  # the place is free again
    finally:
        eng.stop()


PAGE_SCRIPT = """
import json, sys
from rnn_core.engine import Engine
from rnn_core.state import State

state = State()
engine = Engine()
try:
    trace = engine.forward(state.inputs, state.resolved_weights(), state.activation)
    hidden = engine.simple_rnn_hidden(state.inputs, state.resolved_weights(), state.activation)
finally:
    engine.stop()
loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras", "tf_keras"))
print(json.dumps({"outputs": trace.outputs.tolist(), "hidden": hidden.tolist(), "loaded": loaded,
                  "tf_model": "rnn_core.tf_model" in sys.modules}))
"""


def test_the_calling_process_never_imports_tensorflow():
    result = subprocess.run(
        [sys.executable, "-c", PAGE_SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=180
    )
    assert result.returncode == 0, result.stderr[-2000:]
    data = json.loads(result.stdout.strip().splitlines()[-1])
    assert data["loaded"] == []
    assert data["tf_model"] is False
    X, weights = tutorial()
    expected = reference.forward(X, weights)
    assert np.abs(np.array(data["outputs"]) - expected.outputs).max() < 1e-9
    assert np.abs(np.array(data["hidden"]) - expected.hidden).max() < 1e-9
