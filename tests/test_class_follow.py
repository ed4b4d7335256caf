"""A following student's page over Streamlit's protocol (a real server, a real redis-server), with the
browser's follow timer driven by hand: the teacher's change reaches the page by the server's push
alone (app/pushes.py), and a race can be played out exactly.

The race: the teacher's snapshot reruns the student's page, and the browser's follow timer fires
before that run's values arrive. Its request carries every widget value the browser held, from before
the snapshot. Such a value is not the student's pick: the page keeps the teacher's view."""

from __future__ import annotations

import asyncio
import json
import re

import pytest

from app.classroom.redis_store import RedisStore
from bench.class_follow import ClassClient, wait_until
from bench.stclient import _drawn_words, widget_state
from tests.pagetools import explained_cell
from tests.serving import streamlit_server

pytestmark = pytest.mark.slow

WAIT_S = 60.0


async def runs_finished(client: ClassClient, count: int) -> bool:
    return await wait_until(lambda: client.runs_finished >= count, WAIT_S)


async def tick(client: ClassClient, fragment_id: str) -> None:
    """What the browser's timer sends for a fragment: a rerun of it, with every widget value it holds."""
    msg = client.rerun_message(fragment_id)
    msg.rerun_script.is_auto_rerun = True
    await client.ws.send(msg.SerializeToString())


def explained(client: ClassClient) -> str:
    """The cell the page explains, as the browser holds the page's elements ("y2[2, 0]")."""
    words = [
        word
        for msg in client.elements.values()
        if msg.delta.new_element.WhichOneof("type") == "bidi_component"
        for word in _drawn_words(json.loads(msg.delta.new_element.bidi_component.json))
    ]
    return explained_cell(words)


async def stale_follow_tick(server_url: str, code: str, key: str) -> tuple[str, str, str]:
    teacher = ClassClient(server_url, f"class={code}&teacher={key}")
    student = ClassClient(server_url, f"class={code}")
    assert (await teacher.open()).ok and (await student.open()).ok
    for task in student.timers.values():  # this test is the student's timer
        task.cancel()
    rows = student.widget("view_row").options

    await teacher.edit_in_fragment({"view_row": rows[2]})  # the teacher picks row 2: a new snapshot
    pushed = await wait_until(lambda: student.value("view_row") == rows[2], WAIT_S)
    assert pushed, "the server reruns a following page (app/pushes.py): it has no timer of its own here"
    assert (await student.run()).ok  # (the page as it is now, nothing in flight)
    before = explained(student)

    # the timer fires with the row the browser held before the snapshot's run: row 0
    student.override("view_row", widget_state(string_value=rows[0]))
    count = student.runs_finished
    await tick(student, list(student.intervals)[-1])
    assert await runs_finished(student, count + 1)
    after = explained(student)

    student.overrides.clear()  # the whole page again, with the row the browser shows
    assert (await student.run()).ok
    held = explained(student)
    for client in (teacher, student):
        await client.close()
    return before, after, held


def test_a_stale_value_in_the_follow_timers_request_does_not_move_the_students_view(redis_url, tmp_path):
    store = RedisStore(redis_url)
    try:
        code, key = store.create_class()
        with streamlit_server(tmp_path, env={"RNN_CLASS_STORE": redis_url}) as server:
            before, after, held = asyncio.run(stale_follow_tick(server.url, code, key))
    finally:
        store.close()
    assert re.fullmatch(r"y\d+\[2, \d+\]", before), before  # the teacher's row, explained
    assert after == before, "the stale row did not redraw the student's view"
    assert held == before, "the server kept the teacher's row"
