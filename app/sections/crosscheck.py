"""The cross-check: TensorFlow computes what is shown; numpy and SimpleRNN recompute every step."""

from __future__ import annotations

import streamlit as st

from rnn_core.crosscheck import TOLERANCE, CrossCheck


def crosscheck_text(check: CrossCheck) -> str:
    """The whole section as one markdown text (one element: the page sends fewer messages per rerun)."""
    rows = []
    for label, diff in (
        ("TensorFlow vs numpy reference", check.diff_numpy),
        ("TensorFlow vs tf.keras SimpleRNN", check.diff_simple_rnn),
    ):
        if diff is None:
            rows.append(f"| {label} | **not run** | |")
            continue
        verdict = "equal" if diff <= TOLERANCE else "DIFFERENT"
        rows.append(f"| {label} | **{verdict}** | {diff:.1e} |")
    return "\n".join(
        [
            "### Cross-check",
            "",
            "| comparison | verdict | largest relative difference |",
            "|---|---|---|",
            *rows,
            "",
            ":small[TensorFlow computes what you see, in float64, in a worker process. Each of its steps is "
            "recomputed from its own previous state by a plain numpy loop and by tf.keras.layers.SimpleRNN "
            "(kernel = Wx, recurrent_kernel = Wy, bias = b); values count as equal when "
            f"|a − b| ≤ {TOLERANCE:g}·max(1, |a|).]",
        ]
    )


def verdicts(text: str) -> list[str]:
    """The verdicts in a text from crosscheck_text (for tests and the load generator)."""
    return [line.split("**")[1] for line in text.splitlines() if line.startswith("| TensorFlow vs")]


def crosscheck_section(check: CrossCheck) -> None:
    st.markdown(crosscheck_text(check))
    if check.chaotic:
        st.info(
            f"Run freely from y₋₁ = 0, numpy's own recurrence ends up to {check.drift:.2g} (relative) "
            "away from TensorFlow's, and the gap grows with the steps. Both are right: this network is "
            "chaotic, so rounding differences of 1e-16 (from adding the same numbers in another order) grow "
            "at every step. That is why each step is checked from TensorFlow's previous state."
        )
