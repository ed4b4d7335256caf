"""The activations, described once: every other table (numpy, TensorFlow, the page's scales and words,
the "stuck" flags, the displayed formula) is derived from ACTIVATIONS.

Each has its numpy function f(z), its derivative f'(z) written from the output y = f(z) where that is
how BPTT uses it, the name of its TensorFlow function (resolved in the worker: this module never
imports TensorFlow), the range its values take, and what "stuck" means for it: a unit whose local
gradient f'(z) is (nearly) zero, so that it passes (almost) nothing back and barely moves when its
input changes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

Array = np.ndarray


@dataclass(frozen=True)
class Activation:
    name: str
    f: Callable[[Array], Array]  # y = f(z), elementwise
    df: Callable[[Array, Array], Array]  # f'(z), given z and y = f(z)
    tf_function: str  # attribute path under `tf`, e.g. "nn.relu"
    low: float  # the smallest value f can take
    high: float | None  # the largest; None: no ceiling (relu)
    stuck: Callable[[Array], Array]  # y -> mask of stuck units
    stuck_word: str  # "saturated", "dead"
    stuck_rule: str  # how the mask is decided, in words, e.g. "|y| > 0.95"
    stuck_why: str  # one true sentence on what being stuck does, for this activation
    formula: str  # LaTeX of f applied to its argument, with {} for the argument
    formula_text: str  # the same in plain text

    @property
    def bounded(self) -> bool:
        return self.high is not None

    @property
    def diverging(self) -> bool:
        """Values on both sides of 0 (a blue-white-red scale); otherwise from `low` upwards."""
        return self.low < 0


SATURATION = 0.95  # tanh: |y| above this is flat (f' = 1 - y² < 0.1)
SIGMOID_EDGE = 0.05  # sigmoid: y below this or above 1 - this is flat (f' = y(1 - y) < 0.05)


def _sigmoid(z: Array) -> Array:
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # = 1/(1+e^-z), without overflow


ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in (
        Activation(
            name="tanh",
            f=np.tanh,
            df=lambda z, y: 1.0 - y * y,
            tf_function="tanh",
            low=-1.0,
            high=1.0,
            stuck=lambda y: np.abs(y) > SATURATION,
            stuck_word="saturated",
            stuck_rule=f"|y| > {SATURATION}",
            stuck_why=(
                "There tanh is flat (its slope 1 − y² is below 0.1): a change of input barely moves the "
                "unit, and almost no gradient flows back through it."
            ),
            formula=r"\tanh({})",
            formula_text="tanh({})",
        ),
        Activation(
            name="relu",
            f=lambda z: np.maximum(z, 0.0),
            df=lambda z, y: (z > 0).astype(np.float64),
            tf_function="nn.relu",
            low=0.0,
            high=None,
            stuck=lambda y: y == 0.0,
            stuck_word="dead",
            stuck_rule="y = 0 (a negative pre-activation)",
            stuck_why=(
                "A dead relu unit outputs 0 and its slope is 0: its input can change a little without moving "
                "it at all, and no gradient flows back through it. relu has no ceiling: large values are not "
                "stuck, they grow."
            ),
            formula=r"\mathrm{{relu}}({})",
            formula_text="relu({})",
        ),
        Activation(
            name="sigmoid",
            f=_sigmoid,
            df=lambda z, y: y * (1.0 - y),
            tf_function="sigmoid",
            low=0.0,
            high=1.0,
            stuck=lambda y: (y < SIGMOID_EDGE) | (y > 1.0 - SIGMOID_EDGE),
            stuck_word="saturated",
            stuck_rule=f"y < {SIGMOID_EDGE} or y > {1 - SIGMOID_EDGE:g}",
            stuck_why=(
                "Near 0 or 1 the sigmoid is flat (its slope y(1 − y) is below 0.05): a change of input "
                "barely moves the unit, and almost no gradient flows back through it."
            ),
            formula=r"\sigma({})",
            formula_text="sigmoid({})",
        ),
    )
}
NAMES: tuple[str, ...] = tuple(ACTIVATIONS)


def get(name: str) -> Activation:
    """The activation called `name` (KeyError for an unknown one: validate names first)."""
    return ACTIVATIONS[name]


def stuck_count(values: Array, name: str) -> tuple[int, int]:
    """(stuck units, all units) in any array of hidden states of that activation."""
    return int(ACTIVATIONS[name].stuck(values).sum()), int(values.size)
