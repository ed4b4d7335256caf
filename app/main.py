"""The page: a small RNN, its inputs, every hidden state and output. Reads top to bottom like the screen.

Run with `streamlit run app/main.py`. This process never imports TensorFlow (DESIGN.md section 2).
"""

from __future__ import annotations

import streamlit as st

from app import compute, controls, figures, render, server, session
from app.table import printout_frame, printout_lines
from rnn_core.explain import explain_cell, explain_output

st.set_page_config(page_title="RNN, step by step", page_icon="🔁", layout="wide")
server.keep_memory_bounded()
session.init_from_link()
present = controls.presentation_toggle()
style = figures.SLIDE if present else figures.SCREEN
if present:
    render.apply_presentation_look()

# ---- sidebar and inputs -------------------------------------------------------------------------
controls.network_controls()

heading, inputs_box = st.columns([3, 2]) if present else (st.container(), st.container())
heading.title("A recurrent neural network, step by step")
heading.markdown(
    "Each step reads a batch of inputs $X_t$ and the previous hidden state: "
    "$y_t = \\tanh(y_{t-1} W_y + X_t W_x + b)$, with $y_{-1} = 0$; "
    "then a dense layer gives one output per row: $\\mathrm{out}_t = y_t W_{o,t} + b_{o,t}$."
    + ("" if present else " Change any input or setting and watch every hidden state and output change.")
)

inputs_box.subheader("Inputs")
with inputs_box.container(key="editing"):  # hidden in presentation mode, but kept alive (widget state)
    n_steps, batch, n_inputs = controls.size_controls()
    st.caption("One row per batch row; column X1[0] is feature 0 of the input at step 1. Type to edit.")
    inputs, _ = controls.inputs_table(n_steps, n_inputs)  # bad cells: messages shown, last valid inputs
state = session.current_state(inputs)
if present:
    inputs_box.table(printout_frame(state.inputs, state.inputs[:, :, 0]).filter(like="input"))

# ---- the computation ----------------------------------------------------------------------------
engine = compute.get_engine()
notices: list[str] = []  # the engine's notices for this session's calls only
if not engine.ready:
    with st.spinner("Starting TensorFlow in its worker process (about 5 s, once per server)…"):
        try:
            notices += engine.start(wait=engine.queue_timeout)
        except compute.EngineError as err:
            notices += err.notices
            st.error(f"TensorFlow could not start: {err}")
try:
    result = compute.compute(state, engine, compute.get_cache(), notices)
    st.session_state["last_result"] = result
except compute.EngineError as err:
    notices += err.notices
    result = st.session_state.get("last_result")
    st.error(f"The computation failed: {err}. Your inputs are kept; change anything to try again.")
for notice in [*session.take_notices(), *dict.fromkeys(notices)]:
    if notice:
        st.info(notice)
if result is None:
    st.stop()
trace = result.trace
T = trace.hidden.shape[0]
seed = state.seed
image_format = st.session_state.get("image_format", "png")


def draw_time(step: int, row: int, neuron: int, clickable=None) -> None:
    """The unrolled network at `step`, then y0 … y_step as heatmaps (the picked cell outlined)."""
    diagram = figures.unrolled_diagram(
        T, n_inputs, state.n_neurons, step, state.shared_output, state.activation, style
    )
    render.chart(diagram, seed, "diagram", image_format)
    # A fixed grid of slots (a window of MAX_GRID steps) so the page keeps its layout while steps are
    # revealed; steps after the current one hold an empty slot of the same height.
    first = max(0, step + 1 - MAX_GRID)
    slots = list(range(first, min(T, first + MAX_GRID)))
    columns = st.columns(min(len(slots), 3))
    for i, t in enumerate(slots):
        fig = figures.hidden_heatmap(trace.hidden[t], t, style)
        with columns[i % len(columns)]:
            if t > step:
                height = int(fig.to_plotly_json()["layout"]["height"])
                st.container(height=height, border=False).caption(f"y{t}: not revealed yet")
                continue
            if t == step:
                fig = figures.highlight_cell(fig, row, neuron)
            render.chart(fig, seed, f"hidden_{t}", image_format, on_click=clickable)


def play_frame(row: int, neuron: int) -> None:
    """One tick of the player: show the next step; at the end, stop and rerun the whole page."""
    ss = st.session_state
    t = ss.get("play_step", 0)
    if t >= T or not ss.get("playing"):
        ss["playing"], ss["pending_step"] = False, T - 1
        st.rerun()
    draw_time(t, row, neuron)
    ss["play_step"] = t + 1


# ---- hidden states through time -----------------------------------------------------------------
st.subheader("Hidden states, step by step")
n_sat, n_all = figures.saturation_count(trace.hidden)
saturation = (
    f"**{n_sat} of {n_all} hidden values are saturated** (|y| > {figures.SATURATION}; flagged ◥ in the "
    "corner of the cell while the cells are big enough to show it)."
)
if not present:
    saturation += (
        " There the activation is flat: a change of input barely moves the unit, so rows with very different"
        " inputs end with nearly the same state and output. Blue is negative, red positive; the same color"
        " means the same value in every chart."
    )
st.markdown(saturation)
MAX_GRID = 12
player, row_pick, neuron_pick = st.columns([4, 1, 1], vertical_alignment="bottom")
step = controls.step_controls(T, player)
row = controls.pick("Row", batch, "view_row", "row ", row_pick)
neuron = controls.pick("Neuron", state.n_neurons, "view_neuron", "neuron ", neuron_pick)
if st.session_state.get("playing"):
    st.fragment(play_frame, run_every=controls.PLAY_SECONDS)(row, neuron)
else:
    draw_time(step, row, neuron, clickable=controls.pick_clicked_cell)

row_view = figures.row_heatmap(trace.hidden, row, style)
render.chart(row_view, seed, "row_view", image_format, on_click=controls.pick_clicked_cell)

# ---- explain a cell -----------------------------------------------------------------------------
st.subheader(f"Explain a cell: y{step}[row {row}, neuron {neuron}]")
st.caption(
    "Click a cell in any heatmap, or pick the step with the slider and the row and neuron above; "
    "the cell is outlined in its heatmap."
)
weights = result.weights
cell = explain_cell(state.inputs, weights, trace.hidden, state.activation, step, row, neuron)
out = explain_output(weights, trace.hidden, step, row)
render.explain_panel(cell, out, float(trace.hidden[step, row, neuron]), float(trace.outputs[step, row]))

# ---- outputs ------------------------------------------------------------------------------------
st.subheader("Outputs")
left, right = st.columns([3, 2])
with left:
    render.chart(figures.outputs_chart(trace.outputs, style), seed, "outputs", image_format)
right.markdown("The tutorial's printout, one line per row:")
right.dataframe(printout_frame(state.inputs, trace.outputs), width="stretch")
right.code("\n".join(printout_lines(state.inputs, trace.outputs)), language=None, wrap_lines=True)

# ---- cross-check --------------------------------------------------------------------------------
st.subheader("Cross-check")
TOLERANCE = 1e-9
a, b = st.columns(2)
for column, label, diff in (
    (a, "TensorFlow vs numpy reference", result.diff_numpy),
    (b, "TensorFlow vs tf.keras SimpleRNN", result.diff_simple_rnn),
):
    verdict = "equal" if diff <= TOLERANCE else "DIFFERENT"
    column.metric(label, verdict, f"largest difference {diff:.1e}", delta_color="off", delta_arrow="off")
st.caption(
    "TensorFlow computes what you see, in float64, in a worker process. Each of its steps is recomputed "
    "from its own previous state by a plain numpy loop and by tf.keras.layers.SimpleRNN (kernel = Wx, "
    f"recurrent_kernel = Wy, bias = b); values count as equal within {TOLERANCE:g}."
)
if result.drift_numpy > TOLERANCE:
    st.info(
        f"Run freely from y₋₁ = 0, numpy's own recurrence ends up to {result.drift_numpy:.2g} away from "
        "TensorFlow's. Both are right: this network is chaotic, so rounding differences of 1e-16 (from "
        "adding the same numbers in another order) grow at every step. That is why each step is checked "
        "from TensorFlow's previous state."
    )

# ---- share and export ---------------------------------------------------------------------------
token = session.sync_link(state)
with st.container(key="share"):
    st.subheader("Share and export")
    render.share_panel(state, token, lambda: compute.trace_csv(state, trace))
