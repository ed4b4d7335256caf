"""The spawned TensorFlow worker through rnn_core.engine.Engine: the op and job tables, answers,
crashes, hangs, restarts, notices, jobs in slices, the queue. Synchronised by the engine's own
conditions (Engine.wait_for, wait_job), never by sleeping."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from rnn_core import reference, worker
from rnn_core.config import RNNConfig
from rnn_core.engine import CRASHED, Engine, EngineBusy, EngineError, EngineTimeout, Reply
from rnn_core.params import init_weights
from rnn_core.protocol import Answer, Request
from rnn_core.reference import Trace
from rnn_core.state import State

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow  # each worker start imports TensorFlow (about 5 s)
HANG = [sys.executable, "-c", "import threading; threading.Event().wait()"]  # a worker that never says ready


@pytest.fixture(scope="module")
def engine():
    eng = Engine()
    eng.start()
    yield eng
    eng.stop()


def tutorial():
    state = State()
    return state.inputs, state.resolved_weights()


def medium():
    """A size whose forward pass takes a few ms: a job of many such passes runs for a while."""
    config = RNNConfig(n_inputs=8, n_neurons=128, n_steps=20, batch=16, weight_scale=0.1)
    return np.random.default_rng(3).normal(size=(20, 16, 8)), init_weights(config, seed=5)


def assert_trace_equals_reference(trace, X, weights, activation="tanh"):
    expected = reference.forward(X, weights, activation)
    assert isinstance(trace, Trace)
    for name in ("pre_activation", "hidden", "outputs"):
        got, want = getattr(trace, name), getattr(expected, name)
        assert got.shape == want.shape, name
        assert np.abs(got - want).max() < 1e-9, name


def assert_reaped(pid: int) -> None:
    """pid was our child and is fully gone: no zombie left to reap."""
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
    stat = Path(f"/proc/{pid}/stat")
    assert not stat.exists() or not stat.read_text().split(") ")[-1].startswith("Z")


def run_to_end(eng: Engine, job: str):
    status = eng.poll_job(job)
    while not status.done:
        status = eng.wait_job(job, after_slices=status.slices, timeout=60)
    return status


def call_in_thread(fn, *args, **kwargs):
    """Run fn in a thread; the returned dict gets 'value' or 'error' (any exception at all)."""
    box: dict = {}

    def run():
        try:
            box["value"] = fn(*args, **kwargs)
        except BaseException as err:
            box["error"] = err

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, box


def in_flight(eng: Engine, fn, *args):
    """Start fn(*args) in a thread and return once its request has been sent to the worker."""
    sent = eng.stats.sent
    thread, box = call_in_thread(fn, *args)
    assert eng.wait_for(lambda: eng.stats.sent > sent, timeout=30)
    return thread, box


# ---- the tables -----------------------------------------------------------------------------------


def test_the_op_and_job_tables_and_a_round_trip_without_tensorflow():
    assert {"forward", "simple_rnn", "info"} <= set(worker.OPS)
    assert "forward_repeat" in worker.JOBS
    ops = {**worker.OPS, "add": lambda a, b=0: a + b}  # registering an op is one entry
    assert worker.answer(ops, Request("add", {"a": 2, "b": 3})) == Answer(True, 5)
    unknown = worker.answer(ops, Request("nope", {}))
    assert not unknown.ok and "unknown operation 'nope'" in unknown.error
    failed = worker.answer(ops, Request("add", {"a": 2, "b": "x"}))
    assert not failed.ok and failed.error.startswith("TypeError")


def test_forward_equals_reference(engine):
    X, weights = tutorial()
    reply = engine.forward(X, weights)
    assert isinstance(reply, Reply)
    assert_trace_equals_reference(reply.value, X, weights)
    assert reply.notices == ()  # a healthy worker has nothing to report


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid"])
@pytest.mark.parametrize("shared", [False, True])
def test_forward_equals_reference_other_sizes(engine, activation, shared):
    config = RNNConfig(n_inputs=4, n_neurons=13, n_steps=6, batch=5, shared_output=shared)
    weights = init_weights(config, seed=17)
    X = np.random.default_rng(2).normal(size=(6, 5, 4))
    assert_trace_equals_reference(engine.forward(X, weights, activation).value, X, weights, activation)


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid"])
def test_simple_rnn_hidden_equals_reference(engine, activation):
    X, weights = tutorial()
    hidden = engine.simple_rnn_hidden(X, weights, activation).value
    expected = reference.forward(X, weights, activation).hidden
    assert hidden.shape == (3, 3, 8)
    assert np.abs(hidden - expected).max() < 1e-9


def test_sizes_share_one_trace_in_the_worker(engine):
    for T, B, F, N in [(2, 1, 1, 3), (9, 4, 8, 40), (3, 3, 2, 8)]:
        weights = init_weights(RNNConfig(n_inputs=F, n_neurons=N, n_steps=T, batch=B), seed=1)
        engine.forward(np.ones((T, B, F)), weights)
    info = engine.info().value
    assert info["pid"] == engine.pid
    assert info["traces"] == 1


def test_errors_inside_the_worker_come_back_as_engine_errors(engine):
    pid = engine.pid
    with pytest.raises(EngineError, match="unknown operation 'no-such-op'"):
        engine.call("no-such-op")
    X, weights = tutorial()
    with pytest.raises(EngineError, match="TensorFlow could not compute this"):
        engine.forward(np.ones((3, 3, 5)), weights)  # 5 features against a 2-row Wx
    assert engine.pid == pid  # the worker lives on
    assert_trace_equals_reference(engine.forward(X, weights).value, X, weights)


# ---- jobs -----------------------------------------------------------------------------------------


def test_a_job_reports_progress_after_each_slice(engine):
    X, weights = tutorial()
    job = engine.start_job("forward_repeat", owner="t1", X=X, weights=weights, passes=5, per_slice=1)
    seen = []
    status = engine.poll_job(job)
    while not status.done:
        status = engine.wait_job(job, after_slices=status.slices, timeout=30)
        seen.append((status.slices, status.progress, status.result["passes"]))
    # each report is one slice's: progress and result so far match the slice counter (a slice may
    # finish between the wake-up and the read, so a report can skip one; none goes backwards)
    assert all(progress == slices / 5 and passes == slices for slices, progress, passes in seen)
    assert [slices for slices, *_ in seen] == sorted({slices for slices, *_ in seen})
    assert seen[-1] == (5, 1.0, 5) and status.slices == 5
    assert status.error is None and status.notices == ()
    np.testing.assert_allclose(status.result["outputs"], reference.forward(X, weights).outputs, atol=1e-9)
    with pytest.raises(KeyError):
        engine.poll_job(job)  # a finished job is forgotten once its end was read


def test_a_call_is_answered_between_the_slices_of_a_long_job(engine):
    X, weights = medium()
    passes = 100_000  # far more than can run while the call below waits for one slice
    job = engine.start_job("forward_repeat", owner="t2", X=X, weights=weights, passes=passes)
    before = engine.wait_job(job, after_slices=1, timeout=60)  # the job is running
    assert not before.done and before.slices >= 2
    Xs, ws = tutorial()
    for _ in range(3):
        assert_trace_equals_reference(engine.forward(Xs, ws).value, Xs, ws)
    after = engine.poll_job(job)
    assert not after.done and after.slices < passes  # the calls did not wait for the job to end
    assert after.slices - before.slices < 50  # nor for many slices: they went first
    engine.cancel_job(job)


def test_cancel_stops_a_job_and_frees_its_owner(engine):
    X, weights = medium()
    job = engine.start_job("forward_repeat", owner="t3", X=X, weights=weights, passes=100_000)
    engine.wait_job(job, after_slices=0, timeout=60)
    engine.cancel_job(job)
    status = engine.poll_job(job)
    assert status.done and status.error == "cancelled"
    Xs, ws = tutorial()
    again = engine.start_job("forward_repeat", owner="t3", X=Xs, weights=ws, passes=2)  # allowed again
    status = run_to_end(engine, again)
    assert status.error is None and status.result["passes"] == 2
    assert engine.poll_job(job).slices < 100_000
    assert engine.info().value["jobs"] == 0  # the cancelled job's iterator was dropped in the worker


def test_jobs_past_the_slots_wait_their_turn_in_order_and_owners_have_one(engine):
    X, weights = tutorial()
    jobs = [
        engine.start_job("forward_repeat", owner=f"o{i}", X=X, weights=weights, passes=10**6)
        for i in range(engine.max_jobs)
    ]
    try:
        late = [
            engine.start_job("forward_repeat", owner=f"late{i}", X=X, weights=weights, passes=1)
            for i in range(2)
        ]
        jobs += late
        assert [engine.poll_job(job).queued for job in late] == [0, 1]  # first come, first served
        assert all(engine.poll_job(job).queued is None for job in jobs[: engine.max_jobs])
        assert engine.wait_for(lambda: engine.poll_job(jobs[0]).slices > 0, timeout=60)
        assert engine.poll_job(late[0]).slices == 0  # waiting: not one slice run
        with pytest.raises(EngineBusy, match="already have a job"):
            engine.start_job("forward_repeat", owner="o0", X=X, weights=weights)
        engine.cancel_job(jobs[0])  # a slot frees: the first waiting job runs, then the next
        first = run_to_end(engine, late[0])
        assert first.error is None and first.result["passes"] == 1
        assert engine.poll_job(late[1]).queued is None
        with pytest.raises(EngineError, match="unknown job kind"):
            engine.start_job("no-such-job", owner="x")
    finally:
        for job in jobs:
            engine.cancel_job(job)


def test_jobs_past_the_queue_are_refused(engine, monkeypatch):
    from rnn_core import engine as engine_module

    X, weights = tutorial()
    monkeypatch.setattr(engine_module, "MAX_QUEUED_JOBS", 1)
    jobs = [
        engine.start_job("forward_repeat", owner=f"q{i}", X=X, weights=weights, passes=10**6)
        for i in range(engine.max_jobs + 1)
    ]
    try:
        with pytest.raises(EngineBusy, match="running or waiting"):
            engine.start_job("forward_repeat", owner="one-too-many", X=X, weights=weights)
    finally:
        for job in jobs:
            engine.cancel_job(job)


def test_a_job_nobody_polls_is_stopped(engine):
    X, weights = tutorial()
    saved, engine.job_idle_timeout = engine.job_idle_timeout, 2.0
    try:
        expired = engine.stats.jobs_expired
        job = engine.start_job("forward_repeat", owner="t4", X=X, weights=weights, passes=10**6)
        assert engine.wait_for(lambda: engine.stats.jobs_expired > expired, timeout=60)
    finally:
        engine.job_idle_timeout = saved
    status = engine.poll_job(job)
    assert status.done and "nobody asked" in status.error


def test_a_job_that_fails_reports_the_error(engine):
    _, weights = tutorial()
    job = engine.start_job("forward_repeat", owner="t5", X=np.ones((3, 3, 5)), weights=weights, passes=3)
    status = engine.wait_job(job, 0, timeout=30)
    assert status.done and "TensorFlow could not compute this" in status.error


# ---- crashes, hangs, restarts, notices ------------------------------------------------------------


def test_a_killed_worker_is_reaped_at_once_and_replaced_without_a_call(engine):
    X, weights = tutorial()
    engine.forward(X, weights)
    old_pid, sent = engine.pid, engine.stats.sent
    os.kill(old_pid, signal.SIGKILL)
    assert engine.wait_for(lambda: engine.pid != old_pid, timeout=30)  # set once reaped
    assert_reaped(old_pid)
    assert engine.wait_for(lambda: engine.ready, timeout=90)  # replaced at once, not on the next call
    assert engine.stats.sent == sent  # no call was needed for any of it
    reply = engine.forward(X, weights)
    assert_trace_equals_reference(reply.value, X, weights)
    assert reply.notices == ()  # the replacement was ready: nothing delayed this call


def test_a_killed_workers_temporary_files_are_removed_once_it_is_reaped(engine):
    """TensorFlow's autograph writes a source file for each function it converts and deletes them only
    at a normal exit; a worker is killed, or leaves with os._exit. Each worker has its own TMPDIR,
    removed when it is reaped (they piled up in /tmp: thousands after many test runs)."""
    X, weights = tutorial()
    engine.forward(X, weights)
    scratch = Path(engine._worker.scratch)
    assert any(scratch.glob("__autograph_generated_file*.py"))  # (the files are written there)
    old_pid = engine.pid
    os.kill(old_pid, signal.SIGKILL)
    assert engine.wait_for(lambda: engine.pid != old_pid, timeout=30)
    assert engine.wait_for(lambda: not scratch.exists(), timeout=30)
    assert engine.wait_for(lambda: engine.ready, timeout=90)
    assert Path(engine._worker.scratch) != scratch and Path(engine._worker.scratch).is_dir()


def test_the_restart_notice_goes_only_to_the_call_it_broke(engine):
    X, weights = tutorial()
    engine.forward(X, weights)
    old_pid = engine.pid
    os.kill(old_pid, signal.SIGSTOP)  # the request is sent, the answer cannot come
    thread, box = in_flight(engine, engine.forward, X, weights)
    os.kill(old_pid, signal.SIGKILL)
    thread.join(timeout=90)
    assert not thread.is_alive()
    if "error" in box:  # allowed on a loaded machine: a clear EngineError carrying the notice
        assert isinstance(box["error"], EngineError), repr(box["error"])
        notices = box["error"].notices
    else:
        assert_trace_equals_reference(box["value"].value, X, weights)
        notices = box["value"].notices
    assert CRASHED in notices
    assert engine.stats.crashes >= 1
    assert engine.pid != old_pid
    engine.start()
    other = engine.forward(X, weights)  # another session, after the replacement is up
    assert other.notices == ()
    assert_reaped(old_pid)


def test_hung_worker_times_out_and_is_replaced(engine):
    X, weights = tutorial()
    engine.forward(X, weights)
    old_pid = engine.pid
    timeouts = engine.stats.timeouts
    os.kill(old_pid, signal.SIGSTOP)
    saved, engine.call_timeout = engine.call_timeout, 1.0
    try:
        with pytest.raises(EngineTimeout, match="longer than 1 s") as caught:
            engine.forward(X, weights)
        assert any("restarted" in n for n in caught.value.notices)
    finally:
        engine.call_timeout = saved
    assert engine.stats.timeouts == timeouts + 1
    engine.start()
    assert engine.pid != old_pid
    assert_reaped(old_pid)  # the hung worker was killed and reaped, not left stopped
    assert_trace_equals_reference(engine.forward(X, weights).value, X, weights)


def test_a_replacement_that_hangs_while_starting_does_not_hold_the_callers():
    X, weights = tutorial()
    eng = Engine(call_timeout=2.0, start_attempts=2, start_wait=2.0)
    try:
        eng.start()
        good, eng.command, eng.start_timeout = eng.command, HANG, 3.0
        old_pid = eng.pid
        os.kill(old_pid, signal.SIGKILL)
        calls = [call_in_thread(eng.forward, X, weights) for _ in range(5)]
        started = time.monotonic()
        for thread, _ in calls:
            thread.join(timeout=30)
        took = time.monotonic() - started
        for _, box in calls:  # each got an answer within its own limit, not the start's
            assert isinstance(box.get("error"), EngineBusy | EngineError), box
        assert took < eng.start_wait + 5, took  # generous, and far below the 2 × 3 s of hung attempts
        assert any("try again in about" in str(box["error"]) for _, box in calls)
        eng.command, eng.start_timeout = good, 120.0  # 3 s is too short for TensorFlow's import
        for attempt in range(3):  # the hung attempt is killed after start_timeout; a later one succeeds
            try:
                eng.start()
                break
            except EngineError:  # a round whose attempts had begun with the hanging command
                if attempt == 2:
                    raise
        assert eng.stats.start_failures >= 1
        assert_trace_equals_reference(eng.forward(X, weights).value, X, weights)
    finally:
        eng.stop()


def test_a_full_lane_refuses_at_once_and_says_when_to_try_again():
    X, weights = tutorial()
    eng = Engine(max_waiting=1, call_timeout=60)
    try:
        eng.start()
        pid = eng.pid
        os.kill(pid, signal.SIGSTOP)
        try:
            thread, box = in_flight(eng, eng.forward, X, weights)  # holding the only place in its lane
            start = time.monotonic()
            with pytest.raises(EngineBusy, match=r"try again in about \d+ s") as caught:
                eng.forward(X, weights)
            assert time.monotonic() - start < 1  # refused, not queued
            assert caught.value.retry_after >= 1
            assert eng.stats.busy == 1
        finally:
            os.kill(pid, signal.SIGCONT)
        thread.join(timeout=30)
        assert "error" not in box, repr(box.get("error"))
        assert_trace_equals_reference(box["value"].value, X, weights)
        assert eng.pid == pid  # the first call was answered by the same worker
        assert_trace_equals_reference(eng.forward(X, weights).value, X, weights)  # the place is free again
    finally:
        eng.stop()


def assert_all_queue_behind_a_stopped_worker(eng: Engine, n_calls: int) -> None:
    """n_calls small calls sent while the worker is stopped: all wait their turn (none refused), then
    all are answered with the reference's numbers."""
    X, weights = tutorial()
    pid = eng.pid
    os.kill(pid, signal.SIGSTOP)
    try:
        calls = [call_in_thread(eng.forward, X, weights) for _ in range(n_calls)]
        assert eng.wait_for(lambda: eng.load()["small"] == n_calls, timeout=30)
        assert eng.stats.busy == 0
    finally:
        os.kill(pid, signal.SIGCONT)
    for thread, box in calls:
        thread.join(timeout=60)
        assert "error" not in box, repr(box.get("error"))
        assert_trace_equals_reference(box["value"].value, X, weights)


def test_a_lecture_halls_small_calls_all_queue_none_is_refused():
    """200 students' edits arriving while the worker is busy: small calls (~1 ms) all wait their turn
    (the large lane keeps its short queue: one call at the caps takes up to ~0.1 s)."""
    eng = Engine(call_timeout=60)
    try:
        eng.start()
        assert_all_queue_behind_a_stopped_worker(eng, 200)
    finally:
        eng.stop()


def test_one_slow_call_does_not_make_a_stampede_refused():
    """A class opening the page together, just after a call that took long (a first call traces its
    graph, ~1 s): the wait estimate keeps its scale, and 60 edits all queue (none refused)."""
    eng = Engine(command=[sys.executable, "-c", BUSY_WORKER])  # the page's own timeouts (10 s)
    try:
        eng.start()
        eng.call("spin", seconds=1.5)  # a small call (no cost given) that held the worker 1.5 s
        assert_all_queue_behind_a_stopped_worker(eng, 60)
    finally:
        eng.stop()


# ---- separate processes ---------------------------------------------------------------------------

BUSY_WORKER = """
import sys, time
from rnn_core import worker

def spin(seconds):  # a long computation holding the worker (pure Python: it holds the GIL too)
    print("spinning", flush=True)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass

worker.OPS["spin"] = spin
worker.main()
"""

PARENT_SCRIPT = """
import sys
from rnn_core.engine import Engine

engine = Engine(call_timeout=600, command=[sys.executable, "-c", sys.argv[1]])
engine.start()
print("worker", engine.pid, engine._worker.scratch, flush=True)
engine.call("spin", seconds=600)
"""


def test_the_worker_exits_when_its_parent_is_killed_during_a_long_computation():
    """... and removes its temporary directory, which the killed parent cannot."""
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT_SCRIPT, BUSY_WORKER], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        line = parent.stdout.readline()
        assert line.startswith("worker "), line
        worker_pid, scratch = int(line.split()[1]), Path(line.split()[2])
        assert scratch.is_dir() and scratch.name.startswith("rnn-worker-")
        assert parent.stdout.readline().strip() == "spinning"  # the worker is busy for 600 s
        exited = os.pidfd_open(worker_pid)  # opened while it surely lives: no pid reuse can fool it
        try:
            parent.kill()
            parent.wait()
            # readable once the worker has exited (a zombie of init counts: it runs nothing)
            assert select.select([exited], [], [], 20)[0], "the worker outlived its parent"
        finally:
            os.close(exited)
        assert not scratch.exists()  # (removed by the worker before it left)
        assert parent.stdout.read() == ""  # EOF: every holder of the pipe, the worker too, is gone
    finally:
        parent.kill()
        parent.wait()


PAGE_SCRIPT = """
import json, sys
from rnn_core.engine import Engine
from rnn_core.state import State

state = State()
engine = Engine()
try:
    engine.start()
    trace = engine.forward(state.inputs, state.resolved_weights(), state.activation).value
    hidden = engine.simple_rnn_hidden(state.inputs, state.resolved_weights(), state.activation).value
    job = engine.start_job("forward_repeat", X=state.inputs, weights=state.resolved_weights(), passes=2)
    assert engine.wait_for(lambda: engine.load()["jobs"] == 0, timeout=60)
    assert engine.poll_job(job).result["passes"] == 2
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


def test_the_worker_yields_the_cpu_to_the_page():
    """Training slices are background work: the worker runs at a lower priority than the page."""
    from rnn_core.worker import NICE

    eng = Engine()
    try:
        eng.start()
        fields = Path(f"/proc/{eng.pid}/stat").read_text().rsplit(")", 1)[1].split()
        assert int(fields[16]) == min(19, os.nice(0) + NICE)  # (field 19 of stat: the nice value)
        X, weights = tutorial()
        assert_trace_equals_reference(eng.forward(X, weights).value, X, weights)  # and it still answers
    finally:
        eng.stop()
