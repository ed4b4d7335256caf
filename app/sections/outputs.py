"""Outputs: out_t for every row across the steps (up to the current one), and the tutorial's printout."""

from __future__ import annotations

import streamlit as st

from rnn_core.state import State

from .. import figures, render
from ..components import charts
from ..components.player import PLAY_SECONDS
from ..compute import Result
from ..table import printout_frame, printout_lines
from . import hidden, results

PRINTOUT_TABLE = "printout_popover"  # the key of the printout's table (a popover)


def outputs_section(state: State, result: Result, upto: int, style, n_steps: int | None = None) -> None:
    """Steps 0..upto: nothing later is shown while the player reveals the steps. With `n_steps`, every
    step's chart and printout at once, following the page's view (a step pick is drawn by the browser)."""
    st.subheader("Outputs")
    inputs, outputs = state.inputs[: upto + 1], result.trace.outputs[: upto + 1]
    # The chart, then the printout under it at the column's full width: side by side, the printout's
    # 2T + 1 columns did not fit a 1366 px screen.
    # (the view controls' moves, while they are the browser's: every row and neuron is shown, any one)
    linked = hidden.controls((upto, 0, 0), 2, ("row", "neuron", *(("step",) if n_steps else ())))
    made_of = (*results.made_of(state, result), style)
    if n_steps is None:
        blocks = charts.Made(("outputs", *made_of, upto), lambda: step_blocks(state, result, upto, style))
        charts.charts(blocks, "output_charts", state.seed, controls=linked)
    else:
        steps = charts.Made(
            ("outputs frames", *made_of, n_steps),
            lambda: [step_blocks(state, result, t, style) for t in range(n_steps)],
        )
        charts.frames(steps, "output_charts", state.seed, upto, controls=linked)
    render.table(lambda: printout_frame(inputs, outputs), "The printout as a table", PRINTOUT_TABLE)


def outputs_frames(
    state: State, result: Result, n_steps: int, start: int, style, on_played=None, warn: bool = False
) -> None:
    """A play: the outputs chart and the printout of every step, drawn by the browser one after another
    (with `warn`, above them the warning that values exploded, from the step it is about: a slide)."""
    st.subheader("Outputs")

    def steps() -> list[list[charts.Block]]:
        return [
            [*(hidden.exploded(state, result, t) if warn else []), *step_blocks(state, result, t, style)]
            for t in range(n_steps)
        ]

    made = charts.Made(("outputs play", *results.made_of(state, result), style, n_steps, warn), steps)
    charts.frames(made, "output_charts", state.seed, start, PLAY_SECONDS, on_played)


def step_blocks(state: State, result: Result, upto: int, style) -> list[charts.Block]:
    """The outputs chart of steps 0..upto, and the printout under it."""
    return [outputs_block(state, result, upto, style), printout_block(state, result, upto)]


def printout_block(state: State, result: Result, upto: int) -> charts.Printout:
    """The tutorial's printout of steps 0..upto, one line per row."""
    lines = printout_lines(state.inputs[: upto + 1], result.trace.outputs[: upto + 1])
    return charts.Printout("The tutorial's printout, one line per row:", "\n".join(lines))


def outputs_block(state: State, result: Result, upto: int, style) -> charts.Plot:
    chart = figures.outputs_chart(result.trace.outputs, style, state.shared_output, state.activation, upto)
    return charts.Plot(chart, "outputs", caption=True)
