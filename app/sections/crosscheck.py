"""The cross-check: TensorFlow computes what is shown; numpy and SimpleRNN recompute every step."""

from __future__ import annotations

import streamlit as st

from rnn_core.crosscheck import TOLERANCE, CrossCheck


def crosscheck_section(check: CrossCheck) -> None:
    st.subheader("Cross-check")
    a, b = st.columns(2)
    for column, label, diff in (
        (a, "TensorFlow vs numpy reference", check.diff_numpy),
        (b, "TensorFlow vs tf.keras SimpleRNN", check.diff_simple_rnn),
    ):
        if diff is None:
            column.metric(label, "not run")
            continue
        verdict = "equal" if diff <= TOLERANCE else "DIFFERENT"
        column.metric(
            label, verdict, f"largest relative difference {diff:.1e}", delta_color="off", delta_arrow="off"
        )
    st.caption(
        "TensorFlow computes what you see, in float64, in a worker process. Each of its steps is recomputed "
        "from its own previous state by a plain numpy loop and by tf.keras.layers.SimpleRNN (kernel = Wx, "
        f"recurrent_kernel = Wy, bias = b); values count as equal when |a − b| ≤ {TOLERANCE:g}·max(1, |a|)."
    )
    if check.chaotic:
        st.info(
            f"Run freely from y₋₁ = 0, numpy's own recurrence ends up to {check.drift:.2g} (relative) "
            "away from TensorFlow's, and the gap grows with the steps. Both are right: this network is "
            "chaotic, so rounding differences of 1e-16 (from adding the same numbers in another order) grow "
            "at every step. That is why each step is checked from TensorFlow's previous state."
        )
