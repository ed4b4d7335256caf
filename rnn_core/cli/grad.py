"""`grad [STATE.json] [--engine tensorflow|numpy]`: the loss and every gradient of it, as JSON."""

from __future__ import annotations

import argparse
import json
import sys

from .. import reference
from ..state import State, StateError
from .common import add_engine_argument, add_state_argument, fail, read_state

NAME = "grad"
HELP = (
    "print the loss L (mean squared error against the state's targets, zeros when it has none) and its "
    'gradients as JSON: {"loss", "grads": {Wx, Wy, b, Wo, bo}, "dL_dy": [step][row][neuron] (the total '
    'dL/dy_t), "dout_dx": [t][k][row][feature] (dout_t/dX_k, zero for k > t)}'
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_state_argument(parser)
    add_engine_argument(parser)


def compute_grads(state: State, engine: str) -> reference.Grads:
    weights, targets = state.resolved_weights(), state.resolved_targets()
    if engine == "numpy":
        return reference.backward(state.inputs, weights, state.activation, targets)
    from ..engine import Engine

    tf_engine = Engine(call_timeout=120)  # a first call traces (seconds); a batch run can wait
    try:
        tf_engine.start()
        return tf_engine.grad(state.inputs, weights, state.activation, targets).value
    finally:
        tf_engine.stop()


def run(args: argparse.Namespace) -> int:
    try:
        grads = compute_grads(read_state(args.state), args.engine)
    except StateError as err:
        return fail(str(err))
    except RuntimeError as err:  # EngineError: the worker could not answer
        return fail(str(err), 1)
    json.dump(grads.to_lists(), sys.stdout, allow_nan=True)
    sys.stdout.write("\n")
    return 0
