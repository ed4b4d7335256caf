"""app/pushes.py's watcher, alone: which pages a class's change is pushed to, and when (its thread is
not started here: each test calls one round). The pushes themselves, on a real server:
tests/test_class_follow.py."""

from __future__ import annotations

import time

import pytest

from app import pushes
from app.classroom import ClassNotFound


def page(code: str, fragment_id: str | None = "follow", seen: float | None = None) -> pushes._Page:
    return pushes._Page(code, fragment_id, f"class={code}", "", time.monotonic() if seen is None else seen)


@pytest.fixture
def watched():
    versions = {"AAAA": 1, "BBBB": 7}
    pushed: list[list[str]] = []

    def version(code: str) -> int:
        if code not in versions:
            raise ClassNotFound(code)
        return versions[code]

    watcher = pushes._Watcher(version, lambda found: pushed.append(sorted(sid for sid, _ in found)))
    return watcher, versions, pushed


def test_a_change_is_pushed_to_the_pages_of_that_class_once(watched):
    watcher, versions, pushed = watched
    watcher.watch("s1", page("AAAA"), 1)
    watcher.watch("s2", page("AAAA"), 1)
    watcher.watch("s3", page("BBBB"), 7)
    watcher._once()
    assert pushed == []  # nothing changed
    versions["AAAA"] = 2
    watcher._once()
    watcher._once()
    assert pushed == [["s1", "s2"]]  # once, to that class's pages only


def test_a_page_that_joined_before_the_last_change_gets_it(watched):
    watcher, versions, pushed = watched
    versions["AAAA"] = 3
    watcher.watch("s1", page("AAAA"), 2)  # its page holds version 2
    watcher._once()
    assert pushed == [["s1"]]


def test_pages_gone_quiet_and_ended_classes_are_dropped(watched, monkeypatch):
    watcher, versions, pushed = watched
    monkeypatch.setattr(pushes, "_pushed", {"old", "other"})  # "old" was pushed to, then went quiet
    watcher.watch("old", page("AAAA", seen=time.monotonic() - pushes.STALE_S - 1), 1)
    watcher.watch("gone", page("CCCC"), 1)  # a class that ended: its version read fails
    watcher._once()
    versions["AAAA"] = 2
    watcher._once()
    assert pushed == [] and "old" not in watcher.pages
    assert "AAAA" not in watcher.versions  # (no page follows it any more)
    assert pushes._pushed == {"other"}  # (its mark of a push not yet run goes with it)


def test_without_a_streamlit_server_there_are_no_pushes():
    assert not pushes.live()  # (pytest: no runtime; the pages poll on their timers)
