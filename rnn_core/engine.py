"""The calls into the TensorFlow worker process, shared by every session of the page.

The page process never imports TensorFlow (DESIGN.md section 2): it talks to one spawned worker
over a pipe, numpy arrays both ways. A dead or hung worker is replaced on the next call.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

import numpy as np

from .params import Weights
from .reference import Trace

CALL_TIMEOUT_S = 10.0  # one forward pass at the caps takes well under 0.1 s
START_TIMEOUT_S = 120.0  # importing TensorFlow takes about 5 s, more on a loaded machine
MAX_WAITING = 32  # calls allowed to queue for the worker; past this a call is refused at once


class EngineError(RuntimeError):
    """A call into the worker that failed; the message is fit to show to a user."""


class EngineBusy(EngineError):
    pass


class EngineTimeout(EngineError):
    pass


@dataclass
class EngineStats:
    starts: int = 0
    crashes: int = 0
    timeouts: int = 0
    busy: int = 0


class Engine:
    """One TensorFlow worker process behind a lock and a bounded queue."""

    def __init__(
        self,
        call_timeout: float = CALL_TIMEOUT_S,
        start_timeout: float = START_TIMEOUT_S,
        max_waiting: int = MAX_WAITING,
        queue_timeout: float | None = None,
    ):
        self.call_timeout = call_timeout
        self.start_timeout = start_timeout
        self.queue_timeout = call_timeout if queue_timeout is None else queue_timeout
        self._slots = threading.BoundedSemaphore(max_waiting)
        self._lock = threading.Lock()
        self._process = None
        self._conn = None
        self.stats = EngineStats()
        self.last_notice: str | None = None  # e.g. "the worker was restarted"

    # -- life cycle ------------------------------------------------------------------------------

    @property
    def ready(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def start(self) -> None:
        """Start the worker if it is not running (blocks while TensorFlow imports)."""
        with self._lock:
            self._ensure_started()

    def _ensure_started(self) -> None:
        if self.ready:
            return
        self._kill()
        self._process, self._conn = _spawn_worker(self.start_timeout)
        if self.stats.starts > 0 and self.last_notice is None:
            self.last_notice = "The TensorFlow worker had stopped and was restarted."
        self.stats.starts += 1

    def _kill(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait(timeout=5)
        if self._conn is not None:
            self._conn.close()
        self._process, self._conn = None, None

    def stop(self) -> None:
        with self._lock:
            self._kill()

    # -- calls -----------------------------------------------------------------------------------

    def call(self, op: str, **args):
        """Send one request; restart a crashed worker once, give up on a hung one."""
        if not self._slots.acquire(blocking=False):
            self.stats.busy += 1
            raise EngineBusy("the server is busy with other requests; try again in a moment")
        try:
            if not self._lock.acquire(timeout=self.queue_timeout):
                self.stats.busy += 1
                raise EngineBusy("the server is busy with other requests; try again in a moment")
            try:
                return self._call_locked(op, args)
            finally:
                self._lock.release()
        finally:
            self._slots.release()

    def _call_locked(self, op: str, args: dict):
        for attempt in (1, 2):
            self._ensure_started()
            try:
                self._conn.send((op, args))
                if not self._conn.poll(self.call_timeout):
                    self.stats.timeouts += 1
                    self._kill()
                    raise EngineTimeout(
                        f"the computation took longer than {self.call_timeout:g} s and was stopped"
                    )
                status, result = self._conn.recv()
            except (EOFError, OSError, BrokenPipeError):
                self.stats.crashes += 1
                self._kill()
                self.last_notice = "The TensorFlow worker crashed and was restarted."
                if attempt == 2:
                    raise EngineError("the TensorFlow worker crashed twice on this request") from None
                continue
            if status == "error":
                raise EngineError(f"TensorFlow could not compute this: {result}")
            return result
        raise AssertionError("unreachable")

    def take_notice(self) -> str | None:
        notice, self.last_notice = self.last_notice, None
        return notice

    # -- the operations ------------------------------------------------------------------------

    def forward(self, X: np.ndarray, weights: Weights, activation: str = "tanh", xla: bool = False) -> Trace:
        return self.call("forward", X=X, weights=weights, activation=activation, xla=xla)

    def simple_rnn_hidden(
        self,
        X: np.ndarray,
        weights: Weights,
        activation: str = "tanh",
        initial_state: np.ndarray | None = None,
    ) -> np.ndarray:
        return self.call(
            "simple_rnn", X=X, weights=weights, activation=activation, initial_state=initial_state
        )

    def info(self) -> dict:
        return self.call("info")


def _spawn_worker(start_timeout: float) -> tuple[subprocess.Popen, Connection]:
    """Start `python -m rnn_core.worker` (a fresh interpreter, never a fork) joined by a socket pair.

    A new interpreter rather than multiprocessing's spawn: spawn re-imports the parent's __main__,
    which under a test runner or a script without a main guard would start the page again.
    """
    ours, theirs = socket.socketpair()
    package_root = str(Path(__file__).resolve().parents[1])
    env = {
        **os.environ,
        "RNN_WORKER_FD": str(theirs.fileno()),
        "PYTHONPATH": os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")])),
        "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2"),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "rnn_core.worker"],
        env=env,
        stdin=subprocess.DEVNULL,
        pass_fds=(theirs.fileno(),),
    )
    theirs.close()
    conn = Connection(ours.detach())
    try:
        if not conn.poll(start_timeout):
            raise EngineError(f"the TensorFlow worker did not start within {start_timeout:.0f} s")
        conn.recv()  # ("ready", pid)
    except (EOFError, OSError, EngineError) as err:
        process.kill()
        process.wait()
        conn.close()
        if isinstance(err, EngineError):
            raise
        raise EngineError("the TensorFlow worker failed to start") from None
    return process, conn


def timed(fn, *args, **kwargs) -> tuple[object, float]:
    """(result, seconds)."""
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - start


_shared: Engine | None = None
_shared_lock = threading.Lock()


def shared_engine() -> Engine:
    """The process's one engine (the page's sessions and the launcher's prewarm share it)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = Engine()
        return _shared


def prewarm() -> threading.Thread:
    """Start the shared engine's worker in the background (TensorFlow's import takes ~5 s), so that
    the first visitor does not wait for it. A failure here is retried by the first call."""

    def start() -> None:
        try:
            shared_engine().start()
        except EngineError as err:
            print(f"TensorFlow worker prewarm failed ({err}); the first request will retry", file=sys.stderr)

    thread = threading.Thread(target=start, daemon=True, name="rnn-tf-prewarm")
    thread.start()
    return thread
