"""The design we rejected (DESIGN.md section 2): the same kind of page, computing with TensorFlow
in the Streamlit process itself. Only bench/rerun.py runs it, in a process of its own.

The same inputs, widgets and figures as app/main.py's core (the tutorial's network, the sidebar
settings, every hidden state, a row through time, the outputs, the printout, the cross-check),
with the forward pass and SimpleRNN called in-process instead of through the worker.
"""

from __future__ import annotations

import streamlit as st

from app import figures
from app.table import printout_frame, printout_lines
from rnn_core import reference, tf_model  # imports TensorFlow into this process
from rnn_core.activations import NAMES as ACTIVATIONS
from rnn_core.config import LIMITS
from rnn_core.state import SEED_MAX, State

st.set_page_config(page_title="RNN, TensorFlow in-process (baseline)", layout="wide")
sb = st.sidebar
n_neurons = sb.number_input("Neurons (n_neurons)", *LIMITS["n_neurons"], value=8, step=1, key="n_neurons")
seed = sb.number_input("Seed", 0, SEED_MAX, value=42, step=1, key="seed")
activation = sb.selectbox("Activation", ACTIVATIONS, key="activation")

st.title("A recurrent neural network, step by step")
state = State(n_neurons=int(n_neurons), seed=int(seed), activation=activation)
weights = state.resolved_weights()
trace = tf_model.forward(state.inputs, weights, activation)
simple = tf_model.simple_rnn_hidden(state.inputs, weights, activation)
ref = reference.forward(state.inputs, weights, activation)

T, B, _ = state.inputs.shape
columns = st.columns(3)
for t in range(T):
    with columns[t % 3]:
        st.plotly_chart(
            figures.hidden_heatmap(trace.hidden[t], t).for_streamlit(), theme=None, key=f"hidden_{t}"
        )
row = st.selectbox("Row", range(B), format_func=lambda i: f"row {i}", key="view_row")
st.plotly_chart(figures.row_heatmap(trace.hidden, row).for_streamlit(), theme=None, key="row_view")
left, right = st.columns([3, 2])
left.plotly_chart(figures.outputs_chart(trace.outputs).for_streamlit(), theme=None, key="outputs")
right.dataframe(printout_frame(state.inputs, trace.outputs))
right.code("\n".join(printout_lines(state.inputs, trace.outputs)), language=None)
a, b = st.columns(2)
a.metric("TensorFlow vs numpy reference", f"{float(abs(trace.hidden - ref.hidden).max()):.1e}")
b.metric("TensorFlow vs tf.keras SimpleRNN", f"{float(abs(trace.hidden - simple).max()):.1e}")
