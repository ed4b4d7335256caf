"""What the performance work changed in behaviour (functional, not timed): a session keeps no result
alive; the timer shuts down disconnected sessions whose time to live has passed."""

from __future__ import annotations

import asyncio
import gc
import threading
import weakref
from types import SimpleNamespace

import numpy as np
import pytest

from app import compute, gc_policy, page_state
from rnn_core import reference
from rnn_core.params import tutorial_inputs
from rnn_core.state import State
from tests.pagetools import charts, drawn_texts, heatmap_z, new_app


@pytest.fixture
def at():
    return new_app().run()


def test_a_session_keeps_no_result_alive(at):
    """The session's memory holds a weak reference; the fragments keep the state, not the result. Once
    the shared cache lets a result go, no session holds it, and a view pick computes it again."""
    mem = at.session_state[page_state.MEMORY_KEY]
    assert isinstance(mem.last_result, weakref.ref)
    assert mem.last_result() is not None
    compute.get_cache()._items.clear()
    gc.collect()
    assert mem.last_result() is None
    at.selectbox(key="view_row").set_value(2).run()  # the explanation's part alone: it computes it
    assert not at.exception
    ref = reference.forward(tutorial_inputs(), State().resolved_weights())
    assert f"{ref.hidden[2, 2, 0]:.4f}" in " ".join(drawn_texts(at))  # y2[row 2, neuron 0]
    at.run()
    np.testing.assert_allclose(heatmap_z(charts(at)["row-2"]), ref.hidden[:, 2, :], atol=1e-9)


def test_the_timer_shuts_down_expired_disconnected_sessions(monkeypatch):
    from streamlit import runtime
    from streamlit.runtime.caching.ttl_cache import TTLCache

    now = [0.0]
    cache = TTLCache(maxsize=100, ttl=90, timer=lambda: now[0])
    closed = []

    def info(name):
        return SimpleNamespace(session=SimpleNamespace(shutdown=lambda: closed.append(name)))

    cache["old"] = info("old")
    now[0] = 60.0
    cache["recent"] = info("recent")
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        fake = SimpleNamespace(
            _session_mgr=SimpleNamespace(_session_storage=SimpleNamespace(_cache=cache)),
            _get_async_objs=lambda: SimpleNamespace(eventloop=loop),
        )
        monkeypatch.setattr(runtime, "exists", lambda: True)
        monkeypatch.setattr(runtime, "get_instance", lambda: fake)
        now[0] = 100.0  # "old" has been disconnected longer than its time to live, "recent" not
        assert gc_policy.expire_disconnected_sessions() == 1
        assert closed == ["old"]
        assert list(cache) == ["recent"]
        now[0] = 200.0
        assert gc_policy.expire_disconnected_sessions() == 1
        assert closed == ["old", "recent"]
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()


def test_expiry_is_a_no_op_outside_a_server():
    assert gc_policy.expire_disconnected_sessions() == 0
    gc_policy.release_free_memory()  # never fails


def test_the_config_expires_disconnected_sessions():
    import tomllib

    from tests.serving import ROOT

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert 0 < config["server"]["disconnectedSessionTTL"] <= 150  # memory back within about 3 minutes
