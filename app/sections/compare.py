"""Compare two networks: "Pin as A" keeps the current network as A; everything changed afterwards is B
(the page's network). A and B side by side on one scale with Δ = B − A, the outputs overlaid, one
picked cell outlined in all three and explained in both. A nudge is B = A with one input cell + ε.

A is computed through the same path as B (app.compute.compute with the shared cache): two forward
passes per rerun while comparing, the second usually a cache hit.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from rnn_core import compare
from rnn_core.config import MAX_ABS_INPUT
from rnn_core.explain import explain_cell, explain_output
from rnn_core.state import State

from .. import compute, figures, page_state, render
from ..components import grid
from ..compute import Result
from ..figures import weights as wf
from ..grids import INPUTS as INPUTS_GRID
from ..page_state import VIEW_KEYS
from ..text import plain
from .explain import explain_panel

NUDGE_KEYS = {"step": "nudge_step", "row": "nudge_row", "feature": "nudge_feature", "eps": "nudge_eps"}
KEEP = tuple(NUDGE_KEYS.values())  # the values kept while the chapter is closed
EDITING_CSS = "<style>.st-key-compare_editing { display: none !important; }</style>"


# ---- callbacks ----------------------------------------------------------------------------------------


def pin(state: State) -> None:
    page_state.memory().pinned = state.pinnable()
    page_state.notify("info", "Pinned this network as A. Change anything: the page's network is B.")


def unpin() -> None:
    page_state.memory().pinned = None


def nudge(state: State) -> None:
    """A = this network; B = the same with the picked input cell + ε (in the inputs table)."""
    T, B, F = state.inputs.shape
    cell = tuple(
        min(max(int(page_state.get(NUDGE_KEYS[k], 0) or 0), 0), n - 1)
        for k, n in (("step", T), ("row", B), ("feature", F))
    )
    eps = page_state.get(NUDGE_KEYS["eps"], 1e-3)
    value = float(state.inputs[cell]) + float(eps)
    if not np.isfinite(value) or abs(value) > MAX_ABS_INPUT or eps == 0:
        page_state.notify(
            "error", f"X{cell[0]}[{cell[1]}, {cell[2]}] + ε = {value:g} cannot be used; nothing changed."
        )
        return
    page_state.memory().pinned = state.pinnable()
    inputs = state.inputs.copy()
    inputs[cell] = value
    grid.load("inputs", INPUTS_GRID, inputs)
    page_state.put(VIEW_KEYS["row"], cell[1])
    page_state.put(VIEW_KEYS["step"], T - 1)


def pick_cell(key: str) -> None:
    """A click on A's, B's or Δ's heatmap picks that row and neuron for all three."""
    cell = render.clicked_cell(key)
    if cell is not None:
        page_state.put(VIEW_KEYS["row"], cell[0])
        page_state.put(VIEW_KEYS["neuron"], cell[1])
        page_state.memory().view_clicked = True  # (the pickers write it again: view_controls)
        page_state.rerun_view()


# ---- the section --------------------------------------------------------------------------------------


def compare_section(state: State, result: Result, style, present: bool) -> None:
    if page_state.memory().pinned is not state.pinned:  # pinned or nudged in a partial rerun (a fragment):
        st.rerun()  # the whole page follows (a nudge also changed the inputs)
    if present:  # (on the page the chapter has the title)
        st.subheader("Compare two networks")
    with st.container(key="compare_editing"):
        if present:
            st.html(EDITING_CSS)  # inside what it hides: no gap on the slide
        _controls(state)
    if state.pinned is None:
        st.caption(
            "Pin this network as A, then change anything (a setting, a weight, an input): the page's network "
            "is B, shown beside A with Δ = B − A. Or nudge one input by ε to see how long it is remembered."
        )
        return
    a_state = state.pinned
    try:
        a = compute.compute(a_state, compute.get_engine(), compute.get_cache())
    except compute.EngineError as err:
        st.error(plain(f"A could not be computed: {err}. Change anything to try again."))
        return
    diff = compare.diff_states(a_state, state)
    same = compare.comparable(a.trace, result.trace)
    d = compare.delta(a.trace, result.trace) if same else None
    st.markdown(plain(compare.summary(a_state, state, None if d is None else d.hidden, diff)))
    _panels(state, a_state, a, result, d, style, present)
    nudged = compare.nudge_of(a_state, state, diff)
    if nudged is not None and d is not None:
        (k, r, f), eps = nudged
        curve = compare.memory_curve(d.hidden, r)
        image_format = page_state.get(page_state.IMAGE_FORMAT_KEY, "png")
        render.chart(
            wf.memory_chart(curve, eps, (k, r, f), style),
            state.seed,
            "nudge_memory",
            image_format,
        )
        last = curve[-1] / abs(eps)
        st.caption(
            f"Δ/ε ≈ ∂y_t/∂X{k}[{r}, {f}] for small ε (zero before step {k}). "
            f"At the last step it is {last:.3g}: "
            + (
                "the network still remembers that input."
                if last > 1e-3
                else "the network has forgotten that input."
            )
        )


def _controls(state: State) -> None:
    a, b = st.columns(2)
    a.button("Pin as A", on_click=pin, args=(state,), width="stretch", help="The current network becomes A.")
    if state.pinned is not None:
        b.button("Unpin A", on_click=unpin, width="stretch")
    T, B, F = state.inputs.shape
    with st.expander("Nudge an input: B = A with one input cell changed by ε"):
        c = st.columns(5, vertical_alignment="bottom")
        for column, (key, label, count) in zip(
            c, (("step", "step k", T), ("row", "row", B), ("feature", "feature", F)), strict=False
        ):
            value = page_state.get(NUDGE_KEYS[key], 0)
            if not isinstance(value, int) or not 0 <= value < count:
                page_state.put(NUDGE_KEYS[key], 0)
            column.number_input(label, 0, count - 1, step=1, key=NUDGE_KEYS[key])
        c[3].number_input("ε", -1e3, 1e3, 1e-3, format="%.2e", key=NUDGE_KEYS["eps"])
        c[4].button("Nudge", on_click=nudge, args=(state,), width="stretch")


def _panels(state: State, a_state: State, a: Result, b: Result, d, style, present: bool) -> None:
    step, row, neuron = state.view.step, state.view.row, state.view.neuron
    a_step = min(step, a.trace.hidden.shape[0] - 1)
    image_format = page_state.get(page_state.IMAGE_FORMAT_KEY, "png")
    shown_a, shown_b = a.trace.hidden[: a_step + 1], b.trace.hidden[: step + 1]
    if a_state.activation == state.activation:  # one scale for A and B
        scale = figures.scale_for(state.activation, np.concatenate([shown_a.ravel(), shown_b.ravel()]))
    else:
        scale = wf.symmetric_scale("y", shown_a, shown_b)
    panels = [
        ("A", a.trace.hidden[a_step], scale, f"A: y{a_step}", a_step),
        ("B", b.trace.hidden[step], scale, f"B: y{step}", step),
    ]
    if d is not None:
        dscale = wf.symmetric_scale("Δ", d.hidden[: step + 1])
        _, (lt, lr, ln) = compare.largest(d.hidden[: step + 1])
        panels.append(
            ("delta", d.hidden[step], dscale, f"Δ = B − A: y{step}, range ±{dscale.high:.3g}", step)
        )
    with st.container(horizontal=True, wrap=True, gap="small"):
        for name, z, panel_scale, title, t in panels:
            chart = wf.compare_heatmap(
                z, panel_scale, f"compare-{name}-y{t}", title, t, style, colorbar=name != "A"
            )
            if row < z.shape[0] and neuron < z.shape[1]:
                chart = wf.outline(chart, [wf.cell_box(row, neuron)])
            render.chart(chart, state.seed, f"compare_{name}", image_format, on_click=pick_cell)
    say = st.markdown if present else st.caption
    if d is None:
        st.info("Δ needs A and B of the same sizes (steps, rows, neurons).")
    else:
        say(
            f"A and B share the scale {scale.label}; Δ has its own: ±{dscale.high:.3g}, the largest |Δ| "
            f"up to this step (at y{lt}[row {lr}, neuron {ln}])."
        )
    overlay = wf.outputs_overlay(a.trace.outputs[: a_step + 1], b.trace.outputs[: step + 1], style)
    render.chart(overlay, state.seed, "compare_outputs", image_format)
    with st.expander(f"Explain y{step}[{row}, {neuron}] in A and in B", expanded=True):
        left, right = st.columns(2)
        for column, label, s, res, t in ((left, "A", a_state, a, a_step), (right, "B", state, b, step)):
            with column:
                st.markdown(f"**{label}**")
                if row >= s.inputs.shape[1] or neuron >= s.n_neurons:
                    st.caption(f"{label} has no such cell.")
                    continue
                cell = explain_cell(s.inputs, res.weights, res.trace.hidden, s.activation, t, row, neuron)
                out = explain_output(res.weights, res.trace.hidden, t, row)
                explain_panel(
                    cell,
                    out,
                    float(res.trace.hidden[t, row, neuron]),
                    float(res.trace.outputs[t, row]),
                    f"terms_popover_{label}",
                )
