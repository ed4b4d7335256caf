"""The page's figures as PNG and SVG files, and the trace as CSV. Shared by the CLI and the page.

kaleido 1.x draws with the system Chrome or Chromium (DESIGN.md section 2: about 3-5 s per browser
start), so one call exports a whole batch through one browser. kaleido is imported only when an
export runs: the page can build CSVs and names without it.
"""

from __future__ import annotations

import asyncio
import csv
import io
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from app.figures import Chart
    from rnn_core.reference import Trace
    from rnn_core.state import State

FORMATS = ("png", "svg", "pdf", "jpeg", "webp")
DEFAULT_FORMATS = ("png", "svg")
EXPORT_WIDTH = 900  # px before scaling: the figures take their width from the page, so files need one
SLIDE_SCALE = 2  # slides are 1920 × 1080 (16:9): PNGs 3840 × 2160
RENDER_TIMEOUT_S = 60.0  # one figure renders in about 0.5 s
INSTALL_HINT = (
    "install Chromium with `sudo apt-get install chromium` (Debian/Ubuntu), "
    "or set BROWSER_PATH to a Chrome or Chromium executable"
)


class BrowserNotFound(RuntimeError):
    """No Chrome or Chromium to draw with; the message says how to get one."""


class ExportError(RuntimeError):
    """The browser started but could not draw or write a figure."""


@dataclass(frozen=True)
class ExportStep:
    """A progress report: the browser is up, or one file is written; seconds it took."""

    kind: Literal["browser", "file"]
    seconds: float
    path: Path | None = None


def file_name(chart_id: str, seed: int, ext: str) -> str:
    """`hidden-y1-seed42.png`: what the chart is, and which weights drew it."""
    return f"{chart_id}-seed{seed}.{ext.lstrip('.')}"


def find_browser() -> str:
    """The Chrome/Chromium that kaleido should use, or BrowserNotFound with a one-line hint.

    An explicit BROWSER_PATH wins and must be right (kaleido too would take it and fail). Without
    it, choreographer's own search: its local download, then PATH, then the usual install paths
    (so /usr/bin/chromium is found even with an empty PATH). The path found is passed to kaleido,
    so what is checked here is what runs.
    """
    explicit = os.environ.get("BROWSER_PATH")
    if explicit:
        if _is_executable(explicit):
            return explicit
        raise BrowserNotFound(
            f"no browser at BROWSER_PATH={explicit!r} (not an executable file); {INSTALL_HINT}"
        )
    from choreographer.browsers.chromium import Chromium

    found = Chromium.find_browser(skip_local=False)
    if found and _is_executable(found):
        return str(found)
    raise BrowserNotFound(f"no Chromium or Chrome found to draw the images; {INSTALL_HINT}")


def _is_executable(path: str | Path) -> bool:
    return Path(path).is_file() and os.access(path, os.X_OK)


def export_figures(
    figures: dict[str, Chart],
    out_dir: str | Path,
    seed: int,
    formats: Iterable[str] = DEFAULT_FORMATS,
    scale: float = 3,
    *,
    width: int = EXPORT_WIDTH,
    browser: str | None = None,
    progress: Callable[[ExportStep], None] | None = None,
) -> list[Path]:
    """Write every figure in every format into out_dir, through one browser; the paths written.

    A figure without its own layout width is drawn `width` px wide; PNGs are `scale` times that.
    Raises BrowserNotFound before anything is written, ExportError if drawing fails.
    """
    formats = list(formats)
    unknown = sorted(set(formats) - set(FORMATS))
    if unknown:
        raise ValueError(f"unknown format {unknown[0]!r}; known: {', '.join(FORMATS)}")
    browser = browser or find_browser()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    jobs = []
    for chart_id, fig in figures.items():
        opts = {"scale": scale, "width": fig.width or width, "height": fig.height}
        for ext in formats:
            path = out / file_name(chart_id, seed, ext)
            jobs.append({"fig": fig, "path": path, "opts": {**opts, "format": ext}})
    _run_coroutine(_render_all(jobs, browser, progress or (lambda step: None)))
    return [job["path"] for job in jobs]


async def _render_all(jobs: list[dict], browser: str, progress: Callable[[ExportStep], None]) -> None:
    import kaleido
    from kaleido.errors import ChromeNotFoundError

    start = time.perf_counter()
    try:
        # mathjax=False: no titles use LaTeX, and its default is a CDN script (the export runs offline)
        async with kaleido.Kaleido(path=browser, mathjax=False, n=1, timeout=RENDER_TIMEOUT_S) as k:
            progress(ExportStep("browser", time.perf_counter() - start))
            for job in jobs:  # one tab, one at a time: a second tab costs more to open than it saves
                began = time.perf_counter()
                await k.write_fig_from_object(job, cancel_on_error=True)
                progress(ExportStep("file", time.perf_counter() - began, job["path"]))
    except ChromeNotFoundError as err:
        raise BrowserNotFound(f"{browser} could not be used ({err}); {INSTALL_HINT}") from None
    except Exception as err:  # the browser died, a render timed out, a file could not be written
        raise ExportError(f"the export failed: {type(err).__name__}: {err}".splitlines()[0]) from err


def _run_coroutine(coroutine) -> None:
    """asyncio.run, also from a thread that already runs an event loop (then in a helper thread)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(coroutine)
        return
    failure: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(coroutine)
        except BaseException as err:
            failure.append(err)

    thread = threading.Thread(target=run, name="figure-export")
    thread.start()
    thread.join()
    if failure:
        raise failure[0]


# ---- the trace as CSV --------------------------------------------------------------------------


def trace_csv(state: State, trace: Trace) -> str:
    """One line per (step, row, neuron): the row's inputs at that step, z, y, and the row's output.

    Long format, so a spreadsheet can filter and pivot it: T*B*N data lines under one header,
    `step,row,neuron,x0..x{F-1},pre_activation,hidden,output`. The inputs and the output belong to
    the row and step, so they repeat on each neuron's line. Numbers are written exactly (repr).
    """
    T, B, N = trace.hidden.shape
    F = state.inputs.shape[2]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(
        ["step", "row", "neuron", *(f"x{f}" for f in range(F)), "pre_activation", "hidden", "output"]
    )
    for t in range(T):
        for r in range(B):
            inputs = [repr(float(x)) for x in state.inputs[t, r]]
            output = repr(float(trace.outputs[t, r]))
            for n in range(N):
                z, y = float(trace.pre_activation[t, r, n]), float(trace.hidden[t, r, n])
                writer.writerow([t, r, n, *inputs, repr(z), repr(y), output])
    return buffer.getvalue()
