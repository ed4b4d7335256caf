"""Lesson files: the shipped ones load and every answer is reachable; a broken file gives one message
naming the file, the step, the line and the field; the reference language; `lesson check`."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from rnn_core import lessons, reference, training
from rnn_core.lessons import LessonError, evaluate, load_text, references
from rnn_core.state import State, state_from_dict, state_to_dict
from rnn_core.training import DIVERGED
from tests.serving import ROOT

SHIPPED = sorted(lessons.shipped())


# ---- the shipped lessons -------------------------------------------------------------------------------


def test_there_is_a_tutorial_lesson_of_at_least_8_steps():
    assert "tutorial" in SHIPPED
    lesson = lessons.load_shipped("tutorial")
    assert len(lesson.steps) >= 8
    assert len({s.id for s in lesson.steps}) == len(lesson.steps)


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_lesson_loads_and_every_answer_is_reachable(name):
    lesson = lessons.load_shipped(name)
    for step in lesson.steps:
        again = state_from_dict(state_to_dict(step.state))  # the step's network is a valid state
        np.testing.assert_array_equal(again.inputs, step.state.inputs)
        T, B, _ = step.state.inputs.shape
        if step.show_upto_step is not None:
            assert 0 <= step.show_upto_step < T
        q = step.question
        if q is None:
            continue
        assert q.id == f"{name}/{step.id}"
        if q.kind == "choice":
            assert q.answer in q.choices
            assert q.is_right(q.answer) and not q.is_right(next(c for c in q.choices if c != q.answer))
        elif q.kind == "number":
            value = evaluate(q.answer_source, references(step.state))  # on that step's numpy trace
            assert math.isfinite(value) and value == q.answer
            assert q.is_right(value) and not q.is_right(value + 2 * q.tolerance)
        else:
            for cell in q.answer:
                assert cell.step is None or 0 <= cell.step < T
                assert cell.row is None or 0 <= cell.row < B
                assert cell.neuron is None or 0 <= cell.neuron < step.state.n_neurons
                assert "hidden" in step.show


def test_the_tutorial_lesson_follows_the_tutorial():
    steps = {s.id: s for s in lessons.load_shipped("tutorial").steps}
    assert np.array_equal(steps["the-network"].state.inputs, State().inputs)
    assert np.array_equal(steps["no-memory"].state.weights["Wy"], np.zeros((8, 8)))
    assert np.array_equal(steps["long-memory"].state.weights["Wy"], 0.9 * np.eye(8))  # explicit weights
    y1 = references(steps["click-unsaturated"].state)["hidden"][1]
    assert [tuple(c) for c in np.argwhere(np.abs(y1) <= 0.95)] == [(0, 5)]  # the one unsaturated cell
    assert steps["click-unsaturated"].question.answer[0].key() == (1, 0, 5)
    assert steps["no-memory"].question.answer == 0.0
    outputs = references(steps["same-output"].state)["outputs"]
    assert np.ptp(outputs[2]) < 0.01  # every row ends at the same output: the saturation step's point
    assert steps["copy-the-code"].focus == "code"


def test_the_training_and_gradient_steps_are_in_and_their_answers_are_true():
    steps = {s.id: s for s in lessons.load_shipped("tutorial").steps}
    assert {"loss-trend", "lr-too-high", "vanishing-gradients"} <= steps.keys()
    # loss-trend: "Fall fast at first, then level off" (Adam, lr 0.01, 500 steps)
    s = steps["loss-trend"].state
    run = training.train(s.inputs, s.resolved_weights(), s.activation, s.resolved_targets(), s.training)
    losses = np.asarray(run.losses)
    assert len(losses) == 501 and losses[10] < 0.2 * losses[0]  # fast at first
    assert abs(losses[400] - losses[500]) < 0.01 * losses[0]  # then level
    assert steps["loss-trend"].question.answer == "Fall fast at first, then level off."
    # lr-too-high: SGD at lr 5 "jumps around or grows"
    s = steps["lr-too-high"].state
    run = training.train(s.inputs, s.resolved_weights(), s.activation, s.resolved_targets(), s.training)
    assert run.status == DIVERGED or max(run.losses) > run.losses[0]
    assert steps["lr-too-high"].question.answer == "Jump around or grow."
    # vanishing-gradients: ∂out19/∂X0 "many times smaller" than ∂out19/∂X18
    s = steps["vanishing-gradients"].state
    grads = reference.backward(s.inputs, s.resolved_weights(), s.activation, s.resolved_targets())
    norms = np.linalg.norm(np.asarray(grads.dout_dx)[19], axis=(1, 2))
    assert norms[0] < 0.05 * norms[18]
    assert steps["vanishing-gradients"].question.answer == "Many times smaller."


def test_steps_that_wait_for_a_feature_this_app_lacks_are_left_out(monkeypatch):
    monkeypatch.setattr(lessons, "AVAILABLE_FEATURES", frozenset())
    lesson = lessons.load_shipped("tutorial")
    waiting = dict(lesson.waiting)
    assert waiting == {
        "loss-trend": ("training",),
        "lr-too-high": ("training",),
        "vanishing-gradients": ("gradients",),
    }
    assert not {s.id for s in lesson.steps} & set(waiting)
    assert "wait for features" in lesson.summary()


# ---- broken lessons: one message naming the field -----------------------------------------------------

GOOD = """\
title: A small lesson
steps:
  - id: first
    title: First
    text: The tutorial's network.
    question:
      kind: choice
      prompt: Pick one
      choices: ["a", "b"]
      answer: "a"
  - id: second
    title: Second
    text: y0[0, 3] is {{ hidden[0][0][3] :.3f }}.
    change:
      n_neurons: 4
    show_upto_step: 0
    question:
      kind: number
      prompt: What is y1[0, 3]?
      answer: hidden[1][0][3]
      tolerance: 0.1
  - id: third
    title: Third
    text: Click.
    show_upto_step: 1
    question:
      kind: cell
      prompt: Click y1[0, 2]
      answer: {step: 1, row: 0, neuron: 2}
"""


def broken(old: str, new: str) -> str:
    assert old in GOOD, old
    return GOOD.replace(old, new, 1)


def test_the_small_lesson_is_good():
    lesson = load_text(GOOD, "lessons/x.yaml")
    assert [s.id for s in lesson.steps] == ["first", "second", "third"]
    assert lesson.steps[1].state.n_neurons == 4  # a change merged onto the previous step's network
    assert lesson.steps[1].text.startswith("y0[0, 3] is ")
    value = references(lesson.steps[1].state)["hidden"][0][0][3]
    assert lesson.steps[1].text == f"y0[0, 3] is {value:.3f}."


@pytest.mark.parametrize(
    "text, message",
    [
        (
            broken('answer: "a"', 'answer: "c"'),
            "lessons/x.yaml, step 1 (line 10): question.answer: must be one of the choices",
        ),
        (
            broken("    text: Click.", "    text: Click.\n    colour: red"),
            "step 3 (line 25): colour: unknown key",
        ),
        (
            broken("n_neurons: 4", "n_neurons: 999"),
            "step 2 (line 15): change.n_neurons: must be between 1 and 256",
        ),
        (
            broken("n_neurons: 4", "weights: {Wy: [[1, 2], [3, 4]]}"),
            "step 2 (line 15): change.weights.Wy: must have length 8, got 2",
        ),
        (
            broken("hidden[1][0][3]", "hidden[5][0][3]"),
            "step 2 (line 20): question.answer: index 5 is out of range",
        ),
        (broken("hidden[1][0][3]", "os.system(1)"), "question.answer: unknown name 'os'"),
        (broken("hidden[1][0][3]", "__import__('os')"), "question.answer: unknown name '__import__'"),
        (broken("hidden[1][0][3]", "hidden[1]"), "question.answer: 'hidden[1]' is an array of shape (3, 4)"),
        (broken("hidden[1][0][3]", "hidden[1][0][3] / 0"), "question.answer: division by zero"),
        (
            broken("neuron: 2}", "neuron: 8}"),
            "step 3 (line 29): question.answer.neuron: must be a whole number from 0 to 3",
        ),
        (
            broken("step: 1, row", "step: 2, row"),
            "question.answer: step 2 cannot be clicked: the page shows y0 … y1",
        ),
        (
            broken("show_upto_step: 0", "show_upto_step: 3"),
            "step 2 (line 16): show_upto_step: must be a whole number from 0 to 2",
        ),
        (
            broken("show_upto_step: 0", "show: [hidden, graphs]"),
            "step 2 (line 16): show[1]: unknown section 'graphs'",
        ),
        (broken("id: third", "id: first"), "step 3 (line 22): id: 'first' is the id of an earlier step"),
        (broken("id: third", "id: Third Step!"), "step 3 (line 22): id: must be a short id"),
        (broken("title: A small lesson\n", ""), "lessons/x.yaml (line 1): title is missing"),
        (
            broken("tolerance: 0.1", "tolerance: -1"),
            "step 2 (line 21): question.tolerance: must be a number above 0",
        ),
        (
            broken("kind: cell", "kind: essay"),
            "step 3 (line 27): question.kind: must be one of choice, number, cell",
        ),
        (
            broken("{{ hidden[0][0][3] :.3f }}", "{{ hiden[0] }}"),
            "step 2 (line 13): text: {{ }}: unknown name 'hiden'",
        ),
        (broken("{{ hidden[0][0][3] :.3f }}", "{{ hidden[0][0][3] :x }}"), "text: {{ }}: format 'x'"),
        (
            broken("    change:\n", "    state: {}\n    change:\n"),
            "change: a step has a state or a change, not both",
        ),
        (
            broken('choices: ["a", "b"]', 'choices: ["a"]'),
            "question.choices: a choice question needs a list of 2 to 8",
        ),
        (
            broken('choices: ["a", "b"]', "choices: [a, true]"),
            "question.choices[1]: must be text, got True (quote it",
        ),
        (
            broken(
                "    text: Click.", "    text: Click.\n    hide_until_answered: [outputs]\n    question: null"
            ),
            "question",
        ),
        (
            broken("  - id: first", "  - id: first\n    requires: [telepathy]"),
            "step 1 (line 4): requires: must be a list",
        ),
        (
            broken("title: A small lesson", "title: A small lesson\ntitle: again"),
            "(line 2): duplicate key 'title'",
        ),
        (broken("title: A small lesson", "title: &t A small lesson\ndescription: *t"), "anchors and aliases"),
        (broken("    title: First", "    title: [First"), "not valid YAML"),
        ("- just\n- a list\n", "lessons/x.yaml (line 1): must be a mapping with title, steps"),
        ("title: x\nsteps: []\n", "(line 2): steps: must be a list of 1 to 100 steps"),
    ],
)
def test_a_broken_lesson_gives_one_message_naming_the_field(text, message):
    with pytest.raises(LessonError) as caught:
        load_text(text, "lessons/x.yaml")
    said = str(caught.value)
    assert message in said, said
    assert "\n" not in said and "Traceback" not in said


def test_yaml_reads_no_and_1e_minus_3_as_a_teacher_means():
    text = broken('choices: ["a", "b"]', "choices: [Yes, No]").replace('answer: "a"', "answer: No")
    text = text.replace("tolerance: 0.1", "tolerance: 1e-3")
    lesson = load_text(text, "lessons/x.yaml")
    assert lesson.steps[0].question.choices == ("Yes", "No")
    assert lesson.steps[1].question.tolerance == 0.001


def test_a_json_lesson_loads_and_names_its_lines():
    data = {
        "title": "JSON",
        "steps": [{"id": "a", "title": "A", "text": "x", "state": {"n_neurons": 3}, "show": ["hidden"]}],
    }
    lesson = load_text(json.dumps(data, indent=2), "lessons/j.json", ".json")
    assert lesson.steps[0].state.n_neurons == 3 and lesson.steps[0].show == ("hidden",)
    data["steps"][0]["state"]["n_neurons"] = 0
    with pytest.raises(
        LessonError, match=r"lessons/j.json, step 1 \(line 9\): state.n_neurons: must be between"
    ):
        load_text(json.dumps(data, indent=2), "lessons/j.json", ".json")


# ---- the reference language ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def refs():
    return references(State())


@pytest.mark.parametrize(
    "expression, expected",
    [
        ("hidden[1][0][3]", lambda r: r["hidden"][1, 0, 3]),
        ("hidden[1, 0, 3]", lambda r: r["hidden"][1, 0, 3]),
        ("hidden[-1][-1][-1]", lambda r: r["hidden"][2, 2, 7]),
        ("outputs[2][0] - outputs[2][2]", lambda r: r["outputs"][2, 0] - r["outputs"][2, 2]),
        ("mean(outputs[2])", lambda r: r["outputs"][2].mean()),
        ("max(abs(hidden[0]))", lambda r: np.abs(r["hidden"][0]).max()),
        ("7 * Wx[0][3] + 8 * Wx[1][3]", lambda r: 7 * r["Wx"][0, 3] + 8 * r["Wx"][1, 3]),
        ("-(2 + 3) * 2 / 4", lambda r: -2.5),
        ("tanh(pre_activation[0][0][3])", lambda r: r["hidden"][0, 0, 3]),
        ("inputs[2][2][1]", lambda r: 18.0),
        ("1.5e-3", lambda r: 0.0015),
        (0.25, lambda r: 0.25),
    ],
)
def test_references_evaluate_on_the_trace(refs, expression, expected):
    assert evaluate(expression, refs) == pytest.approx(expected(refs), abs=1e-12)


@pytest.mark.parametrize(
    "expression, says",
    [
        ("hidden.T", "unexpected '.'"),
        ("hidden[1][0][3]; 1", "unexpected ';'"),
        ("hidden[0.5]", "an index must be a whole number"),
        ("hidden[1][0][3][0]", "is a number; it has no [0]"),
        ("hidden[", "ends early"),
        ("", "ends early"),
        ("max(", "ends early"),
        ("lambda", "unknown name 'lambda'"),
        ("1e400", "not a finite number"),
        ("x" * 300, "longer than 200"),
        (True, "true/false"),
        ([1], "must be a number or a reference"),
    ],
)
def test_bad_references_are_refused_with_a_reason(refs, expression, says):
    with pytest.raises(ValueError, match=None) as caught:
        evaluate(expression, refs)
    assert says in str(caught.value)


# ---- files and names ----------------------------------------------------------------------------------


def test_shipped_lessons_are_plain_names_of_regular_files(tmp_path):
    (tmp_path / "good.yaml").write_text(GOOD)
    (tmp_path / "Bad Name.yaml").write_text(GOOD)
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "dir.yaml").mkdir()
    os.symlink("/etc/passwd", tmp_path / "passwd.yaml")
    found = lessons.shipped(tmp_path)
    assert set(found) == {"good", "passwd"}  # names only; passwd.yaml is refused when read (not YAML)
    assert lessons.load_shipped("good", tmp_path).title == "A small lesson"
    for name in ("../good", "good.yaml", "/etc/passwd", "", "nope"):
        with pytest.raises(LessonError, match="no lesson named"):
            lessons.load_shipped(name, tmp_path)


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "rnn_core", "lesson", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_lesson_check_prints_a_summary():
    done = run_cli("check", "lessons/tutorial.yaml")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith('ok: lessons/tutorial.yaml: "The tutorial\'s RNN, step by step": 12 steps')
    assert "1. the-network" in done.stdout


def test_lesson_check_names_the_field_of_a_bad_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(broken('answer: "a"', 'answer: "c"'))
    done = run_cli("check", str(bad))
    assert done.returncode == 2
    assert (
        done.stderr
        == f"error: {bad}, step 1 (line 10): question.answer: must be one of the choices (its exact text)\n"
    )


def test_lesson_check_refuses_what_is_not_a_small_regular_file(tmp_path):
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    big = tmp_path / "big.yaml"
    big.write_text("# " + "x" * lessons.MAX_LESSON_BYTES)
    (tmp_path / "dir.yaml").mkdir()
    for path, says in (
        (fifo, "not a regular file"),
        (tmp_path / "dir.yaml", "not a regular file"),
        (big, "bytes; a lesson file may have at most"),
        (tmp_path / "missing.yaml", "cannot read it"),
        (tmp_path / "lesson.txt", "a lesson file ends in"),
    ):
        done = run_cli("check", str(path))
        assert done.returncode == 2, path
        assert says in done.stderr and done.stderr.count("\n") == 1, done.stderr


def test_docs_example_is_a_valid_lesson(tmp_path):
    """docs/LESSONS.md's example, copied out of the doc, passes the check."""
    doc = (ROOT / "docs" / "LESSONS.md").read_text()
    example = doc.split("```yaml\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "example.yaml"
    path.write_text(textwrap.dedent(example))
    lesson = lessons.load_file(path)
    assert len(lesson.steps) >= 2
