"""A lesson on the page, under AppTest: the shipped lesson walked start to end, predict-then-reveal (the
hidden part is not on the page before the answer and is after), navigation, explore freely, the Code
panel, and hostile links (a notice and the normal page, never an exception)."""

from __future__ import annotations

import time

import numpy as np
import pytest

from app.sections.crosscheck import verdicts
from app.sections.hidden import MAX_GRID
from rnn_core import lessons
from rnn_core.lessons import SECTIONS, Step
from tests.pagetools import blank_slots, charts, decode_array, drawn_texts, messages, new_app, open_chapters

TUTORIAL = lessons.load_shipped("tutorial")


def button(at, label: str):
    found = [b for b in at.button if b.label == label]
    assert found, f"no button {label!r}; have {[b.label for b in at.button]}"
    return found[0]


def hidden_names(at) -> list[str]:
    return sorted(
        (n for n in charts(at) if n.startswith("hidden-")), key=lambda n: int(n.removeprefix("hidden-y"))
    )


def explained(at) -> bool:
    return any(text.startswith("Explain a cell") for text in drawn_texts(at))


def expect_page(at, step: Step, answered: bool) -> None:
    """The page shows exactly what the step allows: its sections, and the steps the player may reveal."""
    assert not at.exception
    T = step.state.inputs.shape[0]

    def shown(section: str) -> bool:
        return section in step.show and (answered or section not in step.hide_until_answered)

    limit = T if answered or step.show_upto_step is None else step.show_upto_step + 1
    if answered and T > 1:  # every step can be revealed now; the reveal explains the question's cell
        limit = at.slider(key="view_step").value + 1
        assert at.slider(key="view_step").proto.max == T - 1
    first = max(0, limit - MAX_GRID)  # (the heatmaps are a window of MAX_GRID ending at the current step)
    expected = [f"hidden-y{t}" for t in range(first, limit)] if shown("hidden") else []
    assert hidden_names(at) == expected, step.id
    if limit < T and shown("hidden"):  # the later heatmaps are blank slots
        assert f"y{limit}: not revealed yet" in blank_slots(at), step.id
    assert ("outputs" in charts(at)) == shown("outputs"), step.id
    assert explained(at) == shown("explain"), step.id
    crosscheck_shown = any(verdicts(m.value) for m in at.markdown)  # the cross-check is one table
    assert crosscheck_shown == shown("crosscheck"), step.id
    headings = [h.value for h in at.subheader]
    assert ("Code: this network as a script" in headings) == shown("code"), step.id
    assert ("Share and export" in headings) == shown("share"), step.id
    assert ("Training" in headings) == shown("training"), step.id  # (a step's sections: open, no chapters)
    assert ("Gradients through time" in headings) == shown("gradients"), step.id
    assert ("loss-curve" in charts(at)) == shown("training"), step.id
    assert ("grad-dl-dy" in charts(at)) == shown("gradients"), step.id


def answer(at, step: Step, right: bool):
    """Answer the step's question, right or wrong, as a student would."""
    q = step.question
    key = f"lesson_{q.kind}_{step.id}"
    if q.kind == "choice":
        wrong = next(c for c in q.choices if c != q.answer)
        at.radio(key=key).set_value(q.answer if right else wrong).run()
        return button(at, "Answer").click().run()
    if q.kind == "number":
        at.number_input(key=key).set_value(q.answer if right else q.answer + 10 * q.tolerance + 1).run()
        return button(at, "Answer").click().run()
    cell = q.answer[0]  # pick the cell with the slider and pickers (a real click: the browser test)
    row = cell.row if right else (cell.row + 1) % step.state.inputs.shape[1]
    at.slider(key="view_step").set_value(cell.step).run()
    at.selectbox(key="view_row").set_value(row).run()
    at.selectbox(key="view_neuron").set_value(cell.neuron).run()
    return button(at, "Answer with the picked cell").click().run()


def test_walk_the_tutorial_lesson_answering_right_and_wrong():
    at = new_app({"lesson": "tutorial"}).run()
    assert not at.exception and not messages(at, "warning")
    count = len(TUTORIAL.steps)
    assert count >= 8
    for index, step in enumerate(TUTORIAL.steps):
        assert at.query_params["lesson"] == "tutorial" and at.query_params["step"] == str(index + 1)
        assert f"step {index + 1} of {count}" in at.get("progress")[0].proto.text
        assert any(m.value == f"### {step.title}" for m in at.markdown)
        assert at.session_state["n_neurons"] == step.state.n_neurons
        expect_page(at, step, answered=False)
        if step.question is not None:
            right = index % 2 == 0
            at = answer(at, step, right)
            assert not at.exception
            if right:
                assert any(s.value.startswith("Right") for s in at.success), step.id
            else:
                assert any(w.value.startswith("Not quite") for w in at.warning), step.id
            assert any(
                step.question.answer_text() in m for m in messages(at, "success") + messages(at, "warning")
            )
            expect_page(at, step, answered=True)
            if step.question.kind == "cell":  # the picked cell stays explained after the reveal
                cell = step.question.answer[0]
                assert f"Explain a cell: y{cell.step}[row" in " ".join(drawn_texts(at))
        if index < count - 1:
            at = button(at, "Next →").click().run()
    assert button(at, "Next →").disabled


def test_a_question_can_be_skipped_and_the_hidden_part_appears():
    at = new_app({"lesson": "tutorial", "step": "5"}).run()  # predict-y1: y1 and y2 blank until answered
    step = TUTORIAL.steps[4]
    assert step.id == "predict-y1"
    assert hidden_names(at) == ["hidden-y0"]
    at = button(at, "Skip: show me").click().run()
    assert any("Skipped" in m.value for m in at.info)
    assert hidden_names(at) == ["hidden-y0", "hidden-y1"]  # y1 appears, its cell explained
    assert "Explain a cell: y1[row 0, neuron 3]" in drawn_texts(at)
    assert at.slider(key="view_step").proto.max == 2  # and y2 is one step further


def test_the_number_answer_is_the_step_trace_value():
    at = new_app({"lesson": "tutorial", "step": "2"}).run()
    step = TUTORIAL.steps[1]
    assert charts(at).keys().isdisjoint({"hidden-y0", "outputs"})
    at.number_input(key="lesson_number_one-cell-of-y0").set_value(round(step.question.answer, 2)).run()
    at = button(at, "Answer").click().run()
    assert at.success and not at.warning
    z = charts(at)["hidden-y0"]["data"][0]["z"]

    assert abs(decode_array(z)[0, 3] - step.question.answer) < 1e-9  # graded on the very number shown


def test_previous_next_and_the_step_link():
    at = new_app({"lesson": "tutorial", "step": "3"}).run()
    assert button(at, "← Previous").disabled is False
    at = button(at, "← Previous").click().run()
    assert at.query_params["step"] == "2"
    link = at.code[0].value
    assert link.endswith("?lesson=tutorial&step=2")
    at = button(at, "Next →").click().run()
    assert at.query_params["step"] == "3"
    assert hidden_names(at) == ["hidden-y0"]  # no-memory: 10 steps, y1 … y9 blank


def test_explore_freely_then_back_to_the_lesson():
    at = new_app({"lesson": "tutorial", "step": "3"}).run()
    assert at.session_state["n_steps"] == 10
    at = button(at, "Explore freely").click().run()
    assert hidden_names(at) == [f"hidden-y{t}" for t in range(10)]  # nothing hidden while exploring
    at.sidebar.number_input(key="n_neurons").set_value(4).run()
    assert not at.exception
    assert any("waits at step 3" in m.value for m in at.markdown)
    assert at.query_params["step"] == "3"
    at = button(at, "Back to the lesson").click().run()
    assert at.session_state["n_neurons"] == 8  # the step's network again
    assert hidden_names(at) == ["hidden-y0"]


def test_the_sidebar_names_the_lesson_in_full_with_what_it_is_about():
    """The select box cuts a long title ("The tutorial's RNN, step by" in a 1366 px sidebar): the
    caption under it gives the whole title, the lesson's description and its number of steps."""
    at = new_app().run()
    lesson = lessons.load_shipped("tutorial")
    shown = [c.value.replace("\\", "") for c in at.sidebar.caption]  # (as text: its specials escaped)
    (caption,) = [text for text in shown if "The tutorial's RNN" in text]
    assert caption.startswith("**The tutorial's RNN, step by step**: Three time steps X0, X1, X2")
    assert caption.endswith(f"({len(lesson.steps)} steps)")


def test_end_the_lesson_and_start_one_from_the_sidebar():
    at = new_app({"lesson": "tutorial", "step": "2"}).run()
    at = button(at, "End the lesson").click().run()
    assert "lesson" not in at.query_params
    assert hidden_names(at) == ["hidden-y0", "hidden-y1", "hidden-y2"]
    at = button(at, "Start the lesson").click().run()
    assert at.query_params["step"] == "1"
    assert hidden_names(at) == ["hidden-y0"]


def test_presentation_mode_shows_the_step_as_a_slide():
    at = new_app({"lesson": "tutorial", "step": "5", "present": "1"}).run()  # predict-y1, focus: hidden
    assert not at.exception
    assert set(charts(at)) == {"hidden-states"}  # the step's own slide, nothing else
    assert not at.get("button_group")  # no slide picker while a lesson step chooses the slide
    assert not at.slider  # the player stops at y0 until the answer: no step slider
    assert any(m.value == "### Back to the tutorial: predict y1" for m in at.markdown)
    at = button(at, "Skip: show me").click().run()
    assert at.slider(key="view_step").proto.max == 2  # every step can be revealed
    at = button(at, "← Previous").click().run()
    at = button(at, "← Previous").click().run()
    at = button(at, "← Previous").click().run()  # one-cell-of-y0: focus explain, hidden until answered
    assert at.toggle(key="present").value is True  # a step does not switch presentation mode off
    assert not charts(at) and not any(
        "**Input terms**" in t for t in drawn_texts(at, marked=True)
    )  # nothing yet
    at = button(at, "Skip: show me").click().run()
    assert any("**Input terms** X0[0, :] · Wx[:, 3]" in t for t in drawn_texts(at, marked=True))  # the slide


def test_a_training_step_on_a_slide_can_train_and_its_gradients_step_shows_them():
    index = {s.id: i + 1 for i, s in enumerate(TUTORIAL.steps)}
    at = new_app({"lesson": "tutorial", "step": str(index["loss-trend"]), "present": "1"}).run()
    assert not at.exception
    assert any(b.key == "train_start" for b in at.button)  # Train is on the slide
    assert "loss-curve" in charts(at)
    at.button(key="train_start").click().run()
    deadline = time.monotonic() + 300
    while at.session_state["page"].training.job_id is not None:  # (the page's poll, as reruns)
        assert time.monotonic() < deadline
        at.run()
    assert not at.exception
    y = decode_array(charts(at)["loss-curve"]["data"][-1]["y"])
    assert len(y) == 501 and y[-1] < 0.01 * y[0]  # 500 Adam steps: the loss fell, as the answer says
    at = new_app({"lesson": "tutorial", "step": str(index["vanishing-gradients"]), "present": "1"}).run()
    assert not at.exception
    at = button(at, "Skip: show me").click().run()
    assert "grad-dl-dy" in charts(at)


def test_the_code_panel_builds_scripts_only_when_open():
    at = new_app({"lesson": "tutorial", "step": str(len(TUTORIAL.steps))}).run()  # copy-the-code
    assert not any("import numpy as np" in c.value for c in at.code)  # closed: no script built
    labels = [b.proto.label for b in at.get("download_button")]
    for wanted in ("tf1", "keras", "numpy", "(.npz)", "(.json)"):
        assert any(wanted in label for label in labels), (wanted, labels)
    at.toggle(key="code_open").set_value(True).run()
    scripts = [c.value for c in at.code if "matches the page" in c.value]
    assert len(scripts) == 3
    assert "tf.placeholder" in scripts[0] or "tf.compat.v1" in scripts[0]
    namespace: dict = {}
    exec(compile(scripts[2], "rnn-numpy.py", "exec"), namespace)  # the numpy script checks itself
    np.testing.assert_allclose(namespace["expected_hidden"], namespace["hidden"])


@pytest.mark.parametrize(
    "query, says",
    [
        ({"lesson": "../../etc/passwd"}, "no lesson named"),
        ({"lesson": "/etc/passwd", "step": "1"}, "no lesson named"),
        ({"lesson": "nope"}, "no lesson named"),
        ({"lesson": "tutorial", "step": "99"}, "has steps 1 to"),
        ({"lesson": "tutorial", "step": "0"}, "has steps 1 to"),
        ({"lesson": "tutorial", "step": "abc"}, "has steps 1 to"),
        ({"lesson": "tutorial", "step": "-1"}, "has steps 1 to"),
        ({"lesson": "tutorial", "step": "١"}, "has steps 1 to"),  # a digit, but not an ASCII one
        ({"lesson": "x" * 5000}, "no lesson named"),
        ({"lesson": "tutorial", "step": "9" * 5000}, "has steps 1 to"),
    ],
)
def test_a_hostile_lesson_link_gives_a_notice_and_the_normal_page(query, says):
    at = new_app(query).run()
    assert not at.exception
    assert any(says in m for m in messages(at, "warning")), messages(at, "warning")
    assert hidden_names(at) == ["hidden-y0", "hidden-y1", "hidden-y2"]  # the normal page
    assert not any(b.label == "Next →" for b in at.button)
    assert "lesson" not in at.query_params


def test_sections_are_known_to_the_page():
    """Every section a lesson can name is one the page gates (app/main.py asks guide.shows for each)."""
    from tests.serving import ROOT

    main = (ROOT / "app" / "main.py").read_text()
    for section in SECTIONS:
        assert f'guide.shows("{section}")' in main, section


def test_scripts_are_not_built_while_the_code_panel_is_closed(monkeypatch):
    from rnn_core import codegen

    built = []
    real = codegen.generate
    monkeypatch.setattr(
        codegen, "generate", lambda state, style="tf1": built.append(style) or real(state, style)
    )
    at = new_app().run()
    at.sidebar.number_input(key="seed").set_value(12345).run()
    assert not at.exception and built == []  # the chapter closed: nothing of it built
    open_chapters(at, "code").run()
    assert not at.exception and built == []  # three .py downloads on the page, none built
    at.toggle(key="code_open").set_value(True).run()
    assert sorted(built) == ["keras", "numpy", "tf1"]
