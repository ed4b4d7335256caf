"""Training in a real browser (a `streamlit run` server, Debian's headless Chromium): Train, watch the
loss curve grow and fall while the page polls the job, Pause, Reset; and another browser session's edit
is answered while the first one trains."""

from __future__ import annotations

import asyncio
import math
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from bench.stclient import Session, widget_state
from rnn_core import reference
from rnn_core.params import tutorial_inputs
from rnn_core.state import State, TrainingSettings, encode_link
from tests.pagetools import decode_array
from tests.serving import chromium_path, streamlit_server
from tests.test_browser import CHARTS_JS, edit_cell, z_of

pytestmark = [pytest.mark.browser, pytest.mark.slow]

if chromium_path() is None:
    pytest.skip("no chromium on PATH (Debian: apt-get install chromium)", allow_module_level=True)

from playwright.sync_api import Browser, Page  # noqa: E402

LOAD_S = 240  # the first load starts TensorFlow; the first slice traces the training loop
VIEWPORT = {"width": 1400, "height": 1000}

# The loss curve's point count and its last and first values, read from the plotly div.
LOSS_JS = """() => {
  const div = [...document.querySelectorAll('.js-plotly-plot')]
    .find(d => d.layout && d.layout.meta === 'loss-curve');
  if (!div || !div.data) return null;
  const line = div.data[div.data.length - 1];
  const plain = v => v && v.bdata ? {dtype: v.dtype, bdata: v.bdata} : Array.from(v || []);
  return {y: plain(line.y), x: plain(line.x), traces: div.data.length};
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with streamlit_server(tmp_path_factory.mktemp("learn-browser")) as running:
        yield running


def open_page(browser: Browser, url: str, charts: frozenset = frozenset({"hidden-y2", "loss-curve"})) -> Page:
    """A new tab at `url`, once `charts` are drawn (a link with targets opens the Training chapter)."""
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(LOAD_S * 1000)
    page = context.new_page()
    page.goto(url)
    wait_for(page, lambda: (page.evaluate(CHARTS_JS) or {}).keys() >= charts, LOAD_S)
    return page


def wait_for(page: Page, condition, timeout: float, what: str = "the page") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except (KeyError, TypeError):
            pass
        page.wait_for_timeout(100)
    raise AssertionError(f"{what}: not ready after {timeout} s")


def loss_curve(page: Page) -> tuple[np.ndarray, np.ndarray] | None:
    """The loss curve as drawn: (training steps, losses); None while the chart is not drawn."""
    found = page.evaluate(LOSS_JS)
    if found is None:
        return None
    x, y = (np.asarray(decode_array(found[axis]), dtype=float) for axis in ("x", "y"))
    return x, y


def last_step(page: Page) -> int:
    """The training step of the curve's last point (the curve keeps at most 2,000 points)."""
    x = (loss_curve(page) or (np.zeros(0),))[0]
    return int(x[-1]) if len(x) else 0


def losses(page: Page) -> np.ndarray:
    return (loss_curve(page) or (None, np.zeros(0)))[1]


def test_train_watch_the_loss_pause_reset_while_another_session_edits(server, browser):
    X = tutorial_inputs()
    state = State(targets=X[:, :, 0], training=TrainingSettings(lr=0.01, steps=100_000))
    trainer = open_page(browser, f"{server.url}/?s={encode_link(state)}")
    seeded = reference.forward(X, state.resolved_weights()).hidden
    np.testing.assert_allclose(z_of(trainer.evaluate(CHARTS_JS), "hidden-y2"), seeded[2], atol=1e-9)
    trainer.get_by_role("button", name="▶ Train").click()

    # the curve grows across polls (the page reruns itself while the job runs), and falls; a look that
    # finds the chart in the middle of a redraw (no curve drawn) is not a point of the curve
    counts, steps = [len(losses(trainer))], [last_step(trainer)]
    deadline = time.monotonic() + LOAD_S
    while len(set(steps)) < 5:
        assert time.monotonic() < deadline, f"the loss curve did not grow: {steps}"
        trainer.wait_for_timeout(300)
        if (drawn := loss_curve(trainer)) is not None:
            counts.append(len(drawn[1]))
            steps.append(int(drawn[0][-1]) if len(drawn[0]) else 0)
    assert counts == sorted(counts) and counts[-1] > counts[0]  # more points (up to 2,000 drawn)
    assert steps == sorted(steps)
    curve = losses(trainer)
    assert curve[-1] < curve[0]
    # the hidden states follow the trained weights
    wait_for(
        trainer,
        lambda: not np.allclose(z_of(trainer.evaluate(CHARTS_JS), "hidden-y2"), seeded[2], atol=1e-6),
        60,
        "the hidden states while training",
    )

    # another student edits while the first trains: answered, and the first still trains
    editor = open_page(browser, server.url, frozenset({"hidden-y0"}))  # (its Training chapter closed)
    before = z_of(editor.evaluate(CHARTS_JS), "hidden-y0")
    start = time.monotonic()
    edit_cell(editor, 0, 0, "-3")
    wait_for(
        editor,
        lambda: not np.allclose(z_of(editor.evaluate(CHARTS_JS), "hidden-y0")[0], before[0]),
        60,
        "the editing session",
    )
    answered = time.monotonic() - start
    still = last_step(trainer)
    wait_for(trainer, lambda: last_step(trainer) > still, 60, "training after the edit")
    print(f"edit answered in {answered:.2f} s while another session trained")

    # Pause: the count stops
    trainer.get_by_role("button", name="Pause").click()
    wait_for(trainer, lambda: trainer.get_by_role("button", name="▶ Train").count() == 1, 60, "Pause")
    trainer.wait_for_timeout(1500)
    paused = last_step(trainer)
    trainer.wait_for_timeout(2000)
    assert last_step(trainer) == paused

    # Reset: the weights before training, the hidden states of the seeded network again
    trainer.get_by_role("button", name="↺ Reset").click()
    wait_for(
        trainer,
        lambda: np.allclose(z_of(trainer.evaluate(CHARTS_JS), "hidden-y2"), seeded[2], atol=1e-9),
        60,
        "Reset",
    )
    assert trainer.locator('[data-testid="stException"]').count() == 0
    assert editor.locator('[data-testid="stException"]').count() == 0


# ---- hostile training settings, as raw wire values (bench/stclient speaks the browser's protocol) ----


wire = widget_state


@pytest.mark.parametrize(
    "key, value",
    [
        ("train_lr", wire(string_value="abc")),
        ("train_lr", wire(double_array_value=[99.0])),
        ("train_lr", wire(double_array_value=[-1.0])),
        ("train_lr", wire(double_array_value=[math.nan])),
        ("train_lr", wire(double_value=1e9)),
        ("train_steps", wire(int_value=10**12)),
        ("train_steps", wire(int_value=-5)),
        ("train_steps", wire(double_value=math.nan)),
        ("train_steps", wire(string_value="many")),
        ("train_clip", wire(double_value=-3.0)),
        ("train_clip", wire(double_value=math.inf)),
        ("train_stop_loss", wire(double_value=math.nan)),
        ("train_freeze_Wx", wire(string_value="yes")),
        ("train_freeze_Wy", wire(int_value=7)),
        ("train_optimizer", wire(string_value="rmsprop")),
        ("train_optimizer", wire(int_value=9)),
    ],
)
def test_hostile_training_settings_never_raise(server, key, value):
    async def scenario():
        async with Session(server.url, timeout=LOAD_S) as session:
            opened = await session.run()
            assert opened.exceptions == []
            opened = await session.run({"open_training": True})  # the chapter, as a click opens it
            assert opened.exceptions == []
            session.override(key, value)
            attacked = await session.run()
            session.overrides.clear()
            after = await session.run()
            return attacked, after

    with ThreadPoolExecutor(1) as pool:  # Playwright's sync API holds this thread's event loop
        attacked, after = pool.submit(asyncio.run, scenario()).result()
    assert attacked.exceptions == [] and after.exceptions == [], (attacked.exceptions, after.exceptions)
    assert after.status in (0, 5)
    assert not [body for kind, body in attacked.notices if kind == "ERROR"], attacked.notices
