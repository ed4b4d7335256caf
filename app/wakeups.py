"""A few event-loop wake-ups per run instead of two per message.

Streamlit 1.67 hands every message a script thread produces to the event loop on its own: one
`call_soon_threadsafe` (a write to the loop's self-pipe, and a wake-up of the loop, which then takes
the GIL from the script thread) per message, whose handler puts the message in the browser queue and
calls `call_soon_threadsafe` again, from the loop's own thread, to set the "need to send" event. A
rerun of this page sends 12-31 messages: ~60 pipe writes and wake-ups (py-spy during seed edits:
`_write_to_self` alone was 11.8% of the script thread).

`install()` changes how the callbacks travel, not their order:
- a session's callbacks wait in one list; the first of a burst asks the loop to run the list
  `WINDOW_S` later, and the messages made meanwhile join it. Streamlit's own sender flushes the
  browser queues at most every 5 ms (MESSAGE_FLUSH_INTERVAL_SECS), so a message waited about that
  long already;
- any other event of a run (it started, stopped, finished, a fragment finished) runs the list at
  once: the end of a run reaches the browser as soon as before;
- the "need to send" event is set directly when the loop itself asks, and not again while it is set.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

WINDOW_S = 0.004  # how long a run's first message waits for the next ones before the loop takes them
_LOCK = threading.Lock()  # held for an append or a swap: microseconds, across every session
_STATE = threading.local()  # .urgent: the event being handed over is not a plain message


def install() -> None:
    from streamlit.runtime.app_session import AppSession
    from streamlit.runtime.runtime import Runtime
    from streamlit.runtime.scriptrunner import ScriptRunnerEvent

    if getattr(AppSession._call_soon_on_event_loop, "batched", False):
        return
    on_event = AppSession._on_scriptrunner_event
    message = ScriptRunnerEvent.ENQUEUE_FORWARD_MSG

    def on_scriptrunner_event(session: Any, sender: Any, event: Any, *args: Any, **kwargs: Any) -> None:
        _STATE.urgent = event is not message
        try:
            on_event(session, sender, event, *args, **kwargs)
        finally:
            _STATE.urgent = True

    on_scriptrunner_event.original = on_event  # type: ignore[attr-defined]
    call_soon: Any = _call_soon
    call_soon.batched = True
    AppSession._call_soon_on_event_loop = call_soon  # type: ignore[method-assign]
    AppSession._on_scriptrunner_event = on_scriptrunner_event  # type: ignore[assignment]
    Runtime._enqueued_some_message = _enqueued_some_message  # type: ignore[assignment]


class _Waiting:
    """A session's callbacks on their way to its loop."""

    __slots__ = ("callbacks", "now", "timed")

    def __init__(self) -> None:
        self.callbacks: list[Callable[[], None]] = []
        self.timed = False  # a run of the list is set for WINDOW_S after the burst's first message
        self.now = False  # a run of the list is asked for at once


def _call_soon(session: Any, callback: Callable[[], None]) -> None:
    """AppSession._call_soon_on_event_loop: run `callback` on the session's loop, after those before."""
    urgent = getattr(_STATE, "urgent", True)
    with _LOCK:
        waiting = session.__dict__.get("_rnn_waiting")
        if waiting is None:
            waiting = session.__dict__["_rnn_waiting"] = _Waiting()
        waiting.callbacks.append(callback)
        wake = not waiting.now if urgent else not (waiting.now or waiting.timed)
        if wake:
            waiting.now, waiting.timed = waiting.now or urgent, waiting.timed or not urgent
    if not wake:
        return  # a run of the list is on its way: it runs this one too
    loop = session._event_loop
    try:
        if urgent:
            loop.call_soon_threadsafe(_drain, session)
        else:
            loop.call_soon_threadsafe(loop.call_later, WINDOW_S, _drain, session)
    except RuntimeError:  # (as Streamlit: events may come after the loop closed at shutdown)
        if not loop.is_closed():
            raise


def _drain(session: Any) -> None:
    with _LOCK:
        waiting: _Waiting = session.__dict__["_rnn_waiting"]
        callbacks, waiting.callbacks = waiting.callbacks, []
        waiting.now = waiting.timed = False
    for callback in callbacks:
        try:
            callback()
        except Exception as error:  # one failing callback must not drop the others (each was a Handle)
            context = {"message": "session callback failed", "exception": error}
            session._event_loop.call_exception_handler(context)


def _enqueued_some_message(runtime: Any) -> None:
    """Runtime._enqueued_some_message: wake the loop that sends messages, once."""
    objects = runtime._get_async_objs()
    event: asyncio.Event = objects.need_send_data
    if event.is_set():
        return  # (the loop clears it before it flushes the queues: this message is flushed too)
    if asyncio._get_running_loop() is objects.eventloop:
        event.set()
    else:
        objects.eventloop.call_soon_threadsafe(event.set)
