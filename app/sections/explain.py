"""Explain a cell: the recurrence for the picked cell written out with its actual numbers, then the
output of that row and step the same way."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from rnn_core.explain import CellExplanation, OutputExplanation, Term, explain_cell, explain_output
from rnn_core.state import State

from .. import render
from ..compute import Result

MAX_TERMS_INLINE = 8  # write the sum out in full up to this many terms; past it, a table


HOW = (
    "Click a cell in any heatmap, or pick the step with the slider and the row and neuron above; "
    "the cell is outlined in its heatmap."
)


def explain_section(state: State, result: Result, step: int, row: int, neuron: int) -> None:
    st.subheader(f"Explain a cell: y{step}[row {row}, neuron {neuron}]")
    trace, weights = result.trace, result.weights
    cell = explain_cell(state.inputs, weights, trace.hidden, state.activation, step, row, neuron)
    out = explain_output(weights, trace.hidden, step, row)
    explain_panel(cell, out, float(trace.hidden[step, row, neuron]), float(trace.outputs[step, row]))


def _num(x: float) -> str:
    return f"{x:.4f}".rstrip("0").rstrip(".") if abs(x) < 1e4 else f"{x:.4g}"


def _sum_text(terms: list[Term]) -> str:
    """'(1)(0.3047) + (2)(-1.04)' for a few terms; the count and sum for many."""
    if len(terms) <= MAX_TERMS_INLINE:
        return " + ".join(f"({_num(t.value)})({_num(t.weight)})" for t in terms)
    return f"{len(terms)} products (table below)"


def _terms_frame(terms: list[Term]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "value": [t.value_name for t in terms],
            "value =": [round(t.value, 6) for t in terms],
            "weight": [t.weight_name for t in terms],
            "weight =": [round(t.weight, 6) for t in terms],
            "product": [round(t.product, 6) for t in terms],
        }
    )


def explain_panel(
    cell: CellExplanation,
    out: OutputExplanation,
    shown_hidden: float,
    shown_output: float,
    table_key: str = "terms_popover",
) -> None:
    """The recurrence for the picked cell with its actual numbers, then the row's output: one text (one
    element per rerun), and every product as a table one click away."""
    t, r, n = cell.step, cell.row, cell.neuron
    input_sum = f"{_sum_text(cell.input_terms)} = **{_num(cell.input_sum)}**"
    lines = [f":small[{HOW}]", f"**Input terms** X{t}[{r}, :] · Wx[:, {n}] = {input_sum}"]
    if t == 0:
        lines.append("**Recurrent terms**: none at step 0 (y₋₁ = 0)")
    else:
        lines.append(
            f"**Recurrent terms** y{t - 1}[{r}, :] · Wy[:, {n}] = {_sum_text(cell.recurrent_terms)} "
            f"= **{_num(cell.recurrent_sum)}**"
        )
    lines += [
        f"**Bias** b[{n}] = **{_num(cell.bias)}**",
        f"**Pre-activation** z = {_num(cell.input_sum)} + {_num(cell.recurrent_sum)} + {_num(cell.bias)} "
        f"= **{_num(cell.pre_activation)}**",
        f"**Hidden state** y{t}[{r}, {n}] = {cell.activation}({_num(cell.pre_activation)}) = "
        f"**{shown_hidden:.4f}** (the heatmap cell shows {shown_hidden:.2f})",
    ]
    head = out.terms[0].weight_name.split("[")[0] if out.terms else "Wo"
    lines.append(
        f"**Output** out{t}[{r}] = y{t}[{r}, :] · {head} + bo = {_sum_text(out.terms)} + {_num(out.bias)} "
        f"= **{shown_output:.4f}**"
    )
    st.markdown("\n\n".join(lines))
    terms = cell.input_terms + cell.recurrent_terms
    label = f"All {len(terms)} products of y{t}[{r}, {n}] (a table)"
    render.table(lambda: _terms_frame(terms), label, table_key)
