"""A lesson in a real browser: a step's link opens that step, and a "click the cell" question is answered
by a real click on a heatmap cell (headless Chromium against a `streamlit run` server)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from rnn_core import lessons
from tests.serving import chromium_path

pytestmark = [pytest.mark.browser, pytest.mark.slow]

if chromium_path() is None:
    pytest.skip("no chromium on PATH (Debian: apt-get install chromium)", allow_module_level=True)

from playwright.sync_api import Page, expect  # noqa: E402

from tests.test_browser import (  # noqa: E402  (the same server, browser and chart reading)
    CHARTS_INDEX_JS,
    FIRST_LOAD_S,
    RERUN_S,
    VIEWPORT,
    hidden_ids,
    outlined,
    server,  # noqa: F401  (a fixture)
    wait_charts,
    z_of,
)

TUTORIAL = lessons.load_shipped("tutorial")


def step_number(step_id: str) -> int:
    return next(i for i, s in enumerate(TUTORIAL.steps, 1) if s.id == step_id)


@pytest.fixture
def open_step(server, browser) -> Iterator:  # noqa: F811
    contexts = []

    def open_page(path: str, ready) -> Page:
        context = browser.new_context(viewport=VIEWPORT)
        context.set_default_timeout(RERUN_S * 1000)
        contexts.append(context)
        page = context.new_page()
        errors: list = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(server.url + path)
        wait_charts(page, ready, FIRST_LOAD_S, server)
        page.errors = errors  # type: ignore[attr-defined]
        return page

    yield open_page
    for context in contexts:
        for page in context.pages:
            assert page.locator('[data-testid="stException"]').count() == 0
            assert page.errors == []  # type: ignore[attr-defined]
        context.close()


def test_a_step_link_opens_that_step(open_step):
    k = step_number("long-memory")
    page = open_step(f"/?lesson=tutorial&step={k}", lambda c: hidden_ids(c) == ["hidden-y0"])
    expect(page.get_by_text(TUTORIAL.steps[k - 1].title, exact=True)).to_be_visible()
    expect(page.get_by_text(f"step {k} of {len(TUTORIAL.steps)}")).to_be_visible()
    expect(page.get_by_text("y1: not revealed yet")).to_be_visible()  # 10 steps, y1 … y9 blank
    assert f"lesson=tutorial&step={k}" in page.url
    page.get_by_role("button", name="Next →").click()
    expect(page.get_by_text(TUTORIAL.steps[k].title, exact=True)).to_be_visible()
    page.wait_for_url(lambda url: f"step={k + 1}" in url)


def test_a_click_question_is_answered_by_clicking_a_heatmap_cell(open_step):
    k = step_number("click-unsaturated")
    step = TUTORIAL.steps[k - 1]
    cell = step.question.answer[0]
    revealed = [f"hidden-y{t}" for t in range(step.show_upto_step + 1)]
    page = open_step(f"/?lesson=tutorial&step={k}", lambda c: hidden_ids(c) == revealed)
    expect(page.get_by_text("y2: not revealed yet")).to_be_visible()

    index = page.evaluate(CHARTS_INDEX_JS).index(f"hidden-y{cell.step}")
    plot = page.locator(".js-plotly-plot").nth(index)
    plot.scroll_into_view_if_needed()
    box = plot.locator(".nsewdrag").first.bounding_box()  # the plotting area: 8 neurons × 3 rows
    x = box["x"] + box["width"] * (cell.neuron + 0.5) / step.state.n_neurons
    y = box["y"] + box["height"] * (cell.row + 0.5) / step.state.inputs.shape[1]
    page.mouse.click(x, y)
    expect(page.get_by_text(f"Your pick: y{cell.step}[row {cell.row}, neuron {cell.neuron}]")).to_be_visible()
    page.get_by_role("button", name="Answer with the picked cell").click()
    expect(page.get_by_text("Right: y1[row 0, neuron 5]", exact=False)).to_be_visible()
    expect(page.get_by_text("Explain a cell: y1[row 0, neuron 5]")).to_be_visible()  # revealed
    found = wait_charts(
        page, lambda c: hidden_ids(c) == revealed and outlined(c, "hidden-y1", cell.row, cell.neuron)
    )
    assert z_of(found, "hidden-y1").shape == (3, 8)  # a full rerun after a click keeps the network's sizes
    slider = page.get_by_role("slider")
    expect(slider).to_have_attribute("max", str(step.state.inputs.shape[0] - 1))  # y2 can be shown
    slider.focus()
    page.keyboard.press("End")
    wait_charts(page, lambda c: hidden_ids(c) == ["hidden-y0", "hidden-y1", "hidden-y2"])
