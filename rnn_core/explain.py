"""One cell of the trace written out term by term: what the page's "explain a cell" prints."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from .activations import ACTIVATIONS
from .params import Weights


class Term(NamedTuple):
    """value · weight, named after where each comes from (a tuple: a pick builds ~60 of them)."""

    value_name: str  # e.g. "X1[0, 1]" or "y0[0, 5]"
    value: float
    weight_name: str  # e.g. "Wx[1, 3]"
    weight: float

    @property
    def product(self) -> float:
        return self.value * self.weight


@dataclass(frozen=True)
class CellExplanation:
    """y_t[row, neuron] = act(sum of input terms + sum of recurrent terms + b[neuron])."""

    step: int
    row: int
    neuron: int
    activation: str
    input_terms: list[Term]  # X_t[row, f] · Wx[f, neuron]
    recurrent_terms: list[Term]  # y_{t-1}[row, k] · Wy[k, neuron]; empty at t = 0 (y_{-1} = 0)
    bias: float
    pre_activation: float  # the sum, computed here term by term
    hidden: float  # act(pre_activation)

    @property
    def input_sum(self) -> float:
        return float(sum(term.product for term in self.input_terms))

    @property
    def recurrent_sum(self) -> float:
        return float(sum(term.product for term in self.recurrent_terms))


@dataclass(frozen=True)
class OutputExplanation:
    """out_t[row] = sum of y_t[row, n] · Wo_t[n] + bo_t."""

    step: int
    row: int
    terms: list[Term]
    bias: float
    output: float


def explain_cell(
    X: np.ndarray, weights: Weights, hidden: np.ndarray, activation: str, step: int, row: int, neuron: int
) -> CellExplanation:
    """The recurrence for one cell, using the trace's own y_{t-1} (the values the page shows)."""
    x, wx = X[step, row].tolist(), weights.Wx[:, neuron].tolist()  # (F,), (F,): Python floats
    inputs = [Term(f"X{step}[{row}, {f}]", x[f], f"Wx[{f}, {neuron}]", wx[f]) for f in range(len(x))]
    recurrent = []
    if step > 0:
        y, wy = hidden[step - 1, row].tolist(), weights.Wy[:, neuron].tolist()  # (N,), (N,)
        recurrent = [
            Term(f"y{step - 1}[{row}, {k}]", y[k], f"Wy[{k}, {neuron}]", wy[k]) for k in range(len(y))
        ]
    bias = float(weights.b[neuron])
    z = float(sum(t.product for t in inputs) + sum(t.product for t in recurrent) + bias)
    y = float(ACTIVATIONS[activation].f(np.array(z))[()])
    return CellExplanation(step, row, neuron, activation, inputs, recurrent, bias, z, y)


def explain_output(weights: Weights, hidden: np.ndarray, step: int, row: int) -> OutputExplanation:
    T, _, N = hidden.shape
    Wo, bo = weights.output_heads(T)  # (T, N), (T,)
    head = "Wo" if weights.shared_output else f"Wo{step}"
    y, wo = hidden[step, row].tolist(), Wo[step].tolist()  # (N,), (N,)
    terms = [Term(f"y{step}[{row}, {n}]", y[n], f"{head}[{n}]", wo[n]) for n in range(N)]
    bias = float(bo[step])
    return OutputExplanation(step, row, terms, bias, float(sum(t.product for t in terms) + bias))
