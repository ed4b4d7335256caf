"""app.wakeups: a run's messages reach the event loop in a few wake-ups, in order, none lost."""

from __future__ import annotations

import asyncio
import inspect
import subprocess
import sys
import threading
from collections.abc import Callable

import pytest

from app import wakeups
from app.serve import ROOT


class Session:
    """What wakeups needs of an AppSession: its loop (a real one, running in its own thread)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._event_loop = loop


@pytest.fixture()
def loop():
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield loop
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=10)
    loop.close()


def hand_over(session: Session, callbacks: list[Callable[[], None]], urgent: list[bool]) -> list[object]:
    """Hand `callbacks` to the loop from a script thread, as Streamlit's script runner does; return
    what the loop was asked to call at once (one entry per wake-up of the loop)."""
    loop = session._event_loop
    original = loop.call_soon_threadsafe
    wake_ups: list[object] = []

    def counted(callback, *args, **kwargs):
        wake_ups.append(args[1] if callback == loop.call_later else callback)
        return original(callback, *args, **kwargs)

    loop.call_soon_threadsafe = counted  # type: ignore[assignment]

    def script() -> None:
        for callback, now in zip(callbacks, urgent, strict=True):
            wakeups._STATE.urgent = now
            wakeups._call_soon(session, callback)

    thread = threading.Thread(target=script)
    thread.start()
    thread.join(timeout=10)
    return wake_ups


def test_a_burst_of_messages_wakes_the_loop_once_and_the_end_of_the_run_at_once(loop):
    ran: list[tuple[int, bool]] = []
    done = threading.Event()

    def message(i: int) -> Callable[[], None]:
        return lambda: ran.append((i, threading.current_thread() is not threading.main_thread()))

    callbacks = [message(i) for i in range(30)]
    callbacks.append(done.set)
    wake_ups = hand_over(Session(loop), callbacks, [False] * 30 + [True])
    assert done.wait(timeout=10)
    assert [i for i, _ in ran] == list(range(30))  # every message, in order
    assert all(on_loop for _, on_loop in ran)  # on the loop's thread, not the script's
    # 31 hand-overs, at most two wake-ups: the burst's timed one and the run's end (at once, not timed)
    assert wake_ups[-1] is wakeups._drain
    assert 1 <= len(wake_ups) <= 2


def test_a_failing_callback_does_not_drop_the_next_ones(loop):
    errors: list[dict] = []
    loop.set_exception_handler(lambda _loop, context: errors.append(context))
    ran: list[int] = []
    done = threading.Event()

    def broken() -> None:
        raise ValueError("broken")

    callbacks = [lambda: ran.append(1), broken, lambda: ran.append(3), done.set]
    hand_over(Session(loop), callbacks, [False, False, False, True])
    assert done.wait(timeout=10)
    assert ran == [1, 3]
    assert [type(context["exception"]) for context in errors] == [ValueError]


def test_streamlit_alone_wakes_the_loop_once_per_message():
    """The reason for the module, read from Streamlit's source (not the patched classes): when this
    fails, Streamlit changed how it hands messages over, and app/wakeups.py must be looked at again."""
    from streamlit.runtime import app_session, runtime

    session = inspect.getsource(app_session.AppSession)
    on_event = session.split("def _on_scriptrunner_event(", 1)[1].split("\n    def ", 1)[0]
    call_soon = session.split("def _call_soon_on_event_loop(", 1)[1].split("\n    def ", 1)[0]
    assert "self._call_soon_on_event_loop(" in on_event
    assert "self._event_loop.call_soon_threadsafe(callback)" in call_soon
    runtime_source = inspect.getsource(runtime.Runtime)
    enqueued = runtime_source.split("def _enqueued_some_message(", 1)[1].split("\n    def ", 1)[0]
    assert "call_soon_threadsafe(async_objs.need_send_data.set)" in enqueued


def test_install_wraps_streamlit_once():
    code = (
        "from app import wakeups; wakeups.install(); wakeups.install(); "
        "from streamlit.runtime.app_session import AppSession; "
        "from streamlit.runtime.runtime import Runtime; "
        "print(AppSession._call_soon_on_event_loop is wakeups._call_soon, "
        "AppSession._on_scriptrunner_event.__name__, "
        "Runtime._enqueued_some_message is wakeups._enqueued_some_message, "
        "AppSession._on_scriptrunner_event.original.__name__)"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "on_scriptrunner_event", "True", "_on_scriptrunner_event"]
