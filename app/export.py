"""The page's figures as PNG and SVG files, and the trace as CSV. Shared by the CLI and the page.

kaleido 1.x draws with the system Chrome or Chromium (DESIGN.md section 2: about 3-5 s per browser
start), so one call exports a whole batch through one browser. kaleido is imported only when an
export runs: the page can build CSVs and names without it.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import os
import shutil
import signal
import stat
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
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
    Raises BrowserNotFound before anything is written, ExportError if drawing fails or if out_dir
    or a file name in it is not what it should be (checked before the browser starts: out_dir a
    real directory, not a link; each file name free or a regular file, not a directory or a link).
    """
    formats = list(formats)
    unknown = sorted(set(formats) - set(FORMATS))
    if unknown:
        raise ValueError(f"unknown format {unknown[0]!r}; known: {', '.join(FORMATS)}")
    browser = browser or find_browser()
    out = real_directory(out_dir)
    jobs, targets = [], {}
    for chart_id, fig in figures.items():
        opts = {"scale": scale, "width": fig.width or width, "height": fig.height}
        for ext in formats:
            name = file_name(chart_id, seed, ext)
            targets[name] = check_target(out / name)
            jobs.append({"fig": fig, "name": name, "opts": {**opts, "format": ext}})
    report = progress or (lambda step: None)
    written: list[Path] = []
    # Drawn into a private directory inside `out` (mode 0700: nobody else can plant a link there),
    # then each file is renamed over its target: rename never follows a link at the target, and a
    # directory in the way makes it fail instead of writing elsewhere.
    staging = Path(tempfile.mkdtemp(prefix=".export-", dir=out))
    try:
        for job in jobs:
            job["path"] = staging / str(job["name"])

        def moved(step: ExportStep) -> None:
            if interrupted:
                raise ExportError("interrupted")
            if step.path is not None:
                target = targets[step.path.name]
                check_target(target)
                os.replace(step.path, target)
                written.append(target)
                step = ExportStep(step.kind, step.seconds, target)
            report(step)

        with _browser_cleanup() as interrupted:
            _run_coroutine(_render_all(jobs, browser, moved))
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return written


def real_directory(path: str | Path) -> Path:
    """`path` as a directory that is really there (made if missing), not a link to one: ExportError
    otherwise. Nothing is written when this fails."""
    out = Path(path)
    try:
        if not os.path.lexists(out):
            out.mkdir(parents=True)
        info = os.lstat(out)
    except OSError as err:
        raise ExportError(f"cannot make the directory {out}: {err.strerror or err}") from None
    if stat.S_ISLNK(info.st_mode):
        raise ExportError(f"{out} is a symbolic link; give the real directory")
    if not stat.S_ISDIR(info.st_mode):
        raise ExportError(f"{out} exists and is not a directory")
    return out


def check_target(path: Path) -> Path:
    """A file name that is free or taken by a regular file (replaced): ExportError for a directory, a
    symbolic link or anything else in its place, before anything is written."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return path
    if stat.S_ISREG(info.st_mode):
        return path
    kind = (
        "a symbolic link"
        if stat.S_ISLNK(info.st_mode)
        else "a directory"
        if stat.S_ISDIR(info.st_mode)
        else "not a regular file"
    )
    raise ExportError(f"{path} is {kind}; nothing is written through it (move it away and export again)")


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
    except ExportError:  # a file name taken by a directory or a link: already one clear line
        raise
    except Exception as err:  # the browser died, a render timed out, a file could not be written
        raise ExportError(f"the export failed: {type(err).__name__}: {err}".splitlines()[0]) from err


@contextlib.contextmanager
def _browser_cleanup() -> Iterator[list[int]]:
    """Kill the browser this export started when it fails or Ctrl-C arrives, and turn Ctrl-C into a
    plain KeyboardInterrupt (the command line exits 130 without a traceback).

    choreographer starts Chromium in its own process group (a terminal's Ctrl-C does not reach it)
    and waits for it in a non-daemon thread, so an interrupted export used to hang at exit with the
    browser still running. On Ctrl-C (in the main thread) or any error, the browser processes that
    are our children and were not there before are killed with their process group.
    """
    before = _children()
    interrupted: list[int] = []

    def stop_new() -> None:
        for pid, command in _children().items():
            if pid in before or ("chrom" not in command and "choreographer" not in command):
                continue
            with contextlib.suppress(OSError):
                group = os.getpgid(pid)
                if group != os.getpgrp():
                    os.killpg(group, signal.SIGKILL)
                else:
                    os.kill(pid, signal.SIGKILL)

    def on_sigint(signum, frame) -> None:  # not raising inside the event loop: the export then
        interrupted.append(signum)  # fails on its dead browser, or stops before its next file
        stop_new()

    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, on_sigint) if main_thread else None
    try:
        yield interrupted
    except BaseException:
        stop_new()
        if interrupted:
            raise KeyboardInterrupt from None
        raise
    finally:
        if main_thread:
            signal.signal(signal.SIGINT, previous)
    if interrupted:
        raise KeyboardInterrupt


def _children() -> dict[int, str]:
    """Every process below this one, {pid: command line} (Linux /proc; empty elsewhere)."""
    parents: dict[int, list[tuple[int, str]]] = {}
    with contextlib.suppress(OSError):
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                with open(f"/proc/{entry.name}/stat", "rb") as f:
                    ppid = int(f.read().rsplit(b")", 1)[1].split()[1])
                with open(f"/proc/{entry.name}/cmdline", "rb") as f:
                    command = f.read().replace(b"\0", b" ").decode(errors="replace")
            except (OSError, ValueError, IndexError):
                continue
            parents.setdefault(ppid, []).append((int(entry.name), command))
    found, todo = {}, [os.getpid()]
    while todo:
        for pid, command in parents.get(todo.pop(), []):
            found[pid] = command
            todo.append(pid)
    return found


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
