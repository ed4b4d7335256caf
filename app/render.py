"""Page pieces that draw more than a widget group: charts with export settings, the explain panel,
the presentation look, and the share and download panel."""

from __future__ import annotations

import functools

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from rnn_core.explain import CellExplanation, OutputExplanation, Term
from rnn_core.state import State, dump_state

PRESENTATION_CSS = """
<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stHeader"],
[data-testid="stToolbar"], [data-testid="stDecoration"], [data-testid="stExpandSidebarButton"],
.st-key-editing, .st-key-share, footer { display: none !important; }
[data-testid="stMainBlockContainer"] { padding-top: 1rem; max-width: 100%; }
[data-testid="stMarkdownContainer"] p, [data-testid="stMarkdownContainer"] li { font-size: 24px; }
[data-testid="stMarkdownContainer"] h1 { font-size: 44px; }
[data-testid="stMarkdownContainer"] h3, [data-testid="stHeadingWithActionElements"] h3 { font-size: 32px; }
[data-testid="stTable"] td, [data-testid="stTable"] th { font-size: 22px; }
[data-testid="stWidgetLabel"] p, [data-baseweb="select"] div, [data-baseweb="select"] span,
[data-testid="stSliderThumbValue"] { font-size: 20px; }
body, .stApp { background: #ffffff; color: #000000; }
</style>
"""
MAX_TERMS_INLINE = 8  # write the sum out in full up to this many terms; past it, a table


def apply_presentation_look() -> None:
    """Hide controls and Streamlit's chrome, raise the type size: the page as a slide."""
    st.html(PRESENTATION_CSS)


def chart(fig: go.Figure, seed: int, key: str, image_format: str = "png", on_click=None) -> None:
    """A plotly chart whose camera button saves a 3x image named after the chart and the seed.

    on_click(key) is called (before the next run) when a cell of a heatmap is clicked.
    """
    name = f"{fig.to_plotly_json()['layout']['meta']}-seed{seed}"  # (no full plotly object built)
    config = {
        "displaylogo": False,
        "toImageButtonOptions": {"format": image_format, "scale": 3, "filename": name},
        "modeBarButtonsToRemove": ["select2d", "lasso2d", "autoScale2d"],
    }
    if on_click is None:
        st.plotly_chart(fig, theme=None, key=key, config=config)
    else:
        on_select = functools.partial(on_click, key)
        st.plotly_chart(fig, theme=None, key=key, config=config, on_select=on_select, selection_mode="points")


def clicked_cell(key: str) -> tuple[int, int] | None:
    """(y, x) of the clicked heatmap cell in the chart `key`, from its selection state."""
    state = st.session_state.get(key)
    points = (state or {}).get("selection", {}).get("points", [])
    if not points or "x" not in points[0] or "y" not in points[0]:
        return None
    return int(points[0]["y"]), int(points[0]["x"])


# ---- explain a cell ---------------------------------------------------------------------------------


def _num(x: float) -> str:
    return f"{x:.4f}".rstrip("0").rstrip(".") if abs(x) < 1e4 else f"{x:.4g}"


def _sum_text(terms: list[Term]) -> str:
    """'(1)(0.3047) + (2)(-1.04)' for a few terms; the count and sum for many."""
    if len(terms) <= MAX_TERMS_INLINE:
        return " + ".join(f"({_num(t.value)})({_num(t.weight)})" for t in terms)
    return f"{len(terms)} products (table below)"


def _terms_frame(terms: list[Term]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "value": [t.value_name for t in terms],
            "value =": [round(t.value, 6) for t in terms],
            "weight": [t.weight_name for t in terms],
            "weight =": [round(t.weight, 6) for t in terms],
            "product": [round(t.product, 6) for t in terms],
        }
    )


def explain_panel(
    cell: CellExplanation, out: OutputExplanation, shown_hidden: float, shown_output: float
) -> None:
    """The recurrence for the picked cell with its actual numbers, then the row's output."""
    t, r, n = cell.step, cell.row, cell.neuron
    input_sum = f"{_sum_text(cell.input_terms)} = **{_num(cell.input_sum)}**"
    lines = [f"**Input terms** X{t}[{r}, :] · Wx[:, {n}] = {input_sum}"]
    if t == 0:
        lines.append("**Recurrent terms**: none at step 0 (y₋₁ = 0)")
    else:
        lines.append(
            f"**Recurrent terms** y{t - 1}[{r}, :] · Wy[:, {n}] = {_sum_text(cell.recurrent_terms)} "
            f"= **{_num(cell.recurrent_sum)}**"
        )
    lines += [
        f"**Bias** b[{n}] = **{_num(cell.bias)}**",
        f"**Pre-activation** z = {_num(cell.input_sum)} + {_num(cell.recurrent_sum)} + {_num(cell.bias)} "
        f"= **{_num(cell.pre_activation)}**",
        f"**Hidden state** y{t}[{r}, {n}] = {cell.activation}({_num(cell.pre_activation)}) = "
        f"**{shown_hidden:.4f}** (the heatmap cell shows {shown_hidden:.2f})",
    ]
    st.markdown("\n\n".join(lines))
    terms = cell.input_terms + cell.recurrent_terms
    with st.expander(f"All {len(terms)} products of y{t}[{r}, {n}]", expanded=len(terms) <= 12):
        st.dataframe(_terms_frame(terms), hide_index=True, width="stretch")
    head = out.terms[0].weight_name.split("[")[0] if out.terms else "Wo"
    st.markdown(
        f"**Output** out{t}[{r}] = y{t}[{r}, :] · {head} + bo = {_sum_text(out.terms)} + {_num(out.bias)} "
        f"= **{shown_output:.4f}**"
    )


# ---- share and export ------------------------------------------------------------------------------


def share_link(token: str) -> str:
    """The full address of this page with the state in it (what the address bar shows)."""
    base = (st.context.url or "").split("?")[0]
    return f"{base}?s={token}"


def share_panel(state: State, token: str | None, trace_csv) -> None:
    """Copy link, camera format, downloads."""
    if token is None:
        st.warning(
            "This network is too big for a link (its numbers would not fit in an address). "
            "Download the state below and share the file instead."
        )
    else:
        link = share_link(token)
        st.markdown(
            f"**Share this network**: send this link ({len(link)} characters); it opens this exact view."
        )
        st.code(link, language=None, wrap_lines=True)  # the code block has a copy button
    left, middle, right = st.columns(3)
    left.radio(
        "Chart camera buttons save",
        ("png", "svg"),
        format_func=lambda f: "PNG (3×)" if f == "png" else "SVG",
        horizontal=True,
        key="image_format",
    )
    middle.download_button(
        "Download the state (JSON)",
        dump_state(state),
        file_name=f"rnn-state-seed{state.seed}.json",
        mime="application/json",
        on_click="ignore",
    )
    right.download_button(
        "Download the trace (CSV)",
        trace_csv,
        file_name=f"rnn-trace-seed{state.seed}.csv",
        mime="text/csv",
        on_click="ignore",
    )
