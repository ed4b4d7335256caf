"""What the browser pays for a page load and a view pick, before and after a change, in the same run.

    .venv/bin/python -m bench.draw_cost --before REV [--rounds 2] [--picks 6] [--loads 3]

Headless Chromium (Debian's, driven by Playwright; it renders in software on the same 2 cores) on a
real server of this checkout and of REV (a git worktree, started from there so it runs its own code),
alternating rounds. Per neuron pick in the "Neuron" picker, from the click on the option to the new
cell outlined in the current step's heatmap with every charts element drawn: the browser's
main-thread busy time (Chromium's TaskDuration, from the DevTools protocol; it includes opening the
picker and React's render of the run, alike for both) and the wall time. At the tutorial's size (3
steps) and at 12 steps × 4 rows × 32 neurons (12 heatmaps on the page).
And a new tab on the running server (the cold start's browser part): from navigating to every chart
drawn, and the main thread's long tasks (> 50 ms) in that time, in a fresh browser context each.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import numpy as np

from bench.before_after import arguments, served
from bench.browser import CHARTS_READY_JS, PROBES_JS
from bench.common import Table, in_turn
from rnn_core.state import State, encode_link
from tests.serving import CHROMIUM_FLAGS, chromium_path

# The current step's heatmap outlines `neuron` and no charts element is waiting to draw.
SETTLED_JS = """([step, neuron]) => {
  const plot = document.querySelector(`[data-chart="hidden_${step}"]`);
  const shapes = plot && plot.layout && plot.layout.shapes;
  const hosts = [...document.querySelectorAll('.rv')];
  return !!shapes && shapes.length === 1 && shapes[0].x0 === neuron - 0.5
    && hosts.length > 0 && hosts.every(h => !h.dataset.pending || h.dataset.pending === '0');
}"""


def sizes() -> dict[str, tuple[str, int, int]]:
    """Name -> (the query string that opens it, its steps, its neurons)."""
    inputs = np.random.default_rng(0).uniform(-2, 2, (12, 4, 2)).round(2)
    big = "?s=" + encode_link(State(inputs=inputs, n_neurons=32))
    return {"tutorial (3 × 4 × 8)": ("", 3, 8), "12 steps × 4 × 32": (big, 12, 32)}


def busy_ms(cdp) -> float:
    metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    return metrics["TaskDuration"] * 1000


def one_pick(page, cdp, steps: int, neuron: int) -> tuple[float, float]:
    box = page.get_by_role("combobox", name="Neuron")
    box.scroll_into_view_if_needed()
    page.wait_for_timeout(300)  # (not timing: a click while the page still scrolls can miss)
    box.click()
    option = page.get_by_role("option", name=f"neuron {neuron}", exact=True)
    option.wait_for()
    busy, t0 = busy_ms(cdp), time.perf_counter()
    option.click()
    page.wait_for_function(SETTLED_JS, arg=[steps - 1, neuron], timeout=60_000, polling=10)
    return busy_ms(cdp) - busy, (time.perf_counter() - t0) * 1000


def measure(
    browser, checkout: Path, query: str, steps: int, neurons: int, picks: int
) -> list[tuple[float, float]]:
    with served(checkout) as (url, _pid):
        page = browser.new_page(viewport={"width": 1366, "height": 900})
        cdp = page.context.new_cdp_session(page)
        cdp.send("Performance.enable")
        page.goto(url + query)
        page.get_by_text(f"Explain a cell: y{steps - 1}[").wait_for(timeout=120_000)
        page.wait_for_function(SETTLED_JS, arg=[steps - 1, 0], timeout=60_000)
        one_pick(page, cdp, steps, 1)  # (warm: the picker's code, plotly's first redraw)
        found = [one_pick(page, cdp, steps, 2 + i % (neurons - 2)) for i in range(picks)]
        page.close()
        return found


def page_loads(browser, checkout: Path, loads: int) -> list[tuple[float, float]]:
    """Per load: (ms from navigating to every chart drawn, ms of main-thread long tasks meanwhile)."""
    found = []
    with served(checkout) as (url, _pid):
        for i in range(loads + 1):
            context = browser.new_context(viewport={"width": 1366, "height": 900})
            page = context.new_page()
            page.add_init_script(PROBES_JS)
            t0 = time.perf_counter()
            page.goto(url)
            page.wait_for_function(CHARTS_READY_JS, timeout=180_000, polling=20)
            wall = (time.perf_counter() - t0) * 1000
            long_tasks = page.evaluate("window.__longtasks.reduce((a, [s, d]) => a + d, 0)")
            context.close()
            if i:  # (the first warms the server: the worker's first call)
                found.append((wall, long_tasks))
    return found


def main() -> None:
    from playwright.sync_api import sync_playwright

    args, checkouts = arguments(__doc__, picks=6, loads=3)
    loads = Table(
        "A new tab on a running server, Chromium: navigate → every chart drawn (medians)",
        ["round", "code", "wall ms", "main-thread long tasks ms"],
    )
    table = Table(
        "One neuron pick, Chromium: option clicked → the cell outlined, every chart drawn (medians)",
        ["round", "size", "code", "browser main thread busy ms", "wall ms"],
    )
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
        for round_ in range(1, args.rounds + 1):
            for name, checkout in in_turn(list(checkouts.items()), round_):
                wall, long_tasks = (
                    statistics.median(c) for c in zip(*page_loads(browser, checkout, args.loads), strict=True)
                )
                loads.add(round_, name, f"{wall:.0f}", f"{long_tasks:.0f}")
                print(loads.rows[-1], flush=True)
            for size, (query, steps, neurons) in sizes().items():
                for name, checkout in checkouts.items():
                    found = measure(browser, checkout, query, steps, neurons, args.picks)
                    busy, wall = (statistics.median(c) for c in zip(*found, strict=True))
                    table.add(round_, size, name, f"{busy:.0f}", f"{wall:.0f}")
                    print(table.rows[-1], flush=True)
        browser.close()
    print(loads.markdown())
    print(table.markdown())


if __name__ == "__main__":
    main()
