"""What one press of Play costs the server, before and after a change, in the same run.

    .venv/bin/python -m bench.play_cost --before REV [--rounds 2] [--plays 2]

Headless Chromium (Debian's, driven by Playwright) on a real server of this checkout and of REV (a
git worktree, started from there so it runs its own code), alternating rounds. Per play, from the
click on Play to the page showing the last step again (its explanation): the page process's CPU
(from /proc), the websocket messages the browser received and sent, and the wall time. At the
tutorial's size (3 steps) and at 12 steps (a link with 12 × 4 × 2 inputs).
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import numpy as np

from bench.before_after import arguments, served
from bench.common import Table, in_turn
from bench.edit_cost import cpu_seconds
from rnn_core.state import State, encode_link
from tests.serving import CHROMIUM_FLAGS, chromium_path

COUNT_JS = """(() => {
  const Native = window.WebSocket;
  window.__received = 0; window.__sent = 0;
  window.WebSocket = function (...args) {
    const ws = new Native(...args);
    ws.addEventListener('message', () => { window.__received += 1; });
    const send = ws.send.bind(ws);
    ws.send = (data) => { window.__sent += 1; return send(data); };
    return ws;
  };
  window.WebSocket.prototype = Native.prototype;
  Object.assign(window.WebSocket, Native);
})()"""
COUNTS_JS = "() => [window.__received, window.__sent]"
IDLE_S = 5.0


def sizes() -> dict[str, str]:
    """Name -> the query string that opens it."""
    inputs = np.random.default_rng(0).uniform(-2, 2, (12, 4, 2)).round(2)
    return {"tutorial (3 steps)": "", "12 steps": "?s=" + encode_link(State(inputs=inputs))}


def one_play(page, pid: int, steps: int) -> tuple[float, int, int, float]:
    cpu, (received, sent), t0 = cpu_seconds(pid), page.evaluate(COUNTS_JS), time.perf_counter()
    page.get_by_role("button", name="Play").click()
    page.get_by_role("button", name="Pause").wait_for(timeout=60_000)
    page.get_by_role("button", name="Play").wait_for(timeout=steps * 5_000 + 60_000)
    page.get_by_text(f"Explain a cell: y{steps - 1}[").wait_for(timeout=60_000)
    wall = time.perf_counter() - t0
    received2, sent2 = page.evaluate(COUNTS_JS)
    return (cpu_seconds(pid) - cpu) * 1000, received2 - received, sent2 - sent, wall


def measure(browser, checkout: Path, query: str, steps: int, plays: int) -> list[tuple[float, ...]]:
    """Per play: (page CPU ms, messages received, sent, wall s, the page's idle CPU ms per second)."""
    with served(checkout) as (url, pid):
        page = browser.new_page(viewport={"width": 1366, "height": 900})
        page.add_init_script(COUNT_JS)
        page.goto(url + query)
        page.get_by_text(f"Explain a cell: y{steps - 1}[").wait_for(timeout=120_000)
        page.get_by_role("button", name="Play").wait_for(timeout=60_000)
        one_play(page, pid, steps)  # (the first play traces and warms what it uses)
        found = [one_play(page, pid, steps) for _ in range(plays)]
        cpu = cpu_seconds(pid)
        time.sleep(IDLE_S)  # the page open, nothing asked: the server's own background work
        idle = (cpu_seconds(pid) - cpu) * 1000 / IDLE_S
        page.close()
        return [(*play, idle) for play in found]


def main() -> None:
    from playwright.sync_api import sync_playwright

    args, checkouts = arguments(__doc__, plays=2)
    table = Table(  # less idle: minus what the page process spends per second with nobody asking
        "One play on a real server, Chromium: click → the last step shown again (medians)",
        ["round", "size", "code", "page CPU ms", "less idle", "messages received", "messages sent", "wall s"],
    )
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
        for round_ in range(1, args.rounds + 1):
            for size, query in sizes().items():
                steps = 3 if not query else 12
                for name, checkout in in_turn(list(checkouts.items()), round_):
                    found = measure(browser, checkout, query, steps, args.plays)
                    cpu, received, sent, wall, idle = (statistics.median(c) for c in zip(*found, strict=True))
                    busy = f"{cpu - idle * wall:.0f}"
                    table.add(
                        round_,
                        size,
                        name,
                        f"{cpu:.0f}",
                        busy,
                        f"{received:.0f}",
                        f"{sent:.0f}",
                        f"{wall:.1f}",
                    )
                    print(table.rows[-1], flush=True)
        browser.close()
    print(table.markdown())


if __name__ == "__main__":
    main()
