"""Outputs: out_t for every row across the steps (up to the current one), and the tutorial's printout."""

from __future__ import annotations

import streamlit as st

from rnn_core.state import State

from .. import figures, render
from ..components import charts
from ..compute import Result
from ..table import printout_frame, printout_lines


def outputs_section(state: State, result: Result, upto: int, style) -> None:
    """Steps 0..upto: nothing later is shown while the player reveals the steps."""
    st.subheader("Outputs")
    inputs, outputs = state.inputs[: upto + 1], result.trace.outputs[: upto + 1]
    # The chart, then the printout under it at the column's full width: side by side, the printout's
    # 2T + 1 columns did not fit a 1366 px screen.
    chart = figures.outputs_chart(result.trace.outputs, style, state.shared_output, state.activation, upto)
    charts.charts([charts.Plot(chart, "outputs", caption=True)], "output_charts", state.seed)
    st.markdown("The tutorial's printout, one line per row:")
    st.code("\n".join(printout_lines(inputs, outputs)), language=None, wrap_lines=True)
    render.table(lambda: printout_frame(inputs, outputs), "The printout as a table", "printout_popover")
