"""Explain a cell: the recurrence for the picked cell written out with its actual numbers, then the
output of that row and step the same way."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from rnn_core.explain import CellExplanation, OutputExplanation, Term, explain_cell, explain_output
from rnn_core.state import State

from .. import render
from ..components import charts
from ..components.player import PLAY_SECONDS
from ..compute import Result
from ..page_state import EXPLAIN_FRAGMENT
from . import hidden, results

MAX_TERMS_INLINE = 8  # write the sum out in full up to this many terms; past it, a table
TERMS_TABLE = "terms_popover"  # the key of the page's products table (app/main.py picks_in_browser)
STEP_BYTES = 1_500  # one step's explanation as sent, at most (~1.1–1.4 KB measured: past 8 terms a sum)


HOW = (
    "Click a cell in any heatmap, or pick the step with the slider and the row and neuron above; "
    "the cell is outlined in its heatmap."
)
Line = tuple[tuple[str, bool], ...]  # a line of the explanation: (text, bold) parts


def explain_section(
    state: State,
    result: Result,
    step: int,
    row: int,
    neuron: int,
    announce: bool = False,
    hint: bool = True,
) -> None:
    """The picked cell explained, drawn with the charts (so a play shows each step's), then every
    product as a table one click away. `announce`: the element tells the page's charts that follow
    the view (app/components/charts) to show this step and cell (and asks for the view the controls
    show when they move in the browser). `hint`: the line saying how to pick a cell (not on a slide:
    the room is the sums')."""
    cell, out = _explained(state, result, step, row, neuron)
    view = (step, row, neuron) if announce else None
    linked = hidden.controls((step, row, neuron), 1, (), part=EXPLAIN_FRAGMENT) if announce else None
    charts.charts(_blocks(result, cell, out, hint), "explain_text", state.seed, view=view, controls=linked)
    _products_table(cell, TERMS_TABLE, page=True)


def explain_follow(
    state: State, result: Result, n_steps: int, step: int, row: int, neuron: int, links: tuple[str, ...]
) -> None:
    """The picked row and neuron explained at every step, following the page's view (as the charts
    do): the step slider's moves, while they are the browser's, need nothing from the server, and the
    address bar gets each step's share link (`links`); a row or neuron pick asks for this part again.
    The view is announced, as explain_section's."""
    view = (step, row, neuron)
    linked = hidden.controls(view, 1, ("step",), links, part=EXPLAIN_FRAGMENT)
    explained: list[tuple[CellExplanation, OutputExplanation]] = []  # (built when not drawn before)

    def steps() -> list[list[charts.Block]]:
        explained.extend(_explained(state, result, t, row, neuron) for t in range(n_steps))
        return [_blocks(result, cell, out) for cell, out in explained]

    made = charts.Made(("explain frames", *results.made_of(state, result), n_steps, row, neuron), steps)
    charts.frames(made, "explain_text", state.seed, step, view=view, controls=linked)
    cell = explained[step][0] if explained else _explained(state, result, step, row, neuron)[0]
    _products_table(cell, TERMS_TABLE, page=True)


def explain_frames(
    state: State, result: Result, n_steps: int, start: int, row: int, neuron: int, on_played=None, warn=False
) -> None:
    """A play: the picked row and neuron explained at every step, shown by the browser with the charts
    (the products table follows when it stops; with `warn`, a slide: the warning that values
    exploded from the step it is about, and no line on how to pick a cell)."""

    def steps() -> list[list[charts.Block]]:
        return [
            [
                *(hidden.exploded(state, result, t) if warn else []),
                *_blocks(result, *_explained(state, result, t, row, neuron), hint=not warn),
            ]
            for t in range(n_steps)
        ]

    made = charts.Made(("explain play", *results.made_of(state, result), n_steps, row, neuron, warn), steps)
    charts.frames(made, "explain_text", state.seed, start, PLAY_SECONDS, on_played)


def _explained(
    state: State, result: Result, step: int, row: int, neuron: int
) -> tuple[CellExplanation, OutputExplanation]:
    trace, weights = result.trace, result.weights
    cell = explain_cell(state.inputs, weights, trace.hidden, state.activation, step, row, neuron)
    return cell, explain_output(weights, trace.hidden, step, row)


def _blocks(
    result: Result, cell: CellExplanation, out: OutputExplanation, hint: bool = True
) -> list[charts.Block]:
    t, r, n = cell.step, cell.row, cell.neuron
    lines = explain_lines(cell, out, float(result.trace.hidden[t, r, n]), float(result.trace.outputs[t, r]))
    return [
        charts.Heading(f"Explain a cell: y{t}[row {r}, neuron {n}]"),
        *([charts.Text(((HOW, False),), small=True)] if hint else []),
        *(charts.Text(line) for line in lines),
    ]


def _num(x: float) -> str:
    return f"{x:.4f}".rstrip("0").rstrip(".") if abs(x) < 1e4 else f"{x:.4g}"


def _fixed(x: float, digits: int) -> str:
    """A shown value with `digits` decimals; from 1e4 up (or not finite) 4 significant digits, as
    the heatmaps print it (a relu value of 2e52 was written out in 53 digits)."""
    return f"{x:.{digits}f}" if abs(x) < 1e4 else f"{x:.4g}"


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


def explain_lines(
    cell: CellExplanation, out: OutputExplanation, shown_hidden: float, shown_output: float
) -> list[Line]:
    """The recurrence for the picked cell with its actual numbers, then the row's output: one line per
    term, in (text, bold) parts (the page draws them with the charts; Compare writes them as markdown)."""
    t, r, n = cell.step, cell.row, cell.neuron
    lines: list[Line] = [
        (
            ("Input terms", True),
            (f" X{t}[{r}, :] · Wx[:, {n}] = {_sum_text(cell.input_terms)} = ", False),
            (_num(cell.input_sum), True),
        )
    ]
    if t == 0:
        lines.append((("Recurrent terms", True), (": none at step 0 (y₋₁ = 0)", False)))
    else:
        lines.append(
            (
                ("Recurrent terms", True),
                (f" y{t - 1}[{r}, :] · Wy[:, {n}] = {_sum_text(cell.recurrent_terms)} = ", False),
                (_num(cell.recurrent_sum), True),
            )
        )
    pre = f" z = {_num(cell.input_sum)} + {_num(cell.recurrent_sum)} + {_num(cell.bias)} = "
    lines += [
        (("Bias", True), (f" b[{n}] = ", False), (_num(cell.bias), True)),
        (("Pre-activation", True), (pre, False), (_num(cell.pre_activation), True)),
        (
            ("Hidden state", True),
            (f" y{t}[{r}, {n}] = {cell.activation}({_num(cell.pre_activation)}) = ", False),
            (_fixed(shown_hidden, 4), True),
            (f" (the heatmap cell shows {_fixed(shown_hidden, 2)})", False),
        ),
    ]
    head = out.terms[0].weight_name.split("[")[0] if out.terms else "Wo"
    lines.append(
        (
            ("Output", True),
            (
                f" out{t}[{r}] = y{t}[{r}, :] · {head} + bo = {_sum_text(out.terms)} + {_num(out.bias)} = ",
                False,
            ),
            (_fixed(shown_output, 4), True),
        )
    )
    return lines


def explain_panel(
    cell: CellExplanation,
    out: OutputExplanation,
    shown_hidden: float,
    shown_output: float,
    table_key: str = "terms_popover",
) -> None:
    """explain_lines as one markdown text (one element per rerun: Compare's A and B), and every
    product as a table one click away."""
    lines = [f":small[{HOW}]", *map(charts.marked, explain_lines(cell, out, shown_hidden, shown_output))]
    st.markdown("\n\n".join(lines))
    _products_table(cell, table_key)


def _products_table(cell: CellExplanation, key: str, page: bool = False) -> None:
    """Every product of the cell's sums, a table one click away. `page`: the page's own explanation,
    whose step the slider may change in the browser: its label does not name the step (a popover's
    label is part of its identity: opening it reruns with the slider's step, which must not close it)."""
    terms = cell.input_terms + cell.recurrent_terms
    if page:
        label = f"All products of the explained cell, y_t[{cell.row}, {cell.neuron}] (a table)"
    else:
        label = f"All {len(terms)} products of y{cell.step}[{cell.row}, {cell.neuron}] (a table)"
    render.table(lambda: _terms_frame(terms), label, key)
