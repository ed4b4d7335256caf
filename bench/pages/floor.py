"""Streamlit's floor for a view pick: a page whose only part is a fragment with the step slider and a
select box, laid out as the app's view controls, and nothing else to redraw. A change of either reruns
that fragment alone, as a pick reruns the app's smallest part: what any widget change costs the
server with this start-up (bench/hall.py compares the app's picks with it, in the same run)."""

import streamlit as st


@st.fragment
def controls() -> None:
    bar, row, neuron = st.columns([4, 1, 1], vertical_alignment="bottom")
    bar.slider("Current step: reveal y0 … y_t", 0, 2, key="view_step", format="y%d")
    row.selectbox("Row", range(3), key="view_row", format_func=lambda i: f"row {i}")
    neuron.selectbox("Neuron", range(8), key="view_neuron", format_func=lambda i: f"neuron {i}")


st.title("Streamlit's floor")
controls()
