"""Explain-a-cell: the terms written out must add up to the trace's own numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rnn_core import reference
from rnn_core.config import RNNConfig
from rnn_core.explain import explain_cell, explain_output
from rnn_core.params import init_weights, tutorial_inputs


@pytest.fixture(params=[False, True], ids=["per-step-heads", "shared-head"])
def network(request):
    X = tutorial_inputs()
    weights = init_weights(RNNConfig(shared_output=request.param), seed=42)
    return X, weights, reference.forward(X, weights)


def test_first_step_has_no_recurrent_terms(network):
    X, weights, trace = network
    cell = explain_cell(X, weights, trace.hidden, "tanh", 0, 1, 3)
    assert cell.recurrent_terms == []
    assert [t.value for t in cell.input_terms] == [3.0, 4.0]  # X0 row 1 of the tutorial
    assert [t.weight_name for t in cell.input_terms] == ["Wx[0, 3]", "Wx[1, 3]"]
    assert cell.pre_activation == pytest.approx(3 * weights.Wx[0, 3] + 4 * weights.Wx[1, 3], abs=1e-12)


@pytest.mark.parametrize("step, row, neuron", [(0, 0, 0), (1, 2, 7), (2, 1, 4)])
def test_terms_add_up_to_the_trace(network, step, row, neuron):
    X, weights, trace = network
    cell = explain_cell(X, weights, trace.hidden, "tanh", step, row, neuron)
    assert len(cell.input_terms) == 2
    assert len(cell.recurrent_terms) == (0 if step == 0 else 8)
    for term in cell.recurrent_terms:  # the recurrent values are the previous hidden state, as shown
        k = int(term.value_name.split(", ")[1].rstrip("]"))
        assert term.value == trace.hidden[step - 1, row, k]
    total = cell.input_sum + cell.recurrent_sum + cell.bias
    assert total == pytest.approx(cell.pre_activation, abs=1e-12)
    assert cell.pre_activation == pytest.approx(trace.pre_activation[step, row, neuron], abs=1e-12)
    assert cell.hidden == pytest.approx(math.tanh(cell.pre_activation), abs=1e-15)
    assert cell.hidden == pytest.approx(trace.hidden[step, row, neuron], abs=1e-12)


def test_output_explanation_matches_the_trace(network):
    _, weights, trace = network
    for step in range(3):
        out = explain_output(weights, trace.hidden, step, 2)
        assert len(out.terms) == 8
        head = "Wo" if weights.shared_output else f"Wo{step}"
        assert out.terms[0].weight_name == f"{head}[0]"
        assert out.output == pytest.approx(trace.outputs[step, 2], abs=1e-12)
        assert sum(t.product for t in out.terms) + out.bias == pytest.approx(out.output, abs=1e-12)


@pytest.mark.parametrize("activation", ["relu", "sigmoid"])
def test_other_activations(activation):
    X = np.random.default_rng(1).normal(size=(4, 2, 3))
    weights = init_weights(RNNConfig(n_inputs=3, n_neurons=5, n_steps=4, batch=2, activation=activation), 3)
    trace = reference.forward(X, weights, activation)
    cell = explain_cell(X, weights, trace.hidden, activation, 3, 1, 2)
    z = cell.pre_activation
    expected = max(z, 0.0) if activation == "relu" else 1 / (1 + math.exp(-z))
    assert cell.hidden == pytest.approx(expected, abs=1e-12)
    assert cell.hidden == pytest.approx(trace.hidden[3, 1, 2], abs=1e-12)
