"""The page in a real browser: a `streamlit run` server driven by Debian's headless Chromium.

One server and one browser for the module; a fresh browser context (no cookies, no session) per test.
Charts are read from the plotly divs themselves: `layout.meta` is the chart id ("hidden-y1"), and the
heatmap z comes as plotly's typed-array JSON ({dtype, bdata, shape}), decoded by tests.pagetools.
"""

from __future__ import annotations

import contextlib
import json
import re
import time
from collections.abc import Callable, Iterator

import numpy as np
import pytest

from rnn_core import reference
from rnn_core.state import State, View, decode_link, encode_link
from tests.pagetools import decode_array
from tests.serving import chromium_path, streamlit_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]

if chromium_path() is None:
    pytest.skip("no chromium on PATH (Debian: apt-get install chromium)", allow_module_level=True)

from playwright.sync_api import Page, expect  # noqa: E402
from playwright.sync_api import TimeoutError as PlaywrightTimeout  # noqa: E402

FIRST_LOAD_S = 180  # a page load; the first one starts the TensorFlow worker (~5 s alone, more when busy)
RERUN_S = 60
VIEWPORT = {"width": 1400, "height": 1000}
STEPS = 3  # the tutorial's network: 3 steps, 3 rows, 2 features, 8 neurons
expect.set_options(timeout=RERUN_S * 1000)

# Every chart on the page by its id, with what the tests read from it; null until the page has settled:
# the script run is over, no element is stale (left from before the run), every chart has been drawn.
CHARTS_JS = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return null;
  if (document.querySelector('[data-stale="true"]')) return null;
  const divs = [...document.querySelectorAll('.js-plotly-plot')].filter(d => d.layout && d._fullLayout);
  // every chart drawn: st.plotly_chart's, and the charts component's (app/components/charts/)
  const expected = document.querySelectorAll('[data-testid="stPlotlyChart"]').length
    + document.querySelectorAll('[data-chart]').length;
  if (divs.length !== expected) return null;
  if ([...document.querySelectorAll('.rv')].some(h => h.dataset.pending !== '0')) return null;  // drawing
  const plain = z => z == null ? null
    : z.bdata ? {dtype: z.dtype, bdata: z.bdata, shape: z.shape}
    : Array.from(z, r => (r !== null && typeof r === 'object') ? Array.from(r) : r);
  const found = {};
  for (const div of divs) {
    const first = div.data && div.data[0];
    found[div.layout.meta] = {
      z: first ? plain(first.z) : null,
      textfont: first && first.textfont ? first.textfont.size : null,
      font: div.layout.font ? div.layout.font.size : null,
      shapes: div.layout.shapes || [],
      image: div._context ? div._context.toImageButtonOptions : null,
    };
  }
  return found;
}"""
# The rendered size of every text in each chart's SVG (titles, ticks, cell values, labels).
TEXT_PX_JS = """() => Object.fromEntries([...document.querySelectorAll('.js-plotly-plot')].map(div => [
  div.layout.meta,
  [...div.querySelectorAll('text')].filter(t => t.textContent.trim())
    .map(t => parseFloat(getComputedStyle(t).fontSize)),
]))"""
# The rendered size of the visible controls' words: labels, select boxes' values, the slider's value.
CONTROLS_PX_JS = """() => Object.fromEntries([...document.querySelectorAll(`[data-testid="stMain"]
  :is([data-testid="stWidgetLabel"] p, [data-testid="stSelectbox"] input, [data-testid="stNumberInput"] input,
  [data-testid="stSliderThumbValue"])`)]
  .filter(e => e.offsetParent !== null)
  .map(e => [e.value || e.textContent.trim(), parseFloat(getComputedStyle(e).fontSize)]))"""
ALWAYS = {"unrolled", "outputs"}  # the first and last chart of every page (presentation: one slide)
PRESENT_FIRST = "hidden-states"  # presentation mode's first slide: y0 … y_T-1 in one figure
CHARTS_INDEX_JS = "() => [...document.querySelectorAll('.js-plotly-plot')].map(d => d.layout.meta)"


# ---- fixtures ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with streamlit_server(tmp_path_factory.mktemp("browser")) as running:
        yield running


@pytest.fixture
def new_page(server, browser) -> Iterator[Callable[[str], Page]]:
    """Open the app at a path ("/?present=1") or a full address in a fresh browser context; when the
    test ends, check that no page showed an exception or threw in the browser."""
    contexts, opened = [], []

    def open_page(address: str = "/", on_page: Callable[[Page], None] | None = None) -> Page:
        context = browser.new_context(viewport=VIEWPORT)
        context.set_default_timeout(RERUN_S * 1000)
        contexts.append(context)
        page = context.new_page()
        errors: list = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        if on_page is not None:  # (before the page loads: e.g. to hear its websocket)
            on_page(page)
        opened.append((page, errors))
        page.goto(address if address.startswith("http") else server.url + address)
        if "present=1" in address:
            wait_charts(page, lambda c: PRESENT_FIRST in c, FIRST_LOAD_S, server)
        else:
            wait_charts(page, lambda c: all(f"hidden-y{t}" in c for t in range(STEPS)), FIRST_LOAD_S, server)
        return page

    yield open_page
    try:
        for page, errors in opened:
            exceptions = page.locator('[data-testid="stException"]')
            assert exceptions.count() == 0, f"{exceptions.first.inner_text()}\n{server.log()[-3000:]}"
            assert errors == [], errors
    finally:
        for context in contexts:
            context.close()


# ---- reading and driving the page -----------------------------------------------------------------


def charts(page: Page) -> dict[str, dict]:
    """The charts once the current run has drawn them."""
    return wait_charts(page, lambda found: True)


def z_of(found: dict[str, dict], chart_id: str) -> np.ndarray:
    return np.asarray(decode_array(found[chart_id]["z"]), dtype=float)


def hidden_ids(found: dict[str, dict]) -> list[str]:
    return sorted(name for name in found if name.startswith("hidden-"))


def wait_charts(page: Page, ready: Callable[[dict], bool], timeout: float = RERUN_S, server=None) -> dict:
    """Poll the charts until the page has settled and `ready(charts)` holds."""
    deadline = time.monotonic() + timeout
    found = None
    while time.monotonic() < deadline:
        found = page.evaluate(CHARTS_JS)
        try:
            if found is not None and (found.keys() >= ALWAYS or PRESENT_FIRST in found) and ready(found):
                return found
        except KeyError:  # a chart the condition reads is not there (yet)
            pass
        page.wait_for_timeout(50)
    log = server.log()[-3000:] if server else ""
    raise AssertionError(f"charts not ready after {timeout} s; have {sorted(found or ())}\n{log}")


def wait_hidden(page: Page, expected: np.ndarray) -> dict:
    """Wait until the heatmaps y0 … y_T-1 show `expected` (T, B, N); fail showing the difference."""

    def shows(found: dict) -> bool:
        return hidden_ids(found) == [f"hidden-y{t}" for t in range(len(expected))] and all(
            np.allclose(z_of(found, f"hidden-y{t}"), expected[t], rtol=0, atol=1e-9)
            for t in range(len(expected))
        )

    try:
        return wait_charts(page, shows)
    except AssertionError:
        found = charts(page)
        for t in range(len(expected)):
            np.testing.assert_allclose(z_of(found, f"hidden-y{t}"), expected[t], rtol=0, atol=1e-9)
        raise


def outlined(found: dict, chart_id: str, row: int, neuron: int) -> bool:
    """The heatmap carries exactly one outline, around (row, neuron)."""
    box = [(s["x0"], s["x1"], s["y0"], s["y1"]) for s in found[chart_id]["shapes"]]
    return box == [(neuron - 0.5, neuron + 0.5, row - 0.5, row + 0.5)]


def open_chapter(page: Page, title: str) -> None:
    """Open a chapter (a closed one is not built) as a reader does: a click on its title."""
    summary = page.locator('[data-testid="stExpander"] summary', has_text=title).first
    summary.scroll_into_view_if_needed()
    summary.click()


def choose(page: Page, option: str) -> None:
    """Pick a radio option as a reader does: a click on it, again if the page did not take it. In about
    1 of 20 fresh servers a click just after a chapter opened changed nothing and sent nothing (the
    websocket's frames recorded; the server was idle): a reader would click again."""
    radio = page.get_by_role("radio", name=option, exact=True)  # (hidden: its label takes the click)
    for _ in range(3):
        page.get_by_text(option, exact=True).click()
        try:
            expect(radio).to_be_checked(timeout=5000)
            return
        except AssertionError:
            continue
    expect(radio).to_be_checked()


def query_token(url: str) -> str | None:
    found = re.search(r"[?&]s=([^&]+)", url)
    return found.group(1) if found else None


def edit_cell(page: Page, row: int, column: int, text: str) -> None:
    """Type into the inputs table (a glide-data-grid canvas): select the row's index cell, step right to
    data column `column`, open the cell editor with Enter, replace its text, commit with Enter."""
    grid = page.locator('[data-testid="stDataFrame"]').first
    header_px, row_px = 35, 35  # Streamlit's data grid row height; the header is one row
    grid.click(position={"x": 10, "y": header_px + row * row_px + row_px / 2})
    for _ in range(column + 1):
        page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")
    editor = page.locator("#portal textarea.gdg-input")
    editor.fill(text)
    page.keyboard.press("Enter")
    expect(editor).to_have_count(0)


def pick(page: Page, label: str, option: str) -> None:
    """Choose in a Streamlit selectbox (a combo box): open it, click the option."""
    box = page.get_by_role("combobox", name=label)
    box.scroll_into_view_if_needed()  # a click that scrolls first can land while the page still moves
    page.wait_for_timeout(300)
    box.click()
    page.get_by_role("option", name=option, exact=True).click()


def tutorial_hidden(inputs: np.ndarray | None = None, seed: int = 42) -> np.ndarray:
    state = State(seed=seed) if inputs is None else State(inputs=inputs, seed=seed)
    return reference.forward(state.inputs, state.resolved_weights()).hidden  # (T, B, N)


def explained_value(page: Page, step: int, row: int, neuron: int) -> tuple[float, float]:
    """(pre-activation, hidden value) from the line "Hidden state y2[r, n] = tanh(z) = **v**"."""
    head = f"Hidden state y{step}[{row}, {neuron}]"
    line = page.locator(".rv-text", has_text=head)  # (drawn with the charts: app/components/charts)
    expect(line).to_have_count(1)
    found = re.search(re.escape(head) + r" = tanh\((\S+)\) = (\S+) ", line.inner_text())
    assert found, line.inner_text()
    return float(found.group(1)), float(found.group(2))


# ---- the tests --------------------------------------------------------------------------------------


def test_default_page_shows_the_tutorial_network_with_3x_camera_buttons(new_page):
    page = new_page("/")
    found = wait_hidden(page, tutorial_hidden())
    assert {"unrolled", "row-0", "outputs"} <= set(found)
    assert page.locator('[data-testid="stAlert"]').count() == 0  # no notice, no error
    verdicts = page.locator('[data-testid="stMarkdown"] td strong')  # the cross-check's table
    expect(verdicts).to_have_text(["equal", "equal"])
    printout = page.locator(".rv-printout pre").inner_text()
    assert printout.startswith("input0: [1 2] input1: [7 8] input2: [13 14] -> output0: [")
    page.get_by_role("button", name="Copy").click()  # the clipboard's, or else the text selected
    copied = "() => document.querySelector('.rv-copy').textContent === 'Copied' || getSelection().toString()"
    assert page.wait_for_function(copied).json_value() in (True, printout)
    assert query_token(page.url)  # the address bar is already the share link

    for name, chart in found.items():  # the camera button: a 3x image named after the chart and the seed
        assert chart["image"] == {"format": "png", "scale": 3, "filename": f"{name}-seed42"}, name
    assert found["hidden-y1"]["image"]["filename"] == "hidden-y1-seed42"
    open_chapter(page, "Share and export")
    choose(page, "SVG")  # the share panel's format choice reaches every chart
    found = wait_charts(page, lambda c: all(chart["image"]["format"] == "svg" for chart in c.values()))
    assert {chart["image"]["scale"] for chart in found.values()} == {3}


def test_editing_an_input_cell_changes_the_heatmaps(new_page):
    page = new_page("/")
    before = charts(page)
    edit_cell(page, row=0, column=0, text="-3")  # row 0, X0[0]: 1 -> -3
    inputs = State().inputs.copy()
    inputs[0, 0, 0] = -3.0
    after = wait_hidden(page, tutorial_hidden(inputs))
    assert not np.allclose(z_of(after, "hidden-y0")[0], z_of(before, "hidden-y0")[0])
    np.testing.assert_array_equal(z_of(after, "hidden-y0")[1:], z_of(before, "hidden-y0")[1:])  # other rows
    expect(page.locator(".rv-printout pre")).to_contain_text("input0: [-3 2]")


def test_a_copied_link_opens_the_same_numbers_in_a_new_browser(new_page):
    page = new_page("/")
    inputs = State().inputs.copy()
    url = page.url
    seed = page.get_by_role("spinbutton", name="Seed")
    seed.fill("7")
    seed.press("Enter")
    page.wait_for_url(lambda now: query_token(now) != query_token(url))  # the link follows the page
    wait_hidden(page, tutorial_hidden(inputs, seed=7))
    url = page.url
    edit_cell(page, row=2, column=3, text="0.5")  # row 2, X1[1]: 12 -> 0.5
    page.wait_for_url(lambda now: query_token(now) != query_token(url))
    inputs[1, 2, 1] = 0.5
    shared = wait_hidden(page, tutorial_hidden(inputs, seed=7))

    other = new_page(page.url)  # a fresh browser context: nothing shared but the address
    opened = charts(other)
    for t in range(STEPS):
        np.testing.assert_array_equal(z_of(opened, f"hidden-y{t}"), z_of(shared, f"hidden-y{t}"))
    assert opened["hidden-y1"]["image"]["filename"] == "hidden-y1-seed7"
    expect(other.get_by_role("spinbutton", name="Seed")).to_have_value("7")
    assert other.locator('[data-testid="stAlert"]').count() == 0  # no "could not be opened"
    assert query_token(other.url) == query_token(page.url)  # the reopened page makes the same link


def test_a_seed_edit_redraws_the_results_and_the_view_picks_after_it_work(new_page):
    """A seed edit reruns only the results (a keyed fragment): the charts take the new seed, the rest
    of the page stays, and a view pick afterwards keeps every picker's options and the explanation
    (the last round's keyed reruns lost them here)."""
    page = new_page("/")
    wait_hidden(page, tutorial_hidden())
    seed = page.get_by_role("spinbutton", name="Seed")
    seed.fill("7")
    seed.press("Enter")
    hidden = tutorial_hidden(seed=7)
    wait_hidden(page, hidden)
    expect(page.get_by_role("heading", name="Inputs")).to_be_visible()  # the rest of the page stayed
    pick(page, "Row", "row 2")
    found = wait_charts(page, lambda c: "row-2" in c)
    np.testing.assert_allclose(z_of(found, "row-2"), hidden[:, 2, :], atol=1e-9)
    pick(page, "Neuron", "neuron 6")  # the neuron picker still has its 8 options
    expect(page.get_by_text("Explain a cell: y2[row 2, neuron 6]")).to_be_visible()
    _, value = explained_value(page, step=2, row=2, neuron=6)
    assert value == pytest.approx(hidden[2, 2, 6], abs=5e-5)
    expect(seed).to_have_value("7")


def test_a_full_width_chart_follows_its_column_without_a_window_resize(new_page):
    """A chart without a width of its own fills its column, also when the column changes width and
    the window does not (a slide's style hiding the sidebar after the chart was drawn did that:
    plotly.js's own `responsive` follows only the window)."""
    page = new_page("/")
    drawn = """() => { const d = document.querySelector('[data-chart="row_view"]');
      return [d._fullLayout.width, d.clientWidth]; }"""
    width, box = page.evaluate(drawn)
    assert abs(width - box) <= 1
    page.evaluate("document.querySelector('[data-testid=\"stMainBlockContainer\"]').style.maxWidth = '700px'")
    page.wait_for_function(
        f"() => {{ const [w, b] = ({drawn})(); return b < {box - 100} && Math.abs(w - b) <= 1; }}"
    )


def test_presentation_mode_hides_the_sidebar_and_uses_big_type(new_page):
    page = new_page("/?present=1")
    expect(page.locator('[data-testid="stSidebar"]')).to_be_hidden()
    expect(page.locator(".st-key-editing")).to_be_hidden()  # the inputs table: kept alive, not shown
    found = wait_charts(page, lambda c: PRESENT_FIRST in c)  # the first slide: y0 … y2 in one figure
    np.testing.assert_allclose(z_of(found, PRESENT_FIRST), tutorial_hidden()[0], atol=1e-9)
    text_px = page.evaluate(TEXT_PX_JS)
    for name, chart in found.items():
        assert chart["font"] >= 18, name
        assert text_px[name] and min(text_px[name]) >= 18, (name, sorted(set(text_px[name])))
        if name.startswith(("hidden", "row-")):
            assert chart["textfont"] >= 18, name
    shown = ["Row", "Neuron", "row 0", "neuron 0", "y2"]  # (drawn once Streamlit has loaded their code)
    settled_on(page, f"() => {{ const px = ({CONTROLS_PX_JS})(); return {shown}.every(k => k in px); }}")
    controls_px = page.evaluate(CONTROLS_PX_JS)
    assert set(shown) <= controls_px.keys(), controls_px
    assert min(controls_px.values()) >= 18, controls_px  # (a select box's value was 14 px on a slide)
    assert "present=1" in page.url  # the share link keeps the mode

    page.get_by_role("button", name="Play").click()  # the slide's play, drawn by the browser too
    frame = "() => document.querySelector('[data-chart=\"slide_hidden\"]')?.closest('.rv')?.dataset.frame"
    page.wait_for_function(f"() => ({frame})() === '1'")  # it moved on by itself, no server run
    expect(page.get_by_role("button", name="Play")).to_be_visible()  # and stopped at the end
    page.wait_for_function(f"() => ({frame})() === undefined")  # the slide of the last step again
    expect(page.get_by_role("slider", name="Current step")).to_have_value("2")


CAPTIONS_PX_JS = """() => [...document.querySelectorAll(`[data-testid="stMain"]
  :is([data-testid="stCaptionContainer"], .rv-caption)`)].filter(e => e.offsetParent !== null)
  .map(e => [e.textContent.trim().slice(0, 40), parseFloat(getComputedStyle(e).fontSize)])"""


def settled_on(page: Page, condition_js: str) -> None:
    """Give the page until RERUN_S for `condition_js` to hold (a link's first run may rerun before it
    shows what the link asks): the assertions after it say what it shows when it never does."""
    with contextlib.suppress(PlaywrightTimeout):
        page.wait_for_function(condition_js, timeout=RERUN_S * 1000)


def test_a_lessons_slides_have_no_small_print(new_page):
    """A lesson step's instruction (a caption: "Click a cell …"), a chart's text alternative and the
    number a student types were 14 px on a slide."""
    page = new_page("/?lesson=tutorial&step=6&present=1")  # (its slide: the hidden states)
    for step, words in ((6, "Click a cell"), (8, "Line chart of the outputs")):
        page.goto(f"{page.url.split('?')[0]}?lesson=tutorial&step={step}&present=1")
        expect(page.locator('[data-testid="stMain"]').get_by_text(words).first).to_be_visible()
        settled_on(
            page,
            f"() => {{ const found = ({CAPTIONS_PX_JS})(); return found.length > 0"
            f" && found.every(([, px]) => px >= 18) && ({CHARTS_JS})() !== null; }}",
        )
        found = page.evaluate(CAPTIONS_PX_JS)
        assert any(text.startswith(words) for text, _ in found), found
        assert min(px for _, px in found) >= 18, found
    page.goto(f"{page.url.split('?')[0]}?lesson=tutorial&step=4&present=1")  # a number to type
    answer = page.locator('[data-testid="stMain"] [data-testid="stNumberInput"] input').filter(visible=True)
    answer.first.fill("0.5")  # (visible: the network's sizes are kept offstage on a slide)
    settled_on(page, f"() => {{ const px = ({CONTROLS_PX_JS})(); return '0.5' in px"
               " && Object.values(px).every(v => v >= 18); }")  # fmt: skip
    controls_px = page.evaluate(CONTROLS_PX_JS)
    assert "0.5" in controls_px and min(controls_px.values()) >= 18, controls_px


def test_a_malformed_link_shows_a_notice_and_the_tutorial(new_page):
    page = new_page("/?s=garbage")
    expect(page.locator('[data-testid="stAlert"]')).to_contain_text("could not be opened")
    wait_hidden(page, tutorial_hidden())
    assert query_token(page.url) != "garbage"  # the address bar holds a working link again


def draws(page: Page) -> dict[str, int]:
    """How many times the browser has drawn each chart of the results (by its id)."""
    return page.evaluate(
        "() => Object.fromEntries([...document.querySelectorAll('.rv [data-chart]')]"
        ".map(d => [d.dataset.chart, Number(d.dataset.draws)]))"
    )


def test_explain_a_cell_matches_the_heatmap_and_outlines_the_cell(new_page):
    page = new_page("/")
    pick(page, "Row", "row 2")
    expect(page.get_by_text("Explain a cell: y2[row 2, neuron 0]")).to_be_visible()
    wait_charts(page, lambda c: outlined(c, "hidden-y2", row=2, neuron=0) and "row-2" in c)
    before = draws(page)
    pick(page, "Neuron", "neuron 5")
    expect(page.get_by_text("Explain a cell: y2[row 2, neuron 5]")).to_be_visible()
    found = wait_charts(page, lambda c: outlined(c, "hidden-y2", row=2, neuron=5) and "row-2" in c)
    after = draws(page)  # only the chart whose outline moved was drawn again
    assert after["hidden_2"] == before["hidden_2"] + 1
    unchanged = ("hidden_0", "hidden_1", "diagram", "legend", "row_view", "outputs")
    assert {name: after[name] for name in unchanged} == {name: before[name] for name in unchanged}
    z = z_of(found, "hidden-y2")
    pre, value = explained_value(page, step=2, row=2, neuron=5)
    assert value == pytest.approx(z[2, 5], abs=5e-5)  # printed to 4 decimals
    assert np.tanh(pre) == pytest.approx(value, abs=1e-4)  # the pre-activation too
    assert found["hidden-y0"]["shapes"] == found["hidden-y1"]["shapes"] == []  # one outline, on y2
    np.testing.assert_array_equal(z_of(found, "row-2")[2], z[2])  # the row view follows the pick


def test_the_step_slider_and_play_reveal_fewer_heatmaps(new_page):
    page = new_page("/")
    pick(page, "Neuron", "neuron 3")
    expect(page.get_by_text("Explain a cell: y2[row 0, neuron 3]")).to_be_visible()
    page.get_by_role("slider", name="Current step").focus()
    page.keyboard.press("Home")
    found = wait_charts(page, lambda c: hidden_ids(c) == ["hidden-y0"] and outlined(c, "hidden-y0", 0, 3))
    expect(page.get_by_text("Explain a cell: y0[row 0, neuron 3]")).to_be_visible()
    _, value = explained_value(page, step=0, row=0, neuron=3)
    assert value == pytest.approx(z_of(found, "hidden-y0")[0, 3], abs=5e-5)
    page.keyboard.press("ArrowRight")
    wait_charts(page, lambda c: hidden_ids(c) == ["hidden-y0", "hidden-y1"])

    page.get_by_role("button", name="Play").click()  # starts again from y0, one more step per tick
    wait_charts(page, lambda c: hidden_ids(c) == ["hidden-y0"])
    expect(page.get_by_role("button", name="Pause")).to_be_visible()
    expect(page.get_by_role("slider", name="Current step")).to_be_disabled()  # Pause first
    assert play_frame(page) in ("0", "1")  # the browser plays the steps the server sent at once
    wait_charts(page, lambda c: hidden_ids(c) == ["hidden-y0", "hidden-y1"])
    assert play_frame(page) in ("1", "2")
    wait_charts(page, lambda c: hidden_ids(c) == ["hidden-y0", "hidden-y1", "hidden-y2"])
    expect(page.get_by_role("button", name="Play")).to_be_visible()  # it stopped by itself at the end
    wait_hidden(page, tutorial_hidden())
    expect(page.get_by_role("slider", name="Current step")).to_have_value("2")
    expect(page.get_by_role("slider", name="Current step")).to_be_enabled()
    expect(page.get_by_text("Explain a cell: y2[row 0, neuron 3]")).to_be_visible()  # the page again
    assert play_frame(page) is None


def play_frame(page: Page) -> str | None:
    """The step a play drawn by the browser shows (app/static/charts.js), None if none (the
    page's frames that follow the view are not a play)."""
    return page.evaluate(
        "() => { const host = document.querySelector('[data-chart=\"diagram\"]').closest('.rv');"
        " return host.dataset.playing ? host.dataset.frame : null; }"
    )


def specs_sent(page: Page) -> int:
    """How many times the server sent the time charts' element (the diagram's) new data."""
    return int(
        page.evaluate("() => document.querySelector('[data-chart=\"diagram\"]').closest('.rv').dataset.specs")
    )


def test_a_step_pick_a_click_and_a_row_pick_are_drawn_by_the_browser(new_page):
    """After the first pick in a network the charts hold every step (and every row's row view): a step
    pick, a click on a cell and a row pick change them in the browser (the server reruns only the
    explanation, and the controls for the click), and the outline moves there; the address bar
    follows."""
    page = new_page("/")
    page.get_by_role("slider", name="Current step").focus()
    page.keyboard.press("ArrowLeft")  # the first pick in this network: the server sends every step
    expect(page.get_by_text("Explain a cell: y1[row 0, neuron 0]")).to_be_visible()
    wait_charts(page, lambda c: hidden_ids(c) == ["hidden-y0", "hidden-y1"])
    sent = specs_sent(page)
    page.keyboard.press("Home")  # the next ones the browser draws
    expect(page.get_by_text("Explain a cell: y0[row 0, neuron 0]")).to_be_visible()
    found = wait_charts(page, lambda c: hidden_ids(c) == ["hidden-y0"] and outlined(c, "hidden-y0", 0, 0))
    index = page.evaluate(CHARTS_INDEX_JS).index("hidden-y0")
    plot = page.locator(".js-plotly-plot").nth(index)
    plot.scroll_into_view_if_needed()
    box = plot.locator(".nsewdrag").first.bounding_box()  # 8 neurons × 3 rows
    page.mouse.click(box["x"] + box["width"] * 6.5 / 8, box["y"] + box["height"] * 0.5 / 3)  # row 0, neuron 6
    expect(page.get_by_text("Explain a cell: y0[row 0, neuron 6]")).to_be_visible()
    found = wait_charts(page, lambda c: outlined(c, "hidden-y0", 0, 6))
    expect(page.get_by_role("combobox", name="Neuron")).to_have_value("neuron 6")  # the controls show it
    _, value = explained_value(page, step=0, row=0, neuron=6)
    assert value == pytest.approx(z_of(found, "hidden-y0")[0, 6], abs=5e-5)
    pick(page, "Row", "row 2")  # every row's row view is there too (the tutorial's size)
    expect(page.get_by_text("Explain a cell: y0[row 2, neuron 6]")).to_be_visible()
    found = wait_charts(page, lambda c: "row-2" in c and outlined(c, "hidden-y0", 2, 6))
    np.testing.assert_allclose(z_of(found, "row-2"), tutorial_hidden()[:1, 2, :], atol=1e-9)
    assert specs_sent(page) == sent  # the charts: nothing new from the server, drawn by the browser
    page.wait_for_function("() => /[?&]s=/.test(location.search)")
    token = query_token(page.url)
    assert token is not None and decode_link(token).view == View(step=0, row=2, neuron=6)


def test_the_step_slider_moves_in_the_browser_alone(new_page):
    """While the page's charts hold every step, the step slider's moves are the browser's (Streamlit's
    on_change="ignore"): nothing at all goes to the server, yet the charts, the outline and the
    explanation show the step, and the address bar gets its share link. The next run (a neuron pick)
    brings the moved step to the server, and the address bar's link opens it again after a reload."""
    frames: list = []

    def hear(page: Page) -> None:
        page.on("websocket", lambda ws: ws.on("framesent", lambda frame: frames.append(frame)))

    page = new_page("/", on_page=hear)
    pick(page, "Neuron", "neuron 3")  # a look: the charts hold every step from now on
    expect(page.get_by_text("Explain a cell: y2[row 0, neuron 3]")).to_be_visible()
    wait_charts(page, lambda c: outlined(c, "hidden-y2", 0, 3))
    sent = len(frames)
    assert sent > 0  # (the page's websocket is heard)
    page.get_by_role("slider", name="Current step").focus()
    page.keyboard.press("ArrowLeft")
    expect(page.get_by_text("Explain a cell: y1[row 0, neuron 3]")).to_be_visible()
    found = wait_charts(
        page, lambda c: hidden_ids(c) == ["hidden-y0", "hidden-y1"] and outlined(c, "hidden-y1", 0, 3)
    )
    _, value = explained_value(page, step=1, row=0, neuron=3)
    assert value == pytest.approx(z_of(found, "hidden-y1")[0, 3], abs=5e-5)
    page.wait_for_function("() => new URLSearchParams(location.search).has('s')")
    step_1 = query_token(page.url)
    assert decode_link(step_1).view == View(step=1, row=0, neuron=3)
    page.keyboard.press("Home")
    expect(page.get_by_text("Explain a cell: y0[row 0, neuron 3]")).to_be_visible()
    wait_charts(page, lambda c: hidden_ids(c) == ["hidden-y0"] and outlined(c, "hidden-y0", 0, 3))
    page.wait_for_function("token => !location.search.includes(token)", arg=step_1)  # (y0's now)
    assert decode_link(query_token(page.url)).view == View(step=0, row=0, neuron=3)
    assert len(frames) == sent  # two moves, nothing sent: no run on the server

    pick(page, "Neuron", "neuron 5")  # a run: it brings the slider's step
    expect(page.get_by_text("Explain a cell: y0[row 0, neuron 5]")).to_be_visible()
    wait_charts(page, lambda c: hidden_ids(c) == ["hidden-y0"] and outlined(c, "hidden-y0", 0, 5))
    assert len(frames) > sent
    page.wait_for_function("() => new URLSearchParams(location.search).has('s')")
    token = query_token(page.url)
    assert decode_link(token).view == View(step=0, row=0, neuron=5)
    page.goto(page.url)  # the address bar's link, opened again
    wait_charts(page, lambda c: hidden_ids(c) == ["hidden-y0"])
    expect(page.get_by_text("Explain a cell: y0[row 0, neuron 5]")).to_be_visible()
    expect(page.get_by_role("slider", name="Current step")).to_have_value("0")


def asked(frames: list, since: int) -> list[tuple[str, list[str]]]:
    """The requests the page sent after the first `since`: each as (the fragment it reruns, "" for the
    whole page; the events of the charts elements' triggers it carries)."""
    from streamlit.proto.BackMsg_pb2 import BackMsg

    found = []
    for frame in frames[since:]:
        msg = BackMsg()
        msg.ParseFromString(frame if isinstance(frame, bytes) else frame.encode())
        if msg.WhichOneof("type") != "rerun_script":
            continue
        states = msg.rerun_script.widget_states.widgets
        events = [
            e["event"] for w in states if w.json_trigger_value for e in json.loads(w.json_trigger_value)
        ]
        found.append((msg.rerun_script.fragment_id, events))
    return found


def test_a_neuron_pick_and_a_click_send_one_request_for_the_explanation(new_page):
    """The pickers are the browser's alone while the charts follow the view: a neuron pick, and a click
    on a cell (which sets the slider and both pickers in the browser, app/static/charts.js), send one
    request each: the explanation element's trigger "view", a rerun of its part alone."""
    frames: list = []

    def hear(page: Page) -> None:
        page.on("websocket", lambda ws: ws.on("framesent", lambda frame: frames.append(frame)))

    page = new_page("/", on_page=hear)
    pick(page, "Neuron", "neuron 3")  # the first pick in this network: the charts hold every step
    wait_charts(page, lambda c: outlined(c, "hidden-y2", 0, 3))
    sent = specs_sent(page)
    before = len(frames)
    pick(page, "Neuron", "neuron 5")
    expect(page.get_by_text("Explain a cell: y2[row 0, neuron 5]")).to_be_visible()
    wait_charts(page, lambda c: outlined(c, "hidden-y2", 0, 5))
    (request,) = asked(frames, before)
    assert request[0] and request[1] == ["view"]  # one fragment: the explanation's
    index = page.evaluate(CHARTS_INDEX_JS).index("hidden-y1")
    plot = page.locator(".js-plotly-plot").nth(index)
    plot.scroll_into_view_if_needed()
    box = plot.locator(".nsewdrag").first.bounding_box()  # 8 neurons × 3 rows
    before = len(frames)
    page.mouse.click(box["x"] + box["width"] * 6.5 / 8, box["y"] + box["height"] * 2.5 / 3)  # row 2, neuron 6
    expect(page.get_by_text("Explain a cell: y1[row 2, neuron 6]")).to_be_visible()
    found = wait_charts(
        page, lambda c: hidden_ids(c) == ["hidden-y0", "hidden-y1"] and outlined(c, "hidden-y1", 2, 6)
    )
    expect(page.get_by_role("combobox", name="Row")).to_have_value("row 2")  # the controls show it
    expect(page.get_by_role("combobox", name="Neuron")).to_have_value("neuron 6")
    expect(page.get_by_role("slider", name="Current step")).to_have_value("1")
    (request,) = asked(frames, before)
    assert request[0] and request[1] == ["view"]  # (the controls' moves themselves sent nothing)
    _, value = explained_value(page, step=1, row=2, neuron=6)
    assert value == pytest.approx(z_of(found, "hidden-y1")[2, 6], abs=5e-5)
    assert specs_sent(page) == sent  # the charts: nothing new from the server
    page.wait_for_function("() => /[?&]s=/.test(location.search)")
    assert decode_link(query_token(page.url)).view == View(step=1, row=2, neuron=6)
    expect(page.get_by_role("listbox")).to_have_count(0)  # (no picker's list left open)


def test_a_click_on_a_cell_of_a_large_grid_explains_it(new_page):
    """32 rows × 48 neurons (1,536 cells): the charts element hears plotly.js's click on the heatmap
    itself (no invisible click layer, which st.plotly_chart needed and which stopped at 1,024 cells)."""
    rng = np.random.default_rng(3)
    state = State(inputs=rng.normal(size=(3, 32, 2)).round(2), n_neurons=48, seed=5)
    page = new_page("/?s=" + encode_link(state))
    found = wait_charts(page, lambda c: hidden_ids(c) == ["hidden-y0", "hidden-y1", "hidden-y2"])
    assert z_of(found, "hidden-y2").shape == (32, 48)
    index = page.evaluate(CHARTS_INDEX_JS).index("hidden-y2")
    plot = page.locator(".js-plotly-plot").nth(index)
    plot.scroll_into_view_if_needed()
    assert page.evaluate(f"() => document.querySelectorAll('.js-plotly-plot')[{index}].data.length") <= 2
    box = plot.locator(".nsewdrag").first.bounding_box()
    page.mouse.click(box["x"] + box["width"] * 30.5 / 48, box["y"] + box["height"] * 20.5 / 32)  # row 20
    expect(page.get_by_text("Explain a cell: y2[row 20, neuron 30]")).to_be_visible()
    found = wait_charts(page, lambda c: outlined(c, "hidden-y2", 20, 30))
    hidden = reference.forward(state.inputs, state.resolved_weights()).hidden
    _, value = explained_value(page, step=2, row=20, neuron=30)
    assert value == pytest.approx(hidden[2, 20, 30], abs=5e-5)


def test_clicking_a_heatmap_cell_explains_it(new_page):
    page = new_page("/")
    index = page.evaluate(CHARTS_INDEX_JS).index("hidden-y1")
    plot = page.locator(".js-plotly-plot").nth(index)
    plot.scroll_into_view_if_needed()
    box = plot.locator(".nsewdrag").first.bounding_box()  # the plotting area: 8 neurons × 3 rows
    page.mouse.click(box["x"] + box["width"] * 5.5 / 8, box["y"] + box["height"] * 1.5 / 3)  # row 1, neuron 5
    expect(page.get_by_text("Explain a cell: y1[row 1, neuron 5]")).to_be_visible()
    revealed = ["hidden-y0", "hidden-y1"]  # the click made y1 the current step
    found = wait_charts(page, lambda c: hidden_ids(c) == revealed and outlined(c, "hidden-y1", 1, 5))
    _, value = explained_value(page, step=1, row=1, neuron=5)
    assert value == pytest.approx(z_of(found, "hidden-y1")[1, 5], abs=5e-5)
    expect(page.get_by_role("combobox", name="Row")).to_have_value("row 1")
