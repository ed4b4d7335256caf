"""Regenerate the README's screenshots: the default page and presentation mode, into docs/.

Usage: .venv/bin/python scripts/screenshots.py  (starts its own server; needs Debian's chromium)
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from tests.serving import CHROMIUM_FLAGS, chromium_path, streamlit_server

ROOT = Path(__file__).resolve().parents[1]

SHOTS = {
    "screenshot-page.png": ("/", {"width": 1600, "height": 3400}),
    "screenshot-present.png": ("/?present=1", {"width": 1920, "height": 1080}),
}


def wait_for_charts(page) -> None:
    page.wait_for_selector(".js-plotly-plot", timeout=60_000)
    page.wait_for_function("document.querySelectorAll('.js-plotly-plot .main-svg').length >= 3")
    page.wait_for_timeout(1500)  # let the last charts draw


def main(out_dir: Path = ROOT / "docs", full_page: bool = False) -> None:
    out_dir.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, streamlit_server(Path(tmp)) as server, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
        for name, (path, viewport) in SHOTS.items():
            page = browser.new_page(viewport=viewport)
            page.goto(server.url + path)
            wait_for_charts(page)
            page.screenshot(path=str(out_dir / name), full_page=full_page)
            print(f"wrote {out_dir / name}")
            page.close()
        browser.close()


if __name__ == "__main__":
    main(full_page="--full" in sys.argv)
