"""The page: a small RNN, its inputs, every hidden state and output. Reads top to bottom like the screen.

Run with `streamlit run app/main.py`. This process never imports TensorFlow (DESIGN.md section 2).
"""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `streamlit run app/main.py` from anywhere

from app import compute, controls, figures, session
from app.table import printout_frame, printout_lines

st.set_page_config(page_title="RNN, step by step", page_icon="🔁", layout="wide")
session.init_from_link()

# ---- sidebar and inputs -------------------------------------------------------------------------
controls.network_controls()

st.title("A recurrent neural network, step by step")
st.markdown(
    "Each step reads a batch of inputs $X_t$ and the previous hidden state: "
    "$y_t = \\tanh(y_{t-1} W_y + X_t W_x + b)$, with $y_{-1} = 0$; "
    "then a dense layer gives one output per row: $\\mathrm{out}_t = y_t W_{o,t} + b_{o,t}$. "
    "Change any input or setting and watch every hidden state and output change."
)

st.subheader("Inputs")
n_steps, batch, n_inputs = controls.size_controls()
st.caption("One row per batch row; column X1[0] is feature 0 of the input at step 1. Type to edit.")
inputs, input_errors = controls.inputs_table(n_steps, n_inputs)
state = session.current_state(inputs)

# ---- the computation ----------------------------------------------------------------------------
engine = compute.get_engine()
if not engine.ready:
    with st.spinner("Starting TensorFlow in its worker process (about 5 s, once per server)…"):
        try:
            engine.start()
        except compute.EngineError as err:
            st.error(f"TensorFlow could not start: {err}")
try:
    result = compute.compute(state, engine, compute.get_cache())
    st.session_state["last_result"] = result
except compute.EngineError as err:
    result = st.session_state.get("last_result")
    st.error(f"The computation failed: {err}. Your inputs are kept; change anything to try again.")
for notice in [*session.take_notices(), engine.take_notice()]:
    if notice:
        st.toast(notice)
        st.info(notice)
if result is None:
    st.stop()
trace = result.trace
T = trace.hidden.shape[0]

# ---- hidden states ------------------------------------------------------------------------------
st.subheader("Hidden states")
n_sat, n_all = figures.saturation_count(trace.hidden)
st.markdown(
    f"**{n_sat} of {n_all} hidden values are saturated** (|y| > {figures.SATURATION}, flagged ◥ in the "
    "corner of the cell). There tanh is flat: a change of input barely moves the unit, so rows with "
    "very different inputs end with nearly the same state and output. Blue is negative, red positive; "
    "the same color means the same value in every chart."
)
MAX_GRID = 12
columns = st.columns(min(T, 3))
for t in range(min(T, MAX_GRID)):
    with columns[t % len(columns)]:
        st.plotly_chart(figures.hidden_heatmap(trace.hidden[t], t), theme=None, key=f"hidden_{t}")
if T > MAX_GRID:
    t = controls.pick("Show a later step", T, "view_step", "y")
    st.plotly_chart(figures.hidden_heatmap(trace.hidden[t], t), theme=None, key="hidden_picked")

row = controls.pick("Follow one row through time", batch, "view_row", "row ")
st.plotly_chart(figures.row_heatmap(trace.hidden, row), theme=None, key="row_view")

# ---- outputs ------------------------------------------------------------------------------------
st.subheader("Outputs")
left, right = st.columns([3, 2])
left.plotly_chart(figures.outputs_chart(trace.outputs), theme=None, key="outputs")
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
    "TensorFlow computes what you see, in float64, in a worker process. The same weights go through a "
    "plain numpy loop and through tf.keras.layers.SimpleRNN (kernel = Wx, recurrent_kernel = Wy, "
    f"bias = b); values count as equal within {TOLERANCE:g}."
)

session.sync_link(state)
