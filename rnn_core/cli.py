"""Command line.

python -m rnn_core run [STATE.json] [--engine tensorflow|numpy]
python -m rnn_core export [STATE.json] --out DIR [--engine tensorflow|numpy] [--slide] [--formats png,svg]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from pathlib import Path

from . import reference
from .state import State, StateError, load_state


def read_state(path: str | None) -> State:
    """The state in the file, or the tutorial's defaults when no file is given."""
    if path is None:
        return State()
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise StateError("file", f"cannot read {path}: {getattr(err, 'strerror', None) or err}") from None
    return load_state(text)


def compute_trace(state: State, engine: str) -> reference.Trace:
    """One forward pass of the state, in numpy or in a TensorFlow worker stopped afterwards."""
    weights = state.resolved_weights()
    if engine == "numpy":
        return reference.forward(state.inputs, weights, state.activation)
    from .engine import Engine

    tf_engine = Engine()
    try:
        return tf_engine.forward(state.inputs, weights, state.activation)
    finally:
        tf_engine.stop()


def trace_json(state: State, engine: str) -> dict:
    """The trace of one forward pass, with the weights used, in the state's layout."""
    return {**compute_trace(state, engine).to_lists(), "weights": state.resolved_weights().to_lists()}


def export_images(state: State, engine: str, out: str, formats: list[str], slide: bool) -> None:
    """Every figure of the page as files in `out`; one line per file on stdout, timings on stderr.

    app.export (plotly, kaleido) is imported here only: rnn_core stays free of plotly elsewhere.
    """
    root = str(Path(__file__).resolve().parents[1])
    if root not in sys.path:  # `app` sits beside `rnn_core`; the command may run from elsewhere
        sys.path.append(root)
    from app import export, figures

    browser = export.find_browser()  # before the 5 s TensorFlow start: fail fast without Chromium
    trace = compute_trace(state, engine)
    style = figures.SLIDE if slide else figures.SCREEN
    charts = figures.page_figures(trace.hidden, trace.outputs, style)
    timings = {"browser": 0.0, "file": 0.0}

    def report(step: export.ExportStep) -> None:
        timings[step.kind] += step.seconds
        if step.path is not None:
            with contextlib.suppress(BrokenPipeError):  # `| head` must not stop the export
                print(step.path, flush=True)

    width = export.SLIDE_WIDTH if slide else export.EXPORT_WIDTH
    written = export.export_figures(
        charts, out, state.seed, formats, width=width, browser=browser, progress=report
    )
    per_file = timings["file"] / max(len(written), 1)
    print(
        f"exported {len(written)} files to {out}: browser start {timings['browser']:.1f} s, "
        f"{timings['file']:.1f} s drawing ({per_file:.2f} s per file)",
        file=sys.stderr,
    )


def format_list(text: str) -> list[str]:
    """`png,svg` -> ["png", "svg"], for argparse; unknown formats are a usage error (exit 2)."""
    known = ("png", "svg", "pdf", "jpeg", "webp")  # = app.export.FORMATS, without importing plotly
    formats = [name.strip().lower() for name in text.split(",") if name.strip()]
    bad = [name for name in formats if name not in known]
    if bad or not formats:
        raise argparse.ArgumentTypeError(f"formats must be some of {','.join(known)}, got {text!r}")
    return list(dict.fromkeys(formats))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m rnn_core", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run a state file and print the trace as JSON")
    run.add_argument("state", nargs="?", help="state JSON file (default: the tutorial's network)")
    run.add_argument("--engine", choices=("tensorflow", "numpy"), default="tensorflow")
    export = commands.add_parser(
        "export", help="write every figure of the page as PNG (scale 3) and SVG files, one browser start"
    )
    export.add_argument("state", nargs="?", help="state JSON file (default: the tutorial's network)")
    export.add_argument("--out", required=True, help="directory for the files (created if missing)")
    export.add_argument("--engine", choices=("tensorflow", "numpy"), default="tensorflow")
    export.add_argument("--slide", action="store_true", help="the presentation style: larger text")
    export.add_argument("--formats", type=format_list, default=["png", "svg"], help="default: png,svg")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "export":
        return export_main(args)
    try:
        state = read_state(args.state)
        result = trace_json(state, args.engine)
    except StateError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except RuntimeError as err:  # EngineError: the worker could not answer
        print(f"error: {err}", file=sys.stderr)
        return 1
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


def export_main(args: argparse.Namespace) -> int:
    """Exit 2: a bad state or no browser (nothing was written); 1: the engine or the export failed."""
    if Path(args.out).exists() and not Path(args.out).is_dir():
        print(f"error: --out: {args.out} exists and is not a directory", file=sys.stderr)
        return 2
    try:
        state = read_state(args.state)
        export_images(state, args.engine, args.out, args.formats, args.slide)
    except StateError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except RuntimeError as err:  # BrowserNotFound, EngineError, ExportError: one line each
        from app.export import BrowserNotFound

        print(f"error: {err}", file=sys.stderr)
        return 2 if isinstance(err, BrowserNotFound) else 1
    except OSError as err:  # the directory cannot be made or written
        print(f"error: cannot write to {args.out}: {err.strerror or err}", file=sys.stderr)
        return 1
    return 0
