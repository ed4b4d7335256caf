"""Regenerate the README's screenshots into docs/: the default page, presentation mode, 256 neurons
and relu (the last two scrolled to the hidden states).

Usage: .venv/bin/python scripts/screenshots.py  (starts its own server; needs Debian's chromium)
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from rnn_core.state import State, encode_link
from tests.serving import CHROMIUM_FLAGS, chromium_path, streamlit_server

ROOT = Path(__file__).resolve().parents[1]
HIDDEN = "Hidden states, step by step"  # scroll to this heading first


def link(**fields) -> str:
    return "/?s=" + encode_link(State(**fields))


# name: (address, viewport, heading to scroll to or None)
SHOTS = {
    "screenshot-page.png": ("/", {"width": 1600, "height": 3400}, None),
    "screenshot-present.png": ("/?present=1", {"width": 1920, "height": 1080}, None),
    "screenshot-present-720.png": ("/?present=1", {"width": 1280, "height": 720}, None),
    "screenshot-256.png": (link(n_neurons=256), {"width": 1366, "height": 1500}, HIDDEN),
    "screenshot-relu.png": (link(activation="relu"), {"width": 1366, "height": 1300}, HIDDEN),
}
SETTLED_JS = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  const hosts = [...document.querySelectorAll('.rv')];  // the charts elements (app/components/charts)
  const drawn = [...document.querySelectorAll('.js-plotly-plot')].filter(d => d._fullLayout);
  return drawn.length > 0 && hosts.every(h => h.dataset.pending === '0');
}"""


def main(out_dir: Path = ROOT / "docs", full_page: bool = False) -> None:
    out_dir.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, streamlit_server(Path(tmp)) as server, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
        for name, (path, viewport, heading) in SHOTS.items():
            page = browser.new_page(viewport=viewport)
            page.goto(server.url + path)
            page.wait_for_function(SETTLED_JS, timeout=180_000, polling=100)
            page.wait_for_timeout(1500)  # let the last charts draw
            if heading:
                page.get_by_text(heading, exact=True).evaluate("e => e.scrollIntoView({block: 'start'})")
                page.wait_for_timeout(500)
            page.screenshot(path=str(out_dir / name), full_page=full_page)
            print(f"wrote {out_dir / name}")
            page.close()
        browser.close()


if __name__ == "__main__":
    main(full_page="--full" in sys.argv)
