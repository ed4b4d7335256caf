"""Gradients through time: ‖dL/dy_t‖ per step, the T×T map of ‖∂out_t/∂X_k‖ (absolute, log10, or
relative to each row's largest), one gradient cell explained with its numbers (the chain of
∂y_j/∂y_(j−1) = diag(f'(z_j))·Wyᵀ), "vanishing or exploding?" on a copy of the network with its own
weight scale and number of steps, and the gradient check: TensorFlow's GradientTape against the numpy
BPTT of rnn_core.reference."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import streamlit as st

from rnn_core import gradflow, reference
from rnn_core.activations import ACTIVATIONS
from rnn_core.config import LIMITS
from rnn_core.crosscheck import TOLERANCE, largest
from rnn_core.engine import EngineError
from rnn_core.reference import GRAD_NAMES, Grads
from rnn_core.state import State, numbers_key

from .. import compute, page_state, render
from ..compute import Result
from ..figures import learn as learn_figures
from ..shared_lru import SharedLRU
from ..text import plain

MODE_KEY = "grad_map_mode"
PICK_KEYS = {"t": "grad_out_step", "k": "grad_in_step"}
SCALE_KEY = "grad_decay_scale"
STEPS_KEY = "grad_decay_steps"
KEEP = (MODE_KEY, *PICK_KEYS.values(), SCALE_KEY, STEPS_KEY)  # the values kept while the chapter is closed
SCALES = (0.1, 0.2, 0.3, 0.5, 0.7, 1.0, 1.5, 2.0, 3.0, 5.0)
MAX_CACHED = 64
# T²·B·N·(N+F) past this: no ∂out_t/∂X_k map and no TensorFlow check (the map is T passes back; at the
# caps numpy took 11 s on a loaded 2-core machine, ~10 ms at 20 steps × 8 rows × 64 neurons)
MAX_MAP_COST = 2 * 10**8
SHOW_FACTORS = 8  # neurons of the chain's factor row shown


@dataclass(frozen=True)
class GradResult:
    tf: Grads  # from TensorFlow (what is shown)
    numpy: Grads  # rnn_core.reference.backward on TensorFlow's forward states
    diff: float | None  # largest relative difference over the loss, every gradient, dL/dy and dout/dx
    # (None: the network is too big for the map and the check; numpy's gradients are shown)


@st.cache_resource(show_spinner=False)
def _cache() -> SharedLRU[GradResult]:
    return SharedLRU(MAX_CACHED, lambda _: 1)  # (a count: MAX_CACHED results)


def grad_diff(a: Grads, b: Grads) -> float:
    diffs = [largest(np.array([a.loss]), np.array([b.loss])), largest(a.dL_dy, b.dL_dy)]
    diffs += [largest(np.asarray(a.grads[n]), np.asarray(b.grads[n])) for n in GRAD_NAMES]
    if a.dout_dx is not None and b.dout_dx is not None:
        diffs.append(largest(a.dout_dx, b.dout_dx))
    return max(diffs)


def gradients(state: State, result: Result, notices: list[str]) -> GradResult:
    """TF's gradients and the numpy check, cached by the state's numbers (targets included)."""
    key = numbers_key(state)
    cached = _cache().get(key)
    if cached is not None:
        return cached
    targets = state.resolved_targets()
    T, B, F = state.inputs.shape
    if T * T * B * state.n_neurons * (state.n_neurons + F) > MAX_MAP_COST:
        with np.errstate(over="ignore", invalid="ignore"):
            ref = reference.backward(
                state.inputs,
                result.weights,
                state.activation,
                targets,
                trace=result.trace,
                sensitivities=False,
            )
        value = GradResult(ref, ref, None)
        _cache().put(key, value)
        return value
    tf = compute.get_engine().grad(state.inputs, result.weights, state.activation, targets).take(notices)
    with np.errstate(over="ignore", invalid="ignore"):
        ref = reference.backward(state.inputs, result.weights, state.activation, targets, trace=result.trace)
    value = GradResult(tf, ref, grad_diff(tf, ref))
    _cache().put(key, value)
    return value


def gradients_section(state: State, result: Result, row: int, neuron: int, style, training: bool) -> None:
    if training:
        st.caption("Shown for the current weights once training pauses or ends (they change every slice).")
        return
    notices: list[str] = []
    try:
        grads = gradients(state, result, notices)
    except EngineError as err:
        st.warning(f"The gradients could not be computed now: {err}")
        return
    for notice in notices:
        page_state.notify("info", notice)
    image_format = page_state.get(page_state.IMAGE_FORMAT_KEY, "png")
    g = grads.tf
    st.markdown(
        f"Loss **L = {g.loss:.6g}** (mean over steps and rows of (out_t − target_t)²). "
        "Backpropagation through time sends dL/dout_t back through y_t, then through every earlier y "
        "by ∂y_t/∂y_(t−1) = diag(f'(z_t))·Wyᵀ."
    )
    left, right = st.columns(2)
    with left:
        render.chart(
            learn_figures.grad_step_bars(gradflow.step_norms(g.dL_dy), style),
            state.seed,
            "grad_bars",
            image_format,
        )
    with right:
        if g.dout_dx is None:
            st.info(
                "This network is too big for the map of ∂out_t/∂X_k (it takes one pass back per step) and "
                "for the TensorFlow check: fewer steps, rows or neurons bring them back."
            )
            explain_gradient(state, result, g, row, neuron)
            decay_view(state, style, image_format)
            return
        sens = gradflow.sensitivity_map(g.dout_dx)
        if page_state.get(MODE_KEY) not in ("absolute", "relative"):
            page_state.put(MODE_KEY, "absolute")
        mode = st.radio(
            "Map",
            ("absolute", "relative"),
            format_func=lambda m: "absolute (log10)" if m == "absolute" else "relative (each row / its max)",
            horizontal=True,
            key=MODE_KEY,
        )
        render.chart(
            learn_figures.grad_map(sens, mode == "relative", style), state.seed, "grad_map", image_format
        )
    explain_gradient(state, result, g, row, neuron)
    decay_view(state, style, image_format)
    gradient_check(grads)


def _pick(label: str, count: int, key: str, default: int, container) -> int:
    if key not in st.session_state:
        page_state.put(key, default)
    value = page_state.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < count:
        page_state.put(
            key,
            min(max(value, 0), count - 1)
            if isinstance(value, int) and not isinstance(value, bool)
            else default,
        )
    return int(container.selectbox(label, range(count), key=key))


def explain_gradient(state: State, result: Result, g: Grads, row: int, neuron: int) -> None:
    """One cell of the map, for the picked row: the chain from out_t back to X_k with its factors."""
    T = state.inputs.shape[0]
    st.markdown(f"**Explain a gradient cell** (row {row}, neuron {neuron}: the row and neuron picked above)")
    a, b = st.columns(2)
    t = _pick("Output step t", T, PICK_KEYS["t"], T - 1, a)
    k = _pick("Input step k (≤ t)", t + 1, PICK_KEYS["k"], 0, b)
    act = ACTIVATIONS[state.activation]
    if g.dout_dx is not None:
        d = g.dout_dx[t, k, row]
        value = ", ".join(f"{v:.4g}" for v in d) + f" (norm {np.linalg.norm(d):.4g})"
    else:
        value = "(not computed at this size)"
    st.markdown(
        f"∂out{t}[row {row}]/∂X{k}[row {row}, :] = {value}. It is Wo_{t}ᵀ, then one factor per step back: "
        + " · ".join(f"∂y{j}/∂y{j - 1}" for j in range(t, k, -1))
        + (" · " if t > k else "")
        + f"diag(f'(z{k}))·Wxᵀ."
    )
    links = gradflow.chain(result.trace, result.weights, state.activation, row, neuron, t, k)
    if not links:
        st.caption(f"t = k: no step back through Wy; the input reaches out{t} through z{t} only.")
        return
    formula = {"tanh": "1 − y²", "sigmoid": "y(1 − y)", "relu": "1 if z > 0 else 0"}[state.activation]
    N = state.n_neurons
    shown = range(min(N, SHOW_FACTORS))
    rows = []
    for link in links:
        rows.append(
            {
                "step j": link.step,
                f"z_j[{row}, {neuron}]": round(link.z, 6),
                f"y_j[{row}, {neuron}]": round(link.y, 6),
                f"f'(z) = {formula}": round(link.slope, 6),
                **{f"× Wy[{m}, {neuron}]": round(float(link.factors[m]), 6) for m in shown},
                "‖diag(f'(z_j))·Wyᵀ‖₂": round(link.jacobian_norm, 6),
                act.stuck_word: "yes" if link.stuck else "",
            }
        )
    first = links[0]
    st.markdown(
        f"Each step back, neuron {neuron} of row {row} passes "
        f"∂y{first.step}[{neuron}]/∂y{first.step - 1}[m] = "
        f"f'(z{first.step}[{neuron}])·Wy[m, {neuron}] = {first.slope:.4g} × Wy[m, {neuron}] "
        f"(f'(z) = {formula} with y = {first.y:.4f}). The table shows every step of the chain"
        + (f" (the first {SHOW_FACTORS} of {N} factors)" if N > SHOW_FACTORS else "")
        + "; the last column is how much one whole step back can stretch any gradient "
        "(its largest singular value)."
    )
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    product = float(np.prod([link.jacobian_norm for link in links]))
    st.caption(f"The product of those norms bounds how much of X{k} can reach out{t}: {product:.3g}.")
    if any(link.stuck for link in links):
        st.markdown(
            f"**A {act.stuck_word} unit** ({plain(act.stuck_rule)}) sits on this chain: {act.stuck_why}"
        )


def decay_view(state: State, style, image_format: str) -> None:
    st.markdown(
        "**Vanishing or exploding?** The last output's sensitivity to each earlier input, on a copy of this "
        "network with its own weight scale and number of steps (the page's network is not changed)."
    )
    a, b = st.columns(2)
    scales = sorted({*SCALES, float(state.weight_scale)})
    if page_state.get(SCALE_KEY) not in scales:
        page_state.put(SCALE_KEY, float(state.weight_scale) if state.weight_scale in scales else 1.0)
    steps_value = page_state.get(STEPS_KEY)
    if (
        not isinstance(steps_value, int)
        or isinstance(steps_value, bool)
        or not 2 <= steps_value <= LIMITS["n_steps"][1]
    ):
        page_state.put(STEPS_KEY, 30)
    scale = a.select_slider("Weight scale (Wx, Wy)", scales, key=SCALE_KEY, format_func=lambda v: f"{v:g}")
    steps = b.slider("Steps T", 2, LIMITS["n_steps"][1], key=STEPS_KEY)
    X, weights = gradflow.knob_network(state, float(scale), int(steps))
    decay = gradflow.fit_decay(gradflow.last_output_sensitivity(X, weights, state.activation))
    render.chart(
        learn_figures.decay_chart(decay.distance, decay.norms, decay.per_step, style),
        state.seed,
        "grad_decay",
        image_format,
    )
    st.markdown(f"**Decay rate** (a straight-line fit of log10‖·‖ against the distance): {decay.verdict}.")


def gradient_check(grads: GradResult) -> None:
    if grads.diff is None:
        return
    verdict = "equal" if grads.diff <= TOLERANCE else "DIFFERENT"
    st.metric(
        "Gradient check: TensorFlow vs numpy BPTT",
        verdict,
        f"largest relative difference {grads.diff:.1e}",
        delta_color="off",
        delta_arrow="off",
    )
    st.caption(
        "TensorFlow's GradientTape computes the gradients shown; rnn_core.reference.backward recomputes "
        "the loss, every weight's gradient, dL/dy_t and ∂out_t/∂X_k by hand, going back step by step from "
        "TensorFlow's own "
        f"forward states. Equal when |a − b| ≤ {TOLERANCE:g}·max(1, |a|)."
    )
