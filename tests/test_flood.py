"""No visitor can make the server do unbounded work: a flooded worker refuses at once past its
bounded queue, and another session's page still answers (with its result or a clear message)."""

from __future__ import annotations

import threading
import time

import numpy as np

from app.compute import get_engine
from rnn_core.engine import EngineBusy, EngineError
from rnn_core.state import State
from tests.pagetools import edit_cells, messages, new_app


def test_a_flooded_worker_refuses_past_its_queue_and_the_page_stays_responsive():
    at = new_app().run()  # another student's session, already on the page
    assert not at.exception
    engine = get_engine()  # the server's one worker, shared with the flood
    big = State(inputs=np.random.default_rng(0).normal(size=(50, 32, 8)), n_neurons=256)
    weights = big.resolved_weights()
    refused, answered, other = [], [], []
    stop = threading.Event()

    def flood():
        while not stop.is_set():
            try:
                engine.forward(big.inputs, weights, "tanh")
                answered.append(1)
            except EngineBusy:
                refused.append(1)
                time.sleep(0.01)
            except EngineError as err:
                other.append(err)

    threads = [threading.Thread(target=flood, daemon=True) for _ in range(engine._slots._initial_value + 8)]
    for thread in threads:
        thread.start()
    time.sleep(1.0)
    start = time.perf_counter()
    edit_cells(at, {0: {"X0[0]": "6"}})
    took = time.perf_counter() - start
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    assert not at.exception
    assert took < engine.queue_timeout + 5  # answered, not stuck behind the flood
    errors = messages(at)
    if errors:  # refused at once: said clearly, and the edit is kept for the next try
        assert any("busy" in e for e in errors)
        assert at.data_editor[0].key.startswith("inputs_editor")
    else:
        assert at.code[0].value.startswith("input0: [6 2]")
    assert refused, "the bounded queue never refused anything"
    assert answered and not other
