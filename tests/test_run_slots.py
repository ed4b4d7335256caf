"""app/run_slots.py: script runs queue for a few CPU slots, in order, and give theirs back while they
wait for another process (the TensorFlow worker, the class store).

Threads are synchronised on the queue's own state (how many wait, how many slots are free), never by
sleeping."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable

import pytest
from streamlit.testing.v1 import AppTest

from app import run_slots
from app.run_slots import Slots
from rnn_core.engine import Engine

from .test_engine import BUSY_WORKER


def until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    """Wait until condition() holds (another thread's progress), failing after `timeout`."""
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while not condition():
        assert time.monotonic() < deadline, "the other thread did not get there"
        pause.wait(0.001)  # (yields the GIL between looks; the condition decides, not the time)


def queue_up(slots: Slots, name: str, order: list[str]) -> threading.Thread:
    """A thread that waits for a slot, notes its name, and gives the slot back; started once it waits."""
    before = slots.waiting()

    def run() -> None:
        with slots.held():
            order.append(name)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    until(lambda: slots.waiting() == before + 1)
    return thread


def test_a_freed_slot_goes_to_the_run_that_waited_longest():
    slots = Slots(1)
    order: list[str] = []
    with slots.held():
        threads = [queue_up(slots, name, order) for name in ("first", "second", "third")]
        assert order == []  # the one slot is taken: all three wait
    for thread in threads:
        thread.join(timeout=30)
    assert order == ["first", "second", "third"]
    assert slots.waiting() == 0


def test_runs_beyond_the_slots_wait_and_the_slots_are_all_used():
    slots = Slots(2)
    inside = threading.Semaphore(0)
    leave = threading.Event()
    order: list[str] = []

    def run(name: str) -> None:
        with slots.held():
            order.append(name)
            inside.release()
            leave.wait(30)

    threads = [threading.Thread(target=run, args=(str(i),), daemon=True) for i in range(2)]
    for thread in threads:
        thread.start()
    for _ in threads:
        assert inside.acquire(timeout=30)  # both in at once: two slots
    late = queue_up(slots, "late", order)
    assert "late" not in order
    leave.set()
    for thread in [*threads, late]:
        thread.join(timeout=30)
    assert order[-1] == "late"


def test_a_run_coming_back_from_a_wait_goes_before_the_runs_that_came_after_it():
    slots = Slots(1)
    order: list[str] = []
    in_wait, back = threading.Event(), threading.Event()

    def early() -> None:
        with slots.held():
            with slots.released():  # waiting for the worker: the slot goes to the next run
                in_wait.set()
                back.wait(30)
            order.append("early, after its wait")

    first = threading.Thread(target=early, daemon=True)
    first.start()
    assert in_wait.wait(30)
    with slots.held():  # another run took the freed slot
        late = queue_up(slots, "a run that came later", order)
        back.set()
        until(lambda: slots.waiting() == 2)  # the early run queues again, at the front
    first.join(timeout=30)
    late.join(timeout=30)
    assert order == ["early, after its wait", "a run that came later"]


def test_released_outside_a_slot_does_nothing():
    slots = Slots(1)
    with slots.released():
        assert not slots.holding()
    with slots.held():
        assert slots.holding()
    assert not slots.holding()
    with slots.held():  # the slot was given back: it can be taken again at once
        pass


def test_a_run_waiting_for_the_worker_lets_another_run_compute():
    """The engine gives the caller's slot back for as long as the worker computes (Engine.while_waiting):
    with one slot, a second run computes while the first one's call (3 s) is in the worker."""
    slots = Slots(1)
    eng = Engine(command=[sys.executable, "-c", BUSY_WORKER])
    eng.while_waiting = slots.released
    order: list[str] = []
    try:
        eng.start()

        def caller() -> None:
            with slots.held():
                eng.call("spin", seconds=3.0)
                order.append("the call returned")

        thread = threading.Thread(target=caller, daemon=True)
        thread.start()
        until(lambda: eng.stats.sent >= 1 and not slots.waiting())  # the call is in the worker
        with slots.held():
            order.append("another run computed")
        thread.join(timeout=60)
    finally:
        eng.stop()
    assert order == ["another run computed", "the call returned"]


def _page() -> None:
    import streamlit as st

    from app import run_slots

    st.write(f"holding a slot: {run_slots._slots is not None and run_slots._slots.holding()}")


@pytest.fixture
def one_slot():
    slots = run_slots.install(1)
    try:
        yield slots
    finally:
        run_slots.install(0)


def test_install_makes_every_script_run_hold_a_slot(one_slot):
    at = AppTest.from_function(_page).run(timeout=30)
    assert [m.value for m in at.markdown] == ["holding a slot: True"]
    assert not one_slot.holding() and one_slot.waiting() == 0


def test_install_zero_gives_streamlits_own_runs_back():
    from streamlit.runtime.scriptrunner import script_runner

    original = script_runner.ScriptRunner._run_script_thread
    run_slots.install(2)
    run_slots.install(3)  # installed again: still one wrapper around Streamlit's own
    assert script_runner.ScriptRunner._run_script_thread.original is original
    run_slots.install(0)
    assert script_runner.ScriptRunner._run_script_thread is original
    at = AppTest.from_function(_page).run(timeout=30)
    assert [m.value for m in at.markdown] == ["holding a slot: False"]


def test_a_run_waiting_for_redis_gives_its_slot_back(redis_url, monkeypatch):
    """Every command the class store sends to Redis (a script, a read) runs with the run's slot given
    back: a Redis that cannot be reached holds a run up to 2 s, and no other run with it."""
    import redis

    from app.classroom.redis_store import RedisStore

    slots = Slots(1)
    monkeypatch.setattr(run_slots, "_slots", slots)
    seen: list[bool] = []

    class Watched(redis.Redis):
        def execute_command(self, *args, **options):
            seen.append(slots.holding())
            return super().execute_command(*args, **options)

    store = RedisStore(Watched.from_url(redis_url, decode_responses=True))
    try:
        with slots.held():
            code, key = store.create_class()  # a script
            store.publish(code, key, {"step": 1})  # a read (the teacher's key), then a script
            assert store.current(code) == (1, {"step": 1})  # reads
            assert slots.holding()  # the run has its slot again after each command
    finally:
        store.close()
    assert seen and not any(seen)


@pytest.mark.parametrize(
    ("value", "count"), [(None, run_slots.SLOTS), ("", run_slots.SLOTS), ("0", 0), (" 3 ", 3), ("64", 64)]
)
def test_the_number_of_slots_from_the_environment(value, count):
    assert run_slots.from_environment(value) == count


@pytest.mark.parametrize("value", ["-1", "65", "two", "1.5", "9" * 5000])
def test_a_bad_number_of_slots_stops_the_start_with_a_message(value):
    with pytest.raises(SystemExit, match="RNN_RUN_SLOTS must be a whole number from 0 to 64"):
        run_slots.from_environment(value)
