"""The page: a small RNN, its inputs, every hidden state and output. Reads top to bottom like the screen.

Run with `python -m app.serve` (or `streamlit run app/main.py`). This process never imports TensorFlow
(DESIGN.md section 2). Each section is a function of explicit arguments (app/sections/); what the page
remembers between reruns is owned by app/page_state.py.
"""

from __future__ import annotations

import streamlit as st

from app import compute, figures, gc_policy, hardening, page_state, render, session
from app.components import player
from app.sections import crosscheck, explain, hidden, inputs, intro, outputs, results, share, sidebar
from app.sections import present as present_slides
from app.sections.compare import compare_section
from app.sections.weights import weights_charts, weights_section

st.set_page_config(page_title="RNN, step by step", page_icon="🔁", layout="wide")
hardening.install()  # widget states Streamlit cannot read fall back instead of failing every run
gc_policy.keep_memory_bounded()
session.init_from_link()
page_state.check_widgets()  # every widget value the session holds passes the state's own checks
present = st.columns([4, 1])[1].toggle(
    "Presentation mode", key="present", help="Big type, no controls: the page as a slide."
)
style = figures.SLIDE if present else figures.SCREEN
slide = None
if present:
    render.apply_presentation_look()
    slide = present_slides.slide_picker()

# ---- settings and inputs ------------------------------------------------------------------------
sidebar.network_controls()
if present:  # the title and the inputs are a slide of their own; on the others they are kept offstage
    stage = st.container() if slide == "The network" else present_slides.offstage()
    heading, inputs_box = stage.columns([3, 2])
else:
    heading, inputs_box = st.container(), st.container()
X = inputs.inputs_section(inputs_box)  # (T, B, F): the last valid inputs while a cell is bad
state = session.current_state(X)
intro.intro(heading, state.activation, state.shared_output, present)
if present:
    inputs.inputs_slide(inputs_box, state.inputs)
state = weights_section(
    state, style, present, shown=slide in (None, present_slides.WEIGHTS)
)  # seen, edited, presets

# ---- the computation ----------------------------------------------------------------------------
result = results.compute_result(state)
results.show_notices()
if result is None:
    st.stop()
shown: compute.Result = result  # (for the functions below: never None past this point)
T, B, _ = state.inputs.shape
if present:  # one 16:9 screen at a time
    present_slides.slide(slide or present_slides.SLIDES[0], state, shown, style)
    share.share_section(session.with_current_view(state), shown)  # hidden; keeps the link current
    st.stop()

# ---- hidden states, explain a cell, outputs: everything up to the current step ----------------------
st.subheader("Hidden states, step by step")


def up_to(t: int, row: int, neuron: int, clickable: bool = False) -> None:
    """Everything that shows time, at step t (nothing later is on the page)."""
    hidden.time_view(state, shown, t, row, neuron, style, clickable)
    explain.explain_section(state, shown, t, row, neuron)
    outputs.outputs_section(state, shown, t, style)


@st.fragment
def view_part() -> None:
    """What a view pick changes (step, row, neuron, a clicked cell): a pick reruns only this part."""
    step, row, neuron = hidden.view_controls(T, B, state.n_neurons)
    up_to(step, row, neuron, clickable=True)
    weights_charts(session.with_current_view(state), style)  # the explained cell's weights outlined
    compare_section(session.with_current_view(state), shown, style, present)  # A (pinned) beside B
    crosscheck.crosscheck_section(shown.check)
    share.share_section(session.with_current_view(state), shown)  # the link holds the view


if player.playing():
    step, row, neuron = hidden.view_controls(T, B, state.n_neurons)
    player.play(T, lambda t: up_to(t, row, neuron))
else:
    view_part()
