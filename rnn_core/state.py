"""One JSON state: the share link, the export file and the test fixture at once.

The state is described once, by the fields of `State` and the `Spec` in each field's metadata: how the
field is read from JSON (and validated), written back, whether it changes the computed numbers (then
it is part of the cache key), whether the share link carries it, whether a page widget holds it under
the same name, and the format version that introduced it. Validation, to_dict, the link codec, the
cache key and the page's widgets are all derived from that description: adding a field is one entry
here plus its widget.

Version 1 keys: inputs, n_neurons, seed, activation, shared_output, weight_scale, weights, view.
Version 2 adds: targets, training, pinned. A state is written in the lowest version that holds it, so a
version 1 reader still opens everything a version 1 state could say; both versions load.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import zlib
from collections.abc import Callable, Sequence
from dataclasses import MISSING, dataclass, field, fields, replace
from typing import Any

import numpy as np

from .config import (
    MAX_ABS_INPUT,
    MAX_ABS_TARGET,
    MAX_ABS_WEIGHT,
    SEED_MAX,
    TUTORIAL_N_NEURONS,
    TUTORIAL_SEED,
    RNNConfig,
    StateError,
    check_activation,
    check_size,
    check_weight_scale,
    short,
)
from .params import Weights, init_weights, tutorial_inputs

__all__ = ["SEED_MAX", "State", "StateError", "TrainingSettings", "View"]

VERSION = 2  # the newest version this app reads and writes
VERSIONS = (1, 2)
MAX_STATE_CHARS = 4_000_000  # dump_state at the caps with explicit weights: 2.7 MB typical, 3.2 MB worst
MAX_LINK_CHARS = 200_000
WEIGHT_NAMES = ("Wx", "Wy", "b", "Wo", "bo")
OPTIMIZERS = ("adam", "sgd")
MAX_TRAIN_STEPS = 100_000
LR_RANGE = (0.0, 100.0)  # lr > 0 and ≤ 100


# ---- the parts of a state that are objects of their own -----------------------------------------


@dataclass(frozen=True)
class View:
    """What the page is showing: the picked cell and the presentation mode."""

    step: int = 0
    row: int = 0
    neuron: int = 0
    present: bool = False


@dataclass(frozen=True)
class TrainingSettings:
    """How to train: the optimizer and its learning rate, clipping, frozen weights, when to stop."""

    optimizer: str = "adam"
    lr: float = 0.01
    clip: float | None = None  # clip by global norm before the update; None: no clipping
    freeze: tuple[str, ...] = ()  # weight names that never change
    steps: int = 500  # the step budget of one run
    stop_loss: float | None = None  # stop once the loss is at or below this

    def to_dict(self) -> dict:
        return {
            "optimizer": self.optimizer,
            "lr": self.lr,
            "clip": self.clip,
            "freeze": list(self.freeze),
            "steps": self.steps,
            "stop_loss": self.stop_loss,
        }


# ---- the description: one Spec per field ------------------------------------------------------------

Parsed = dict[str, Any]  # the fields read so far (in field order): later fields may depend on them


@dataclass(frozen=True)
class Spec:
    """How one field of the state is read, written, keyed and linked."""

    parse: Callable[[object, Parsed], Any]  # JSON value -> value; raises StateError naming the field
    dump: Callable[[Any], Any]  # value -> JSON value
    numbers: bool = True  # changes the computed numbers: part of the cache key
    link: bool = True  # carried by the share link
    widget: bool = False  # a page widget holds it under the session key of the same name
    since: int = 1  # the format version that introduced it
    is_default: Callable[[Any], bool] = lambda value: False  # left out of files and links when true


def _spec(default: Any = MISSING, *, factory: Any = MISSING, **spec: Any) -> Any:
    if factory is not MISSING:
        return field(default_factory=factory, metadata={"spec": Spec(**spec)})
    return field(default=default, metadata={"spec": Spec(**spec)})


def _identity(value: Any) -> Any:
    return value


# ---- readers (JSON -> value), each naming its field ----------------------------------------------


def _number(name: str, value: object, max_abs: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise StateError(name, f"must be a number, got {type(value).__name__} {short(value)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise StateError(name, f"must be finite, got {value}")
    if abs(value) > max_abs:  # before float(): a huge JSON integer does not fit in a float
        raise StateError(name, f"magnitude must be at most {max_abs:g}, got {short(value)}")
    return float(value)


def _check_nested(name: str, value: object, shape: tuple[int, ...], max_abs: float) -> None:
    if not shape:
        _number(name, value, max_abs)
        return
    if not isinstance(value, list):
        raise StateError(name, f"must be a list of {shape[0]}, got {type(value).__name__}")
    if len(value) != shape[0]:
        raise StateError(name, f"must have length {shape[0]}, got {len(value)}")
    for i, item in enumerate(value):
        _check_nested(f"{name}[{i}]", item, shape[1:], max_abs)


def _array(name: str, value: object, shape: tuple[int, ...], max_abs: float) -> np.ndarray:
    """A nested list of exactly `shape`, numbers only, as float64."""
    _check_nested(name, value, shape, max_abs)
    return np.asarray(value, dtype=np.float64).reshape(shape)


def _int(name: str, value: object, lo: int, hi: int) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise StateError(name, f"must be a whole number from {lo} to {hi}, got {short(value)}")
    return value


def _bool(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise StateError(name, f"must be true or false, got {short(value)}")
    return value


def _object(name: str, value: object, known: tuple[str, ...]) -> dict:
    if not isinstance(value, dict):
        raise StateError(name, f"must be an object with some of {', '.join(known)}")
    unknown = sorted(set(value) - set(known), key=str)
    if unknown:
        raise StateError(name, f"unknown key {short(unknown[0])}; known: {', '.join(known)}")
    return value


def read_inputs(value: object, parsed: Parsed) -> np.ndarray:
    """inputs [step][row][feature]; sizes come from the data and are checked against the limits."""
    if not isinstance(value, list) or not value:
        raise StateError("inputs", "must be a non-empty list of steps [step][row][feature]")
    first = value[0]
    B = len(first) if isinstance(first, list) else 0
    F = len(first[0]) if B and isinstance(first[0], list) else 0
    for size, name in ((len(value), "n_steps"), (B, "batch"), (F, "n_inputs")):
        try:
            check_size(name, size)
        except StateError as err:
            raise StateError("inputs", f"{name} {err.message}") from None
    return _array("inputs", value, (len(value), B, F), MAX_ABS_INPUT)


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


def _sizes(parsed: Parsed) -> tuple[int, int, int, int]:
    """(T, B, F, N) of the fields read so far."""
    T, B, F = parsed["inputs"].shape
    return T, B, F, parsed["n_neurons"]


def read_weights(value: object, parsed: Parsed) -> dict[str, np.ndarray]:
    value = _object("weights", value, WEIGHT_NAMES)
    T, B, F, N = _sizes(parsed)
    config = RNNConfig(n_inputs=F, n_neurons=N, n_steps=T, batch=B, shared_output=parsed["shared_output"])
    shapes = weight_shapes(config)
    return {name: _array(f"weights.{name}", value[name], shapes[name], MAX_ABS_WEIGHT) for name in value}


def read_targets(value: object, parsed: Parsed) -> np.ndarray | None:
    """targets [step][row]: one number per output; null means all zeros."""
    if value is None:
        return None
    T, B, _, _ = _sizes(parsed)
    return _array("targets", value, (T, B), MAX_ABS_TARGET)


def read_training(value: object, parsed: Parsed) -> TrainingSettings:
    known = tuple(f.name for f in fields(TrainingSettings))
    value = _object("training", value, known)
    default = TrainingSettings()
    optimizer = value.get("optimizer", default.optimizer)
    if optimizer not in OPTIMIZERS:
        raise StateError(
            "training.optimizer", f"must be one of {', '.join(OPTIMIZERS)}, got {short(optimizer)}"
        )
    lr = _number("training.lr", value.get("lr", default.lr), LR_RANGE[1])
    if lr <= 0:
        raise StateError("training.lr", f"must be above 0 and at most {LR_RANGE[1]:g}, got {short(lr)}")
    clip = value.get("clip")
    if clip is not None:
        clip = _number("training.clip", clip, 1e6)
        if clip <= 0:
            raise StateError("training.clip", f"must be above 0 (or null: no clipping), got {short(clip)}")
    freeze = value.get("freeze", [])
    if not isinstance(freeze, list) or any(name not in WEIGHT_NAMES for name in freeze):
        raise StateError("training.freeze", f"must be a list of some of {', '.join(WEIGHT_NAMES)}")
    steps = _int("training.steps", value.get("steps", default.steps), 1, MAX_TRAIN_STEPS)
    stop_loss = value.get("stop_loss")
    if stop_loss is not None:
        stop_loss = _number("training.stop_loss", stop_loss, 1e12)
    return TrainingSettings(optimizer, lr, clip, tuple(dict.fromkeys(freeze)), steps, stop_loss)


PINNED_EXCLUDED = ("version", "view", "pinned")  # a pinned network has no view and pins nothing


def read_pinned(value: object, parsed: Parsed) -> State | None:
    """pinned: network A of a comparison, a state object without view (null: nothing pinned)."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise StateError("pinned", "must be a state object (the pinned network A) or null")
    for key in PINNED_EXCLUDED:
        if key in value:
            raise StateError(f"pinned.{key}", "a pinned network has no version, view or pinned network")
    try:
        return state_from_dict({**value, "version": VERSION})
    except StateError as err:
        raise StateError(f"pinned.{err.field}", err.message) from None


def dump_pinned(state: State | None) -> dict | None:
    if state is None:
        return None
    data = state_to_dict(state, include_view=False)
    return {k: v for k, v in data.items() if k not in PINNED_EXCLUDED}


def read_view(value: object, parsed: Parsed) -> View:
    value = _object("view", value, ("step", "row", "neuron", "present"))
    T, B, _, N = _sizes(parsed)
    return View(
        step=_int("view.step", value.get("step", 0), 0, T - 1),
        row=_int("view.row", value.get("row", 0), 0, B - 1),
        neuron=_int("view.neuron", value.get("neuron", 0), 0, N - 1),
        present=_bool("view.present", value.get("present", False)),
    )


def _plain(array: np.ndarray) -> list:
    """Numbers as JSON likes them: whole floats as ints (shorter links), the rest exact."""
    flat = [int(x) if float(x).is_integer() and abs(x) < 2**53 else float(x) for x in array.ravel()]
    return np.array(flat, dtype=object).reshape(array.shape).tolist()


# ---- the state ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class State:
    """Everything that defines what the page shows. Each field's Spec says how it is read and written."""

    inputs: np.ndarray = _spec(factory=tutorial_inputs, parse=read_inputs, dump=_plain)  # (T, B, F)
    n_neurons: int = _spec(
        TUTORIAL_N_NEURONS, parse=lambda v, p: check_size("n_neurons", v), dump=_identity, widget=True
    )
    seed: int = _spec(
        TUTORIAL_SEED, parse=lambda v, p: _int("seed", v, 0, SEED_MAX), dump=_identity, widget=True
    )
    activation: str = _spec("tanh", parse=lambda v, p: check_activation(v), dump=_identity, widget=True)
    shared_output: bool = _spec(
        False, parse=lambda v, p: _bool("shared_output", v), dump=_identity, widget=True
    )
    weight_scale: float = _spec(1.0, parse=lambda v, p: check_weight_scale(v), dump=_identity, widget=True)
    # explicit weights only (the rest come from the seed)
    weights: dict[str, np.ndarray] = _spec(
        factory=dict,
        parse=read_weights,
        dump=lambda w: {name: _plain(array) for name, array in w.items()},
        is_default=lambda w: not w,
    )
    targets: np.ndarray | None = _spec(  # (T, B); None: all zeros
        None,
        parse=read_targets,
        dump=lambda t: None if t is None else _plain(t),
        is_default=lambda t: t is None,
        since=2,
    )
    training: TrainingSettings = _spec(
        factory=TrainingSettings,
        parse=read_training,
        dump=TrainingSettings.to_dict,
        is_default=lambda t: t == TrainingSettings(),
        numbers=False,
        since=2,
    )
    # network A of a comparison (view and pinned always default); None: nothing pinned
    pinned: State | None = _spec(
        None,
        parse=read_pinned,
        dump=dump_pinned,
        is_default=lambda p: p is None,
        numbers=False,  # A is computed on its own; B's numbers do not depend on it
        since=2,
    )
    view: View = _spec(
        factory=View,
        parse=read_view,
        dump=lambda v: vars(v).copy(),
        is_default=lambda v: v == View(),
        numbers=False,
    )

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

    def resolved_targets(self) -> np.ndarray:
        """(T, B) targets: the explicit ones, or zeros."""
        T, B, _ = self.inputs.shape
        return np.zeros((T, B)) if self.targets is None else self.targets

    def pinnable(self) -> State:
        """This network as a pinned A: no view, nothing pinned inside it."""
        return replace(self, view=View(), pinned=None)

    def with_changes(self, **changes: Any) -> State:
        return replace(self, **changes)


def specs() -> dict[str, Spec]:
    """Every field of the state and its Spec, in the order they are read."""
    return {f.name: f.metadata["spec"] for f in fields(State)}


SPECS = specs()
KNOWN_KEYS = {"version", *SPECS}
WIDGET_FIELDS = tuple(name for name, spec in SPECS.items() if spec.widget)


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


def state_from_dict(data: object) -> State:
    """Validate a decoded JSON object into a State, or raise StateError naming the field."""
    if not isinstance(data, dict):
        raise StateError("state", f"must be a JSON object, got {type(data).__name__}")
    unknown = sorted(set(data) - KNOWN_KEYS, key=str)
    if unknown:
        raise StateError(short(unknown[0]), f"unknown key; known keys: {', '.join(sorted(KNOWN_KEYS))}")
    version = data.get("version", VERSION)  # a hand-written state without one: the newest
    if isinstance(version, bool) or version not in VERSIONS:
        raise StateError("version", f"unknown version {short(version)}; this app reads versions 1 and 2")
    parsed: Parsed = {}
    for name, spec in SPECS.items():
        if name in data:
            if spec.since > version:
                raise StateError(name, f"is a version {spec.since} key; the state says version {version}")
            parsed[name] = spec.parse(data[name], parsed)
        else:
            parsed[name] = _default(name)
    return State(**parsed)


def _default(name: str) -> Any:
    f = State.__dataclass_fields__[name]
    return f.default_factory() if f.default_factory is not MISSING else f.default


def load_state(text: str | bytes) -> State:
    return state_from_dict(parse_json(text))


# ---- saving ----------------------------------------------------------------------------------


def state_to_dict(state: State, *, include_view: bool = True) -> dict:
    """The state as JSON values, in the lowest version that holds it; defaults of optional keys left out."""
    data: dict[str, Any] = {"version": 1}
    for name, spec in SPECS.items():
        value = getattr(state, name)
        if spec.is_default(value) or (name == "view" and not include_view):
            continue
        data[name] = spec.dump(value)
        data["version"] = max(data["version"], spec.since)
    return data


def dump_state(state: State, *, indent: int | None = 2) -> str:
    return json.dumps(state_to_dict(state), indent=indent, allow_nan=False)


def numbers_key(state: State) -> str:
    """A key for everything that changes the computed numbers (every field whose Spec says so)."""
    digest = hashlib.blake2b(digest_size=16)
    for name, spec in SPECS.items():
        if spec.numbers:
            digest.update(name.encode())
            _feed(digest, getattr(state, name))
    return digest.hexdigest()


def _feed(digest: Any, value: Any) -> None:
    if isinstance(value, np.ndarray):
        digest.update(repr(value.shape).encode() + np.ascontiguousarray(value, dtype=np.float64).tobytes())
    elif isinstance(value, dict):
        for key in sorted(value):
            digest.update(repr(key).encode())
            _feed(digest, value[key])
    else:
        digest.update(repr(value).encode())


# ---- share links -----------------------------------------------------------------------------


def encode_link(state: State) -> str:
    """Compact JSON of the fields a link carries, deflated, base64url without padding: `?s=`."""
    return encode_links(state, [state.view])[0]


def encode_links(state: State, views: Sequence[View]) -> list[str]:
    """The link of the state shown at each of `views` (the page's link at every step), each the very
    text the state with that view has as its own: the view goes last (a link says exactly what was on
    screen; it is the last field, of version 1), so everything before it is written out and deflated
    once, and each view only finishes a copy of that (zlib's output does not depend on how its input
    was split: tests/test_state.py)."""
    fields = state_to_dict(state, include_view=False).items()
    data = {k: v for k, v in fields if k == "version" or SPECS[k].link}
    head = json.dumps(data, separators=(",", ":"), allow_nan=False)[:-1]  # (open: the view follows)
    deflate = zlib.compressobj(9)
    packed_head = deflate.compress(head.encode())
    tokens = []
    for view in views:
        tail = ',"view":' + json.dumps(vars(view), separators=(",", ":")) + "}"
        rest = deflate.copy()
        packed = packed_head + rest.compress(tail.encode()) + rest.flush()
        tokens.append(base64.urlsafe_b64encode(packed).rstrip(b"=").decode("ascii"))
    return tokens


def decode_link(token: str) -> State:
    """The inverse of encode_link; any damage is a StateError, never another exception."""
    if not isinstance(token, str):
        raise StateError("link", "must be text")
    if len(token) > MAX_LINK_CHARS:
        raise StateError("link", f"is {len(token)} characters; the limit is {MAX_LINK_CHARS}")
    try:
        packed = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        inflater = zlib.decompressobj()
        unpacked = inflater.decompress(packed, MAX_STATE_CHARS + 1)
        if inflater.unconsumed_tail or len(unpacked) > MAX_STATE_CHARS:
            raise StateError("link", "unpacks to more than the state size limit")
        text = unpacked.decode("utf-8")
    except (binascii.Error, ValueError, zlib.error, UnicodeDecodeError) as err:
        if isinstance(err, StateError):
            raise
        raise StateError("link", "is damaged (not a link this app made)") from None
    return load_state(text)
