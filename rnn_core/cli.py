"""Command line: `python -m rnn_core run [STATE.json] [--engine tensorflow|numpy]`."""

from __future__ import annotations

import argparse
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


def trace_json(state: State, engine: str) -> dict:
    """The trace of one forward pass, with the weights used, in the state's layout."""
    weights = state.resolved_weights()
    if engine == "numpy":
        trace = reference.forward(state.inputs, weights, state.activation)
    else:
        from .engine import Engine

        tf_engine = Engine()
        try:
            trace = tf_engine.forward(state.inputs, weights, state.activation)
        finally:
            tf_engine.stop()
    return {**trace.to_lists(), "weights": weights.to_lists()}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m rnn_core", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run a state file and print the trace as JSON")
    run.add_argument("state", nargs="?", help="state JSON file (default: the tutorial's network)")
    run.add_argument("--engine", choices=("tensorflow", "numpy"), default="tensorflow")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
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
