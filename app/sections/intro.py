"""The title and the equations of the network in use (its activation and output layer)."""

from __future__ import annotations

from rnn_core.activations import ACTIVATIONS

TITLE = "A recurrent neural network, step by step"


def equations(activation: str, shared_output: bool) -> str:
    f = ACTIVATIONS[activation].formula
    head = r"\mathrm{out}_t = y_t W_o + b_o" if shared_output else r"\mathrm{out}_t = y_t W_{o,t} + b_{o,t}"
    layer = "one dense layer shared by every step" if shared_output else "a dense layer per step"
    recurrence = f.format(r"y_{t-1} W_y + X_t W_x + b")
    return (
        f"Each step reads a batch of inputs $X_t$ and the previous hidden state: $y_t = {recurrence}$, "
        f"with $y_{{-1}} = 0$; then {layer} gives one output per row: ${head}$."
    )


def intro(container, activation: str, shared_output: bool, present: bool) -> None:
    more = "" if present else " Change any input or setting and watch every hidden state and output change."
    container.markdown(f"# {TITLE}\n\n{equations(activation, shared_output)}{more}")  # one element
