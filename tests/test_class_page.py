"""A class on the page, under AppTest: a teacher and three students (separate AppTests sharing one
store, as the sessions of one server share its `st.cache_resource` store): follow, detach, come back;
the shipped lesson's question answered by the class, pooled, revealed; the teacher link, a forged
key, the end and the expiry of a class; hostile links (a notice and the normal page, never an
exception)."""

from __future__ import annotations

import time

import numpy as np
import pytest

from app.classroom import format_code
from app.classroom.memory import MemoryStore
from app.sections import classroom
from tests.pagetools import charts, heatmap_z, messages, new_app


@pytest.fixture
def store(monkeypatch) -> MemoryStore:
    """One store for every AppTest of the test (the server's cache_resource store)."""
    store = MemoryStore()
    monkeypatch.setattr(classroom, "class_store", lambda: store)
    return store


def button(at, label: str):
    found = [b for b in at.button if b.label == label]
    assert found, f"no button {label!r}; have {[b.label for b in at.button]}"
    return found[0]


def labels(at) -> set[str]:
    return {b.label for b in at.button}


def seat(at):
    return at.session_state["page"].classroom


def page_text(at) -> str:
    """Every element of the page as protobuf text: what the browser receives."""
    out: list[str] = []

    def walk(node) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None:
            out.append(str(proto))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return "\n".join(out)


def open_class_box(at):
    """Open the sidebar's Class box: its buttons are drawn only then (classroom.sidebar_panel)."""
    assert not [b for b in at.sidebar.button if b.label == "Start a class"]  # (closed: not built)
    at.session_state[classroom.PANEL_KEY] = True
    return at.run()


def start_class():
    teacher = open_class_box(new_app().run())
    button(teacher, "Start a class").click().run()
    assert not teacher.exception
    code, key = seat(teacher).code, seat(teacher).teacher_key
    assert key and teacher.query_params["class"] == code and "teacher" not in teacher.query_params
    return teacher, code, key


def join(code: str):
    student = new_app({"class": code}).run()
    assert not student.exception
    assert any("You joined class" in m for m in messages(student, "info")), messages(student, "warning")
    return student


def class_bar(at) -> str:
    return next((m.value for m in at.markdown if m.value.startswith("**Class ")), "")


def test_students_follow_the_teacher_detach_and_come_back(store):
    teacher, code, key = start_class()
    assert teacher.get("image"), "the join QR code"
    assert any(format_code(code) in h.proto.body for h in teacher.get("html"))
    # the code as people type it: lower case, hyphen, O for 0 all work
    students = [join(c) for c in (code, format_code(code).lower(), code)]

    teacher.sidebar.number_input(key="seed").set_value(7).run()
    teacher.selectbox(key="view_row").set_value(2).run()  # (it reruns the results part: the class sees it)
    for s in students:
        s.run()
        assert s.session_state["seed"] == 7 and s.session_state["view_row"] == 2
        np.testing.assert_allclose(heatmap_z(charts(s)["hidden-y2"]), heatmap_z(charts(teacher)["hidden-y2"]))
        s.run()  # nothing changed: still following
        assert seat(s).following and "follows the teacher" in class_bar(s)

    teacher.run()  # (AppTest keeps only the last run's elements: the whole page again, for the sidebar)
    button(students[0], "Explore on my own").click().run()
    assert not seat(students[0]).following and "Back to the class" in labels(students[0])
    students[1].sidebar.number_input(key="seed").set_value(99).run()  # an edit of their own: detached
    assert not seat(students[1]).following
    teacher.sidebar.number_input(key="n_neurons").set_value(5).run()
    for s in students:
        s.run()
    assert [s.session_state["n_neurons"] for s in students] == [8, 8, 5]
    assert students[1].session_state["seed"] == 99

    teacher.run()
    assert any("3 students connected, 1 following" in m.value for m in teacher.markdown)
    button(students[0], "Back to the class").click().run()
    assert seat(students[0]).following
    assert (students[0].session_state["n_neurons"], students[0].session_state["seed"]) == (5, 7)

    for s in students:  # the teacher key never reaches a student
        assert key not in page_text(s) and key not in str(dict(s.query_params))
        assert {"End the class", "Reveal to the class"}.isdisjoint(labels(s))
    assert "Your teacher link (private)" in [e.label for e in teacher.sidebar.expander]


def answer_choice(at, choice: str) -> None:
    key = next(r.key for r in at.radio if r.key and r.key.startswith("lesson_choice_"))
    at.radio(key=key).set_value(choice).run()
    button(at, "Answer").click().run()
    assert not at.exception


def test_a_lesson_question_pooled_and_revealed(store):
    teacher, code, _ = start_class()
    button(teacher, "Start the lesson").click().run()
    question = next(s.question for s in classroom_lesson().steps if s.question)  # step 1: a choice
    students = [join(code) for _ in range(3)]
    for s in students:
        assert any(question.prompt in r.label for r in s.radio), "the teacher's lesson step is shown"
    teacher.run()
    assert any("0 answered" in m.value for m in teacher.markdown)

    picks = [question.choices[0], question.choices[0], question.choices[1]]
    for s, pick in zip(students, picks, strict=True):
        answer_choice(s, pick)
        assert any("The teacher reveals the answer" in m for m in messages(s, "info"))
        assert "class-choice" not in charts(s), "no pooled answers on a student's page before the reveal"
        assert not s.success and not s.warning, "nor the right answer"
    teacher.run()
    assert any("3 answered" in m.value for m in teacher.markdown)
    bars = charts(teacher)["class-choice"]["data"][0]
    assert list(bars["x"]) == list(question.choices)
    assert list(bars["y"])[:2] == [2, 1] and sum(bars["y"]) == 3
    qid = question.id.replace("/", ":")
    assert store.distribution(code, seat(teacher).teacher_key, qid).choices == {0: 2, 1: 1}

    button(teacher, "Reveal to the class").click().run()
    assert "Reveal to the class" not in labels(teacher)
    for s, pick in zip(students, picks, strict=True):
        s.run()
        shown = messages(s, "success") + messages(s, "warning")
        assert any(f"The answer: {question.answer}" in m for m in shown), shown
        assert "class-choice" in charts(s), "after the reveal: the class's pooled answers"
        assert pick in " ".join(shown)

    button(teacher, "Next →").click().run()
    for s in students:
        s.run()
        assert at_step(s) == at_step(teacher) == 1


def classroom_lesson():
    from rnn_core import lessons

    return lessons.load_shipped("tutorial")


def at_step(at) -> int:
    return at.session_state["page"].lesson.progress.index


def test_the_teacher_link_and_a_forged_key(store):
    teacher, code, key = start_class()
    teacher.sidebar.number_input(key="seed").set_value(11).run()

    again = new_app({"class": code, "teacher": key}).run()  # the teacher's link, on another device
    assert not again.exception and seat(again).teacher_key == key
    assert "teacher" not in again.query_params, "the key leaves the address bar at once"
    assert again.session_state["seed"] == 11, "where the class was"
    assert "End the class" in labels(again)

    forged = new_app({"class": code, "teacher": key[:-2] + "xx"}).run()
    assert not forged.exception
    assert any("not valid" in m for m in messages(forged, "warning"))
    assert seat(forged).teacher_key is None, "a student, with no teacher controls"
    assert {"End the class", "Reveal to the class"}.isdisjoint(labels(forged))
    assert "teacher" not in forged.query_params
    assert "students connected" not in page_text(forged)


def test_the_teacher_ends_the_class(store):
    teacher, code, _ = start_class()
    student = join(code)
    button(teacher, "End the class").click().run()
    assert seat(teacher) is None and "class" not in teacher.query_params
    student.run()
    assert seat(student) is None and any("has ended" in m for m in messages(student, "info"))
    assert "hidden-y2" in charts(student), "the normal page"
    late = new_app({"class": code}).run()
    assert any("No class with the code" in m for m in messages(late, "warning"))
    assert seat(late) is None and not late.exception


def test_an_expired_class(monkeypatch):
    store = MemoryStore(ttl=1.0)
    monkeypatch.setattr(classroom, "class_store", lambda: store)
    teacher, code, _ = start_class()
    student = join(code)
    time.sleep(1.1)
    student.run()
    assert seat(student) is None and any("has ended" in m for m in messages(student, "info"))
    teacher.run()
    assert seat(teacher) is None and not teacher.exception
    assert any("has ended" in m for m in messages(teacher, "info"))
    late = new_app({"class": code}).run()
    assert any("No class with the code" in m for m in messages(late, "warning"))


@pytest.mark.parametrize(
    "query, says",
    [
        ({"class": "junk!"}, "is not a class code"),
        ({"class": "x" * 100_000}, "is not a class code"),
        ({"class": "<img src=x onerror=alert(1)>**bold**"}, "is not a class code"),
        ({"class": "ABCD-EFGH0"}, "No class with the code ABCDEFGH0"),
        ({"class": "ABCD-EFGH0", "teacher": "forged"}, "No class with the code"),
        ({"teacher": "forged"}, "teacher key without a class code"),
    ],
)
def test_hostile_class_links_get_a_notice_and_the_normal_page(store, query, says):
    at = new_app(query).run()
    assert not at.exception
    warnings = messages(at, "warning")
    assert any(says in m for m in warnings), warnings
    assert all(len(m) < 400 for m in warnings), "a huge value is not echoed whole"
    assert seat(at) is None and "teacher" not in at.query_params and "class" not in at.query_params
    assert "hidden-y2" in charts(at)
    assert not any("onerror" in h.proto.body for h in at.get("html"))


def test_the_qr_code_is_a_png_of_the_join_link():
    png = classroom.qr_png("http://example.test/?class=ABCDEFGH0")
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) < 10_000


def test_presentation_mode_shows_the_join_code_large_and_no_key(store):
    teacher = open_class_box(new_app({"present": "1"}).run())
    button(teacher, "Start a class").click().run()
    code, key = seat(teacher).code, seat(teacher).teacher_key
    banner = next(h.proto.body for h in teacher.get("html") if "Join the class" in h.proto.body)
    assert "font-size:88px" in banner and format_code(code) in banner and key not in banner
    assert teacher.get("image"), "the QR code"
    teacher.sidebar.toggle(key=classroom.SHOW_JOIN_KEY).set_value(False).run()
    assert not any("Join the class" in h.proto.body for h in teacher.get("html"))


def test_the_teachers_charts_for_each_kind_of_question():
    from app.classroom import Distribution

    choice = classroom.distribution_figure(
        Distribution("q", 3, choices={0: 2, 2: 1}), "choice", ["a", "b", "c"]
    )
    assert list(choice.data[0].x) == ["a", "b", "c"] and list(choice.data[0].y) == [2, 0, 1]
    numbers = classroom.distribution_figure(Distribution("q", 3, numbers=[-0.5, 0.1, 0.1]), "number")
    assert numbers.data[0].type == "histogram" and list(numbers.data[0].x) == [-0.5, 0.1, 0.1]
    cells = classroom.distribution_figure(
        Distribution("q", 3, cells={(0, 1): 2, (2, 7): 1}), "cell", rows=3, neurons=8
    )
    z = np.asarray(cells.data[0].z)
    assert z.shape == (3, 8) and z[0, 1] == 2 and z[2, 7] == 1 and z.sum() == 3


def test_lesson_answers_as_the_class_store_pools_them():
    from app.sections import lesson

    steps = {s.question.kind: s.question for s in classroom_lesson().steps if s.question}
    first = steps["choice"].choices[1]
    assert lesson._pooled(steps["choice"], first) == {"choice": 1}
    assert lesson._pooled(steps["number"], 0.25) == {"number": 0.25}
    assert lesson._pooled(steps["cell"], (2, 1, 5)) == {"cell": [1, 5]}
    assert classroom._qid("tutorial/the-network") == "tutorial:the-network"


def test_the_class_box_is_built_when_opened_and_keeps_a_typed_code(store):
    at = new_app().run()
    assert [e.label for e in at.sidebar.expander if e.label == "Class"]  # there, closed, empty
    at = open_class_box(at)
    at.sidebar.text_input(key=classroom.JOIN_CODE_KEY).input("abcd-efghj").run()
    at.session_state[classroom.PANEL_KEY] = False
    at.run()
    assert not [b for b in at.sidebar.button if b.label == "Join"]
    at.session_state[classroom.PANEL_KEY] = True
    at.run()
    assert at.sidebar.text_input(key=classroom.JOIN_CODE_KEY).value == "abcd-efghj"
