"""A lesson on the page: its step's text, question and navigation, and what the page shows meanwhile.

`begin()` runs before any widget is drawn: it opens a lesson from the link (`?lesson=NAME&step=K`, the
name checked against the shipped lessons, never used as a path) and loads the current step's network.
It returns a Guide the page asks what to show: `shows(section)` and `steps_shown(T)` (the player stops
at the step's `show_upto_step` until its question is answered: later heatmaps stay blank). Predict, then
reveal: a question's answer, right or wrong, lifts the step's limits and shows the explanation.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field

import streamlit as st

from rnn_core.lessons import NAME_PATTERN, Answer, Lesson, LessonError, Step, load_shipped, shipped

from .. import page_state, session
from ..page_state import LESSON_KEY_PREFIX, VIEW_KEYS
from ..text import plain
from . import classroom

SIDEBAR_PICK = f"{LESSON_KEY_PREFIX}pick"
# presentation mode: the slide (app/sections/present.py) that shows a step's focus section
FOCUS_SLIDES = {
    "hidden": "Hidden states",
    "explain": "Explain a cell",
    "outputs": "Outputs",
    "inputs": "The network",
}
HIDE_INPUTS_CSS = "<style>.st-key-inputs_box { display: none !important; }</style>"


@dataclass
class Progress:
    name: str
    index: int = 0  # the current step, 0-based (links and the page count from 1)
    answers: dict[str, Answer] = field(default_factory=dict)  # by step id
    exploring: bool = False  # "explore freely": the lesson waits, nothing is hidden
    loaded: int | None = None  # the step whose network is on the page


@dataclass
class LessonMemory:
    link_read: bool = False
    progress: Progress | None = None


@st.cache_resource(show_spinner=False)
def available() -> dict[str, Lesson | str]:
    """Every shipped lesson by name, loaded once per server: the Lesson, or why it cannot be opened."""
    found: dict[str, Lesson | str] = {}
    for name in shipped():
        try:
            found[name] = load_shipped(name)
        except LessonError as err:
            found[name] = str(err)
    return found


def _memory() -> LessonMemory:
    mem = page_state.memory()
    if mem.lesson is None:
        mem.lesson = LessonMemory()
    return mem.lesson


def _lesson(progress: Progress | None) -> Lesson | None:
    found = available().get(progress.name) if progress else None
    return found if isinstance(found, Lesson) else None


# ---- opening: the link, the sidebar ----------------------------------------------------------------


def _from_link() -> Progress | None:
    """The lesson and step the link names, or None with a notice saying why (the normal page opens)."""
    name = st.query_params.get("lesson")
    if name is None:
        return None
    lessons = available()
    names = ", ".join(lessons) or "none"
    if not NAME_PATTERN.fullmatch(name) or name not in lessons:
        _drop_link()
        page_state.notify(
            "warning", f"There is no lesson named {name!r} (lessons: {names}). Showing the page."
        )
        return None
    lesson = lessons[name]
    if not isinstance(lesson, Lesson):
        _drop_link()
        page_state.notify("error", f"The lesson {name} could not be opened: {lesson}")
        return None
    step = st.query_params.get("step", "1")
    count = len(lesson.steps)
    if not (len(step) <= 4 and step.isascii() and step.isdigit() and 1 <= int(step) <= count):
        _drop_link()
        page_state.notify(
            "warning",
            f"The lesson {name} has steps 1 to {count}; the link asks for step {step!r}. Showing the page.",
        )
        return None
    return Progress(name, int(step) - 1)


def _drop_link() -> None:
    for key in ("lesson", "step"):
        if key in st.query_params:
            del st.query_params[key]


def start(name: str, index: int = 0) -> None:
    """Button callback: open a lesson at a step (its network is loaded at the top of the next run)."""
    _memory().progress = Progress(name, index)


def _sidebar_entry(progress: Progress | None) -> None:
    lessons = {name: found for name, found in available().items() if isinstance(found, Lesson)}
    if not lessons or progress is not None:
        return
    box = st.sidebar.container(border=True)
    box.markdown("**Lessons**")
    name = box.selectbox(
        "Lesson",
        list(lessons),
        format_func=lambda n: lessons[n].title,
        key=SIDEBAR_PICK,
        label_visibility="collapsed",
    )
    picked = lessons[name]  # its whole title (the select box cuts a long one) and what it is about
    box.caption(f"**{plain(picked.title)}**: {plain(picked.description, 400)} ({len(picked.steps)} steps)")
    box.button("Start the lesson", on_click=start, args=(name,), width="stretch")


# ---- the guide: what the page shows during a step --------------------------------------------------


@dataclass
class Guide:
    """What the page shows: everything without a lesson (or while exploring freely)."""

    lesson: Lesson | None = None
    progress: Progress | None = None
    present: bool = False

    @property
    def step(self) -> Step | None:
        if self.lesson is None or self.progress is None or self.progress.exploring:
            return None
        return self.lesson.steps[self.progress.index]

    @property
    def answered(self) -> bool:
        step = self.step
        if step is None or step.question is None:
            return False
        in_class = classroom.revealed(step.question.id)  # in a class, the teacher's reveal decides
        if in_class is not None:
            return in_class
        return self.progress is not None and step.id in self.progress.answers

    def shows(self, section: str) -> bool:
        """Is this section on the page now? ("intro" is the title and equations.)"""
        step = self.step
        if step is None:
            return True
        if self.present:  # a slide: the step's text and question, and its chart
            return section == step.focus and self.shows_in_step(section)
        return section == "intro" or self.shows_in_step(section)

    def shows_in_step(self, section: str) -> bool:
        step = self.step
        if step is None:
            return True
        if section not in step.show:
            return False
        return self.answered or section not in step.hide_until_answered

    def steps_shown(self, n_steps: int) -> int:
        """How many steps the player may reveal (y0 … y_(k-1)); the later heatmaps stay blank."""
        step = self.step
        if step is None or step.show_upto_step is None or self.answered:
            return n_steps
        return max(1, min(n_steps, step.show_upto_step + 1))

    def pick_bar(self, limit: int) -> None:
        """A "click the cell" question: the picked cell and the answer button, beside the heatmaps (a
        click reruns only the view part of the page, so this is drawn there)."""
        step = self.step
        if step is None or step.question is None or step.question.kind != "cell" or self.answered:
            return
        if classroom.is_teacher():  # the teacher's page shows the class's answers instead
            return
        t, r, n = picked_cell(step, limit)
        left, right = st.columns([3, 1], vertical_alignment="center")
        left.markdown(f"**Your pick: y{t}[row {r}, neuron {n}]** (click a heatmap cell to change it)")
        if right.button("Answer with the picked cell", type="primary", width="stretch"):
            _answer_with_pick(step, limit)
            st.rerun()  # the whole page: the reveal lifts the step's limits

    def slide(self, picker) -> str | None:
        """Presentation mode: the slide to show. Without a lesson step, the one the picker chooses; during
        a step, the slide of its focus (None while the focus waits for the answer, or has no slide)."""
        self.present = True
        step = self.step
        if step is None:
            return picker()
        if not self.shows_in_step(step.focus):
            return None
        return FOCUS_SLIDES.get(step.focus)

    def focus(self) -> str | None:
        """Presentation mode during a step: the section its slide shows, once it may be shown."""
        step = self.step
        if step is None or not self.present or not self.shows_in_step(step.focus):
            return None
        return step.focus

    def sidebar_entry(self) -> None:
        """The sidebar's "Lessons" box (while no lesson is open)."""
        _sidebar_entry(self.progress)

    def panel(self, present: bool) -> None:
        """The lesson's step at the top of the page (nothing without a lesson)."""
        self.present = present
        if self.lesson is None or self.progress is None:
            return
        _sync_link(self.progress)
        if self.progress.exploring:
            _paused_panel(self.lesson, self.progress)
            return
        if not self.shows("inputs"):
            st.html(HIDE_INPUTS_CSS)
        with st.container(border=True, key="lesson"):
            _step_panel(self.lesson, self.progress, self, present)


def begin() -> Guide:
    """Read the link once per session, load the current step's network if it is not on the page yet."""
    mem = _memory()
    if not mem.link_read:
        mem.link_read = True
        opened = _from_link()
        if opened is not None:
            mem.progress = opened
    progress = mem.progress
    lesson = _lesson(progress)
    if progress is not None and lesson is None:  # the lesson vanished (cannot happen with shipped files)
        mem.progress = progress = None
    followed = classroom.followed_lesson()
    if followed is not None:  # a student following a class: the teacher's lesson and step
        progress = _follow_teacher(mem, *followed)
        lesson = _lesson(progress)
    if progress is not None and lesson is not None:
        progress.index = min(max(progress.index, 0), len(lesson.steps) - 1)
        if not progress.exploring and progress.loaded != progress.index:
            _load_step(lesson.steps[progress.index])
            progress.loaded = progress.index
    _class_position(lesson, progress)
    return Guide(lesson, progress)


def _follow_teacher(mem: LessonMemory, name: str | None, index: int | None) -> Progress | None:
    """The teacher's lesson step on a following student's page (its network came with the class)."""
    if name is None or index is None or _lesson(Progress(name)) is None:
        mem.progress = None
        return None
    if mem.progress is None or mem.progress.name != name:
        mem.progress = Progress(name)
    mem.progress.index, mem.progress.exploring, mem.progress.loaded = index, False, index
    return mem.progress


def _class_position(lesson: Lesson | None, progress: Progress | None) -> None:
    """On a teacher's page: the lesson, step and question the class follows."""
    if lesson is None or progress is None or progress.exploring:
        classroom.lesson_position(None, None, None)
        return
    question = lesson.steps[progress.index].question
    classroom.lesson_position(lesson.name, progress.index, question.id if question else None)


def _load_step(step: Step) -> None:
    """The step's network onto the page; the presentation mode stays as it is."""
    present = page_state.get(VIEW_KEYS["present"], False)
    session.load(copy.deepcopy(step.state))  # the lesson is shared by every session: the page gets a copy
    page_state.put(VIEW_KEYS["present"], present)


# ---- callbacks ------------------------------------------------------------------------------------------


def _go(index: int) -> None:
    progress = _memory().progress
    if progress is not None:
        progress.index, progress.exploring, progress.loaded = index, False, None


def _explore() -> None:
    progress = _memory().progress
    if progress is not None:
        progress.exploring = True


def _resume() -> None:
    """Back to the lesson: the step's network again (whatever was changed meanwhile)."""
    progress = _memory().progress
    if progress is not None:
        progress.exploring, progress.loaded = False, None


def _end() -> None:
    _memory().progress = None
    _drop_link()


def _answer(step: Step, given, skipped: bool = False) -> None:
    progress = _memory().progress
    if progress is None or step.question is None:
        return
    right = not skipped and given is not None and step.question.is_right(given)
    progress.answers[step.id] = Answer(step.question.id, given, right, skipped)
    cell = subject_cell(step)
    if cell is not None:  # the reveal explains the cell the question was about
        for name, value in zip(("step", "row", "neuron"), cell, strict=True):
            page_state.put(VIEW_KEYS[name], value)
        page_state.memory().player.known_steps = step.state.inputs.shape[0]  # (no follow to the last step)
    if not skipped and given is not None:  # in a class, the answer joins the class's pool (anonymous)
        problem = classroom.submit_answer(step.question.id, _pooled(step.question, given))
        if problem:
            page_state.notify("warning", f"Your answer did not reach the class: {problem}")


_CELL_REFERENCE = re.compile(r"\s*(?:hidden|pre_activation)\[(\d+)\]\[(\d+)\]\[(\d+)\]\s*")


def subject_cell(step: Step) -> tuple[int, int, int] | None:
    """The heatmap cell a number question asks about (its answer is hidden[t][r][n] or
    pre_activation[t][r][n]); None for other questions (the reveal then follows to the last step)."""
    q = step.question
    found = _CELL_REFERENCE.fullmatch(q.answer_source) if q is not None and q.kind == "number" else None
    if not found:
        return None
    t, r, n = (int(i) for i in found.groups())
    return t, r, n


def _pooled(q, given) -> dict:
    """An answer as the class store pools it: a choice's index, a number, a cell's (row, neuron)."""
    if q.kind == "choice":
        return {"choice": q.choices.index(given) if given in q.choices else -1}
    if q.kind == "number":
        return {"number": float(given)}
    _, row, neuron = given
    return {"cell": [int(row), int(neuron)]}


def _answer_from_widget(step: Step, key: str) -> None:
    _answer(step, page_state.get(key))


def picked_cell(step: Step, limit: int) -> tuple[int, int, int]:
    """The cell the page explains now (set by a click on a heatmap, or by the slider and pickers),
    inside the step's sizes and the steps the player may show."""
    T, B, _ = step.state.inputs.shape
    view = page_state.view(T, B, step.state.n_neurons)
    return (min(view.step, limit - 1), view.row, view.neuron)


def _answer_with_pick(step: Step, limit: int) -> None:
    _answer(step, picked_cell(step, limit))
    # the reveal keeps the picked cell explained (the player would otherwise follow to the last step)
    page_state.memory().player.known_steps = step.state.inputs.shape[0]


# ---- drawing ---------------------------------------------------------------------------------------------


def step_link(name: str, index: int) -> str:
    base = (st.context.url or "").split("?")[0]
    return f"{base}?lesson={name}&step={index + 1}"


def _sync_link(progress: Progress) -> None:
    """The address bar names the lesson and the step (the share link's `s` is kept beside them)."""
    if st.query_params.get("lesson") != progress.name:
        st.query_params["lesson"] = progress.name
    if st.query_params.get("step") != str(progress.index + 1):
        st.query_params["step"] = str(progress.index + 1)


def _paused_panel(lesson: Lesson, progress: Progress) -> None:
    with st.container(border=True, key="lesson"):
        step = lesson.steps[progress.index]
        left, right = st.columns([4, 1], vertical_alignment="center")
        left.markdown(
            f"**Exploring freely.** The lesson *{plain(lesson.title)}* waits at step {progress.index + 1}: "
            f"{plain(step.title)}."
        )
        right.button("Back to the lesson", on_click=_resume, type="primary", width="stretch")


def _step_panel(lesson: Lesson, progress: Progress, guide: Guide, present: bool) -> None:
    count, index = len(lesson.steps), progress.index
    step = lesson.steps[index]
    st.progress((index + 1) / count, text=f"{lesson.title}: step {index + 1} of {count}")
    st.markdown(f"### {step.title}")
    st.markdown(step.text)
    if step.question is not None:
        _question(step, progress, guide)
    _navigation(lesson, progress, present)


def _question(step: Step, progress: Progress, guide: Guide) -> None:
    q = step.question
    assert q is not None
    answer = progress.answers.get(step.id)
    key = f"{LESSON_KEY_PREFIX}{q.kind}_{step.id}"
    in_class = classroom.revealed(q.id)  # None outside a class
    rows, neurons = step.state.inputs.shape[1], step.state.n_neurons
    if classroom.is_teacher():  # the teacher's page: the class's answers, then the reveal
        st.markdown(f"**{q.prompt}**" if q.kind != "cell" else q.prompt)
        classroom.question_panel(q.id, q.kind, list(q.choices), rows, neurons)
        if in_class:
            st.info(f"The answer: {q.answer_text()}", icon="➡️")
            if q.explanation:
                st.markdown(q.explanation)
        return
    if answer is not None and in_class is False:  # a student's answer is in; the teacher reveals it
        st.markdown(f"**{q.prompt}**" if q.kind != "cell" else q.prompt)
        st.info(f"You said {_given_text(q.kind, answer.given)}. The teacher reveals the answer to the class.")
        classroom.question_panel(q.id, q.kind, list(q.choices), rows, neurons)
        return
    if answer is None and in_class is True:  # revealed before this student answered
        answer = Answer(q.id, None, False, skipped=True)
    if answer is None:
        if q.kind == "choice":
            st.radio(q.prompt, q.choices, index=None, key=key)
        elif q.kind == "number":
            st.number_input(q.prompt, value=None, step=0.01, format="%.4f", key=key)
        else:
            st.markdown(q.prompt)
            st.caption("Click a cell of a heatmap below (or pick it), then press the button beside it.")
        answer_button, skip_button, _ = st.columns([1, 1, 3])
        if q.kind != "cell":  # a cell is answered beside the heatmaps (Guide.pick_bar)
            answer_button.button("Answer", on_click=_answer_from_widget, args=(step, key), type="primary")
        if in_class is None:  # in a class, the answer waits for the teacher's reveal
            skip_button.button("Skip: show me", on_click=_answer, args=(step, None, True))
        return
    st.markdown(f"**{q.prompt}**" if q.kind != "cell" else q.prompt)
    if answer.skipped:
        st.info(f"Skipped. The answer: {q.answer_text()}", icon="➡️")
    elif answer.right:
        st.success(f"Right: {_given_text(q.kind, answer.given)}. The answer: {q.answer_text()}", icon="✅")
    else:
        st.warning(
            f"Not quite: you said {_given_text(q.kind, answer.given)}. The answer: {q.answer_text()}",
            icon="❌",
        )
    if q.explanation:
        st.markdown(q.explanation)
    if in_class:  # the class's pooled answers, once revealed
        classroom.question_panel(q.id, q.kind, list(q.choices), rows, neurons)


def _given_text(kind: str, given) -> str:
    if given is None:
        return "nothing"
    if kind == "number":
        return f"{float(given):.4g}"
    if kind == "cell":
        t, r, n = given
        return f"y{t}[row {r}, neuron {n}]"
    return str(given)


def _navigation(lesson: Lesson, progress: Progress, present: bool) -> None:
    count, index = len(lesson.steps), progress.index
    back, forward, explore, end = st.columns(4)
    back.button("← Previous", on_click=_go, args=(index - 1,), disabled=index == 0, width="stretch")
    forward.button("Next →", on_click=_go, args=(index + 1,), disabled=index >= count - 1, width="stretch")
    explore.button(
        "Explore freely",
        on_click=_explore,
        help="Change anything and see every step; the lesson waits here.",
        width="stretch",
    )
    end.button("End the lesson", on_click=_end, width="stretch")
    if not present:
        with st.expander("Link to this step"):
            st.code(step_link(progress.name, index), language=None, wrap_lines=True)
