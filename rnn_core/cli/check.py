"""`check [STATE.json]`: TensorFlow's trace against numpy and SimpleRNN, as JSON (exit 1 if different)."""

from __future__ import annotations

import argparse
import json
import sys

from ..crosscheck import crosscheck
from ..state import StateError
from .common import add_state_argument, fail, read_state

NAME = "check"
HELP = "cross-check TensorFlow's trace against the numpy reference and tf.keras SimpleRNN (JSON)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_state_argument(parser)


def run(args: argparse.Namespace) -> int:
    try:
        state = read_state(args.state)
    except StateError as err:
        return fail(str(err))
    from ..engine import Engine

    engine = Engine()
    weights = state.resolved_weights()
    try:
        engine.start()  # a call alone waits only queue_timeout for TensorFlow to start
        trace = engine.forward(state.inputs, weights, state.activation).value
        check = crosscheck(
            state.inputs, weights, state.activation, trace, lambda *a: engine.simple_rnn_hidden(*a).value
        )
    except RuntimeError as err:  # EngineError
        return fail(str(err), 1)
    finally:
        engine.stop()
    json.dump(check.to_dict(), sys.stdout)
    sys.stdout.write("\n")
    return 0 if check.numpy_equal and check.simple_rnn_equal else 1
