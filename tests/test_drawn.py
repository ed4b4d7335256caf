"""What a state writes, shared by every session of a server (app/shared_lru.py SharedLRUs): the
charts as sent (app/components/charts DRAWN) and the share links (app/session.py LINKS). A state drawn
again is sent as written the first time, without building its charts or encoding its links; another
state, view or style is built anew, and what is sent from memory equals what a fresh build sends."""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest

from app import session
from app.components import charts
from app.sections import hidden, outputs
from app.shared_lru import SharedLRU
from rnn_core.state import State, TrainingSettings, View, decode_link, encode_link
from tests.pagetools import browser_pick, charts_specs, new_app


def counting(monkeypatch, calls: dict[str, int], module, name: str) -> None:
    """Count the calls of module.name in calls[name]."""
    original = getattr(module, name)
    calls[name] = 0

    def counted(*args, **kwargs):
        calls[name] += 1
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, counted)


@pytest.fixture
def built(monkeypatch) -> dict[str, int]:
    """How many times the hidden states' and the outputs' charts were built (a fresh memory)."""
    calls: dict[str, int] = {}
    counting(monkeypatch, calls, hidden, "time_blocks")
    counting(monkeypatch, calls, outputs, "step_blocks")
    charts.DRAWN.clear()
    yield calls
    charts.DRAWN.clear()


def page(state: State | None = None) -> dict[str, dict]:
    """The specs of a new session's first page (a visitor opening the link of `state`)."""
    query = {"s": encode_link(state)} if state is not None else {}
    at = new_app(query).run()
    assert not at.exception, at.exception
    specs = charts_specs(at)
    assert {"time_charts", "output_charts"} <= set(specs), specs.keys()
    return specs


def test_a_second_visitor_of_a_state_gets_the_first_ones_charts_without_building_them(built):
    first = page()
    assert built["time_blocks"] > 0 and built["step_blocks"] > 0
    after_first = dict(built)
    second = page()
    assert built == after_first  # nothing built again
    assert second == first
    charts.DRAWN.clear()  # what memory sent equals a fresh build
    assert page() == first
    assert built["time_blocks"] > after_first["time_blocks"]


SEEN = State(view=View(step=1))  # drawn first; each case differs from it in one thing


@pytest.mark.parametrize(
    "other",
    [
        replace(SEEN, seed=7),
        replace(SEEN, activation="relu"),
        replace(SEEN, n_neurons=5),
        replace(SEEN, view=View(step=2)),
        replace(SEEN, view=View(step=1, row=2)),
        replace(SEEN, view=View(step=1, neuron=3)),
    ],
    ids=["seed", "activation", "neurons", "step", "row", "neuron"],
)
def test_another_state_or_view_is_built_anew_and_sent_as_a_fresh_build(built, other):
    seen = page(SEEN)
    before = dict(built)
    drawn = page(other)
    assert built["time_blocks"] > before["time_blocks"]
    assert drawn["time_charts"]["figures"] != seen["time_charts"]["figures"]
    charts.DRAWN.clear()
    assert page(other) == drawn


def test_the_outputs_slide_is_not_sent_the_pages_outputs(built):
    """The style (a slide's sizes) is part of the name: the Outputs slide, drawn by the page's own
    outputs section, builds its charts anew, at the slide's sizes."""
    on_page = page()["output_charts"]
    before = built["step_blocks"]
    at = new_app({"present": "1"})
    at.session_state["present_slide"] = "Outputs"
    at = at.run()
    assert not at.exception
    assert built["step_blocks"] > before
    assert charts_specs(at)["output_charts"] != on_page


def sized(value: bytes) -> int:
    return len(value)


def test_the_least_recently_used_go_first_once_past_the_bytes():
    lru: SharedLRU[bytes] = SharedLRU(10, sized)
    lru.put("a", b"aaaa")
    lru.put("b", b"bbbb")
    assert lru.get("a") == b"aaaa"  # now b is the least recently used
    lru.put("c", b"cccc")
    assert lru.get("b") is None
    assert lru.get("a") == b"aaaa" and lru.get("c") == b"cccc"
    assert lru.nbytes == 8 and len(lru) == 2


def test_the_newest_is_kept_even_alone_past_the_bytes_and_a_key_is_put_once():
    lru: SharedLRU[bytes] = SharedLRU(4, sized)
    lru.put("a", b"aa")
    lru.put("big", b"x" * 9)
    assert lru.get("a") is None and lru.get("big") == b"x" * 9 and lru.nbytes == 9
    lru.put("big", b"y")  # the first value stays (equal names are equal values)
    assert lru.get("big") == b"x" * 9 and lru.nbytes == 9


def test_sessions_putting_and_getting_at_once_keep_the_count_of_bytes_exact():
    lru: SharedLRU[bytes] = SharedLRU(1000, sized)
    start = threading.Barrier(8)

    def session(n: int) -> None:
        start.wait()
        for i in range(2000):
            lru.put((n, i % 97), bytes(1 + (n + i) % 13))
            lru.get((n, (i * 7) % 97))

    threads = [threading.Thread(target=session, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    kept = [lru.get(key) for key in [(n, i) for n in range(8) for i in range(97)]]
    assert lru.nbytes == sum(len(v) for v in kept if v is not None) <= 1000


def test_a_pick_another_session_made_is_sent_as_then_and_equals_a_fresh_build(monkeypatch):
    """The explanation of every step for the picked cell (the frames that follow the step slider):
    a second session picking the same cell builds none of it."""
    from app.sections import explain

    built: dict[str, int] = {}
    counting(monkeypatch, built, explain, "_blocks")
    counting(monkeypatch, built, explain, "explain_follow")
    charts.DRAWN.clear()

    def picked(neuron: int = 3) -> tuple[dict, int]:
        at = new_app().run()
        before = built["_blocks"]
        at = browser_pick(at, neuron=neuron)
        assert not at.exception
        return charts_specs(at)["explain_text"], built["_blocks"] - before

    first, built_first = picked()
    assert built["explain_follow"] > 0 and built_first > 0
    second, built_second = picked()
    assert built_second == 0 and second == first
    other, built_other = picked(neuron=5)  # another cell: built, and not the first's
    assert built_other > 0 and other["frames"] != first["frames"]
    charts.DRAWN.clear()
    assert picked() == (first, built_first)


def test_a_link_is_encoded_once_per_process_and_is_the_states_own(monkeypatch):
    calls: dict[str, int] = {}
    counting(monkeypatch, calls, session, "encode_links")
    session.LINKS.clear()
    state = State(seed=3, view=View(step=1, row=2))
    for _ in range(2):  # (a second session: from memory)
        assert session.link_token(state) == encode_link(state) and calls["encode_links"] == 1
    assert decode_link(session.link_token(state)).view == state.view
    steps = session.step_links(state, 3)
    assert steps == tuple(encode_link(replace(state, view=replace(state.view, step=t))) for t in range(3))
    assert session.step_links(state, 3) == steps and calls["encode_links"] == 2


PINNED = replace(SEEN, pinned=State())


@pytest.mark.parametrize(
    ("seen", "other"),
    [
        (SEEN, replace(SEEN, seed=7)),
        (SEEN, replace(SEEN, view=View(step=1, neuron=2))),
        (SEEN, replace(SEEN, training=TrainingSettings(lr=0.5))),
        (PINNED, replace(SEEN, pinned=State(seed=9))),
        (PINNED, replace(SEEN, pinned=replace(State(), training=TrainingSettings(optimizer="sgd")))),
    ],
    ids=["seed", "view", "training", "network A", "network A's training"],
)
def test_any_field_a_link_writes_gives_it_its_own_link(seen, other):
    session.LINKS.clear()
    assert session.link_token(seen) == encode_link(seen)
    assert session.link_token(other) == encode_link(other) != encode_link(seen)
    assert session.step_links(other, 3)[1] == encode_link(replace(other, view=replace(other.view, step=1)))
