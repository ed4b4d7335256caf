"""Weights and the comparison in a real browser: a `streamlit run` server (tests/serving) driven by
Debian's headless Chromium. The three comparison panels (A, B, Δ) are drawn, Δ is B − A, and one click
outlines the same cell in all three; a preset is one click. Screenshots go to RNN_SHOTS (if set)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from rnn_core import reference
from rnn_core.state import State, encode_link
from tests.serving import chromium_path, streamlit_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]

if chromium_path() is None:
    pytest.skip("no chromium on PATH (Debian: apt-get install chromium)", allow_module_level=True)

from playwright.sync_api import Page, expect  # noqa: E402

from tests.test_browser import (  # noqa: E402
    CHARTS_INDEX_JS,
    CHARTS_JS,
    FIRST_LOAD_S,
    RERUN_S,
    VIEWPORT,
    open_chapter,
    outlined,
    wait_charts,
    z_of,
)

A = State()
B = State(seed=7, weights={"Wy": 0.5 * np.eye(8)})
# Charts drawn wider than their element (cut off): [id, element px, figure px]. Streamlit draws an
# st.plotly_chart no narrower than 150 px whatever width it is given (bo, one column, was 82 px).
# The weights' colour scale's tick labels that lie whole inside its figure, left to right.
SCALE_LABELS_JS = """() => {
  const div = [...document.querySelectorAll('.js-plotly-plot')].find(d => d.layout.meta === 'weights-scale');
  const f = div.getBoundingClientRect();
  return [...div.querySelectorAll('g.xtick text')].map(t => [t.getBoundingClientRect(), t.textContent])
    .filter(([r]) => r.left >= f.left && r.right <= f.right).sort(([a], [b]) => a.left - b.left)
    .map(([, text]) => text);
}"""
CUT_CHARTS_JS = """() => [...document.querySelectorAll('.js-plotly-plot')]
  .map(d => [d.layout.meta, Math.round(d.parentElement.getBoundingClientRect().width), d._fullLayout.width])
  .filter(([, box, drawn]) => drawn > box + 1)"""
PANELS = ("compare-A-y2", "compare-B-y2", "compare-delta-y2")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with streamlit_server(tmp_path_factory.mktemp("weights-browser")) as running:
        yield running


@pytest.fixture
def page(server, browser) -> Iterator[Page]:
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(RERUN_S * 1000)
    page = context.new_page()
    errors: list = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.server = server
    yield page
    try:
        assert page.locator('[data-testid="stException"]').count() == 0, server.log()[-3000:]
        assert errors == [], errors
    finally:
        context.close()


def shot(page: Page, name: str, locator=None) -> None:
    folder = os.environ.get("RNN_SHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        (locator or page).screenshot(path=str(Path(folder) / f"{name}.png"))


def click_cell(page: Page, chart_id: str, row: int, col: int, n_rows: int, n_cols: int) -> None:
    index = page.evaluate(CHARTS_INDEX_JS).index(chart_id)
    plot = page.locator(".js-plotly-plot").nth(index)
    plot.scroll_into_view_if_needed()
    box = plot.locator(".nsewdrag").first.bounding_box()
    page.mouse.click(
        box["x"] + box["width"] * (col + 0.5) / n_cols, box["y"] + box["height"] * (row + 0.5) / n_rows
    )


def test_three_panels_delta_and_one_selection_outlining_the_same_cell(page):
    state = B.with_changes(pinned=A.pinnable())
    page.goto(f"{page.server.url}/?s={encode_link(state)}")
    wait_charts(page, lambda c: "compare-A-y2" in c, FIRST_LOAD_S, page.server)  # (pinned: Compare opens)
    open_chapter(page, "presets (no memory")
    found = wait_charts(page, lambda c: all(p in c for p in PANELS) and "weights-Wy" in c)
    ta = reference.forward(A.inputs, A.resolved_weights()).hidden[2]
    tb = reference.forward(B.inputs, B.resolved_weights()).hidden[2]
    np.testing.assert_allclose(z_of(found, "compare-A-y2"), ta, atol=1e-9)
    np.testing.assert_allclose(z_of(found, "compare-B-y2"), tb, atol=1e-9)
    np.testing.assert_array_equal(
        z_of(found, "compare-delta-y2"), z_of(found, "compare-B-y2") - z_of(found, "compare-A-y2")
    )
    expect(page.get_by_text("B differs from A in").first).to_be_visible()

    click_cell(page, "compare-B-y2", row=1, col=5, n_rows=3, n_cols=8)
    found = wait_charts(  # the three panels, and the page's own explained cell, follow the click
        page, lambda c: all(outlined(c, p, 1, 5) for p in PANELS) and outlined(c, "hidden-y2", 1, 5)
    )
    expect(page.get_by_text("Explain a cell: y2[row 1, neuron 5]")).to_be_visible()
    wy = found["weights-Wy"]["shapes"]  # the weights the explained cell uses: column 5 of Wy
    assert [(s["x0"], s["x1"]) for s in wy] == [(4.5, 5.5)]
    page.get_by_text("Compare two networks").scroll_into_view_if_needed()
    shot(page, "compare")


def test_a_preset_is_one_click_and_the_weights_show_it(page):
    page.goto(page.server.url + "/")
    wait_charts(page, lambda c: "hidden-y2" in c, FIRST_LOAD_S, page.server)
    open_chapter(page, "presets (no memory")
    wait_charts(page, lambda c: "weights-Wy" in c)
    assert page.evaluate(CUT_CHARTS_JS) == []  # (every weight whole, bo's one column too)
    page.get_by_text("Presets", exact=False).first.scroll_into_view_if_needed()
    shot(page, "weights-before")
    page.get_by_role("button", name="No memory: Wy = 0").click()
    found = wait_charts(page, lambda c: not z_of(c, "weights-Wy").any())
    assert z_of(found, "weights-Wx").any()  # only Wy changed
    expect(page.get_by_role("button", name="Undo")).to_be_visible()
    page.get_by_text("Presets", exact=False).first.scroll_into_view_if_needed()
    shot(page, "weights-no-memory")


def settled(page: Page, ready, timeout: float = RERUN_S, server=None) -> dict:
    """The charts once the page has settled and `ready(charts)` holds (slides have no fixed charts)."""
    deadline = time.monotonic() + timeout
    found = None
    while time.monotonic() < deadline:
        found = page.evaluate(CHARTS_JS)
        if found is not None and ready(found):
            return found
        page.wait_for_timeout(50)
    raise AssertionError(f"charts not ready after {timeout} s; have {sorted(found or ())}")


def slide_button(page: Page, name: str):
    """A button of the slide bar (a Streamlit segmented control)."""
    return page.get_by_role("radio", name=name, exact=True)


def test_the_compare_slide_in_presentation_mode(page):
    page.set_viewport_size({"width": 1920, "height": 1080})
    state = B.with_changes(pinned=A.pinnable())
    page.goto(f"{page.server.url}/?s={encode_link(state)}&present=1")
    settled(page, lambda c: "hidden-states" in c, FIRST_LOAD_S)
    slide_button(page, "Compare A/B").click()
    prefixes = ("compare-A-y", "compare-B-y", "compare-delta-y")  # at the slide's current step

    def panels(c: dict) -> list[str]:
        return [name for name in c if name.startswith(prefixes)]

    found = settled(page, lambda c: len(panels(c)) == 3 and "hidden-states" not in c)
    assert all(found[p]["font"] >= 18 for p in panels(found))
    shot(page, "compare-slide")
    page.goto(f"{page.server.url}/?present=1")  # nothing pinned: the last slide is the weights
    settled(page, lambda c: "hidden-states" in c, FIRST_LOAD_S)
    slide_button(page, "Weights").click()
    found = settled(page, lambda c: "weights-Wy" in c and "hidden-states" not in c)
    assert found["weights-Wy"]["font"] >= 18
    assert page.evaluate(CUT_CHARTS_JS) == []
    labels = page.evaluate(SCALE_LABELS_JS)  # (both ends whole: -2.14 was cut by the margin)
    assert len(labels) == 5 and labels[0] == f"-{labels[-1]}" and labels[2] == "0", labels  # (symmetric)
    shot(page, "weights-slide")
