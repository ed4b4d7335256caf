"""Fixtures shared by several test files."""

import os

import pytest

# Every page and server of the tests computes its first result (the worker's path, as before the
# store existed), whatever an earlier run left in .cache/: the store has tests of its own
# (tests/test_stored_result.py, and the image's layout in tests/test_docker.py).
os.environ.setdefault("RNN_RESULT_STORE", "off")

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


@pytest.fixture(scope="module")
def browser():
    """Debian's headless Chromium through Playwright, one per test module (the browser tests' files
    skip themselves when there is no chromium)."""
    from playwright.sync_api import sync_playwright

    from tests.serving import CHROMIUM_FLAGS, chromium_path

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()
