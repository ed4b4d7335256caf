"""`train [STATE.json] --steps N [--optimizer sgd|adam] [--lr LR] [--clip C] [--freeze NAMES]`."""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from .. import training
from ..params import Weights
from ..state import (
    MAX_TRAIN_STEPS,
    WEIGHT_NAMES,
    State,
    StateError,
    TrainingSettings,
    read_training,
    state_to_dict,
)
from .common import add_engine_argument, add_state_argument, fail, read_state

NAME = "train"
HELP = (
    "train the state's weights on its targets (L = mean of (out_t[r] - target_t[r])²) and print JSON "
    '{"loss": [before, after step 1, ...], "state": the state with the trained weights and the settings}. '
    "Settings come from the flags, else the state's training key, else adam, lr 0.01, no clipping. "
    "Exit 2: a bad argument or state (one line on stderr). Exit 1: the loss became NaN or inf (the "
    "output holds the last finite state and stderr says what happened) or the engine failed."
)
FLAGS = {"steps": "--steps", "optimizer": "--optimizer", "lr": "--lr", "clip": "--clip", "freeze": "--freeze"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_state_argument(parser)
    # strings, checked below: one line naming the problem rather than argparse's usage + error
    parser.add_argument("--steps", metavar="N", help=f"updates to make, 1 to {MAX_TRAIN_STEPS:,}")
    parser.add_argument("--optimizer", metavar="sgd|adam", help="default adam (tf.keras.optimizers.Adam)")
    parser.add_argument("--lr", metavar="LR", help="learning rate, above 0 and at most 100 (default 0.01)")
    parser.add_argument(
        "--clip", metavar="C", help="clip the gradients to a global norm of C before each update"
    )
    parser.add_argument("--freeze", metavar="NAMES", help="weights that never change, e.g. Wy or Wx,b")
    add_engine_argument(parser)


def _number(flag: str, text: str, kind=float):
    try:
        return kind(text)
    except ValueError:
        raise StateError(
            flag, f"must be a {'whole number' if kind is int else 'number'}, got {text!r}"
        ) from None


def settings_of(args: argparse.Namespace, state: State) -> TrainingSettings:
    """The state's training settings with the flags given put in their place, validated as a state is."""
    settings = state.training.to_dict()
    given = {}
    if args.steps is not None:
        given["steps"] = _number("--steps", args.steps, int)
    if args.optimizer is not None:
        given["optimizer"] = args.optimizer
    if args.lr is not None:
        given["lr"] = _number("--lr", args.lr)
    if args.clip is not None:
        given["clip"] = _number("--clip", args.clip)
    if args.freeze is not None:
        given["freeze"] = [name.strip() for name in args.freeze.split(",") if name.strip()]
        unknown = [name for name in given["freeze"] if name not in WEIGHT_NAMES]
        if unknown:
            raise StateError(
                "--freeze", f"unknown weight {unknown[0]!r}; the weights are {', '.join(WEIGHT_NAMES)}"
            )
    try:
        return read_training({**settings, **given}, {})
    except StateError as err:  # name the flag when the flag said it
        key = err.field.removeprefix("training.")
        raise err.renamed(FLAGS[key]) if key in given else err from None


def train(state: State, settings: TrainingSettings, engine: str) -> training.TrainResult:
    X, weights, targets = state.inputs, state.resolved_weights(), state.resolved_targets()
    if engine == "numpy":
        return training.train(X, weights, state.activation, targets, settings)
    from ..engine import Engine

    tf_engine = Engine(call_timeout=120)  # a first call traces (seconds); a batch run can wait
    try:
        tf_engine.start()
        job = tf_engine.start_job("train", X=X, weights=weights, activation=state.activation,
                                  targets=targets, settings=settings)  # fmt: skip
        status = tf_engine.wait_job(job, timeout=60)
        while not status.done:
            status = tf_engine.wait_job(job, after_slices=status.slices, timeout=60)
        if status.error:
            raise RuntimeError(status.error)
        r = status.result
        return training.TrainResult(r["weights"], r["opt"], r["losses"], r["status"], r["message"])
    finally:
        tf_engine.stop()


def trained_state(state: State, weights: Weights, settings: TrainingSettings) -> State:
    explicit = {name: np.asarray(array) for name, array in weights.to_lists().items()}
    return state.with_changes(weights=explicit, training=settings)


def run(args: argparse.Namespace) -> int:
    try:
        state = read_state(args.state)
        settings = settings_of(args, state)
        result = train(state, settings, args.engine)
    except StateError as err:
        return fail(str(err))
    except RuntimeError as err:  # EngineError: the worker could not answer
        return fail(str(err), 1)
    out = {
        "loss": result.losses.tolist(),
        "state": state_to_dict(trained_state(state, result.weights, settings)),
    }
    json.dump(out, sys.stdout, allow_nan=False)
    sys.stdout.write("\n")
    if result.status == training.DIVERGED:
        return fail(f"training stopped: {result.message}", 1)
    return 0
