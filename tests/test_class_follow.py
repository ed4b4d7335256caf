"""A following student's page over Streamlit's protocol (a real server, a real redis-server), with the
browser's follow timer driven by hand: the teacher's change reaches the page by the server's push
alone (app/pushes.py), and a race can be played out exactly.

The race: the teacher's snapshot reruns the student's page, and the browser's follow timer fires
before that run's values arrive (or they never arrive, as at 200 students: docs/PERFORMANCE.md). Its
request carries every widget value the browser held, from before the snapshot. Such a value is not
the student's pick: the page keeps the teacher's, and sends it again. A student's own pick of the
view is theirs, though, and stays."""

from __future__ import annotations

import asyncio
import json
import re
import time

import pytest

from app.classroom.redis_store import RedisStore
from app.sections.classroom import BEHIND_S, MAX_RESENDS
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


def in_a_class(redis_url: str, tmp_path, scenario):
    """`scenario(server_url, code, teacher_key)` on a real server with a class in a real redis-server."""
    store = RedisStore(redis_url)
    try:
        code, key = store.create_class()
        with streamlit_server(tmp_path, env={"RNN_CLASS_STORE": redis_url}) as server:
            return asyncio.run(scenario(server.url, code, key))
    finally:
        store.close()


async def teacher_and_student(server_url: str, code: str, key: str) -> tuple[ClassClient, ClassClient]:
    """The teacher's page and a following student's, whose timers this test drives by hand."""
    teacher = ClassClient(server_url, f"class={code}&teacher={key}")
    student = ClassClient(server_url, f"class={code}")
    assert (await teacher.open()).ok and (await student.open()).ok
    for task in student.timers.values():  # this test is the student's timer
        task.cancel()
    return teacher, student


async def tick_until_sent_again(student: ClassClient, follow: str, count: int) -> int:
    """Timer ticks while the browser holds a stale value, until the page sets it (set_value drops the
    override); the count of finished runs after them."""
    deadline = time.monotonic() + WAIT_S
    while student.overrides and time.monotonic() < deadline:
        await tick(student, follow)
        count += 1
        assert await runs_finished(student, count)
    return count


def follows(student: ClassClient) -> bool:
    return any("your page follows the teacher's" in text for text in student.texts)


async def stale_follow_tick(
    server_url: str, code: str, key: str, widget: str, then: str
) -> tuple[str, str, str, bool]:
    teacher, student = await teacher_and_student(server_url, code, key)
    if widget == "view_row":  # the teacher picks row 2 (in the pickers' part): a new snapshot
        old, new = student.value("view_row"), student.widget("view_row").options[2]
        await teacher.edit_in_fragment({"view_row": new})
        stale = widget_state(string_value=old)
    else:  # the teacher changes the seed (the whole page)
        old, new = student.value("seed"), 1234
        assert (await teacher.run({"seed": new})).ok
        stale = widget_state(double_value=float(old))
    pushed = await wait_until(lambda: student.value(widget) == new, WAIT_S)
    assert pushed, "the server reruns a following page (app/pushes.py): it has no timer of its own here"
    assert (await student.run()).ok  # (the page as it is now, nothing in flight)
    before = explained(student)

    # the timer fires with the value the browser held before the snapshot's run: on its way, or lost
    student.override(widget, stale)
    follow = list(student.intervals)[-1]
    full_runs = student.full_runs
    await tick(student, follow)
    count = student.runs_finished + 1
    assert await runs_finished(student, count)
    resent_at_once = not student.overrides or student.full_runs > full_runs
    after = explained(student)
    if then == "ticks":  # the browser still shows it at the next ticks: the page sends it again
        await tick_until_sent_again(student, follow, count)
    else:  # a run of the whole page with it (a timer's request merged into one): not an edit either
        assert (await student.run()).ok
    sent_again = not student.overrides  # (the page set the widget's value: set_value)

    assert (await student.run()).ok  # the whole page, with the value the browser shows now
    held = explained(student)
    following = follows(student)
    for client in (teacher, student):
        await client.close()
    assert not resent_at_once, "a value on its way is not sent again (a page run per student)"
    assert sent_again, "the page sends the teacher's value again (after BEHIND_S of ticks, or in a whole run)"
    assert student.value(widget) == new
    return before, after, held, following


@pytest.mark.parametrize(("widget", "then"), [("view_row", "ticks"), ("seed", "ticks"), ("seed", "full run")])
def test_a_stale_value_in_the_follow_timers_request_is_sent_again_and_the_page_keeps_the_teachers(
    widget, then, redis_url, tmp_path
):
    before, after, held, following = in_a_class(
        redis_url, tmp_path, lambda url, code, key: stale_follow_tick(url, code, key, widget, then)
    )
    if widget == "view_row":
        assert re.fullmatch(r"y\d+\[2, \d+\]", before), before  # the teacher's row, explained
    assert after == before, "the stale value did not redraw the student's view"
    assert held == before, "the server kept the teacher's value"
    assert following, "a stale value is not the student's edit: the page still follows"


async def own_pick_then_tick(server_url: str, code: str, _key: str) -> tuple[str, str]:
    student = ClassClient(server_url, f"class={code}")
    assert (await student.open()).ok
    for task in student.timers.values():  # this test is the student's timer
        task.cancel()
    rows = student.widget("view_row").options
    count = student.runs_finished
    await student.edit_in_fragment({"view_row": rows[1]})  # the student's own pick: its part reruns
    assert await runs_finished(student, count + 1)
    count = student.runs_finished
    await tick(student, list(student.intervals)[-1])
    assert await runs_finished(student, count + 1)
    assert (await student.run()).ok  # the whole page, with what the browser shows
    shown = student.value("view_row")
    cell = explained(student)
    await student.close()
    return str(shown), cell


def test_a_following_students_own_view_pick_stays_when_the_follow_timer_ticks(redis_url, tmp_path):
    shown, cell = in_a_class(redis_url, tmp_path, own_pick_then_tick)
    assert re.fullmatch(r"y\d+\[1, \d+\]", cell), (shown, cell)


async def deaf_client_ticks(server_url: str, code: str, key: str) -> int:
    """A client that keeps sending an old seed whatever the page sets (as a browser would for a widget
    no longer on the page): the whole-page reruns the follow part asks for to send it again."""
    teacher, student = await teacher_and_student(server_url, code, key)
    old = student.value("seed")
    assert (await teacher.run({"seed": 1234})).ok
    assert await wait_until(lambda: student.value("seed") == 1234, WAIT_S)
    follow, full_runs, count = list(student.intervals)[-1], student.full_runs, student.runs_finished
    end = time.monotonic() + (MAX_RESENDS + 2) * BEHIND_S
    while time.monotonic() < end:  # (the rule is one of time: BEHIND_S between resends at most)
        student.override("seed", widget_state(double_value=float(old)))
        await tick(student, follow)
        count += 1
        assert await runs_finished(student, count)
    resends = student.full_runs - full_runs
    for client in (teacher, student):
        await client.close()
    return resends


def test_a_value_the_client_never_takes_is_sent_again_at_most_max_resends_times(redis_url, tmp_path):
    resends = in_a_class(redis_url, tmp_path, deaf_client_ticks)
    assert resends == MAX_RESENDS


async def caught_up_then_edit_back(server_url: str, code: str, key: str) -> tuple[bool, object]:
    """The browser held the old seed, got the teacher's again, showed it at a tick; then the student
    types the old seed back: their own edit (the page was following until then)."""
    teacher, student = await teacher_and_student(server_url, code, key)
    old = student.value("seed")
    assert (await teacher.run({"seed": 1234})).ok
    assert await wait_until(lambda: student.value("seed") == 1234, WAIT_S)
    student.override("seed", widget_state(double_value=float(old)))
    follow = list(student.intervals)[-1]
    count = await tick_until_sent_again(student, follow, student.runs_finished)
    assert not student.overrides and student.value("seed") == 1234
    await tick(student, follow)  # the browser shows the teacher's seed at a tick
    assert await runs_finished(student, count + 1)
    assert (await student.run({"seed": old})).ok  # the student's own edit, to the old value
    following = follows(student)
    shown = student.value("seed")
    for client in (teacher, student):
        await client.close()
    return following, shown == old


def test_once_the_browser_showed_the_teachers_value_the_old_one_typed_again_is_the_students(
    redis_url, tmp_path
):
    following, kept = in_a_class(redis_url, tmp_path, caught_up_then_edit_back)
    assert not following, "the student's edit detaches their page"
    assert kept, "the page keeps the student's seed"
