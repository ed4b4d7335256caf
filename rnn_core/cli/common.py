"""What several commands share: reading a state file, running the forward pass, failing in one line."""

from __future__ import annotations

import sys
from pathlib import Path

from .. import reference
from ..state import State, StateError, load_state


def fail(message: str, status: int = 2) -> int:
    """One line on stderr; the status to exit with."""
    print(f"error: {message}", file=sys.stderr)
    return status


def read_state(path: str | None) -> State:
    """The state in the file, or the tutorial's defaults when no file is given."""
    if path is None:
        return State()
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise StateError("file", f"cannot read {path}: {getattr(err, 'strerror', None) or err}") from None
    return load_state(text)


def add_state_argument(parser) -> None:
    parser.add_argument("state", nargs="?", help="state JSON file (default: the tutorial's network)")


def add_engine_argument(parser) -> None:
    parser.add_argument("--engine", choices=("tensorflow", "numpy"), default="tensorflow")


def compute_trace(state: State, engine: str) -> reference.Trace:
    """One forward pass of the state, in numpy or in a TensorFlow worker stopped afterwards."""
    weights = state.resolved_weights()
    if engine == "numpy":
        return reference.forward(state.inputs, weights, state.activation)
    from ..engine import Engine

    tf_engine = Engine()
    try:
        tf_engine.start()  # a call alone waits only queue_timeout for TensorFlow to start
        return tf_engine.forward(state.inputs, weights, state.activation).value
    finally:
        tf_engine.stop()
