"""Presentation mode: one 16:9 screen at a time. A row of slide buttons, the step controls, and the
chosen slide sized to fit a 1280 × 720 projector without scrolling (and a 1920 × 1080 screen)."""

from __future__ import annotations

import streamlit as st

from rnn_core.state import State

from .. import figures, page_state
from ..components import charts, player
from ..compute import Result
from . import explain, hidden, outputs
from .compare import compare_section

SLIDES = (
    "Hidden states",
    "Diagram",
    "Row through time",
    "Explain a cell",
    "Outputs",
    "The network",
)
# One more slide (the bar holds 7 at 1280 px): the weights (drawn by app/sections/weights.py, before
# the computation), or while a network is pinned, the comparison
WEIGHTS, COMPARE = "Weights", "Compare A/B"


def slides() -> tuple[str, ...]:
    return (*SLIDES, COMPARE if page_state.memory().pinned is not None else WEIGHTS)


# The slides whose play the browser draws (each step's sent at once): one chart each (_blocks), and
# two sections of the page
PLOT_SLIDES = ("Hidden states", "Diagram", "Row through time")
CHART_SLIDES = (*PLOT_SLIDES, "Explain a cell", "Outputs")
SLIDE_KEY = "present_slide"
# Streamlit does not tell the server the viewport: slides are drawn for the smallest supported one,
# a 1280 × 720 projector (1120 px of main column; 720 px less the slide bar and the step controls).
SLIDE_WIDTH_PX = 1120
SLIDE_HEIGHT_PX = 470
OFFSTAGE_CSS = "<style>.st-key-offstage { display: none !important; }</style>"


def slide_picker() -> str:
    """The slide buttons (top of the screen); the chosen slide."""
    names = slides()
    if page_state.get(SLIDE_KEY) not in names:
        page_state.put(SLIDE_KEY, SLIDES[0])
    choice = st.segmented_control("Slide", names, key=SLIDE_KEY, label_visibility="collapsed")
    return choice or SLIDES[0]


def offstage():
    """A container that is drawn but not shown (widgets in it keep their state)."""
    st.html(OFFSTAGE_CSS)
    return st.container(key="offstage")


def slide(name: str, state: State, result: Result, style, n_shown: int | None = None) -> None:
    """The chosen slide, with the step controls above it (the network slide has none). n_shown: the
    player reveals only y0 … y_(n_shown-1) (a lesson question waiting for its answer). A play of a
    slide but the comparison is drawn by the browser (every step sent at once, as on the page:
    player.in_browser); the comparison's, and a play too big to send, tick on the server."""
    if name == "The network":
        return
    T, B, _ = state.inputs.shape
    T = min(T, n_shown or T)
    step, row, neuron = hidden.view_controls(T, B, state.n_neurons)

    def draw(t: int) -> None:
        _draw(name, state, result, style, t, row, neuron)

    if not player.playing():
        draw(step)
    elif name in CHART_SLIDES and player.in_browser(T, B, state.n_neurons):
        start = player.browser_frame(T)
        if name == "Outputs":
            outputs.outputs_frames(state, result, T, start, style, player.played, warn=True)
        elif name == "Explain a cell":
            explain.explain_frames(state, result, T, start, row, neuron, player.played, warn=True)
        else:
            frames = [_blocks(name, state, result, style, t, row) for t in range(T)]
            charts.frames(frames, "slide_charts", state.seed, start, player.PLAY_SECONDS, player.played)
    else:
        player.play(T, draw)


def _draw(name: str, state: State, result: Result, style, step: int, row: int, neuron: int) -> None:
    if name in PLOT_SLIDES:
        charts.charts(_blocks(name, state, result, style, step, row), "slide_charts", state.seed)
    elif name == "Explain a cell":
        _warn(state, result, step)
        explain.explain_section(state, result, step, row, neuron, hint=False)
    elif name == "Outputs":
        _warn(state, result, step)
        outputs.outputs_section(state, result, step, style)
    elif name == COMPARE:
        compare_section(state, result, style, True)


def _warn(state: State, result: Result, step: int) -> None:
    """Values that exploded by `step`, said above the slide."""
    for note in hidden.exploded(state, result, step):
        st.warning(note.text, icon="⚠️")


def _blocks(name: str, state: State, result: Result, style, step: int, row: int) -> list[charts.Block]:
    """A chart slide at `step` (Hidden states, Diagram, Row through time): what exploded by then, and
    its chart."""
    T, _, F = state.inputs.shape
    hidden_states = result.trace.hidden
    scale = figures.scale_for(state.activation, hidden_states[: step + 1])
    if name == "Hidden states":
        chart = figures.hidden_states_figure(
            hidden_states,
            state.activation,
            step,
            style,
            SLIDE_WIDTH_PX,
            SLIDE_HEIGHT_PX,
            scale,
            "hidden-states",
        ).with_layout(width=None)
        plot = charts.Plot(chart, "slide_hidden")
    elif name == "Diagram":
        chart = figures.unrolled_diagram(
            T,
            F,
            state.n_neurons,
            step,
            state.shared_output,
            state.activation,
            style,
            SLIDE_WIDTH_PX,
            SLIDE_HEIGHT_PX,
        )
        plot = charts.Plot(chart, "diagram")
    else:
        chart = figures.row_heatmap(
            hidden_states, row, style, state.activation, scale, step, SLIDE_WIDTH_PX, click_layer=False
        )
        chart = chart.with_layout(
            width=None, height=max(SLIDE_HEIGHT_PX, min(chart.height, 2 * SLIDE_HEIGHT_PX))
        )
        plot = charts.Plot(chart, "row_view")
    return [*hidden.exploded(state, result, step), plot]
