"""The calls into the TensorFlow worker process, shared by every session of the page.

The page process never imports TensorFlow (DESIGN.md section 2): it talks to one spawned worker
(`python -m rnn_core.worker`) over a socket, one protocol.Request and one protocol.Answer at a
time, numpy arrays both ways.

- Short calls (`forward`, `simple_rnn_hidden`, `info`, or `call(op, cost=...)`) return a Reply:
  the value and the notices meant for that caller (e.g. "the worker was restarted" goes to the
  calls that the restart delayed or broke, never to an unrelated session).
- Turns at the socket are granted cheapest lane first: small calls (cost T·B·N·(N+F) up to
  `small_cost`), then large calls, then job slices; FIFO within a lane. Each lane has its own
  bounded queue, so a flood of large calls never refuses or delays a small one by more than the one
  large call in flight. A refusal says when to try again.
- Long jobs run as slices (worker.JOBS): `start_job` returns at once, a driver thread runs one
  slice per turn, round robin over the jobs, and `poll_job` reads the progress and the result so
  far without touching the worker. Jobs are bounded per server and per owner and are dropped when
  nobody polls them for `job_idle_timeout` seconds.
- One supervisor thread starts the worker (each attempt bounded by `start_timeout`, retried),
  waits on it (a dead worker is reaped at once) and starts a replacement. Callers never wait for a
  start for as long as the start may take: they get EngineBusy("…starting; try again in about
  N s") after `start_wait` (20 s) instead; a start on a loaded 2-core machine can take over 10 s.
"""

from __future__ import annotations

import contextlib
import dataclasses
import heapq
import itertools
import math
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Generic, TypeVar

import numpy as np

from .params import Weights
from .protocol import JOB_DROP, JOB_SLICE, JOB_START, Answer, JobSlice, Request
from .reference import Trace

CALL_TIMEOUT_S = 10.0  # one forward pass at the caps takes well under 0.1 s
START_TIMEOUT_S = 60.0  # one start attempt (importing TensorFlow takes about 5 s, more when loaded)
START_ATTEMPTS = 3  # then the next call tries again
START_WAIT_S = 20.0  # the longest a caller waits for a worker being started (hung or just slow)
MAX_WAITING = 32  # large calls allowed to queue (up to ~0.1 s each); past this one is refused at once
OUTLIER = 4.0  # a call's time counts at most this many times the lane's estimate (EWMA) per turn
MAX_WAITING_SMALL = 512  # small calls (~1-2 ms each): a whole lecture hall's edits may queue (~1 s)
SMALL_COST = 2**20  # T·B·N·(N+F) up to this is a small call (~1 ms of TensorFlow)
MAX_JOBS = 8  # long jobs running at once per server; later ones wait their turn in order
MAX_QUEUED_JOBS = 500  # jobs waiting for a slot (a class pressing Train together); past this, refused
MAX_JOBS_PER_OWNER = 1
JOB_IDLE_TIMEOUT_S = 30.0  # a job nobody polled for this long is cancelled
SLICE_TIMEOUT_S = (
    60.0  # one job slice (~30 ms; the first of a kind traces TensorFlow's loop, >10 s when loaded)
)

SMALL, LARGE, BACKGROUND = 0, 1, 2  # lanes, served in this order
RESTARTED = "The TensorFlow worker had stopped and was restarted."
CRASHED = "The TensorFlow worker crashed and was restarted."

T = TypeVar("T")


class EngineError(RuntimeError):
    """A call into the worker that failed; the message is fit to show to a user."""

    def __init__(self, message: str, notices: Sequence[str] = (), retry_after: float | None = None):
        super().__init__(message)
        self.notices = tuple(notices)
        self.retry_after = retry_after  # seconds, when trying again later should work


class EngineBusy(EngineError):
    pass


class EngineTimeout(EngineError):
    pass


@dataclass(frozen=True)
class Reply(Generic[T]):
    """A call's value and the notices meant for its caller (and nobody else)."""

    value: T
    notices: tuple[str, ...] = ()

    def take(self, notices: list[str]) -> T:
        """The value, after adding the notices to the caller's list."""
        notices.extend(self.notices)
        return self.value


@dataclass(frozen=True)
class JobStatus:
    job_id: str
    kind: str
    slices: int  # slices run so far
    progress: float  # 0..1
    result: Any  # the result so far; the final result once done
    done: bool
    error: str | None  # set when the job failed or was cancelled (done is then True)
    notices: tuple[str, ...] = ()
    queued: int | None = None  # waiting for a slot: how many waiting jobs start before it (None: runs)


@dataclass
class EngineStats:
    starts: int = 0
    start_failures: int = 0
    crashes: int = 0
    timeouts: int = 0
    busy: int = 0
    sent: int = 0  # requests sent to a worker
    slices: int = 0  # job slices run
    jobs_expired: int = 0  # jobs stopped because nobody polled them


def forward_cost(X: np.ndarray, weights: Weights) -> int:
    """T·B·N·(N+F): the multiply-adds of one forward pass, what decides small or large."""
    T_, B, F = X.shape
    N = weights.Wy.shape[0]
    return int(T_) * int(B) * int(N) * (int(N) + int(F))


# ---- turns at the socket ------------------------------------------------------------------------


class _Ticket:
    __slots__ = ("cancelled", "granted", "lane")

    def __init__(self, lane: int):
        self.lane = lane
        self.granted = threading.Event()
        self.cancelled = False


class _Turns:
    """Exclusive use of the worker's socket: the lowest lane first, FIFO within a lane."""

    def __init__(self):
        self._lock = threading.Lock()
        self._queue: list[tuple[int, int, _Ticket]] = []
        self._holder: _Ticket | None = None
        self._order = itertools.count()
        self.waiting = {SMALL: 0, LARGE: 0, BACKGROUND: 0}

    def acquire(self, lane: int, timeout: float | None) -> _Ticket | None:
        ticket = _Ticket(lane)
        with self._lock:
            if self._holder is None:
                self._holder = ticket
                return ticket
            heapq.heappush(self._queue, (lane, next(self._order), ticket))
            self.waiting[lane] += 1
        if ticket.granted.wait(None if timeout is None else max(timeout, 0.0)):
            return ticket
        with self._lock:
            if ticket.granted.is_set():  # granted just as the wait ran out
                return ticket
            ticket.cancelled = True
            self.waiting[lane] -= 1
        return None

    def release(self, ticket: _Ticket) -> None:
        with self._lock:
            assert self._holder is ticket
            self._holder = None
            while self._queue:
                _, _, nxt = heapq.heappop(self._queue)
                if not nxt.cancelled:
                    self.waiting[nxt.lane] -= 1
                    self._holder = nxt
                    nxt.granted.set()
                    return


# ---- the worker process -------------------------------------------------------------------------


@dataclass(eq=False)
class _Worker:
    process: subprocess.Popen
    conn: Connection
    generation: int
    ready_at: float
    scratch: str  # the worker's TMPDIR, removed once it is reaped (_forget)


def _forget(process: subprocess.Popen, scratch: str) -> None:
    """After the worker exited (reaped): remove its temporary directory. TensorFlow's autograph writes
    a source file there for every function it converts, and deletes them only at a normal exit; a
    worker is killed, or leaves with os._exit when its parent is gone (tens of files per worker)."""
    if process.poll() is not None:
        shutil.rmtree(scratch, ignore_errors=True)


@dataclass(eq=False)
class _Job:
    job_id: str
    kind: str
    owner: str
    args: dict
    last_poll: float
    slices: int = 0
    progress: float = 0.0
    result: Any = None
    done: bool = False
    error: str | None = None
    cancelled: bool = False
    worker: _Worker | None = None  # the worker holding its iterator, once started
    notices: list[str] = field(default_factory=list)

    def status(self) -> JobStatus:
        return JobStatus(
            self.job_id,
            self.kind,
            self.slices,
            self.progress,
            self.result,
            self.done,
            self.error,
            tuple(self.notices),
        )


class Engine:
    """One TensorFlow worker process, its supervisor, the turns at its socket, and the jobs."""

    def __init__(
        self,
        call_timeout: float = CALL_TIMEOUT_S,
        start_timeout: float = START_TIMEOUT_S,
        max_waiting: int | None = None,
        queue_timeout: float | None = None,
        *,
        start_attempts: int = START_ATTEMPTS,
        start_wait: float = START_WAIT_S,
        small_cost: int = SMALL_COST,
        max_jobs: int = MAX_JOBS,
        max_jobs_per_owner: int = MAX_JOBS_PER_OWNER,
        job_idle_timeout: float = JOB_IDLE_TIMEOUT_S,
        slice_timeout: float = SLICE_TIMEOUT_S,
        command: Sequence[str] | None = None,
    ):
        self.call_timeout = call_timeout  # the longest one computation may take
        self.queue_timeout = call_timeout if queue_timeout is None else queue_timeout  # the longest wait
        self.start_timeout = start_timeout
        self.start_attempts = start_attempts
        self.start_wait = start_wait  # the longest a call waits for a worker being started
        # calls allowed to queue per lane (one number: the same for both)
        self.max_waiting = (
            {SMALL: MAX_WAITING_SMALL, LARGE: MAX_WAITING}
            if max_waiting is None
            else {SMALL: max_waiting, LARGE: max_waiting}
        )
        self.small_cost = small_cost
        self.max_jobs = max_jobs
        self.max_jobs_per_owner = max_jobs_per_owner
        self.job_idle_timeout = job_idle_timeout
        self.slice_timeout = max(slice_timeout, call_timeout)  # a slice of a job that was never traced
        self.command = list(command or [sys.executable, "-m", "rnn_core.worker"])
        # Entered around every wait of a caller (a worker starting, a turn at the socket, an answer,
        # a job's progress): the page process gives its run's CPU slot to another run meanwhile
        # (app/run_slots.py).
        self.while_waiting: Callable[[], contextlib.AbstractContextManager[object]] = contextlib.nullcontext
        self.stats = EngineStats()
        self._life = threading.Condition()  # guards the fields below, up to the jobs
        self._worker: _Worker | None = None
        self._generation = 0
        self._supervisor: threading.Thread | None = None
        self._spawning: subprocess.Popen | None = None
        self._start_began = 0.0
        self._start_seconds = 5.0  # how long the last start took (for "try again in about N s")
        self._start_round = 0  # +1 each time the supervisor gives up
        self._start_error: str | None = None
        self._stopped = False
        self._turns = _Turns()
        self._admitted = {SMALL: 0, LARGE: 0}
        self._service = {SMALL: 0.003, LARGE: 0.05, BACKGROUND: 0.02}  # seconds per turn (EWMA)
        self._jobs: dict[str, _Job] = {}
        self._jobs_changed = self._life  # guards _jobs too; notified after every slice (one lock)
        self._job_ids = itertools.count(1)
        self._driver: threading.Thread | None = None

    # -- life cycle ------------------------------------------------------------------------------

    @property
    def ready(self) -> bool:
        return self._worker is not None

    @property
    def pid(self) -> int | None:
        worker = self._worker
        return worker.process.pid if worker is not None else None

    def load(self) -> dict[str, int]:
        """Calls admitted (waiting or running) per lane, and jobs running."""
        with self._life:
            small, large = self._admitted[SMALL], self._admitted[LARGE]
        with self._jobs_changed:
            jobs = sum(not job.done for job in self._jobs.values())
        return {"small": small, "large": large, "jobs": jobs}

    def wait_for(self, predicate, timeout: float | None = None) -> bool:
        """Wait until predicate() is true, re-checked whenever a worker starts or stops, a call is
        admitted or sent, or a job changes; False if `timeout` ran out first."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self.while_waiting(), self._life:
            while not predicate():
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._life.wait(remaining)
        return True

    def start(self, wait: float | None = None) -> tuple[str, ...]:
        """Start the worker if it is not running and wait for it, at most `wait` seconds (default:
        every start attempt). Returns the notices for the caller; raises EngineError."""
        if wait is None:
            wait = self.start_timeout * self.start_attempts + 5
        notices: list[str] = []
        with self.while_waiting():
            self._await_worker(time.monotonic() + wait, notices)
        return tuple(notices)

    def stop(self) -> None:
        """Stop the worker (and cancel the jobs); the next call starts a new one."""
        self._fail_jobs(None, "the TensorFlow worker was stopped")  # first: the job driver then rests
        with self._life:
            self._stopped = True
            worker, spawning, supervisor = self._worker, self._spawning, self._supervisor
            self._worker = None
            self._life.notify_all()
        for process in (worker.process if worker else None, spawning):
            if process is not None and process.poll() is None:
                process.kill()
        if supervisor is not None and supervisor is not threading.current_thread():
            supervisor.join(timeout=10)
        if worker is not None:
            worker.conn.close()

    def _ensure_supervisor(self) -> None:
        """Under self._life: make sure a supervisor thread is starting or watching a worker."""
        self._stopped = False
        if self._supervisor is None or not self._supervisor.is_alive():
            self._start_error = None
            self._start_began = time.monotonic()
            self._supervisor = threading.Thread(target=self._supervise, daemon=True, name="rnn-tf-supervisor")
            self._supervisor.start()

    def _supervise(self) -> None:
        """Start a worker (bounded attempts), wait on it (reaping it the moment it dies), repeat."""
        while True:
            worker, error = self._start_attempts()
            with self._life:
                if worker is None or self._stopped:
                    if worker is not None:
                        worker.process.kill()
                        worker.process.wait()
                        _forget(worker.process, worker.scratch)
                    self._start_error = error
                    self._start_round += 1
                    self._supervisor = None
                    self._life.notify_all()
                    return
                self._worker = worker
                self.stats.starts += 1
                self._start_seconds = worker.ready_at - self._start_began
                self._life.notify_all()
            worker.process.wait()  # returns (and reaps) the moment the worker dies
            _forget(worker.process, worker.scratch)
            with self._life:
                if self._worker is worker:
                    self._worker = None
                stopped = self._stopped
                self._start_began = time.monotonic()
                if stopped:
                    self._supervisor = None
                    self._start_round += 1
                self._life.notify_all()
            self._fail_jobs(worker, "the TensorFlow worker stopped; the job was lost")
            if stopped:
                return

    def _start_attempts(self) -> tuple[_Worker | None, str | None]:
        error = None
        for _ in range(self.start_attempts):
            if self._stopped:
                return None, None
            try:
                return self._spawn(), None
            except EngineError as err:
                self.stats.start_failures += 1
                error = str(err)
        return None, error

    def _spawn(self) -> _Worker:
        """Start the worker (a fresh interpreter, never a fork) joined by a socket pair.

        A new interpreter rather than multiprocessing's spawn: spawn re-imports the parent's
        __main__, which under a test runner or a script without a main guard would start the page.
        """
        ours, theirs = socket.socketpair()
        package_root = str(Path(__file__).resolve().parents[1])
        scratch = tempfile.mkdtemp(prefix="rnn-worker-")
        env = {
            **os.environ,
            "TMPDIR": scratch,  # (its own: _forget; the worker removes it itself when we are gone)
            "RNN_WORKER_SCRATCH": scratch,
            "RNN_WORKER_FD": str(theirs.fileno()),
            "RNN_WORKER_PARENT": str(os.getpid()),
            "PYTHONPATH": os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")])),
            "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2"),
        }
        fds = (theirs.fileno(),)
        process = subprocess.Popen(self.command, env=env, stdin=subprocess.DEVNULL, pass_fds=fds)
        theirs.close()
        conn = Connection(ours.detach())
        with self._life:
            self._spawning = process
            if self._stopped:
                process.kill()
        try:
            if not conn.poll(self.start_timeout):
                raise EngineError(f"the TensorFlow worker did not start within {self.start_timeout:g} s")
            conn.recv()  # ("ready", pid)
        except (EOFError, OSError, EngineError) as err:
            process.kill()
            process.wait()
            _forget(process, scratch)
            conn.close()
            if isinstance(err, EngineError):
                raise
            raise EngineError("the TensorFlow worker failed to start") from None
        finally:
            with self._life:
                self._spawning = None
        with self._life:
            self._generation += 1
            return _Worker(process, conn, self._generation, time.monotonic(), scratch)

    def _await_worker(self, deadline: float, notices: list[str]) -> _Worker:
        """The running worker, starting one if needed, waiting at most until `deadline`."""
        with self._life:
            had_one = self._generation > 0
            waited = False
            round_ = self._start_round
            while self._worker is None:
                if self._start_round != round_:  # the supervisor gave up while we waited
                    raise EngineError(f"TensorFlow could not start: {self._start_error}", notices)
                if self._supervisor is None:
                    self._ensure_supervisor()
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    eta = max(1, math.ceil(self._start_seconds - (time.monotonic() - self._start_began)))
                    self.stats.busy += 1
                    raise EngineBusy(
                        f"TensorFlow is starting in its worker process; try again in about {eta} s",
                        notices,
                        retry_after=eta,
                    )
                waited = True
                self._life.wait(remaining)
            if waited and had_one and RESTARTED not in notices and CRASHED not in notices:
                notices.append(RESTARTED)
            return self._worker

    def _lost(self, worker: _Worker) -> None:
        """The worker failed a call (EOF, or hung): kill it; the supervisor reaps it and replaces it."""
        with self._life:
            if self._worker is worker:
                self._worker = None
        if worker.process.poll() is None:
            worker.process.kill()
        worker.conn.close()

    # -- short calls -----------------------------------------------------------------------------

    def call(self, op: str, *, cost: int = 0, **args) -> Reply:
        """Send one request (worker.OPS[op](**args)) and wait for its answer.

        Restarts a crashed worker once; gives up on a hung one after call_timeout; refuses at once
        (EngineBusy) when its lane is full or the wait would exceed queue_timeout.
        """
        lane = SMALL if cost <= self.small_cost else LARGE
        self._admit(lane)
        try:
            with self.while_waiting():
                return self._call(Request(op, args), lane)
        finally:
            with self._life:
                self._admitted[lane] -= 1
                self._life.notify_all()

    def _admit(self, lane: int) -> None:
        with self._life:
            wait = self._estimate_wait(lane)
            if self._admitted[lane] >= self.max_waiting[lane] or wait > self.queue_timeout:
                self.stats.busy += 1
                raise self._busy(wait)
            self._admitted[lane] += 1
            self._life.notify_all()

    def _estimate_wait(self, lane: int) -> float:
        """Seconds until a new call of this lane would get its turn: everything ahead of it."""
        ahead = sum(self._admitted[lane_] * self._service[lane_] for lane_ in (SMALL, LARGE) if lane_ <= lane)
        return ahead + self._service[LARGE]  # plus whatever is in flight, at worst a large call

    def _busy(self, wait: float, notices: Sequence[str] = ()) -> EngineBusy:
        eta = max(1, math.ceil(wait))
        return EngineBusy(
            f"the server is busy with other requests; try again in about {eta} s", notices, retry_after=eta
        )

    def _call(self, request: Request, lane: int) -> Reply:
        notices: list[str] = []
        crashes = 0
        start_deadline = time.monotonic() + self.start_wait
        while True:
            worker = self._await_worker(start_deadline, notices)
            ticket = self._turns.acquire(lane, self.queue_timeout)
            if ticket is None:
                self.stats.busy += 1
                with self._life:
                    raise self._busy(self._estimate_wait(lane), notices)
            try:
                if worker is not self._worker:  # it died while we waited for our turn
                    continue
                try:
                    answer = self._exchange(worker, request, lane)
                except EOFError:
                    crashes += 1
                    if CRASHED not in notices:
                        notices.append(CRASHED)
                    if crashes == 2:
                        message = "the TensorFlow worker crashed twice on this request"
                        raise EngineError(message, notices) from None
                    start_deadline = time.monotonic() + self.start_wait  # for the replacement to start
                    continue
            except EngineError as err:
                err.notices = tuple(dict.fromkeys([*notices, *err.notices]))
                raise
            finally:
                self._turns.release(ticket)
            if not answer.ok:
                raise EngineError(f"TensorFlow could not compute this: {answer.error}", notices)
            return Reply(answer.value, tuple(dict.fromkeys(notices)))

    def _exchange(self, worker: _Worker, request: Request, lane: int, timeout: float | None = None) -> Answer:
        """One request and its answer, holding the turn. EOFError: the worker died."""
        timeout = self.call_timeout if timeout is None else timeout
        started = time.monotonic()
        try:
            worker.conn.send(request)
            with self._life:
                self.stats.sent += 1
                self._life.notify_all()
            if not worker.conn.poll(timeout):
                self.stats.timeouts += 1
                self._lost(worker)
                raise EngineTimeout(
                    f"the computation took longer than {timeout:g} s and was stopped", [RESTARTED]
                )
            answer = worker.conn.recv()
        except (EOFError, OSError):
            self.stats.crashes += 1
            self._lost(worker)
            raise EOFError from None
        seconds = time.monotonic() - started
        with self._life:  # one outlier (a first call tracing its graph: ~1 s) moves it at most 4x
            estimate = self._service[lane]
            self._service[lane] = 0.8 * estimate + 0.2 * min(seconds, OUTLIER * estimate)
        return answer

    # -- the operations ------------------------------------------------------------------------

    def forward(
        self, X: np.ndarray, weights: Weights, activation: str = "tanh", xla: bool = False
    ) -> Reply[Trace]:
        return self.call(
            "forward", cost=forward_cost(X, weights), X=X, weights=weights, activation=activation, xla=xla
        )

    def simple_rnn_hidden(
        self,
        X: np.ndarray,
        weights: Weights,
        activation: str = "tanh",
        initial_state: np.ndarray | None = None,
    ) -> Reply[np.ndarray]:
        cost = forward_cost(X, weights)
        return self.call(
            "simple_rnn", cost=cost, X=X, weights=weights, activation=activation, initial_state=initial_state
        )

    def info(self) -> Reply[dict]:
        return self.call("info")

    def grad(self, X: np.ndarray, weights: Weights, activation: str, targets: np.ndarray) -> Reply:
        """reference.Grads (loss, grads, dL_dy, dout_dx) from TensorFlow's GradientTape."""
        cost = forward_cost(X, weights) * (X.shape[0] + 2)  # the loss pass, and T copies for dout_dx
        return self.call("grad", cost=cost, X=X, weights=weights, activation=activation, targets=targets)

    # -- long jobs -------------------------------------------------------------------------------

    def start_job(self, kind: str, owner: str = "", **args) -> str:
        """Start a long job (worker.JOBS[kind](**args)) run in slices; returns its id at once.

        Past max_jobs running jobs a new one waits its turn (first come, first served; its status says
        how many are ahead). Raises EngineBusy past max_jobs + MAX_QUEUED_JOBS jobs, or past
        max_jobs_per_owner for this owner.
        """
        from .worker import JOBS  # the table only: the worker module imports no TensorFlow

        if kind not in JOBS:
            raise EngineError(f"unknown job kind {kind!r}")
        now = time.monotonic()
        with self._jobs_changed:
            self._expire_jobs(now)
            running = [job for job in self._jobs.values() if not job.done]
            if len(running) >= self.max_jobs + MAX_QUEUED_JOBS:
                self.stats.busy += 1
                message = f"{len(running)} jobs are running or waiting on this server; try again later"
                raise EngineBusy(message)
            if sum(job.owner == owner for job in running) >= self.max_jobs_per_owner:
                raise EngineBusy("you already have a job running; wait for it or cancel it")
            job = _Job(f"job-{next(self._job_ids)}", kind, owner, args, last_poll=now)
            self._jobs[job.job_id] = job
            if self._driver is None:
                self._driver = threading.Thread(target=self._drive_jobs, daemon=True, name="rnn-tf-jobs")
                self._driver.start()
            return job.job_id

    def poll_job(self, job_id: str) -> JobStatus:
        """The job's progress and result so far (no call to the worker). A finished job is forgotten
        once polled; an unknown (or expired) job raises KeyError."""
        with self._jobs_changed:
            job = self._jobs[job_id]
            job.last_poll = time.monotonic()
            if job.done and job.worker is None:
                del self._jobs[job_id]
            if job.done:
                return job.status()
            place = [other for other in self._jobs.values() if not other.done].index(job)  # (arrival order)
            queued = place - self.max_jobs if place >= self.max_jobs else None
            return dataclasses.replace(job.status(), queued=queued)

    def wait_job(self, job_id: str, after_slices: int = 0, timeout: float | None = None) -> JobStatus:
        """Like poll_job, but first wait (at most `timeout` s) until the job has run more than
        `after_slices` slices or is done."""
        with self.while_waiting(), self._jobs_changed:
            job = self._jobs[job_id]
            self._jobs_changed.wait_for(lambda: job.done or job.slices > after_slices, timeout)
        return self.poll_job(job_id)

    def cancel_job(self, job_id: str) -> None:
        """Stop the job after its current slice (its iterator in the worker is dropped)."""
        with self._jobs_changed:
            job = self._jobs.get(job_id)
            if job is not None and not job.done:
                job.cancelled, job.done, job.error = True, True, "cancelled"
                self._jobs_changed.notify_all()

    def _expire_jobs(self, now: float) -> None:
        """Under _jobs_changed: cancel running jobs nobody polled lately; forget finished ones nobody
        read for twice as long (so that a late poll still gets the reason it stopped)."""
        for job in list(self._jobs.values()):
            idle = now - job.last_poll
            if idle > 2 * self.job_idle_timeout and job.done and job.worker is None:
                del self._jobs[job.job_id]
            elif idle > self.job_idle_timeout and not job.done:
                job.cancelled, job.done, job.error = True, True, "nobody asked for it; it was stopped"
                self.stats.jobs_expired += 1
                self._jobs_changed.notify_all()

    def _fail_jobs(self, worker: _Worker | None, message: str) -> None:
        """Jobs whose iterator lived in `worker` are lost (for None: every job, the engine stopped)."""
        with self._jobs_changed:
            for job in self._jobs.values():
                if worker is None or (job.worker is worker and not job.done):
                    if not job.done:
                        job.done, job.error = True, message
                        if worker is not None:
                            job.notices.append(RESTARTED)
                    job.worker = None
            self._jobs_changed.notify_all()

    def _drive_jobs(self) -> None:
        """Run one slice of each job in turn (lowest priority at the socket) until none is left."""
        turn = itertools.count()
        while True:
            with self._jobs_changed:
                self._expire_jobs(time.monotonic())
                # running jobs, and cancelled ones whose iterator the worker still holds (to drop it)
                pending = [job for job in self._jobs.values() if not job.done or job.worker is not None]
                if not pending:
                    self._driver = None
                    return
                active = pending[: self.max_jobs]  # the first max_jobs in arrival order; the rest wait
                job = active[next(turn) % len(active)]
            self._run_slice(job)

    def _run_slice(self, job: _Job) -> None:
        if job.done and job.worker is None:  # failed or stopped since it was picked
            return
        try:
            worker = self._await_worker(time.monotonic() + self.start_wait, [])
        except EngineError as err:
            self._finish_job(job, error=str(err))
            return
        ticket = self._turns.acquire(BACKGROUND, None)  # no timeout: a turn always comes
        assert ticket is not None
        try:
            if job.cancelled:
                if job.worker is not None and job.worker is worker:
                    self._exchange(worker, Request(JOB_DROP, {"job_id": job.job_id}), BACKGROUND)
                job.worker = None
                return
            if job.worker is None:
                start = {"job_id": job.job_id, "kind": job.kind, "args": job.args}
                answer = self._exchange(worker, Request(JOB_START, start), BACKGROUND)
                if not answer.ok:
                    self._finish_job(job, error=f"TensorFlow could not start this job: {answer.error}")
                    return
                job.worker = worker
            slice_request = Request(JOB_SLICE, {"job_id": job.job_id})
            answer = self._exchange(worker, slice_request, BACKGROUND, self.slice_timeout)
        except (EOFError, EngineError):  # the worker died or hung: _fail_jobs tells the job
            self._finish_job(job, error="the TensorFlow worker stopped; the job was lost", notice=RESTARTED)
            return
        finally:
            self._turns.release(ticket)
        self.stats.slices += 1
        if not answer.ok:
            self._finish_job(job, error=f"TensorFlow could not compute this: {answer.error}")
            return
        piece: JobSlice = answer.value
        with self._jobs_changed:
            if not job.cancelled:
                job.slices += 1
                job.progress, job.result, job.done = piece.progress, piece.result, piece.done
            if piece.done:
                job.worker = None
            self._jobs_changed.notify_all()

    def _finish_job(self, job: _Job, error: str, notice: str | None = None) -> None:
        with self._jobs_changed:
            if not job.done:
                job.done, job.error = True, error
                if notice:
                    job.notices.append(notice)
            job.worker = None
            self._jobs_changed.notify_all()


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
