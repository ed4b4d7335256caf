"""`python -m rnn_core export`: every figure of the page as files. Registered with the core's command
line through the entry point `rnn_core.commands` (pyproject.toml), so the core never imports the page.

    python -m rnn_core export [STATE.json] --out DIR [--engine tensorflow|numpy] [--slide] [--formats png,svg]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from pathlib import Path

from rnn_core.cli.common import add_engine_argument, add_state_argument, compute_trace, fail, read_state
from rnn_core.state import State, StateError

NAME = "export"
HELP = "write every figure of the page as PNG (scale 3) and SVG files, one browser start"
KNOWN_FORMATS = ("png", "svg", "pdf", "jpeg", "webp")  # = export.FORMATS, without importing plotly yet


def format_list(text: str) -> list[str]:
    """`png,svg` -> ["png", "svg"], for argparse; unknown formats are a usage error (exit 2)."""
    formats = [name.strip().lower() for name in text.split(",") if name.strip()]
    bad = [name for name in formats if name not in KNOWN_FORMATS]
    if bad or not formats:
        raise argparse.ArgumentTypeError(f"formats must be some of {','.join(KNOWN_FORMATS)}, got {text!r}")
    return list(dict.fromkeys(formats))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_state_argument(parser)
    parser.add_argument("--out", required=True, help="directory for the files (created if missing)")
    add_engine_argument(parser)
    parser.add_argument(
        "--slide",
        action="store_true",
        help="16:9 slides (1920 × 1080, PNG at 2×): the hidden states, the diagram, a row through time, "
        "the outputs, and each chart alone",
    )
    parser.add_argument("--formats", type=format_list, default=["png", "svg"], help="default: png,svg")


def export_images(state: State, engine: str, out: str, formats: list[str], slide: bool) -> None:
    """Every figure of the page as files in `out`; one line per file on stdout, timings on stderr."""
    from . import export, figures

    browser = export.find_browser()  # before the 5 s TensorFlow start: fail fast without Chromium
    export.real_directory(out)  # and without a real directory to write into (made if missing)
    trace = compute_trace(state, engine)
    F = state.inputs.shape[2]
    if slide:
        charts = figures.slide_figures(trace.hidden, trace.outputs, F, state.activation, state.shared_output)
    else:
        charts = figures.page_figures(
            trace.hidden, trace.outputs, figures.SCREEN, state.activation, state.shared_output
        )
    timings = {"browser": 0.0, "file": 0.0}

    def report(step: export.ExportStep) -> None:
        timings[step.kind] += step.seconds
        if step.path is not None:
            with contextlib.suppress(BrokenPipeError):  # `| head` must not stop the export
                print(step.path, flush=True)

    scale = export.SLIDE_SCALE if slide else 3
    written = export.export_figures(
        charts, out, state.seed, formats, scale, width=export.EXPORT_WIDTH, browser=browser, progress=report
    )
    per_file = timings["file"] / max(len(written), 1)
    print(
        f"exported {len(written)} files to {out}: browser start {timings['browser']:.1f} s, "
        f"{timings['file']:.1f} s drawing ({per_file:.2f} s per file)",
        file=sys.stderr,
    )


def run(args: argparse.Namespace) -> int:
    """Exit 2: a bad state or no browser (nothing was written); 1: the engine or the export failed."""
    out = Path(args.out)
    if out.is_symlink():
        return fail(f"--out: {args.out} is a symbolic link; give the real directory")
    if out.exists() and not out.is_dir():
        return fail(f"--out: {args.out} exists and is not a directory")
    try:
        state = read_state(args.state)
        export_images(state, args.engine, args.out, args.formats, args.slide)
    except KeyboardInterrupt:
        # Ctrl-C: the browser is killed (export._browser_cleanup), but a Chromium process that lost
        # its parent can keep a pipe open that one of choreographer's non-daemon threads reads, and
        # the interpreter would wait for that thread at exit. Leave without waiting.
        print("interrupted", file=sys.stderr, flush=True)
        with contextlib.suppress(BrokenPipeError):
            sys.stdout.flush()
        os._exit(130)
    except StateError as err:
        return fail(str(err))
    except RuntimeError as err:  # BrowserNotFound, EngineError, ExportError: one line each
        from .export import BrowserNotFound

        return fail(str(err), 2 if isinstance(err, BrowserNotFound) else 1)
    except OSError as err:  # the directory cannot be made or written
        return fail(f"cannot write to {args.out}: {err.strerror or err}", 1)
    return 0
