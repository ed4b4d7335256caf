"""`run [STATE.json] [--engine tensorflow|numpy]`: the trace as JSON."""

from __future__ import annotations

import argparse
import json
import sys

from ..state import StateError
from .common import add_engine_argument, add_state_argument, compute_trace, fail, read_state

NAME = "run"
HELP = "run a state file and print the trace as JSON"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_state_argument(parser)
    add_engine_argument(parser)


def run(args: argparse.Namespace) -> int:
    try:
        state = read_state(args.state)
        trace = compute_trace(state, args.engine)
    except StateError as err:
        return fail(str(err))
    except RuntimeError as err:  # EngineError: the worker could not answer
        return fail(str(err), 1)
    result = {**trace.to_lists(), "weights": state.resolved_weights().to_lists()}
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0
