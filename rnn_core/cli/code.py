"""`code [STATE.json] [--style tf1|keras|numpy]`: the network as a runnable Python script."""

from __future__ import annotations

import argparse
import sys

from ..codegen import STYLES, generate
from ..state import StateError
from .common import add_state_argument, fail, read_state

NAME = "code"
HELP = "print the network as a runnable Python script (TensorFlow 1 as in the tutorial, Keras, or numpy)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_state_argument(parser)
    parser.add_argument("--style", choices=STYLES, default="tf1", help="default: tf1, the tutorial's style")


def run(args: argparse.Namespace) -> int:
    try:
        state = read_state(args.state)
    except StateError as err:
        return fail(str(err))
    sys.stdout.write(generate(state, args.style))
    return 0
