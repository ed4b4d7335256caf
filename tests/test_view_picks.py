"""View picks drawn by the browser, over Streamlit's protocol on a real server: once the reader picks
something in a network, the page's charts hold every step (frames that follow the view). The view
controls (the step slider, the row and neuron pickers) are the browser's alone meanwhile (Streamlit's
on_change="ignore"): a move sends nothing; the charts show the new view, and the first element
drawn for a view it cannot show asks for it (the trigger "view"): a row or neuron pick, or a click on
a cell (which sets the controls in the browser), reruns only the explanation's part; the charts are
not sent again, the explanation element announces the view to them, the address bar follows. The
explanation holds every step and the share link of each, so a step move needs nothing; the charts
shown for one step ask for it (Session.move and Session.click model the browser;
tests/test_browser.py drives a real one). An edit after such a look sends every step of the new
network too; two edits without a look between, the current step alone (until the next pick). Any
pick while something else on the page shows the view (an open chapter that does, a table one click
away), or with more row views than the charts hold for a row, reruns the results part as before."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from app.components.charts import marked
from app.sections import hidden as hidden_section
from bench.stclient import RunResult, Session, widget_state
from rnn_core import reference
from rnn_core.state import State, decode_link
from tests.pagetools import decode_array, explained_cell, flat
from tests.serving import streamlit_server

RUN_TIMEOUT_S = 120


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with streamlit_server(tmp_path_factory.mktemp("picks")) as server:
        yield server


def explained(result: RunResult) -> str:
    """The explained cell ("y1[2, 5]": step 1, row 2, neuron 5), "" when the run drew none."""
    return explained_cell(result.texts)


def picks(server, act, chapters: tuple[str, ...] = (), look: bool = True):
    """Open the page (with `chapters` open), with `look` pick a neuron and back (the charts then hold
    every step), then act(session) -> anything."""

    async def go():
        async with Session(server.url, timeout=RUN_TIMEOUT_S) as session:
            await session.run()
            if chapters:
                await session.run({f"open_{name}": True for name in chapters})
            if look:
                await session.move({"view_neuron": "neuron 1"})
                await session.move({"view_neuron": "neuron 0"})
            return await act(session)

    return asyncio.run(go())


def sent(session: Session, key: str) -> dict:
    spec = session.component_spec(key)
    assert spec is not None, key
    return spec


def step_shown(spec: dict) -> int:
    """The step the time charts show: a spec with frames starts there; a single step's has y0 … y_t."""
    if "frames" in spec:
        return spec["start"]
    ids = [block["id"] for block in flat(spec["blocks"]) if block["kind"] == "chart"]
    return max(int(i.removeprefix("hidden_")) for i in ids if i.startswith("hidden_"))


def explained_at(spec: dict, step: int) -> str:
    """The cell the explanation element explains at `step` (of frames: that step's frame)."""
    blocks = spec["frames"][step] if "frames" in spec else spec["blocks"]
    return explained_cell([marked(block["parts"]) for block in blocks if block["kind"] == "text"])


def test_the_first_step_move_in_a_network_asks_for_every_step_the_next_send_nothing(server):
    async def act(session: Session):
        opened = sent(session, "time_charts")
        first = await session.move({"view_step": 1})
        after_first = sent(session, "time_charts"), sent(session, "explain_text")
        second = await session.move({"view_step": 0})
        after_second = sent(session, "time_charts"), sent(session, "explain_text")
        return opened, first, after_first, second, after_second

    opened, first, after_first, second, after_second = picks(server, act, look=False)
    assert "frames" not in opened and step_shown(opened) == 2  # the page opens with one step
    controls = opened["controls"]  # (drawn with the controls the browser hears)
    assert controls["keys"] == {"step": "view_step", "row": "view_row", "neuron": "view_neuron"}
    assert controls["ask"] == 0 and controls["shows"] == []
    assert controls["view"] == {"step": 2, "row": 0, "neuron": 0}
    charts, explanation = after_first
    assert first.ok and first.sent and charts["follow"] and charts["start"] == 1  # asked: every step
    assert explanation["follow"] and [explained_at(explanation, t) for t in range(3)] == [
        "y0[0, 0]",
        "y1[0, 0]",
        "y2[0, 0]",
    ]
    links = [decode_link(link).view for link in explanation["controls"]["links"]]  # each step's link
    assert [(v.step, v.row, v.neuron) for v in links] == [(0, 0, 0), (1, 0, 0), (2, 0, 0)]
    assert not second.sent and after_second == after_first  # drawn by the browser: nothing sent


def test_an_edit_after_a_look_sends_every_step_two_edits_without_one_the_current_step(server):
    """A reader who picked in a network gets every step of the next one with the edit, so that the
    first pick there is drawn by the browser too; one who edits again without looking, one step."""

    async def act(session: Session):
        looked = await session.run({"seed": 7})
        after_looked = sent(session, "time_charts")
        pick = await session.move({"view_neuron": "neuron 1"})
        after_pick = sent(session, "time_charts")
        again = await session.run({"seed": 8})
        after_again = sent(session, "time_charts")
        blind = await session.run({"seed": 9})
        after_blind = sent(session, "time_charts")
        return looked, after_looked, pick, after_pick, again, after_again, blind, after_blind

    looked, after_looked, pick, after_pick, again, after_again, blind, after_blind = picks(server, act)
    # each edit reruns the results part alone: not the pickers (a part of their own, which show the
    # picks made in the browser), not the page (~70 messages)
    assert [looked.n_messages, again.n_messages, blind.n_messages] == [21, 21, 21]
    assert looked.ok and after_looked["follow"] and len(after_looked["frames"]) == 3
    assert after_looked["start"] == 2 and explained(looked) == "y2[0, 0]"
    assert pick.ok and after_pick == after_looked and explained(pick) == "y2[0, 1]"  # drawn by the browser
    assert pick.n_messages < looked.n_messages
    assert again.ok and after_again["follow"] and after_again != after_looked  # looked in seed 7's
    assert after_again["start"] == 2
    assert blind.ok and "frames" not in after_blind and step_shown(after_blind) == 2  # no look in seed 8's


def test_a_step_move_sends_nothing_and_the_next_run_brings_it(server):
    """The slider's move stays in the browser; a neuron pick then (the explanation's part alone)
    explains the moved step's cell, announces that view and writes its link."""

    async def act(session: Session):
        before = sent(session, "time_charts"), sent(session, "explain_text")
        moved = await session.move({"view_step": 0})
        neuron = await session.move({"view_neuron": "neuron 4"})
        return (
            before,
            moved,
            neuron,
            sent(session, "time_charts"),
            sent(session, "explain_text"),
            session.query_string,
        )

    before, moved, neuron, charts, explanation, query = picks(server, act)
    assert before[0]["follow"] and len(before[0]["frames"]) == 3  # every step was there already
    assert before[1]["follow"] and before[1]["controls"]["shows"] == ["step"]  # every step's explanation
    assert not moved.sent
    assert neuron.ok, neuron.errors
    assert charts == before[0]  # not sent again: the browser shows what it holds
    assert explanation["view"] == {"step": 0, "row": 0, "neuron": 4} and explanation["start"] == 0
    assert explained(neuron) == "y0[0, 4]"
    assert decode_link(query.split("s=", 1)[1].split("&")[0]).view.step == 0  # the address bar
    assert neuron.n_messages < 15  # (the results part: ~25)


def test_a_neuron_pick_and_a_click_in_the_row_shown_are_drawn_by_the_browser(server):
    """The pickers are the browser's too: a neuron pick, and a click on a cell (which sets the slider
    and the pickers in the browser, app/static/charts.js), send one request, the explanation's trigger
    "view": one pass of its part, which explains the cell the controls show."""

    async def act(session: Session):
        before = sent(session, "time_charts")
        neuron = await session.move({"view_neuron": "neuron 5"})
        click = await session.move({"view_step": 1, "view_row": "row 0", "view_neuron": "neuron 3"})
        return before, neuron, click, sent(session, "time_charts"), sent(session, "explain_text")

    before, neuron, click, charts, explanation = picks(server, act)
    assert neuron.ok and click.ok, (neuron.errors, click.errors)
    assert explained(neuron) == "y2[0, 5]"
    assert charts == before  # neither sent the charts again
    assert explained(click) == "y1[0, 3]" and explanation["view"] == {"step": 1, "row": 0, "neuron": 3}
    assert explanation["controls"]["view"] == explanation["view"]  # (drawn for the view it explains)
    # one pass of the explanation's part: its element and the products table's (two passes, with the
    # pickers' part's, were 12 for a pick and 18 for a click)
    assert neuron.n_messages <= 8 and click.n_messages <= 8, (neuron.n_messages, click.n_messages)


def test_a_click_the_browser_could_not_set_goes_to_the_server_which_sets_the_controls(server):
    """A click whose controls did not take the cell in the browser comes as the trigger "click": the
    server sets the view and draws the controls showing it (and the explanation)."""

    async def act(session: Session):
        session.trigger("time_charts", "click", {"chart": "hidden_1", "x": 3, "y": 0})
        click = await session.run()
        shown = session.widget("view_step").value, session.widget("view_neuron").value
        return click, sent(session, "explain_text"), shown

    click, explanation, shown = picks(server, act)
    assert click.ok, click.errors
    assert explained(click) == "y1[0, 3]" and explanation["view"] == {"step": 1, "row": 0, "neuron": 3}
    assert shown == ([1.0], "neuron 3")  # the controls show the clicked cell


def row_views(spec: dict, step: int) -> list[dict]:
    """The row views (one per batch row) of a frame of the time charts' spec."""
    (rows,) = [block for block in spec["frames"][step] if block["kind"] == "rows"]
    return [spec["figures"][item["figure"]] for item in rows["items"]]


def test_a_row_pick_and_a_click_in_another_row_are_drawn_by_the_browser_too(server):
    """At the tutorial's size the charts hold every row's row view for every step (the reference's
    numbers): a row pick and a click in another row need nothing new either."""

    async def act(session: Session):
        before = sent(session, "time_charts")
        row = await session.move({"view_row": "row 2"})
        click = await session.move({"view_step": 1, "view_row": "row 1", "view_neuron": "neuron 4"})
        return before, row, click, sent(session, "time_charts"), sent(session, "explain_text")

    before, row, click, charts, explanation = picks(server, act)
    assert row.ok and click.ok, (row.errors, click.errors)
    hidden = reference.forward(State().inputs, State().resolved_weights()).hidden  # (T, B, N)
    for t in range(3):
        views = row_views(before, t)
        assert len(views) == 3  # one per row
        for r, figure in enumerate(views):
            np.testing.assert_allclose(
                decode_array(figure["data"][0]["z"]), hidden[: t + 1, r, :], atol=1e-12
            )
    assert explained(row) == "y2[2, 0]"
    assert charts == before  # neither sent the charts again
    assert explained(click) == "y1[1, 4]"
    assert explanation["view"] == {"step": 1, "row": 1, "neuron": 4}
    assert row.n_messages <= 8 and click.n_messages <= 8  # the explanation's part alone


def test_with_more_row_views_than_the_charts_hold_a_row_pick_redraws_them(server):
    """10 steps × 3 rows: past hidden.MAX_ROW_VIEWS the charts hold the picked row's view only; a row
    pick, or a click in another row, reruns the results part (the charts come again, for the row)."""
    assert not hidden_section.rows_in_browser(10, 3) and hidden_section.rows_in_browser(3, 3)

    async def act(session: Session):
        await session.run({"n_steps": 10})
        row = await session.move({"view_row": "row 2"})
        after_row = sent(session, "time_charts")
        click = await session.move({"view_step": 1, "view_row": "row 1", "view_neuron": "neuron 4"})
        return row, after_row, click, sent(session, "time_charts")

    row, after_row, click, after_click = picks(server, act)
    assert row.ok and click.ok
    assert after_row["cell"] == [2, 0] and after_row["start"] == 9  # the row views are the row's
    assert not any(block["kind"] == "rows" for block in after_row["frames"][9])
    assert after_click["cell"] == [1, 4] and after_click["start"] == 1
    assert explained(click) == "y1[1, 4]"


@pytest.mark.parametrize("chapter", ["compare", "share", "weights"])
def test_with_a_chapter_that_shows_the_view_a_step_pick_redraws_the_results(server, chapter):
    """Compare explains the view's cell in A and B, the share chapter writes the link, the weights
    outline the neuron's: while one is open, the results part follows every pick."""

    async def act(session: Session):
        moved = await session.move({"view_step": 1})
        result = await session.move({"view_neuron": "neuron 2"}) if chapter == "weights" else moved
        return moved, result, sent(session, "time_charts")

    moved, result, charts = picks(server, act, (chapter,))
    assert moved.sent and result.ok, result.errors  # the slider is the server's while it is open
    assert step_shown(charts) == 1 and "frames" not in charts  # sent again, at the new step


def test_with_a_table_open_a_step_pick_redraws_the_results(server):
    async def act(session: Session):
        await session.run({"numbers_popover": True})  # (the results part alone: the slider as it was)
        result = await session.move({"view_step": 0})  # one step shown: asked for
        again = await session.move({"view_step": 1})  # and the slider is the server's again
        return result, again, sent(session, "time_charts")

    result, again, charts = picks(server, act)
    assert result.ok and result.sent and again.ok and again.sent
    assert step_shown(charts) == 1 and "frames" not in charts


@pytest.mark.parametrize("value", [-3.0, 7.0, 2.0**40, 0.5])
def test_a_crafted_step_leaves_the_charts_and_the_explanation_on_one_step_in_range(server, value):
    """A step no slider can send (the hostile suite's cases, here for what the page then shows): the
    charts and the explanation agree on a step that exists."""

    async def act(session: Session):
        session.override("view_step", widget_state(double_array_value=[value]))
        result = await session.run()
        return result, sent(session, "time_charts"), sent(session, "explain_text")

    result, charts, explanation = picks(server, act)
    assert result.ok, result.errors
    assert explanation["view"]["step"] in range(3) and charts["follow"]
    assert explained(result) in ("", f"y{explanation['view']['step']}[0, 0]")


@pytest.mark.parametrize("cell", [{"y": 50, "x": 99}, {"y": 0, "x": 9999}, {"y": 2, "x": 8}])
def test_a_crafted_click_outside_the_network_leaves_one_cell_that_exists(server, cell):
    """A click a browser cannot make (a row or neuron past the network's, on a chart it drew): the
    charts, the explanation and the pickers agree on a cell that exists."""

    async def act(session: Session):
        session.trigger("time_charts", "click", {"chart": "hidden_1", **cell})
        result = await session.run()
        return result, sent(session, "explain_text"), session.widget("view_row").value

    result, explanation, row = picks(server, act)
    assert result.ok, result.errors
    view = explanation["view"]
    assert view["row"] in range(3) and view["neuron"] in range(8) and view["step"] in range(3)
    assert row == f"row {view['row']}"


def test_with_the_gradients_open_a_pick_reruns_the_page_they_follow(server):
    """The gradients chapter explains the picked row's and neuron's gradient, below the results part:
    while it is open, a row or neuron pick or a click reruns the whole page (it was left showing the
    previous pick's)."""

    async def act(session: Session):
        neuron = await session.move({"view_neuron": "neuron 5"})
        session.trigger("time_charts", "click", {"chart": "hidden_1", "x": 2, "y": 1})  # (the controls
        click = await session.run()  # are the server's: the browser sends the click)
        return neuron, click

    neuron, click = picks(server, act, ("gradients",))
    assert neuron.ok and click.ok, (neuron.errors, click.errors)
    assert any("Explain a gradient cell** (row 0, neuron 5" in text for text in neuron.texts)
    assert any("Explain a gradient cell** (row 1, neuron 2" in text for text in click.texts)


def test_past_the_size_budget_the_slider_is_the_servers_and_a_move_reruns_the_explanation(server):
    """The explanation element holds every step's explanation and link while the slider is the
    browser's, and sends them again with each row or neuron pick: at 30 steps (~60 KB) the slider
    stays the server's (main.browser_controls), and a move reruns the explanation as it did."""

    async def act(session: Session):
        tutorial = session.widget("view_step").ignore
        await session.run({"n_steps": 30})
        await session.move({"view_neuron": "neuron 2"})  # (a look: the charts hold every step)
        moved = await session.move({"view_step": 4})
        return tutorial, session.widget("view_step").ignore, moved, sent(session, "explain_text")

    tutorial, long_run, moved, explanation = picks(server, act)
    assert tutorial and not long_run
    assert moved.sent and moved.ok and explained(moved) == "y4[0, 2]"
    assert "frames" not in explanation and "view_step" not in explanation["controls"]["keys"].values()
