"""At most SLOTS script runs of this process compute at once; the others wait their turn, in order.

Streamlit runs each session's script in a thread of its own, and all of them share one GIL with the
event loop that accepts connections and sends every message. When a class opens the page together,
a hundred runs start at the same instant: they take turns at the GIL every few milliseconds, all
finish near the end (the first page of every student as late as the last one's), and the event loop
waits behind them to send what they drew. Queued in order instead, the first runs finish first and
their pages go out while the others wait (bench/lecture.py stampede, docs/PERFORMANCE.md).

A slot is held from the start of a session's runs to the end of the last run its requests chain
(a run and the rerun it asks for), and given back while the run waits for something that is not
this process's CPU: the TensorFlow worker (rnn_core/engine.py `Engine.while_waiting`) and the class store
(app/classroom/redis_store.py). Coming back, a run goes first in the queue: it started earlier
than every run still waiting.

`install()` (app/serve.py, `RNN_RUN_SLOTS`: the number, 0 for Streamlit's own) patches Streamlit's
ScriptRunner; without it (AppTest, the command line) `released()` does nothing.
"""

from __future__ import annotations

import contextlib
import threading
from collections import deque
from collections.abc import Iterator
from typing import Any

MAX_SLOTS = 64
SLOTS = 2  # runs computing at once per process (1, 2 and 4 measured alike in the stampede; with 2, one
# run computes while another reads or writes a socket)


class Slots:
    """A counting semaphore that hands a freed slot to the longest waiting run (no barging)."""

    def __init__(self, count: int):
        self._free = count
        self._lock = threading.Lock()
        self._queue: deque[threading.Event] = deque()
        self._held = threading.local()

    def _acquire(self, first: bool = False) -> None:
        with self._lock:
            if self._free > 0 and not self._queue:
                self._free -= 1
                return
            turn = threading.Event()
            if first:
                self._queue.appendleft(turn)
            else:
                self._queue.append(turn)
        turn.wait()  # set by the release that hands this thread its slot

    def _release(self) -> None:
        with self._lock:
            if self._queue:
                self._queue.popleft().set()  # the slot passes straight to the next run
            else:
                self._free += 1

    def holding(self) -> bool:
        return getattr(self._held, "slot", False)

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        """Hold a slot for the block (waiting in the queue for one first)."""
        self._acquire()
        self._held.slot = True
        try:
            yield
        finally:
            self._held.slot = False
            self._release()

    @contextlib.contextmanager
    def released(self) -> Iterator[None]:
        """Give this thread's slot back for the block (a wait on another process), if it holds one."""
        if not self.holding():
            yield
            return
        self._held.slot = False
        self._release()
        try:
            yield
        finally:
            self._acquire(first=True)
            self._held.slot = True

    def waiting(self) -> int:
        with self._lock:
            return len(self._queue)


_slots: Slots | None = None


def released() -> contextlib.AbstractContextManager[None]:
    """Around a wait on another process during a run: the run's slot goes to the next run meanwhile."""
    return _slots.released() if _slots is not None else contextlib.nullcontext()


def from_environment(value: str | None) -> int:
    """RNN_RUN_SLOTS as a number of slots (unset: SLOTS); anything but a whole number from 0 to
    MAX_SLOTS stops the start with a message saying so."""
    if value is None or not value.strip():
        return SLOTS
    try:
        count = int(value)
    except ValueError:
        count = -1
    if not 0 <= count <= MAX_SLOTS:
        raise SystemExit(f"RNN_RUN_SLOTS must be a whole number from 0 to {MAX_SLOTS}, not {value[:40]!r}")
    return count


def install(count: int = SLOTS) -> Slots | None:
    """Queue this process's script runs into `count` slots (0: no limit, Streamlit's own)."""
    global _slots
    from streamlit.runtime.scriptrunner import script_runner

    runner = script_runner.ScriptRunner
    original = getattr(runner._run_script_thread, "original", runner._run_script_thread)
    if count <= 0:
        runner._run_script_thread = original  # type: ignore[method-assign]
        _slots = None
        return None
    slots = Slots(count)

    def run_script_thread(self: Any) -> None:
        with slots.held():
            original(self)

    run_script_thread.original = original  # type: ignore[attr-defined]
    runner._run_script_thread = run_script_thread  # type: ignore[method-assign]
    _slots = slots
    return slots
