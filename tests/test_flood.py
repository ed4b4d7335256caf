"""No visitor can make the server do unbounded work, and a flood of large calls does not starve a
small one: large calls queue in their own bounded lane (refused past it, with a time to try
again), small calls go first. Synchronised by the engine's conditions, never by sleeping."""

from __future__ import annotations

import threading

import numpy as np

from app.compute import get_engine
from rnn_core.engine import EngineBusy, EngineError, forward_cost
from rnn_core.state import State
from tests.pagetools import edit_cells, messages, new_app, printout

SESSIONS = 50  # each at the size caps: 50 steps × 32 rows × 8 features, 256 neurons


def caps() -> State:
    return State(inputs=np.random.default_rng(0).normal(size=(50, 32, 8)), n_neurons=256)


class Flood:
    """SESSIONS threads calling forward at the caps until stopped, counting what happened."""

    def __init__(self, engine):
        self.engine = engine
        big = caps()
        self.X, self.weights = big.inputs, big.resolved_weights()
        self.answered = self.refused = 0
        self.other: list[Exception] = []
        self.retry_after: set[float] = set()
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self.run, daemon=True) for _ in range(SESSIONS)]

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                self.engine.forward(self.X, self.weights, "tanh")
                with self.lock:
                    self.answered += 1
            except EngineBusy as err:
                with self.lock:
                    self.refused += 1
                    self.retry_after.add(err.retry_after)
                self.stop.wait(0.01)  # a refused client backs off a little (not a synchronisation)
            except EngineError as err:
                self.other.append(err)

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        # saturated: the large lane is full (or its wait too long) and refuses further large calls
        assert self.engine.wait_for(lambda: self.refused > 0, 120)
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=60)


def test_a_small_call_is_not_refused_or_queued_behind_a_flood_of_large_ones(own_engine):
    engine = own_engine  # the page's engine, a worker of this test's own (tests/conftest.py)
    engine.start()
    small = State()
    X, weights = small.inputs, small.resolved_weights()
    assert forward_cost(X, weights) <= engine.small_cost < forward_cost(*_big())
    with Flood(engine) as flood:
        for _ in range(5):
            with flood.lock:
                before = flood.answered
            reply = engine.forward(X, weights)  # never EngineBusy: its lane is not the flood's
            with flood.lock:
                after = flood.answered
            assert reply.value.outputs.shape == (3, 3)
            # at most the large call in flight (and one counted just before we read) finished meanwhile
            assert after - before <= 2, (before, after)
    assert flood.refused, "the bounded lane never refused anything"
    assert all(seconds >= 1 for seconds in flood.retry_after)  # each refusal said when to try again
    assert flood.answered and not flood.other


def _big():
    big = caps()
    return big.inputs, big.resolved_weights()


def test_a_flooded_worker_refuses_past_its_queue_and_the_page_stays_responsive(own_engine):
    at = new_app().run()  # another student's session, already on the page
    assert not at.exception
    engine = get_engine()  # the page's one worker (this test's own), shared with the flood
    assert engine is own_engine
    with Flood(engine) as flood:
        edit_cells(at, {0: {"X0[0]": "6"}})
    assert not at.exception
    assert not messages(at), messages(at)  # answered, not refused: small calls have their own lane
    assert printout(at).startswith("input0: [6 2]")
    assert flood.refused and flood.answered and not flood.other
