"""The worker process: the only place TensorFlow is imported. Answers requests over a socket.

`python -m rnn_core.worker` (started by rnn_core.engine, never by hand) imports TensorFlow, says
("ready", pid), then answers one protocol.Request at a time with one protocol.Answer.

Two tables say what it can do:

- OPS: a short call. `name -> function(**args) -> picklable value`. To add one, add one entry:

      OPS["grad"] = lambda **args: _tf_train().backward(**args)  # with def _tf_train() like _tf_model()

  and call it from the page's side with `engine.call("grad", cost=..., X=..., ...)` (a method on
  Engine is one more line). Import TensorFlow modules inside the function, never at the top of
  this file: the engine imports this module (for its tables) and must stay free of TensorFlow.

- JOBS: a long job run in slices. `kind -> factory(**args) -> iterator`; each next() runs one
  slice (a few ms to tens of ms) and yields (progress in 0..1, result so far). The job ends when
  it yields progress 1.0 or stops; its result is the last result yielded (or the generator's
  return value, if it returns one). To add one, add one entry:

      JOBS["train"] = lambda **args: _tf_train().TrainJob(**args)  # an iterator of slices

  and start it with `engine.start_job("train", owner=session_id, **args)`. Between two slices the
  worker answers whatever else is waiting (the engine serves short calls first), so keep a slice
  short: a job that needs 2 s per next() holds every student's forward pass for 2 s.

The worker exits when its socket closes (EOF) and, while busy in a long computation, when its
parent is gone (a watchdog thread sees the parent pid change; see _exit_with_parent).
"""

from __future__ import annotations

import os
import shutil
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from typing import Any

from .protocol import JOB_DROP, JOB_SLICE, JOB_START, Answer, JobSlice, Request

NICE = 10  # the worker yields the CPU to the page process (interactive) when both want it: training
# slices are background work (bench/train_load.py: editors' p95 ~0.65x with this and the page's
# switch interval; RNN_WORKER_NICE=0 for the A/B)
WARM_WHEN_IDLE_S = 0.5  # after "ready", the first pause this long traces training (tf_train.warm)
MAX_JOBS_IN_WORKER = 64  # the engine bounds jobs itself; this only guards the worker's memory


def _tf_model():
    from . import tf_model  # imported once by serve(); cheap afterwards

    return tf_model


def _tf_train():
    from . import tf_train  # gradients and training (traced on first use)

    return tf_train


# ---- short calls ----------------------------------------------------------------------------------


def forward(X, weights, activation: str = "tanh", xla: bool = False):
    """The whole trace (pre-activations, hidden states, outputs) of one forward pass."""
    return _tf_model().forward(X, weights, activation, xla)


def simple_rnn(X, weights, activation: str = "tanh", initial_state=None):
    """Hidden states from tf.keras.layers.SimpleRNN (the cross-check's third voice)."""
    return _tf_model().simple_rnn_hidden(X, weights, activation, initial_state)


def _warm_page() -> None:
    """What the page asks first (app/compute.py): the forward pass and the cross-check's SimpleRNN,
    at the tutorial's size (one trace serves every size)."""
    from .state import State

    tutorial = State()  # the page's first state (the tutorial's defaults)
    X, weights = tutorial.inputs, tutorial.resolved_weights()
    T, B, F = X.shape
    trace = forward(X, weights)
    simple_rnn(X.reshape(1, T * B, F), weights, "tanh", trace.hidden.reshape(T * B, -1))


def info() -> dict:
    import tensorflow as tf

    traces = _tf_model().trace_count()
    return {"pid": os.getpid(), "tf_version": tf.__version__, "traces": traces, "jobs": len(_jobs.running)}


OPS: dict[str, Callable[..., Any]] = {
    "forward": forward,
    "simple_rnn": simple_rnn,
    "info": info,
    "grad": lambda **args: _tf_train().backward(**args),  # -> reference.Grads
    "train_settings": lambda **args: _tf_train().update_settings(**args),  # key, settings -> bool
    "train_run": lambda **args: _tf_train().train(**args),  # a whole short run in one call -> TrainResult
}


# ---- long jobs ------------------------------------------------------------------------------------


def forward_repeat(X, weights, activation: str = "tanh", passes: int = 100, per_slice: int = 1):
    """A load and test job, not a feature: `passes` forward passes of one network, `per_slice` per
    slice. It exercises the slicing (progress, cancel, other calls served between slices) with real
    TensorFlow work of a chosen size, for tests/test_engine.py and bench/jobs.py."""
    done = 0
    while done < passes:
        for _ in range(min(per_slice, passes - done)):
            trace = forward(X, weights, activation)
            done += 1
        yield done / passes, {"passes": done, "outputs": trace.outputs}


JOBS: dict[str, Callable[..., Iterator[tuple[float, Any]]]] = {
    "forward_repeat": forward_repeat,
    "train": lambda **args: _tf_train().TrainJob(**args),  # slices of ~30 ms; see tf_train.TrainJob
}


class _Jobs:
    """The worker's running jobs: job_id -> (iterator, last result)."""

    def __init__(self):
        self.running: dict[str, list] = {}

    def start(self, job_id: str, kind: str, args: dict) -> None:
        if kind not in JOBS:
            raise ValueError(f"unknown job kind {kind!r}")
        if len(self.running) >= MAX_JOBS_IN_WORKER:
            raise RuntimeError("too many jobs in the worker")
        self.running[job_id] = [iter(JOBS[kind](**args)), None]

    def slice(self, job_id: str) -> JobSlice:
        entry = self.running.get(job_id)
        if entry is None:
            raise KeyError(f"no job {job_id!r} in this worker")
        try:
            progress, entry[1] = next(entry[0])
        except StopIteration as end:
            del self.running[job_id]
            return JobSlice(1.0, entry[1] if end.value is None else end.value, True)
        except BaseException:
            del self.running[job_id]
            raise
        if progress >= 1.0:
            self.drop(job_id)
            return JobSlice(1.0, entry[1], True)
        return JobSlice(float(progress), entry[1], False)

    def drop(self, job_id: str) -> None:
        entry = self.running.pop(job_id, None)
        close = getattr(entry[0], "close", None) if entry is not None else None
        if close is not None:  # a generator: run its finally blocks now
            close()


_jobs = _Jobs()  # this process's jobs (one worker process, one table)


# ---- serving --------------------------------------------------------------------------------------


def main() -> None:
    """Entry point of `python -m rnn_core.worker`: serve the socket the engine passed down."""
    from multiprocessing.connection import Connection

    parent = int(os.environ.get("RNN_WORKER_PARENT", os.getppid()))
    _exit_with_parent(parent)
    os.nice(int(os.environ.get("RNN_WORKER_NICE", str(NICE))))
    serve(Connection(int(os.environ["RNN_WORKER_FD"])))


def _exit_with_parent(parent: int, every: float = 0.2) -> None:
    """Exit as soon as the parent is gone, even in the middle of a long computation.

    The socket's EOF is only seen between requests. prctl(PR_SET_PDEATHSIG) is not used: it fires
    when the *thread* that spawned us exits, and the engine spawns from a helper thread. A watchdog
    thread runs during TensorFlow's ops (they release the GIL); the parent pid changes to a reaper
    (init or a subreaper) when the parent dies.
    """

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every)  # polling the parent's pid, not synchronising with anything
        _remove_scratch()  # (the parent, which would have, is gone)
        os._exit(0)

    threading.Thread(target=watch, daemon=True, name="rnn-worker-parent-watch").start()


def _remove_scratch() -> None:
    """Remove the temporary directory the engine made for this worker (its TMPDIR: TensorFlow's
    autograph files), named by RNN_WORKER_SCRATCH; only a directory of the engine's making."""
    scratch = os.environ.get("RNN_WORKER_SCRATCH", "")
    if os.path.basename(scratch).startswith("rnn-worker-"):
        shutil.rmtree(scratch, ignore_errors=True)


def serve(conn) -> None:
    """Import TensorFlow, say ready, then answer Requests until the socket closes."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    _tf_model()  # the slow import happens here, once
    ops: dict[str, Callable[..., Any]] = dict(OPS)
    ops.update({JOB_START: _jobs.start, JOB_SLICE: _jobs.slice, JOB_DROP: _jobs.drop})
    conn.send(("ready", os.getpid()))
    # Traced once, in order, whenever nothing is waiting: the page's first request at once (a cold
    # start's first charts ~0.4 s sooner), training after a pause (WARM_WHEN_IDLE_S).
    warm_up = [(0.0, _warm_page), (WARM_WHEN_IDLE_S, lambda: _tf_train().warm())]
    while True:
        try:
            if warm_up and not conn.poll(warm_up[0][0]):
                _warm(warm_up.pop(0)[1])
                continue
            request: Request = conn.recv()
        except (EOFError, OSError):
            return
        conn.send(answer(ops, request))


def _warm(fn: Callable[[], Any]) -> None:
    try:
        fn()
    except Exception:  # a warm-up is an optimisation: the first real call traces instead
        traceback.print_exc()


def answer(ops: dict[str, Callable[..., Any]], request: Request) -> Answer:
    """Run one request; any exception becomes an Answer with its message (the worker lives on)."""
    try:
        fn = ops.get(request.op)
        if fn is None:
            raise ValueError(f"unknown operation {request.op!r}")
        return Answer(True, fn(**request.args))
    except Exception as err:
        detail = traceback.format_exception_only(type(err), err)[-1].strip()
        return Answer(False, error=detail)


if __name__ == "__main__":
    # Run the importable module, not this __main__ copy: what it pickles must unpickle in the engine.
    from rnn_core import worker

    worker.main()
