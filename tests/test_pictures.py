"""The pictures in a real browser: what the heatmaps, labels and slides look like in Debian's Chromium.

One server for the module, one browser; several viewports per test. Pixels are read from screenshots
of the plot areas; label boxes from the SVG text elements plotly draws.
"""

from __future__ import annotations

import io
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rnn_core import reference
from rnn_core.state import State, encode_link
from tests.pagetools import decode_array
from tests.serving import ROOT, chromium_path, streamlit_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]

if chromium_path() is None:
    pytest.skip("no chromium on PATH (Debian: apt-get install chromium)", allow_module_level=True)

from PIL import Image  # noqa: E402
from playwright.sync_api import Browser, Page  # noqa: E402

from tests.test_browser import open_chapter  # noqa: E402

LOAD_S = 180

SETTLED_JS = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  if (document.querySelector('[data-stale="true"]')) return false;
  const divs = [...document.querySelectorAll('.js-plotly-plot')].filter(d => d._fullLayout);
  const expected = document.querySelectorAll('[data-testid="stPlotlyChart"]').length
    + document.querySelectorAll('[data-chart]').length;  // (the charts component's: app/components/charts/)
  if ([...document.querySelectorAll('.rv')].some(h => h.dataset.pending !== '0')) return false;  // drawing
  return divs.length > 0 && divs.length === expected;
}"""
# Every value label (heatmap cell text) and corner flag of a chart, as boxes in page px.
LABELS_JS = """(meta) => {
  const div = [...document.querySelectorAll('.js-plotly-plot')].find(d => d.layout.meta === meta);
  const box = e => {
    const r = e.getBoundingClientRect();
    return [r.left, r.right, r.top, r.bottom, e.textContent];
  };
  const texts = [...div.querySelectorAll('.heatmaplayer text')].filter(t => t.textContent.trim()).map(box);
  const flags = [...div.querySelectorAll('.scatterlayer .trace')]
    .filter((g, i) => div._fullData[i + 1] && div._fullData[i + 1].name === 'stuck')
    .flatMap(g => [...g.querySelectorAll('path.point')].map(box));
  return {texts, flags};
}"""
PLOT_AREA_JS = """(meta) => {
  const div = [...document.querySelectorAll('.js-plotly-plot')].find(d => d.layout.meta === meta);
  div.scrollIntoView({block: 'center'});
  const r = div.querySelector('.nsewdrag').getBoundingClientRect();
  return [r.left, r.top, r.width, r.height];
}"""
DATA_JS = """() => [...document.querySelectorAll('.js-plotly-plot')].map(div => ({
  meta: div.layout.meta,
  traces: div.data.map(t => ({
    name: t.name || null,
    type: t.type,
    z: t.z ? (t.z.bdata ? t.z : Array.from(t.z, r => Array.from(r))) : null,
    y: t.y ? (t.y.bdata ? t.y : Array.from(t.y)) : null,
  })),
  ticks: div.layout.xaxis && div.layout.xaxis.ticktext ? div.layout.xaxis.ticktext : null,
}))"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with streamlit_server(tmp_path_factory.mktemp("pictures")) as running:
        yield running


def open_page(browser: Browser, server, path: str, width: int, height: int) -> Page:
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(server.url + path)
    page.wait_for_function(SETTLED_JS, timeout=LOAD_S * 1000, polling=100)
    page.wait_for_timeout(500)  # the last charts finish drawing
    page.wait_for_function(SETTLED_JS, timeout=LOAD_S * 1000, polling=100)
    return page


def link(**fields) -> str:
    return "/?s=" + encode_link(State(**fields))


def trace_of(**fields):
    state = State(**fields)
    return reference.forward(state.inputs, state.resolved_weights(), state.activation)


def rgb_for(value: float) -> np.ndarray:
    """The RdBu color of a tanh value (the scale's stops, linearly interpolated)."""
    from app.figures.style import RDBU

    stops = [s for s, _ in RDBU]
    colors = np.array([[int(c[i : i + 2], 16) for i in (1, 3, 5)] for _, c in RDBU], dtype=float)
    x = (np.clip(value, -1, 1) + 1) / 2
    return np.array([np.interp(x, stops, colors[:, k]) for k in range(3)])


# ---- heatmaps never go blank -----------------------------------------------------------------------


@pytest.mark.parametrize(("width", "height"), [(1366, 768), (1920, 1080)])
def test_256_neurons_show_every_value_in_color(browser, server, width, height):
    hidden = trace_of(n_neurons=256).hidden
    page = open_page(browser, server, link(n_neurons=256), width, height)
    try:
        for t in range(hidden.shape[0]):
            left, top, w, h = page.evaluate(PLOT_AREA_JS, f"hidden-y{t}")
            page.wait_for_timeout(200)
            left, top, w, h = page.evaluate(PLOT_AREA_JS, f"hidden-y{t}")
            shot = Image.open(
                io.BytesIO(page.screenshot(clip={"x": left, "y": top, "width": w, "height": h}))
            )
            pixels = np.asarray(shot.convert("RGB"), dtype=float)
            rows, cols = hidden[t].shape
            assert w / cols >= 2, f"cells of y{t} are {w / cols:.1f} px wide"
            checked = wrong = 0
            for r in range(rows):
                for n in range(1, cols - 1):
                    v = hidden[t, r, n - 1 : n + 2]
                    if not (np.all(v > 0.6) or np.all(v < -0.6)):
                        continue  # a cell whose neighbours share its color: its centre pixel is its own
                    x = int((n + 0.5) * pixels.shape[1] / cols)
                    y = int((r + 0.5) * pixels.shape[0] / rows)
                    seen = pixels[y, x]
                    checked += 1
                    white = seen.min() > 235
                    far = np.abs(seen - rgb_for(v[1])).max() > 60
                    wrong += white or far
            assert checked > 50, checked
            assert wrong <= checked * 0.02, f"y{t}: {wrong} of {checked} sampled cells not their color"
    finally:
        page.close()


# ---- labels never overlap ---------------------------------------------------------------------------


def overlapping(boxes: list, others: list | None = None, slack: float = 0.5) -> list:
    pairs = []
    candidates = (
        [(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1 :]]
        if others is None
        else [(a, b) for a in boxes for b in others]
    )
    for a, b in candidates:
        if min(a[1], b[1]) - max(a[0], b[0]) > slack and min(a[3], b[3]) - max(a[2], b[2]) > slack:
            pairs.append((a[4], b[4]))
    return pairs


@pytest.mark.parametrize(("width", "height"), [(1366, 768), (1440, 900), (768, 1024)])
def test_value_labels_and_flags_do_not_overlap_on_the_default_network(browser, server, width, height):
    page = open_page(browser, server, "/", width, height)
    try:
        for t in range(3):
            found = page.evaluate(LABELS_JS, f"hidden-y{t}")
            assert len(found["texts"]) == 24, f"y{t}: every value printed"
            assert not overlapping(found["texts"]), f"y{t} at {width}: labels overlap"
            assert found["flags"], f"y{t}: saturated cells flagged"
            assert not overlapping(found["texts"], found["flags"]), f"y{t}: a flag covers a value"
    finally:
        page.close()


def test_presentation_labels_fit_at_1280x720(browser, server):
    page = open_page(browser, server, "/?present=1", 1280, 720)
    try:
        found = page.evaluate(LABELS_JS, "hidden-states")
        assert len(found["texts"]) == 72
        assert not overlapping(found["texts"])
        assert not overlapping(found["texts"], found["flags"])
    finally:
        page.close()


# ---- words never cut ------------------------------------------------------------------------------

# Every piece of text Streamlit shortens with an ellipsis when it does not fit (widget labels, the
# toggle's), whose text is wider than its box: [its text, its width, the width it needs].
CUT_JS = """() => [...document.querySelectorAll('*')]
  .filter(e => getComputedStyle(e).textOverflow === 'ellipsis' && e.textContent.trim())
  .filter(e => e.offsetParent !== null)  // (shown)
  .map(e => {
    const range = document.createRange();
    range.selectNodeContents(e);  // (the text's own layout: the ellipsis is only painted)
    return [e.textContent, e.getBoundingClientRect().width, range.getBoundingClientRect().width];
  })
  .filter(([, width, needs]) => needs > width + 1)"""


@pytest.mark.parametrize(
    ("path", "width", "height"), [("/", 1366, 768), ("/", 1280, 800), ("/?present=1", 1280, 720)]
)
def test_no_label_is_cut_short(browser, server, path, width, height):
    """No widget label, toggle or button text ends in an ellipsis: "Presentation mode" was cut to
    "Presentation mo…" at 1366 px and on a 1280 × 720 slide."""
    page = open_page(browser, server, path, width, height)
    try:
        assert page.evaluate(CUT_JS) == []
    finally:
        page.close()


# ---- relu -----------------------------------------------------------------------------------------------


def test_relu_has_its_own_scale_dead_units_flagged_and_says_relu(browser, server):
    hidden = trace_of(activation="relu").hidden
    page = open_page(browser, server, link(activation="relu"), 1366, 768)
    try:
        charts = {c["meta"]: c for c in page.evaluate(DATA_JS)}
        ticks = [float(t) for t in charts["scale"]["ticks"]]
        assert max(ticks) >= hidden.max() - 0.01  # the colorbar covers the largest value shown
        assert min(ticks) == 0
        for t in range(3):
            flags = next(tr for tr in charts[f"hidden-y{t}"]["traces"] if tr["name"] == "stuck")
            n_flags = len(flags["y"]["bdata"]) if isinstance(flags["y"], dict) else len(flags["y"])
            if isinstance(flags["y"], dict):
                n_flags = len(
                    np.frombuffer(__import__("base64").b64decode(flags["y"]["bdata"]), flags["y"]["dtype"])
                )
            assert n_flags == int((hidden[t] == 0).sum()), f"y{t}: dead units flagged"
        text = page.locator('[data-testid="stMain"]').inner_text()
        assert "relu" in text and "dead" in text
        assert "tanh" not in page.locator('[data-testid="stMarkdownContainer"]').first.inner_text()
    finally:
        page.close()


# ---- presentation: the first screen ---------------------------------------------------------------


@pytest.mark.parametrize(("width", "height"), [(1920, 1080), (1280, 720)])
def test_presentation_first_screen_holds_every_hidden_state(browser, server, width, height):
    page = open_page(browser, server, "/?present=1", width, height)
    try:
        box = page.locator(".js-plotly-plot").first.bounding_box()
        metas = page.evaluate(
            "() => [...document.querySelectorAll('.js-plotly-plot')].map(d => d.layout.meta)"
        )
        assert metas[0] == "hidden-states"
        assert box["y"] >= 0 and box["y"] + box["height"] <= height, box
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, box
        slider = page.get_by_role("slider").bounding_box()
        assert slider["y"] + slider["height"] <= height  # the step controls too
        scroll = page.evaluate("() => document.querySelector('[data-testid=stMain]').scrollHeight")
        assert scroll <= height + 2, "the first slide scrolls"
    finally:
        page.close()


@pytest.mark.parametrize(("width", "height"), [(1920, 1080), (1280, 720)])
def test_the_explanation_slide_fits_the_screen(browser, server, width, height):
    """Every line of the explained cell, the output's 8-term sum included, on the projected screen
    (the products table's button may sit below it)."""
    page = open_page(browser, server, "/?present=1", width, height)
    try:
        page.get_by_text("Explain a cell", exact=True).first.click()
        output = page.locator(".rv-text", has_text="Output").last
        output.wait_for(timeout=LOAD_S * 1000)
        page.wait_for_function(  # (no chart on this slide: SETTLED_JS waits for one)
            "() => document.querySelector('[data-testid=stApp]').getAttribute('data-test-script-state')"
            " === 'notRunning'"
            " && [...document.querySelectorAll('.rv')].every(h => h.dataset.pending === '0')",
            timeout=LOAD_S * 1000,
            polling=100,
        )
        heading = page.locator(".rv-heading").first.bounding_box()
        last = output.bounding_box()
        assert heading is not None and last is not None and heading["y"] >= 0
        assert last["y"] + last["height"] <= height, (last, height)  # the output's sum, its last line
    finally:
        page.close()


# Each y axis title's distance (px) from the nearest tick label of its chart, boxes as drawn: [chart,
# title, gap]; a negative gap is an overlap.
Y_TITLE_GAPS_JS = """() => [...document.querySelectorAll('.js-plotly-plot')].flatMap(div => {
  const box = e => e.getBoundingClientRect();
  const labels = [...div.querySelectorAll('g[class^="y"][class$="tick"] text')]
    .filter(e => e.textContent.trim());
  return [...div.querySelectorAll('text[class^="y"][class$="title"]')]
    .filter(t => t.textContent.trim() && !t.getAttribute('class').startsWith('ycb'))  // (not colorbars')
    .map(t => {
      const a = box(t);
      const gaps = labels.map(l => { const b = box(l);
        return Math.max(b.left - a.right, a.left - b.right, b.top - a.bottom, a.top - b.bottom); });
      return [div.layout.meta, t.textContent, Math.min(...gaps)];
    });
})"""


@pytest.mark.parametrize(("width", "height"), [(1920, 1080), (1280, 720)])
def test_y_axis_titles_keep_clear_of_their_labels_on_slides(browser, server, width, height):
    """Turned upright, a title's descender points at the labels ("step" touched "y1" at 4 px)."""
    page = open_page(browser, server, "/?present=1", width, height)
    try:
        for slide, chart in (("Row through time", "row-0"), ("Weights", "weights-Wo")):
            page.get_by_role("radio", name=slide, exact=True).click()
            page.wait_for_function(  # settled, and every title where it was 200 ms ago (a chart laid
                # out again after its first draw, as st.plotly_chart does to its least width, moves them)
                f"() => {{ const found = [...document.querySelectorAll('.js-plotly-plot')].some("
                f"d => d.layout.meta === '{chart}') && ({SETTLED_JS})();"
                f" const gaps = JSON.stringify(({Y_TITLE_GAPS_JS})()); const same = window.rvGaps === gaps;"
                " window.rvGaps = gaps; return found && same; }",
                timeout=LOAD_S * 1000,
                polling=200,
            )
            gaps = page.evaluate(Y_TITLE_GAPS_JS)
            assert any(name == chart for name, _, _ in gaps), gaps
            assert all(gap >= 1 for _, _, gap in gaps), gaps
    finally:
        page.close()


# Titles (the chart's and its axes') that reach past their figure: [chart, title, px past each side].
CUT_TITLES_JS = """() => [...document.querySelectorAll('.js-plotly-plot')].flatMap(div => {
  const f = div.getBoundingClientRect();
  return [...div.querySelectorAll('text.gtitle, text[class$="title"]')].filter(t => t.textContent.trim())
    .map(t => { const r = t.getBoundingClientRect();
      const past = [f.left - r.left, r.right - f.right, f.top - r.top, r.bottom - f.bottom];
      return [div.layout.meta, t.textContent, past]; })
    .filter(([, , past]) => past.some(px => px > 0.5));
})"""


def test_every_title_fits_its_chart_with_the_chapters_open_at_1280(browser, server):
    """A chart in a column of a 1280 px screen (the training's loss curves, the gradients' bars) had
    its title cut by up to 115 px: long titles take two lines."""
    page = open_page(browser, server, "/", 1280, 800)
    try:
        for title in ("Weights", "Training", "Gradients through"):
            open_chapter(page, title)
            page.wait_for_timeout(500)
            page.wait_for_function(SETTLED_JS, timeout=LOAD_S * 1000, polling=100)
        charts = page.evaluate(
            "() => [...document.querySelectorAll('.js-plotly-plot')].map(d => d.layout.meta)"
        )
        assert {"loss-curve", "step-losses", "grad-dl-dy", "weights-bo"} <= set(charts), charts
        assert page.evaluate(CUT_TITLES_JS) == []
    finally:
        page.close()


# ---- Play gives nothing away -----------------------------------------------------------------------


def test_play_shows_no_later_step(browser, server):
    hidden = trace_of().hidden
    page = open_page(browser, server, "/", 1366, 768)
    try:
        page.get_by_role("button", name="Play").click()
        page.wait_for_function(
            "() => [...document.querySelectorAll('.js-plotly-plot')].some(d => d.layout.meta === 'hidden-y0')"
            " && ![...document.querySelectorAll('.js-plotly-plot')].some(d => d.layout.meta === 'hidden-y1')",
            timeout=60_000,
            polling=50,
        )
        charts = page.evaluate(DATA_JS)
        later = {round(float(v), 9) for v in hidden[1:].ravel()} - {
            round(float(v), 9) for v in hidden[0].ravel()
        }
        later -= {-1.0, 0.0, 1.0}  # saturated values, rounded, are everywhere
        for chart in charts:
            if chart["meta"] == "scale":  # the color scale's own gradient, not data
                continue
            for trace in chart["traces"]:
                for key in ("z", "y"):
                    if trace[key] is None or trace["type"] not in ("heatmap",):
                        continue
                    values = {round(float(v), 9) for v in np.ravel(decode_array(trace[key]))}
                    assert not values & later, f"{chart['meta']} shows a later step's values"
        metas = {c["meta"] for c in charts}
        assert "hidden-y1" not in metas and "hidden-y2" not in metas
    finally:
        page.close()


# ---- slides on disk -------------------------------------------------------------------------------


def test_export_slide_writes_16_by_9_pngs(tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "rnn_core",
            "export",
            "--engine",
            "numpy",
            "--slide",
            "--formats",
            "png",
            "--out",
            str(tmp_path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    names = sorted(p.name for p in Path(tmp_path).iterdir())
    assert {
        "slide-hidden-seed42.png",
        "slide-diagram-seed42.png",
        "slide-row-seed42.png",
        "slide-outputs-seed42.png",
    } <= set(names)
    for name in names:
        data = (Path(tmp_path) / name).read_bytes()
        width, height = struct.unpack(">II", data[16:24])
        assert width * 9 == height * 16, (name, width, height)
        assert (width, height) == (3840, 2160)
