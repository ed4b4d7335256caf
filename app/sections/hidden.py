"""Hidden states through time: what is stuck, the player and the pickers, the unrolled diagram, each
y_t as a heatmap (up to the current step: nothing later is shown), and one row through time."""

from __future__ import annotations

import functools

import streamlit as st

from rnn_core.activations import ACTIVATIONS, stuck_count
from rnn_core.state import State

from .. import figures, page_state, render
from ..components import charts, player
from ..compute import Result
from ..page_state import VIEW_KEYS
from . import results

MAX_GRID = 12  # heatmap slots shown at once (a window ending at the current step)
PICKER_WIDTH = 150  # px: a row or neuron picker ("neuron 255" fits; the step slider takes the rest)
NUMBERS_TABLE = "numbers_popover"  # the key of y_t's numbers table (a popover)
# The page's charts hold every row's row view (for every step) while there are at most this many:
# a row pick is then drawn by the browser too; past it a row pick reruns the results part. Measured
# at 20 steps × 3 rows × 16 (docs/PERFORMANCE.md): with 64 a row pick cost the server 6.7 ms, not 35–39,
# but an edit sent 825 KB, not 564, and Chromium spent 8% more on it, while the pick's own time in
# the browser (~300 ms of redrawing) fell by a tenth only.
MAX_ROW_VIEWS = 24


def rows_in_browser(n_steps: int, batch: int) -> bool:
    return n_steps * batch <= MAX_ROW_VIEWS


def stuck_text(result: Result, activation: str, present: bool, upto: int) -> charts.Text:
    """How many of y0 … y_upto are stuck (later steps are not counted: they are not shown yet)."""
    act = ACTIVATIONS[activation]
    n, total = stuck_count(result.trace.hidden[: upto + 1], activation)
    rest = (
        f" ({act.stuck_rule}; flagged ◥ in the corner of the cell while the cells are big enough to show it)."
    )
    if not present:
        rest += f" {act.stuck_why} The same color means the same value in every chart."
    return charts.Text(((f"{n} of {total} hidden values are {act.stuck_word}", True), (rest, False)))


def exploded(state: State, result: Result, upto: int) -> list[charts.Note]:
    """The warning that values exploded by step `upto` (a note drawn with the charts), or nothing."""
    blown = figures.explosion(result.trace.hidden[: upto + 1], state.activation)
    return [charts.Note(blown[1])] if blown else []


PREFIXES = {"row": "row ", "neuron": "neuron "}  # a picker's option label before the number


def pick(field: str, count: int, container, on_change=None, alone: bool = False) -> int:
    """A selectbox over 0..count-1 shown as prefix+index; a stale or crafted pick is put back in range.
    `alone`: the browser alone hears its changes (on_change="ignore": view_controls)."""
    key = VIEW_KEYS[field]
    value = page_state.get(key, 0)
    if not in_range(value, count):
        page_state.put(key, min(max(value, 0), count - 1) if isinstance(value, int) else 0)
    if alone:
        page_state.memory().in_browser[key] = count
    return int(
        container.selectbox(
            field.capitalize(),
            range(count),
            format_func=lambda i: f"{PREFIXES[field]}{i}",
            key=key,
            on_change="ignore" if alone else on_change,
            width=PICKER_WIDTH,
        )
    )


def in_range(value: object, count: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < count


def view_controls(
    n_steps: int,
    batch: int,
    n_neurons: int,
    scope: player.Scope = "app",
    on_pick=None,
    in_browser: tuple[str, ...] = (),
) -> tuple[int, int, int]:
    """The step player and the row and neuron pickers; (step, row, neuron). `scope`: what Play and
    Pause rerun (player.step_controls). on_pick(key, count): on_change of the three. `in_browser`: the
    view fields whose controls the browser alone hears (Memory.in_browser: their moves send nothing;
    the page's charts draw them, and ask for what they cannot draw: app/components/charts Controls)."""
    mem = page_state.memory()
    mem.in_browser = {}  # (this run's controls say)
    if mem.view_clicked:  # a click set the view in a run Streamlit replaced by this part's own: a value
        mem.view_clicked = False  # written in this run is what makes the widgets show it
        for key in page_state.PICKER_KEYS:
            page_state.put(key, page_state.get(key))
    bar = st.container(horizontal=True, vertical_alignment="bottom", gap="medium")  # (one block: a
    # click redraws it; columns were five)

    def picked(key: str, count: int):
        return None if on_pick is None else functools.partial(on_pick, key, count)

    step_key = VIEW_KEYS["step"]
    step = player.step_controls(
        n_steps, bar, bar, scope, picked(step_key, n_steps), in_browser="step" in in_browser
    )
    row = pick("row", batch, bar, picked(VIEW_KEYS["row"], batch), "row" in in_browser)
    neuron = pick("neuron", n_neurons, bar, picked(VIEW_KEYS["neuron"], n_neurons), "neuron" in in_browser)
    return step, row, neuron


def view_picked(key: str, count: int) -> None:
    """on_change of the step slider and the row and neuron pickers while the server hears them (drawn
    in the page's small part "view_controls", which alone a change of theirs would rerun; the browser's
    alone send nothing: view_moved). While the page's charts hold every step and follow the view in
    the browser and nothing else on the page depends on the step (Memory.view_free, decided at the end
    of the results part), a step pick reruns only the explanation's part (a network whose every step's
    explanation and link are too big for the browser's slider: app/main.py browser_controls); anything
    else (a row of a batch with more row views than the charts hold, a pick while something else shows
    the view, a value out of range, which the pickers put back in range) reruns the pickers' part and
    the results part (page_state.rerun_view). A change that came with a timer's run is a value the
    browser held from before the last run, not a pick: the pickers' value stays, and the page notes
    that the browser is behind (Memory.pickers_behind)."""
    if page_state.a_timers_run():
        mem = page_state.memory()
        if key in mem.pickers_show:
            mem.pickers_behind[key] = page_state.get(key)
            page_state.put(key, mem.pickers_show[key])
        return
    mem = _looked()
    page_state.pickers_drawn(key)  # (the reader moved this one: it shows the new value)
    if mem.view_free and key == VIEW_KEYS["step"] and in_range(page_state.get(key), count):
        _drawn_by_browser(page_state.EXPLAIN_FRAGMENT)
    page_state.rerun_view()  # (the pickers too: they put a crafted value back in range)


def pick_clicked_cell(chart_id: str, y: int, x: int) -> None:
    """A click on a cell of y_t ("hidden_t": row, neuron) or of the row view ("row_view": step,
    neuron) makes it the explained cell (the charts component checked the click first). While picks
    are free (view_picked: in the row drawn, or any row while the charts hold every row's), it reruns
    only the view's controls (they show the pick) and the explanation; the charts follow in the
    browser. Else the pickers' part and the results part rerun."""
    row = page_state.get(VIEW_KEYS["row"])
    if chart_id.startswith("hidden_"):
        page_state.put(VIEW_KEYS["step"], int(chart_id.removeprefix("hidden_")))
        page_state.put(VIEW_KEYS["row"], y)
        page_state.put(VIEW_KEYS["neuron"], x)
    elif chart_id == "row_view":
        page_state.put(VIEW_KEYS["step"], y)
        page_state.put(VIEW_KEYS["neuron"], x)
    mem = _looked()
    if mem.view_free and (mem.rows_free or page_state.get(VIEW_KEYS["row"]) == row):
        _drawn_by_browser(page_state.CONTROLS_FRAGMENT, page_state.EXPLAIN_FRAGMENT, clicked=True)
    mem.view_clicked = True
    page_state.rerun_view()


def controls(
    view: tuple[int, int, int], ask: int, shows: tuple[str, ...], links: tuple[str, ...] = (), part: str = ""
) -> charts.Controls | None:
    """An element's link to the view controls the browser alone hears (Memory.in_browser), or None
    when there are none: the element is drawn for `view` and draws moves of the fields in `shows`
    alone; `ask`: its place among those that ask the server for a view they cannot show; `part`: the
    page's part it is in (the explanation's: view_moved)."""
    keys = page_state.memory().in_browser
    if not keys:
        return None
    fields = {name: key for name, key in VIEW_KEYS.items() if key in keys}
    labels = {name: PREFIXES[name] for name in fields if name in PREFIXES}
    return charts.Controls(fields, labels, view, shows, ask, functools.partial(view_moved, part), links)


def view_moved(part: str) -> None:
    """The trigger "view": an element asks for the view the controls show in the browser (their values
    came with this run). The reader looks: the charts hold every step from now on (_looked), and the
    controls show these values. The run is that element's part: the results part, or the explanation's
    while the browser draws the rest (Memory.view_free; a row too while Memory.rows_free), which then
    writes the address bar; else the results part reruns. A value out of range (crafted) reruns the
    pickers too: they put it back."""
    mem = page_state.memory()
    row_key = VIEW_KEYS["row"]
    row_moved = page_state.get(row_key) != mem.pickers_show.get(row_key)
    _looked()
    page_state.pickers_drawn()
    if not all(in_range(page_state.get(key), count) for key, count in mem.in_browser.items()):
        page_state.rerun_view()
    elif part == page_state.EXPLAIN_FRAGMENT:
        if mem.view_free and (mem.rows_free or not row_moved):
            mem.view_picked = True  # (the explanation's part writes the address bar)
        else:
            page_state.rerun_parts(page_state.RESULTS_FRAGMENT)


def _looked() -> page_state.Memory:
    """A pick: the reader looks, so the charts hold every step of this network from now on, and of the
    next network too (app/main.py frames_for)."""
    mem = page_state.memory()
    mem.frames_key, mem.looked = mem.drawn_key, True
    return mem


def _drawn_by_browser(*parts: str, clicked: bool = False) -> None:
    """Rerun only these parts of the page (Streamlit's rerun ends the callback here); a click's also
    has the controls write the pick again (view_controls). When a part is not on the page, nothing:
    the caller goes on."""
    mem = page_state.memory()
    mem.view_picked, mem.view_clicked = True, clicked
    page_state.rerun_parts(*parts)
    mem.view_picked = mem.view_clicked = False


def time_view(
    state: State,
    result: Result,
    step: int,
    row: int,
    neuron: int,
    style,
    clickable: bool,
    n_steps: int | None = None,
) -> None:
    """The blocks of time_blocks (what is stuck, whether values exploded, the charts) as one element
    drawn in the browser (app/components/charts/); then y_step's numbers as a table. With `n_steps`,
    every step's blocks (app/main.py follows decides): the element follows the page's view, so a
    step, neuron or row pick is drawn by the browser (the explanation announces it; the step slider's
    moves too, while they are the browser's). Drawn for one step, it asks for the slider's (first)."""
    hidden = result.trace.hidden
    _, B, _ = state.inputs.shape
    all_rows = n_steps is not None and rows_in_browser(n_steps, B)
    shows = ("step", "neuron", *(("row",) if all_rows else ())) if n_steps is not None else ()
    linked = controls((step, row, neuron), 0, shows) if clickable else None
    made_of = (*results.made_of(state, result), style, row, neuron)
    if n_steps is not None:
        steps = charts.Made(
            ("time frames", *made_of, n_steps, all_rows),
            lambda: every_step(state, result, n_steps, row, neuron, style, True, all_rows),
        )
        charts.frames(
            steps,
            "time_charts",
            state.seed,
            step,
            on_click=pick_clicked_cell,
            cell=(row, neuron),
            controls=linked,
        )
    else:
        blocks = charts.Made(
            ("time", *made_of, step, clickable),
            lambda: time_blocks(state, result, step, row, neuron, style, clickable),
        )
        click = pick_clicked_cell if clickable else None
        charts.charts(blocks, "time_charts", state.seed, click, controls=linked)
    render.numbers(  # (built when the table is opened)
        lambda: figures.hidden_heatmap(
            hidden[step],
            step,
            style,
            state.activation,
            figures.scale_for(state.activation, hidden[: step + 1]),
            colorbar=False,
        ),
        "Numbers of y_t, the current step (a table)",
        NUMBERS_TABLE,
    )


def time_frames(state: State, result: Result, n_steps: int, start: int, row: int, neuron: int, style) -> None:
    """A play of y0 … y_(n_steps-1) drawn by the browser: time_blocks for every step, sent at once."""
    steps = charts.Made(
        ("time play", *results.made_of(state, result), style, row, neuron, n_steps),
        lambda: every_step(state, result, n_steps, row, neuron, style, False, False),
    )
    cell = (row, neuron)
    charts.frames(steps, "time_charts", state.seed, start, player.PLAY_SECONDS, player.played, cell=cell)


def every_step(
    state: State, result: Result, n_steps: int, row: int, neuron: int, style, clickable: bool, all_rows: bool
) -> list[list[charts.Block]]:
    """time_blocks for steps 0 … n_steps-1 (frames), y_t's heatmap built once for every frame that
    shows it."""
    built: dict = {}
    return [
        time_blocks(state, result, t, row, neuron, style, clickable, built, all_rows) for t in range(n_steps)
    ]


def time_blocks(
    state: State,
    result: Result,
    step: int,
    row: int,
    neuron: int,
    style,
    clickable: bool,
    built=None,
    all_rows: bool = False,
) -> list[charts.Block]:
    """What is stuck by `step` and whether values exploded (words), the diagram at `step`, then y0 …
    y_step (a window of MAX_GRID; later steps are empty slots of the same size), then the picked row
    through time up to `step`. One color scale for the view, drawn once, from the values shown (relu:
    up to the largest value shown). `built`: heatmaps already built for other steps (frames), by
    (t, the scale's range): then the picked cell is outlined by the browser (y_step is marked
    `outlined`: the outline moves with the view without a new figure). `all_rows`: every row's row
    view (charts.Rows: the browser shows the view's row's)."""
    T, B, F = state.inputs.shape
    hidden = result.trace.hidden
    diagram = figures.unrolled_diagram(
        T, F, state.n_neurons, step, state.shared_output, state.activation, style
    )
    scale = figures.scale_for(state.activation, hidden[: step + 1])
    first = max(0, step + 1 - MAX_GRID)
    in_frames = built is not None
    built = {} if built is None else built
    if ("legend", scale.low, scale.high) not in built:  # (one per scale: every step's, tanh's)
        built["legend", scale.low, scale.high] = figures.colorbar_chart(scale, style)
    legend = built["legend", scale.low, scale.high]

    def heatmap(t: int, revealed: bool) -> figures.Chart:
        """y_t's heatmap (not revealed: zeros, for its size only) at this view's scale."""
        key = (t, revealed, scale.low, scale.high)
        if key not in built:
            values = hidden[t] if revealed else hidden[0] * 0
            built[key] = figures.hidden_heatmap(
                values, t, style, state.activation, scale, colorbar=False, click_layer=False
            )  # (drawn by the charts component: it hears clicks on the heatmap itself)
        return built[key]

    grid: list[charts.Plot | charts.Blank] = []
    for t in range(first, min(first + MAX_GRID, T)):
        if t > step:  # not revealed: an empty slot the size of its heatmap (y_t's values not sent)
            blank = heatmap(t, revealed=False)
            grid.append(charts.Blank(blank.width, blank.height, f"y{t}: not revealed yet"))
            continue
        fig = heatmap(t, revealed=True)
        if t == step and not in_frames:
            fig = figures.highlight_cell(fig, row, neuron)
        grid.append(charts.Plot(fig, f"hidden_{t}", clickable=clickable, outlined=t == step and in_frames))

    def row_view(r: int) -> charts.Plot:
        chart = figures.row_heatmap(
            hidden, r, style, state.activation, scale, upto=step, colorbar=False, click_layer=False
        )
        return charts.Plot(chart, "row_view", clickable=clickable, caption=True)

    rows: charts.Block = charts.Rows(tuple(map(row_view, range(B)))) if all_rows else row_view(row)
    fixed = figures.heatmap_width(state.n_neurons, style, False, state.inputs.shape[1]) is not None
    # grids that fit the narrowest column: side by side, wrapping; wider ones: one per line, full width
    heatmaps: list[charts.Block] = [charts.Row(tuple(grid))] if fixed else list(grid)
    return [
        stuck_text(result, state.activation, style is figures.SLIDE, step),
        *exploded(state, result, step),
        charts.Plot(diagram, "diagram"),
        charts.Plot(legend, "legend"),
        *heatmaps,
        rows,
    ]


def playing() -> bool:
    return player.playing()
