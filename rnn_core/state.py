"""One JSON state: the share link, the export file and the test fixture at once.

Version 1 keys (all optional; missing keys take the tutorial's defaults):
  inputs [step][row][feature], n_neurons, seed, activation, shared_output, weight_scale,
  weights {Wx, Wy, b, Wo, bo} (any subset; explicit weights win over the seed),
  view {step, row, neuron, present} (what the page shows; ignored by the computation).
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import zlib
from dataclasses import dataclass, field, replace

import numpy as np

from .config import (
    ACTIVATIONS,
    LIMITS,
    MAX_ABS_INPUT,
    MAX_ABS_WEIGHT,
    TUTORIAL_N_NEURONS,
    TUTORIAL_SEED,
    ConfigError,
    RNNConfig,
    check_size,
)
from .params import Weights, init_weights, tutorial_inputs

VERSION = 1
SEED_MAX = 2**32 - 1
MAX_STATE_CHARS = 4_000_000  # dump_state at the caps with explicit weights: 2.7 MB typical, 3.2 MB worst
MAX_LINK_CHARS = 200_000
WEIGHT_NAMES = ("Wx", "Wy", "b", "Wo", "bo")
KNOWN_KEYS = {"version", "inputs", "n_neurons", "seed", "activation", "shared_output"}
KNOWN_KEYS |= {"weight_scale", "weights", "view"}


class StateError(ValueError):
    """A state that cannot be loaded; the message names the field."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field


@dataclass(frozen=True)
class View:
    """What the page is showing: the picked cell and the presentation mode."""

    step: int = 0
    row: int = 0
    neuron: int = 0
    present: bool = False


@dataclass(frozen=True)
class State:
    inputs: np.ndarray = field(default_factory=tutorial_inputs)  # (T, B, F)
    n_neurons: int = TUTORIAL_N_NEURONS
    seed: int = TUTORIAL_SEED
    activation: str = "tanh"
    shared_output: bool = False
    weight_scale: float = 1.0
    weights: dict[str, np.ndarray] = field(default_factory=dict)  # explicit ones only
    view: View = field(default_factory=View)

    @property
    def config(self) -> RNNConfig:
        T, B, F = self.inputs.shape
        return RNNConfig(
            n_inputs=F,
            n_neurons=self.n_neurons,
            n_steps=T,
            batch=B,
            activation=self.activation,
            shared_output=self.shared_output,
            weight_scale=self.weight_scale,
        )

    def resolved_weights(self) -> Weights:
        """The seeded weights, with every explicit one put in their place."""
        seeded = init_weights(self.config, self.seed)
        return replace(seeded, **self.weights)

    def with_changes(self, **changes) -> State:
        return replace(self, **changes)


def default_state() -> State:
    return State()


# ---- loading ---------------------------------------------------------------------------------


def parse_json(text: str | bytes) -> object:
    if len(text) > MAX_STATE_CHARS:
        raise StateError("json", f"the state is {len(text)} characters; the limit is {MAX_STATE_CHARS}")
    try:
        # NaN and Infinity parse as floats so that the field check below rejects them by name
        return json.loads(text, parse_constant=float)
    except (ValueError, UnicodeDecodeError) as err:  # JSONDecodeError is a ValueError
        raise StateError("json", f"not valid JSON ({err})") from None
    except RecursionError:
        raise StateError("json", "nested too deeply") from None


def _number(name: str, value: object, max_abs: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise StateError(name, f"must be a number, got {type(value).__name__} {_short(value)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise StateError(name, f"must be finite, got {value}")
    if abs(value) > max_abs:  # before float(): a huge JSON integer does not fit in a float
        raise StateError(name, f"magnitude must be at most {max_abs:g}, got {_short(value)}")
    return float(value)


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _array(name: str, value: object, shape: tuple[int, ...], max_abs: float) -> np.ndarray:
    """A nested list of exactly `shape`, numbers only, as float64."""
    _check_nested(name, value, shape, max_abs)
    return np.asarray(value, dtype=np.float64).reshape(shape)


def _check_nested(name: str, value: object, shape: tuple[int, ...], max_abs: float = MAX_ABS_WEIGHT):
    if not shape:
        _number(name, value, max_abs)
        return
    if not isinstance(value, list):
        raise StateError(name, f"must be a list of {shape[0]}, got {type(value).__name__}")
    if len(value) != shape[0]:
        raise StateError(name, f"must have length {shape[0]}, got {len(value)}")
    for i, item in enumerate(value):
        _check_nested(f"{name}[{i}]", item, shape[1:], max_abs)


def _inputs(value: object) -> np.ndarray:
    """inputs [step][row][feature]; sizes come from the data and are checked against the limits."""
    if not isinstance(value, list) or not value:
        raise StateError("inputs", "must be a non-empty list of steps [step][row][feature]")
    T = len(value)
    first = value[0]
    B = len(first) if isinstance(first, list) else 0
    F = len(first[0]) if B and isinstance(first[0], list) else 0
    for size, name in ((T, "n_steps"), (B, "batch"), (F, "n_inputs")):
        lo, hi = LIMITS[name]
        if not lo <= size <= hi:
            raise StateError("inputs", f"{name} must be between {lo} and {hi}, got {size}")
    _check_nested("inputs", value, (T, B, F), MAX_ABS_INPUT)
    return np.asarray(value, dtype=np.float64)


def _int_field(data: dict, name: str, default: int, lo: int, hi: int) -> int:
    value = data.get(name, default)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise StateError(name, f"must be a whole number from {lo} to {hi}, got {_short(value)}")
    return value


def _bool_field(data: dict, name: str, default: bool) -> bool:
    value = data.get(name, default)
    if not isinstance(value, bool):
        raise StateError(name, f"must be true or false, got {_short(value)}")
    return value


def weight_shapes(config: RNNConfig) -> dict[str, tuple[int, ...]]:
    F, N, T = config.n_inputs, config.n_neurons, config.n_steps
    shared = config.shared_output
    return {
        "Wx": (F, N),
        "Wy": (N, N),
        "b": (N,),
        "Wo": (N,) if shared else (T, N),
        "bo": (1,) if shared else (T,),
    }


def _weights(value: object, config: RNNConfig) -> dict[str, np.ndarray]:
    if not isinstance(value, dict):
        raise StateError("weights", "must be an object with some of Wx, Wy, b, Wo, bo")
    unknown = sorted(set(value) - set(WEIGHT_NAMES))
    if unknown:
        raise StateError("weights", f"unknown key {unknown[0]!r}; known: {', '.join(WEIGHT_NAMES)}")
    shapes = weight_shapes(config)
    return {name: _array(f"weights.{name}", value[name], shapes[name], MAX_ABS_WEIGHT) for name in value}


def _view(value: object, config: RNNConfig) -> View:
    if not isinstance(value, dict):
        raise StateError("view", "must be an object with step, row, neuron, present")
    unknown = sorted(set(value) - {"step", "row", "neuron", "present"})
    if unknown:
        raise StateError("view", f"unknown key {unknown[0]!r}")
    try:
        return View(
            step=_int_field(value, "step", 0, 0, config.n_steps - 1),
            row=_int_field(value, "row", 0, 0, config.batch - 1),
            neuron=_int_field(value, "neuron", 0, 0, config.n_neurons - 1),
            present=_bool_field(value, "present", False),
        )
    except StateError as err:  # name it view.step, not step (inputs have steps too)
        raise StateError(f"view.{err.field}", str(err).split(": ", 1)[1]) from None


def state_from_dict(data: object) -> State:
    """Validate a decoded JSON object into a State, or raise StateError naming the field."""
    if not isinstance(data, dict):
        raise StateError("state", f"must be a JSON object, got {type(data).__name__}")
    unknown = sorted(set(data) - KNOWN_KEYS)
    if unknown:
        raise StateError(_short(unknown[0]), f"unknown key; known keys: {', '.join(sorted(KNOWN_KEYS))}")
    version = data.get("version", VERSION)
    if version != VERSION or isinstance(version, bool):
        raise StateError("version", f"unknown version {_short(version)}; this app reads version {VERSION}")
    inputs = _inputs(data["inputs"]) if "inputs" in data else tutorial_inputs()
    lo, hi = LIMITS["n_neurons"]
    activation = data.get("activation", "tanh")
    if activation not in ACTIVATIONS:
        raise StateError("activation", f"must be one of {', '.join(ACTIVATIONS)}, got {_short(activation)}")
    scale = data.get("weight_scale", 1.0)
    state = State(
        inputs=inputs,
        n_neurons=_int_field(data, "n_neurons", TUTORIAL_N_NEURONS, lo, hi),
        seed=_int_field(data, "seed", TUTORIAL_SEED, 0, SEED_MAX),
        activation=activation,
        shared_output=_bool_field(data, "shared_output", False),
        weight_scale=scale,
    )
    try:
        config = state.config.validate()
    except ConfigError as err:
        raise StateError(err.field, str(err).split(": ", 1)[1]) from None
    weights = _weights(data["weights"], config) if "weights" in data else {}
    view = _view(data["view"], config) if "view" in data else View()
    return replace(state, weights=weights, view=view)


def load_state(text: str | bytes) -> State:
    return state_from_dict(parse_json(text))


def validate_sizes(n_steps: int, batch: int, n_inputs: int) -> None:
    """Raise StateError if a table size is past its limit (for the page's size controls)."""
    for name, value in (("n_steps", n_steps), ("batch", batch), ("n_inputs", n_inputs)):
        try:
            check_size(name, value)
        except ConfigError as err:
            raise StateError(name, str(err).split(": ", 1)[1]) from None


# ---- saving ----------------------------------------------------------------------------------


def _plain(array: np.ndarray) -> list:
    """Numbers as JSON likes them: whole floats as ints (shorter links), the rest exact."""
    flat = [int(x) if float(x).is_integer() and abs(x) < 2**53 else float(x) for x in array.ravel()]
    return np.array(flat, dtype=object).reshape(array.shape).tolist()


def state_to_dict(state: State, *, include_view: bool = True) -> dict:
    data = {
        "version": VERSION,
        "inputs": _plain(state.inputs),
        "n_neurons": state.n_neurons,
        "seed": state.seed,
        "activation": state.activation,
        "shared_output": state.shared_output,
        "weight_scale": state.weight_scale,
    }
    if state.weights:
        data["weights"] = {name: _plain(array) for name, array in state.weights.items()}
    if include_view and state.view != View():
        data["view"] = vars(state.view).copy()
    return data


def dump_state(state: State, *, indent: int | None = 2) -> str:
    return json.dumps(state_to_dict(state), indent=indent, allow_nan=False)


# ---- share links -----------------------------------------------------------------------------


def encode_link(state: State) -> str:
    """Compact JSON, deflated, base64url without padding: the `s` query parameter."""
    data = state_to_dict(state)
    data["view"] = vars(state.view).copy()  # always: a link says exactly what was on screen
    text = json.dumps(data, separators=(",", ":"), allow_nan=False)
    packed = zlib.compress(text.encode(), 9)
    return base64.urlsafe_b64encode(packed).rstrip(b"=").decode("ascii")


def decode_link(token: str) -> State:
    """The inverse of encode_link; any damage is a StateError, never another exception."""
    if not isinstance(token, str):
        raise StateError("link", "must be text")
    if len(token) > MAX_LINK_CHARS:
        raise StateError("link", f"is {len(token)} characters; the limit is {MAX_LINK_CHARS}")
    try:
        packed = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        inflater = zlib.decompressobj()
        text = inflater.decompress(packed, MAX_STATE_CHARS + 1)
        if inflater.unconsumed_tail or len(text) > MAX_STATE_CHARS:
            raise StateError("link", "unpacks to more than the state size limit")
        text = text.decode("utf-8")
    except (binascii.Error, ValueError, zlib.error, UnicodeDecodeError) as err:
        if isinstance(err, StateError):
            raise
        raise StateError("link", "is damaged (not a link this app made)") from None
    return load_state(text)
