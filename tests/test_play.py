"""Play drawn by the browser (app/components/player.py, charts.frames), over Streamlit's protocol on
a real server: pressing Play is one run that sends every step's charts (a figure repeated across
steps once) and sets no server timer; the browser's "played" ends it at the last step; Pause stops it
where its clock is; a play too big to send at once ticks on the server as before."""

from __future__ import annotations

import asyncio
import re

import numpy as np
import pytest

from app.components import player
from bench.stclient import RunResult, Session, Status
from rnn_core import reference
from rnn_core.state import State, encode_link
from tests.pagetools import decode_array
from tests.serving import streamlit_server

RUN_TIMEOUT_S = 120
FRAGMENT_DONE = Status.FINISHED_FRAGMENT_RUN_SUCCESSFULLY


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with streamlit_server(tmp_path_factory.mktemp("play")) as server:
        yield server


def explained(result: RunResult) -> str:
    found = [m.group(1) for body in result.texts for m in re.finditer(r"\*\*Hidden state\*\* (y\d+)\[", body)]
    return found[-1] if found else ""


def chart_ids(blocks: list[dict]) -> list[str]:
    ids: list[str] = []
    for block in blocks:
        if block["kind"] == "group":
            ids += chart_ids(block["items"])
        elif block["kind"] == "chart":
            ids.append(block["id"])
    return ids


def figure_of(spec: dict, blocks: list[dict], chart_id: str) -> dict:
    for block in blocks:
        if block["kind"] == "group":
            try:
                return figure_of(spec, block["items"], chart_id)
            except KeyError:
                continue
        elif block["kind"] == "chart" and block["id"] == chart_id:
            return spec["figures"][block["figure"]]
    raise KeyError(chart_id)


def scenario(server, steps):
    async def go():
        async with Session(server.url, timeout=RUN_TIMEOUT_S) as session:
            await session.run()
            return [await step(session) for step in steps]

    return asyncio.run(go())


def test_play_is_one_run_that_sends_every_step(server):
    async def press_play(session: Session):
        session.press("play")
        result = await session.run()
        specs = [session.component_spec(key) for key in ("time_charts", "output_charts", "explain_text")]
        return result, *specs

    async def played(session: Session):
        session.trigger("time_charts", "played", 2)
        result = await session.run()
        return result, session.component_spec("time_charts"), session.widget("view_step").value

    (playing, frames, out_frames, explained_frames), (after, spec, step) = scenario(
        server, [press_play, played]
    )
    assert playing.ok, playing.errors
    assert "auto_rerun" not in playing.bytes_by_kind  # no server timer: the browser's clock plays
    assert playing.status == after.status == FRAGMENT_DONE  # Play and its end rerun only the results
    assert len(frames["frames"]) == 3 and frames["start"] == 0 and frames["report"] is True
    assert frames["period_ms"] == round(player.PLAY_SECONDS * 1000)
    shown = [[i for i in chart_ids(f) if i.startswith("hidden_")] for f in frames["frames"]]
    assert shown == [["hidden_0"], ["hidden_0", "hidden_1"], ["hidden_0", "hidden_1", "hidden_2"]]
    blocks = sum(len(chart_ids(f)) for f in frames["frames"])
    assert len(frames["figures"]) < blocks  # y0 unoutlined in frames 1 and 2: sent once
    hidden = reference.forward(State().inputs, State().resolved_weights()).hidden
    for t in range(3):
        z = decode_array(figure_of(frames, frames["frames"][t], f"hidden_{t}")["data"][0]["z"])
        np.testing.assert_allclose(z, hidden[t], atol=1e-12)
    assert len(out_frames["frames"]) == 3 and out_frames["report"] is False  # (one element says "played")
    saturated = [int((np.abs(hidden[: t + 1]) > 0.95).sum()) for t in range(3)]  # tanh's stuck units
    words = [[b for b in frame if b["kind"] == "text"] for frame in frames["frames"]]
    assert [w[0]["parts"][0][0] for w in words] == [
        f"{n} of {24 * (t + 1)} hidden values are saturated" for t, n in enumerate(saturated)
    ]
    assert explained(playing) == "y0"  # the explanation plays along: y0[0, 0], y1[0, 0], y2[0, 0]
    for t, frame in enumerate(explained_frames["frames"]):
        assert frame[0] == {"kind": "heading", "text": f"Explain a cell: y{t}[row 0, neuron 0]"}
        (line,) = [b["parts"] for b in frame if b["kind"] == "text" and b["parts"][0][0] == "Hidden state"]
        assert float(line[2][0]) == pytest.approx(hidden[t, 0, 0], abs=5e-5)  # printed to 4 decimals
    assert any("Playing y0 … y2" in text for text in playing.texts)

    assert after.ok and stopped_at(spec) == 2 and "hidden_2" in chart_ids(spec["frames"][2])
    assert explained(after) == "y2" and step == [2.0]


def stopped_at(spec: dict) -> int | None:
    """The step the page's charts show when no play runs (they follow the view: every step, no clock),
    None for a play."""
    return None if "period_ms" in spec else spec["start"] if spec.get("follow") else None


def test_pause_stops_the_play_where_its_clock_is(server):
    async def press(session: Session, key: str):
        session.press(key)
        return await session.run()

    async def press_play(session):
        return await press(session, "play")

    async def press_pause(session):
        result = await press(session, "pause")
        return result, session.component_spec("time_charts"), session.widget("view_step").value

    playing, (paused, spec, step) = scenario(server, [press_play, press_pause])
    assert playing.ok and paused.ok, paused.errors
    stopped = int(step[0])
    assert stopped_at(spec) == stopped  # stopped: the page shows that step, no clock
    assert stopped < 2  # (pressed well within the play's 3 × 1.2 s)
    assert explained(paused) == f"y{stopped}"
    shown = chart_ids(spec["frames"][stopped])
    assert f"hidden_{stopped}" in shown and f"hidden_{stopped + 1}" not in shown


def test_a_play_too_big_to_send_ticks_on_the_server(server):
    assert player.in_browser(3, 4, 8) and not player.in_browser(50, 4, 64)

    async def big_play(session: Session):
        await session.run({"n_steps": 50, "n_neurons": 64})
        session.press("play")
        result = await session.run()
        return result, session.component_spec("time_charts")

    ((playing, spec),) = scenario(server, [big_play])
    assert playing.ok, playing.errors
    assert "auto_rerun" in playing.bytes_by_kind  # the fragment on a timer, as before
    assert spec is None or "frames" not in spec


def test_a_slide_plays_in_the_browser_and_says_when_values_exploded(server):
    """Presentation mode: Play on a chart slide sends every step's slide at once (no server timer);
    a step whose values exploded (relu, past 1e6: counted here from the numpy reference) carries the
    warning, the steps before it do not; "played" shows the last step again."""
    inputs = np.random.default_rng(3).uniform(-2, 2, (10, 2, 2)).round(2)
    state = State(inputs=inputs, activation="relu", weight_scale=4.0)
    hidden = reference.forward(state.inputs, state.resolved_weights(), "relu").hidden
    exploded = (np.abs(hidden) > 1e6).reshape(len(hidden), -1).any(axis=1)
    first = int(np.argmax(exploded))
    assert exploded.any() and 0 < first < 9  # (the data was chosen so)

    async def play(session: Session):
        await session.run()
        session.press("play")
        result = await session.run()
        return result, session.component_spec("slide_charts")

    async def played(session: Session):
        session.trigger("slide_charts", "played", 9)
        result = await session.run()
        return result, session.component_spec("slide_charts"), session.widget("view_step").value

    async def go():
        query = f"s={encode_link(state)}&present=1"
        async with Session(server.url, query_string=query, timeout=RUN_TIMEOUT_S) as session:
            return await play(session), await played(session)

    (playing, frames), (after, spec, step) = asyncio.run(go())
    assert playing.ok, playing.errors
    assert "auto_rerun" not in playing.bytes_by_kind and len(frames["frames"]) == 10
    notes = [any(block["kind"] == "note" for block in frame) for frame in frames["frames"]]
    assert notes == [t >= first for t in range(10)]
    assert all(chart_ids(frame) == ["slide_hidden"] for frame in frames["frames"])
    assert after.ok and "frames" not in spec and step == [9.0]
