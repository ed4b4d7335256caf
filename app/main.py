"""The page: a small RNN, its inputs, every hidden state and output. Reads top to bottom like the screen.

Run with `python -m app.serve` (or `streamlit run app/main.py`). This process never imports TensorFlow
(DESIGN.md section 2). Each section is a function of explicit arguments (app/sections/); what the page
remembers between reruns is owned by app/page_state.py.
"""

from __future__ import annotations

import streamlit as st

from app import figures, gc_policy, hardening, page_state, render, session
from app.components import player
from app.sections import crosscheck, explain, hidden, inputs, intro, outputs, results, share, sidebar

st.set_page_config(page_title="RNN, step by step", page_icon="🔁", layout="wide")
hardening.install()  # widget states Streamlit cannot read fall back instead of failing every run
gc_policy.keep_memory_bounded()
session.init_from_link()
page_state.check_widgets()  # every widget value the session holds passes the state's own checks
present = st.columns([4, 1])[1].toggle(
    "Presentation mode", key="present", help="Big type, no controls: the page as a slide."
)
style = figures.SLIDE if present else figures.SCREEN
if present:
    render.apply_presentation_look()

# ---- settings and inputs ------------------------------------------------------------------------
sidebar.network_controls()
heading, inputs_box = st.columns([3, 2]) if present else (st.container(), st.container())
X = inputs.inputs_section(inputs_box)  # (T, B, F): the last valid inputs while a cell is bad
state = session.current_state(X)
intro.intro(heading, state.activation, state.shared_output, present)
if present:
    inputs.inputs_slide(inputs_box, state.inputs)

# ---- the computation ----------------------------------------------------------------------------
result = results.compute_result(state)
results.show_notices()
if result is None:
    st.stop()
T, B, _ = state.inputs.shape

# ---- hidden states, explain a cell, outputs: everything up to the current step ----------------------
st.subheader("Hidden states, step by step")
hidden.stuck_summary(result, state.activation, present)
del result  # the view below looks results up in the shared, bounded cache: no session keeps one alive


def up_to(t: int, row: int, neuron: int, clickable: bool = False) -> None:
    """Everything that shows time, at step t (nothing later is on the page)."""
    shown = results.recall(state)  # the shared cache's (a view pick or a tick computes nothing)
    if shown is None:
        return
    hidden.time_view(state, shown, t, row, neuron, style, clickable)
    explain.explain_section(state, shown, t, row, neuron)
    outputs.outputs_section(state, shown, t, style)


@st.fragment
def view_part() -> None:
    """What a view pick changes (step, row, neuron, a clicked cell): a pick reruns only this part."""
    step, row, neuron = hidden.view_controls(T, B, state.n_neurons)
    up_to(step, row, neuron, clickable=True)
    shown = results.recall(state)
    if shown is not None:
        crosscheck.crosscheck_section(shown.check)
    share.share_section(session.with_current_view(state))  # the link holds the view


if player.playing():
    step, row, neuron = hidden.view_controls(T, B, state.n_neurons)
    player.play(T, lambda t: up_to(t, row, neuron))
else:
    view_part()
