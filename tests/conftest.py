"""Fixtures shared by several test files."""

import pytest

from tests.redis_server import redis_url  # noqa: F401 (a fixture)


@pytest.fixture
def own_engine(monkeypatch):
    """A TensorFlow worker of this test's own for the page (AppTest runs the page in this process), so
    that killing or flooding it never touches the worker the other tests share."""
    from app import compute
    from rnn_core import engine as engine_module

    engine = engine_module.Engine()
    monkeypatch.setattr(engine_module, "_shared", engine)
    compute.get_engine.clear()
    yield engine
    engine.stop()
    compute.get_engine.clear()
