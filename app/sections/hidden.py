"""Hidden states through time: what is stuck, the player and the pickers, the unrolled diagram, each
y_t as a heatmap (up to the current step: nothing later is shown), and one row through time."""

from __future__ import annotations

import streamlit as st

from rnn_core.activations import ACTIVATIONS, stuck_count
from rnn_core.state import State

from .. import figures, page_state, render
from ..components import player
from ..compute import Result
from ..page_state import VIEW_KEYS

MAX_GRID = 12  # heatmap slots shown at once (a window ending at the current step)


def stuck_summary(result: Result, activation: str, present: bool) -> None:
    act = ACTIVATIONS[activation]
    n, total = stuck_count(result.trace.hidden, activation)
    text = (
        f"**{n} of {total} hidden values are {act.stuck_word}** ({act.stuck_rule}; flagged ◥ in the "
        "corner of the cell while the cells are big enough to show it)."
    )
    if not present:
        text += f" {act.stuck_why} The same color means the same value in every chart."
    st.markdown(text)


def pick(label: str, count: int, key: str, prefix: str, container) -> int:
    """A selectbox over 0..count-1 shown as prefix+index; a stale or crafted pick is put back in range."""
    value = page_state.get(key, 0)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < count:
        page_state.put(key, min(max(value, 0), count - 1) if isinstance(value, int) else 0)
    return int(container.selectbox(label, range(count), format_func=lambda i: f"{prefix}{i}", key=key))


def view_controls(n_steps: int, batch: int, n_neurons: int) -> tuple[int, int, int]:
    """The step player and the row and neuron pickers; (step, row, neuron)."""
    bar, row_pick, neuron_pick = st.columns([4, 1, 1], vertical_alignment="bottom")
    step = player.step_controls(n_steps, bar)
    row = pick("Row", batch, VIEW_KEYS["row"], "row ", row_pick)
    neuron = pick("Neuron", n_neurons, VIEW_KEYS["neuron"], "neuron ", neuron_pick)
    return step, row, neuron


def pick_clicked_cell(key: str) -> None:
    """Chart click callback: a cell of y_t ("hidden_t": row, neuron) or of the row view ("row_view":
    step, neuron) becomes the explained cell. Coordinates outside the chart are ignored."""
    cell = render.clicked_cell(key)
    if cell is None:
        return
    y, x = cell
    if key.startswith("hidden_"):
        page_state.put(VIEW_KEYS["step"], int(key.removeprefix("hidden_")))
        page_state.put(VIEW_KEYS["row"], y)
        page_state.put(VIEW_KEYS["neuron"], x)
    elif key == "row_view":
        page_state.put(VIEW_KEYS["step"], y)
        page_state.put(VIEW_KEYS["neuron"], x)


def time_view(state: State, result: Result, step: int, row: int, neuron: int, style, clickable: bool) -> None:
    """The diagram at `step`, then y0 … y_step (later steps are empty slots of the same size), then
    the picked row through time up to `step`."""
    T, _, F = state.inputs.shape
    image_format = page_state.get(page_state.IMAGE_FORMAT_KEY, "png")
    on_click = pick_clicked_cell if clickable else None
    diagram = figures.unrolled_diagram(
        T, F, state.n_neurons, step, state.shared_output, state.activation, style
    )
    render.chart(diagram, state.seed, "diagram", image_format)
    first = max(0, step + 1 - MAX_GRID)
    slots = list(range(first, min(T, first + MAX_GRID)))
    columns = st.columns(min(len(slots), 3))
    for i, t in enumerate(slots):
        fig = figures.hidden_heatmap(result.trace.hidden[t], t, style)
        with columns[i % len(columns)]:
            if t > step:
                height = int(fig.to_plotly_json()["layout"]["height"])
                st.container(height=height, border=False).caption(f"y{t}: not revealed yet")
                continue
            if t == step:
                fig = figures.highlight_cell(fig, row, neuron)
            render.chart(fig, state.seed, f"hidden_{t}", image_format, on_click=on_click)
    row_view = figures.row_heatmap(result.trace.hidden[: step + 1], row, style)
    render.chart(row_view, state.seed, "row_view", image_format, on_click=on_click)


def playing() -> bool:
    return player.playing()
