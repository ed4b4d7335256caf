"""Weight presets: each one click on the page, each a pure function (config, seed, current explicit
weights) -> the new explicit weights dict (the state's `weights`: what is not in it comes from the seed).

A preset that is about Wy only (no, fading, long memory, exploding, scale Wy by α) changes Wy and keeps
every other weight as it is; the others set everything they name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from .config import MAX_ABS_WEIGHT, RNNConfig
from .params import Weights, glorot_limit, init_weights
from .state import weight_shapes

ExplicitWeights = dict[str, np.ndarray]


def resolved(config: RNNConfig, seed: int, current: ExplicitWeights) -> Weights:
    """The seeded weights with the explicit ones in their place (as State.resolved_weights)."""
    return replace(init_weights(config, seed), **current)


def _with_wy(current: ExplicitWeights, wy: np.ndarray) -> ExplicitWeights:
    return {**current, "Wy": wy}


def tutorial(config: RNNConfig, seed: int, current: ExplicitWeights) -> ExplicitWeights:
    """The tutorial's weights: N(0, 1) from the seed (no explicit weights; the page sets the weight
    scale back to 1)."""
    return {}


def no_memory(config: RNNConfig, seed: int, current: ExplicitWeights) -> ExplicitWeights:
    return _with_wy(current, np.zeros((config.n_neurons, config.n_neurons)))


def identity_memory(factor: float) -> Callable[[RNNConfig, int, ExplicitWeights], ExplicitWeights]:
    def preset(config: RNNConfig, seed: int, current: ExplicitWeights) -> ExplicitWeights:
        return _with_wy(current, factor * np.eye(config.n_neurons))

    return preset


def orthogonal(n: int, rng: np.random.Generator) -> np.ndarray:
    """Keras' Orthogonal initializer for an n × n matrix: the Q of the QR decomposition of a standard
    normal matrix, each column's sign fixed by the sign of R's diagonal (so Q is uniformly distributed)."""
    a = rng.normal(0.0, 1.0, size=(n, n))
    q, r = np.linalg.qr(a)
    d = np.sign(np.diag(r))
    d[d == 0] = 1.0
    return q * d  # column j times sign(r_jj)


def keras_defaults(config: RNNConfig, seed: int, current: ExplicitWeights) -> ExplicitWeights:
    """tf.keras.layers.SimpleRNN's defaults: kernel Glorot-uniform, recurrent kernel orthogonal, bias 0.
    Drawn from numpy's Generator with the seed (the same numbers everywhere; not Keras' own RNG). The
    output heads are kept."""
    rng = np.random.default_rng(seed)
    F, N = config.n_inputs, config.n_neurons
    limit = glorot_limit(F, N)
    Wx = rng.uniform(-limit, limit, size=(F, N))
    Wy = orthogonal(N, rng)
    return {**current, "Wx": Wx, "Wy": Wy, "b": np.zeros(N)}


def all_zeros(config: RNNConfig, seed: int, current: ExplicitWeights) -> ExplicitWeights:
    shapes = weight_shapes(config)
    return {name: np.zeros(shape) for name, shape in shapes.items()}


def scale_wy(alpha: float) -> Callable[[RNNConfig, int, ExplicitWeights], ExplicitWeights]:
    """Wy times α, whatever Wy is now (seeded or explicit); clipped to the weight limit."""

    def preset(config: RNNConfig, seed: int, current: ExplicitWeights) -> ExplicitWeights:
        wy = resolved(config, seed, current).Wy * float(alpha)
        return _with_wy(current, np.clip(wy, -MAX_ABS_WEIGHT, MAX_ABS_WEIGHT))

    return preset


@dataclass(frozen=True)
class Preset:
    name: str
    label: str  # the button
    teaches: str  # one line: what it shows
    apply: Callable[[RNNConfig, int, ExplicitWeights], ExplicitWeights]


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset(
            "tutorial",
            "Tutorial: N(0, 1)",
            "The tutorial's weights from the seed: big random Wx and Wy saturate most units by y1.",
            tutorial,
        ),
        Preset(
            "no_memory",
            "No memory: Wy = 0",
            "Each step sees only its own input: y_t depends on X_t alone, as if the network had no past.",
            no_memory,
        ),
        Preset(
            "fading",
            "Fading memory: Wy = 0.5·I",
            "Each unit keeps half of its last value: an input's trace halves (or less) at every step.",
            identity_memory(0.5),
        ),
        Preset(
            "long",
            "Long memory: Wy = 0.9·I",
            "Each unit keeps 90 % of its last value: an input is still visible many steps later.",
            identity_memory(0.9),
        ),
        Preset(
            "exploding",
            "Exploding: Wy = 1.5·I",
            "Each unit grows by half at every step until tanh stops it at ±1 (relu: without limit).",
            identity_memory(1.5),
        ),
        Preset(
            "keras",
            "Keras SimpleRNN defaults",
            "Glorot-uniform Wx, orthogonal Wy (it keeps a vector's length), b = 0: what Keras starts from.",
            keras_defaults,
        ),
        Preset(
            "zeros",
            "All zeros",
            "Every weight 0: every hidden state and output is f(0); nothing an input does gets through.",
            all_zeros,
        ),
    )
}


def apply(name: str, config: RNNConfig, seed: int, current: ExplicitWeights) -> ExplicitWeights:
    return PRESETS[name].apply(config, seed, dict(current))


def fit_weights(weights: ExplicitWeights, config: RNNConfig, seed: int) -> tuple[ExplicitWeights, list[str]]:
    """Explicit weights carried to a network of new sizes: every cell that still fits is kept, new
    cells come from the seed (as the inputs table keeps its cells). A per-step output head that becomes
    shared keeps step 0's head; a shared head that becomes per-step is used at every step.
    Returns the weights and the names whose shape changed."""
    shapes = weight_shapes(config)
    seeded = init_weights(config, seed)
    was_shared = "Wo" in weights and weights["Wo"].ndim == 1
    fitted, changed = {}, []
    for name, old in weights.items():
        shape = shapes[name]
        if old.shape == shape:
            fitted[name] = old
            continue
        changed.append(name)
        if name == "Wo" and old.ndim == 2 and len(shape) == 1:  # per-step (T, N) -> shared (N,)
            old = old[0]
        elif name == "Wo" and old.ndim == 1 and len(shape) == 2:  # shared -> per-step: every step
            old = np.tile(old, (shape[0], 1))
        elif name == "bo" and was_shared and not config.shared_output:
            old = np.repeat(old[:1], shape[0])
        new = getattr(seeded, name).copy()
        overlap = tuple(slice(0, min(a, b)) for a, b in zip(old.shape, shape, strict=True))
        new[overlap] = old[overlap]
        fitted[name] = new
    return fitted, changed
