"""The page: a small RNN, its inputs, every hidden state and output. Reads top to bottom like the screen.

Run with `python -m app.serve` (or `streamlit run app/main.py`). This process never imports TensorFlow
(DESIGN.md section 2). Each section is a function of explicit arguments (app/sections/); what the page
remembers between reruns is owned by app/page_state.py.
"""

from __future__ import annotations

import streamlit as st

from app import figures, gc_policy, hardening, page_state, render, session
from app.components import charts, player
from app.components.chapter import chapter, is_open
from app.page_state import VIEW_KEYS
from app.sections import (
    classroom,
    code,
    crosscheck,
    explain,
    gradients,
    hidden,
    inputs,
    intro,
    lesson,
    outputs,
    results,
    share,
    sidebar,
    training,
)
from app.sections import present as present_slides
from app.sections import targets as targets_section
from app.sections.compare import KEEP as compare_keep
from app.sections.compare import compare_section
from app.sections.weights import KEEP as weights_keep
from app.sections.weights import weights_charts, weights_section
from rnn_core.state import numbers_key

st.set_page_config(page_title="RNN, step by step", page_icon="🔁", layout="wide")
hardening.install()  # widget states Streamlit cannot read fall back instead of failing every run
gc_policy.keep_memory_bounded()
charts.preload()  # the first run: the browser fetches plotly.js while TensorFlow computes
session.init_from_link()
page_state.memory().begin_full_run()  # this run's state is the one drawn (the end says what may follow)
page_state.check_widgets()  # every widget value the session holds passes the state's own checks
training.prepare()  # a training job's newest weights and the training settings, before the state is built
class_bar = classroom.arrive()  # the class in the link; a follower's new snapshot, before any widget
guide = lesson.begin()  # a lesson (link or sidebar): its step's network is loaded before any widget
chapters = guide.step is None  # no lesson step: weights, compare, code, training, gradients are chapters
present = st.container(horizontal_alignment="right").toggle(  # (a column of a fifth cut its label)
    "Presentation mode", key="present", help="Big type, no controls: the page as a slide."
)
style = figures.SLIDE if present else figures.SCREEN
slide = None
if present:
    render.apply_presentation_look()
    slide = guide.slide(present_slides.slide_picker)  # a lesson step shows its own chart (its focus)
guide.panel(present)  # the lesson's step: text, question, navigation (nothing without a lesson)

# ---- settings and inputs ------------------------------------------------------------------------
sidebar.network_controls()
guide.sidebar_entry()  # "Lessons": start one (below the network settings)
if present:  # the title and the inputs are a slide of their own; on the others they are kept offstage
    stage = st.container() if slide == "The network" else present_slides.offstage()
    heading, inputs_box = stage.columns([3, 2])
else:
    heading, inputs_box = st.container(), st.container(key="inputs_box")
X = inputs.inputs_section(inputs_box)  # (T, B, F): the last valid inputs while a cell is bad
if not chapters or page_state.memory().targets is not None or is_open("training") or is_open("gradients"):
    targets_section.targets_section(inputs_box, X)  # (T, B): into the page memory, so into the state
else:  # no targets yet, and nothing that uses them open: the grid waits for the training chapter
    page_state.keep((targets_section.TASK_KEY,))
state = session.current_state(X)
training.stop_if_changed(state)
classroom.class_section(class_bar, state, present)  # start/join/follow; the teacher's counts
if guide.shows("intro"):
    intro.intro(heading, state.activation, state.shared_output, present)
if present and guide.shows("inputs"):
    inputs.inputs_slide(inputs_box, state.inputs)
if guide.shows("weights"):  # (a lesson step shows only its own sections)
    if present:
        state = weights_section(state, style, present, shown=slide in (None, present_slides.WEIGHTS))
    elif (box := chapter("weights", weights_keep, lazy=chapters)) is not None:
        with box:
            state = weights_section(state, style, present)

# ---- the computation ----------------------------------------------------------------------------
result = results.compute_result(state)
results.show_notices()
if result is None:
    st.stop()
shown = result  # never None past this point
T, B, _ = state.inputs.shape
T_shown = guide.steps_shown(T)  # a lesson question may keep the later steps blank until answered
if present:  # one 16:9 screen at a time
    if slide is not None:  # (None: a lesson step whose chart waits for the answer)
        present_slides.slide(slide, state, shown, style, T_shown)
    guide.pick_bar(T_shown)
    focus = guide.focus()  # a lesson step's section without a slide of its own: drawn, with its controls
    if focus in ("code", "training", "gradients"):
        st.subheader(page_state.CHAPTERS[focus][0])
    if focus == "code":
        code.code_section(state)
    elif focus == "training":  # (Train must be pressable on the slide: its controls are drawn)
        training.training_section(state, shown, style, False)
    elif focus == "gradients":
        view = session.with_current_view(state).view
        gradients.gradients_section(state, shown, view.row, view.neuron, style, training.running())
    session.sync_link(session.with_current_view(state))  # the address bar stays the share link
    if focus != "training":  # (the training section polls its run itself)
        training.keep_polling()  # a run goes on (and the slide follows it) while presenting
    st.stop()

# ---- hidden states, explain a cell, outputs: everything up to the current step ----------------------
st.subheader("Hidden states, step by step")


def up_to(state, t: int, row: int, neuron: int, clickable: bool = False) -> None:
    """Everything that shows time, at step t (nothing later is on the page). `clickable`: the page's
    own view (not a server tick); then, when every step fits in one message (follows), the charts
    hold every step and follow the view the explanation's part announces."""
    shown = results.recall(state)  # the shared cache's (a view pick or a tick computes nothing)
    if shown is None:
        return
    frames = T_shown if follows(state, clickable) else None
    if guide.shows("hidden"):
        hidden.time_view(state, shown, t, row, neuron, style, clickable, frames)
    if guide.shows("explain"):
        if clickable:
            explain_part(state)
        else:
            explain.explain_section(state, shown, t, row, neuron)
    if guide.shows("outputs"):
        outputs.outputs_section(state, shown, t, style, frames)


def follows(state, clickable: bool) -> bool:
    """Do the charts hold every step and follow the page's view in the browser? While every step fits
    in one message, for the networks Memory.frames_key names (frames_for)."""
    mem = page_state.memory()
    return clickable and mem.frames_key == mem.drawn_key and picks_in_browser(state)


def frames_for(key: str) -> None:
    """The results part draws the network `key` (Memory.drawn_key). Its charts hold every step once
    the reader picks something in it (a step, row, neuron or cell: hidden.view_picked), and at once
    when the reader picked in the network before (an edit after a look: the next pick is drawn by the
    browser too). A reader who edits twice without looking gets the current step alone again, as one
    who never looks: an edit with every step costs ~6 ms more CPU, the first pick after an edit without
    them ~28 ms (a results rerun that builds them; docs/PERFORMANCE.md)."""
    mem = page_state.memory()
    if key != mem.drawn_key and mem.looked and mem.frames_key == mem.drawn_key:
        mem.frames_key, mem.looked = key, False
    mem.drawn_key = key


TABLES = (hidden.NUMBERS_TABLE, outputs.PRINTOUT_TABLE, explain.TERMS_TABLE)  # one click away, of the view


def picks_in_browser(state) -> bool:
    """May the browser draw a pick on this page? Nothing but the charts and the explanation shows the
    view (no lesson, class, presentation or play; the weights, Compare, share and gradients chapters
    closed, the tables one click away closed), and every step fits in one message."""
    return (
        chapters
        and not present
        and not player.playing()
        and page_state.memory().classroom is None
        and not any(is_open(name) for name in ("weights", "compare", "share", "gradients"))
        and not any(page_state.get(key) for key in TABLES)
        and player.in_browser(T_shown, B, state.n_neurons)
    )


STEP_FRAMES_BYTES = 32_000  # every step's explanation and link, sent again with each row or neuron pick


def browser_controls(state) -> tuple[str, ...]:
    """The view fields whose controls the browser alone hears (hidden.view_controls): while picks are
    the browser's (picks_in_browser), the neuron; the row while the charts hold every row's row view;
    the step while every step's explanation and share link, which the explanation element then holds,
    stay small: it sends them again with each row or neuron pick (the tutorial's: ~5 KB; 12 steps:
    ~22 KB; 50 steps: ~130 KB, where a move reruns the explanation as before)."""
    if not picks_in_browser(state):
        return ()
    token = session.link_token(session.with_current_view(state))
    step_fits = T_shown * (explain.STEP_BYTES + len(token or "")) <= STEP_FRAMES_BYTES
    row = hidden.rows_in_browser(T_shown, B)
    return ("neuron", *(("row",) if row else ()), *(("step",) if step_fits else ()))


def drawn_state():
    """The state the results part draws: the full run's, or after a results-only rerun (a seed or
    weight-scale edit, view_part) its own."""
    mem = page_state.memory()
    return state if mem.results_state is None else mem.results_state


@st.fragment(key=page_state.CONTROLS_FRAGMENT)
def controls_part(n_steps: int, batch: int, n_neurons: int, scope: player.Scope) -> None:
    """The step player and the row and neuron pickers: a part of their own, just before the results
    part, which reads the view from them (page_state.pickers_drawn). An edit reruns the results part
    alone: the pickers stay as drawn (~10 of an edit's ~30 messages). While the browser can draw the
    view (browser_controls), the controls' moves are the browser's alone: they send nothing, the
    charts follow them there, and an element that cannot show the new view asks for it (a row or
    neuron pick, a click on a cell: the explanation's part alone; hidden.view_moved). A change of the
    view by anything else reruns this part and the results part (page_state.rerun_view)."""
    in_browser = browser_controls(drawn_state())  # (the results' state: its link is what is encoded)
    hidden.view_controls(n_steps, batch, n_neurons, scope, on_pick=hidden.view_picked, in_browser=in_browser)
    page_state.pickers_drawn()


def picked_view(state) -> tuple[int, int, int]:
    """(step, row, neuron) as the pickers show them. A view changed by something else that did not
    redraw them (page_state.rerun_view) reruns the page: the pickers must show it."""
    if not page_state.pickers_show_the_view():
        st.rerun()
    view = session.with_current_view(state).view
    return min(view.step, T_shown - 1), view.row, view.neuron


@st.fragment(key=page_state.EXPLAIN_FRAGMENT)
def explain_part(state) -> None:
    """The picked cell explained; its element announces the view to the charts that follow it. A step
    or neuron pick while nothing else on the page depends on them (Memory.view_free) reruns only this
    part (hidden.view_picked): the charts change in the browser, and the address bar follows here."""
    shown = results.recall(state)
    if shown is None:
        return
    viewed = session.with_current_view(state)  # (the widgets' values, kept inside the sizes)
    view = viewed.view
    slider_free = VIEW_KEYS["step"] in page_state.memory().in_browser
    if follows(state, True) and slider_free:  # every step, for the slider's moves
        links = session.step_links(viewed, T_shown)
        explain.explain_follow(state, shown, T_shown, view.step, view.row, view.neuron, links)
    else:
        explain.explain_section(state, shown, view.step, view.row, view.neuron, announce=True)
    mem = page_state.memory()
    if mem.view_picked:  # a pick that reran only this part: the rest of the page is as drawn
        mem.view_picked = False
        session.sync_link(viewed)


def play_frames(state, row: int, neuron: int) -> None:
    """A play drawn by the browser: every step's charts, words, explanation and printout at once (its
    clock shows them; the tables one click away follow when it stops)."""
    shown = results.recall(state)
    if shown is None:
        return
    start = player.browser_frame(T_shown)
    if guide.shows("hidden"):
        hidden.time_frames(state, shown, T_shown, start, row, neuron, style)
    st.caption(
        f"▶ Playing y0 … y{T_shown - 1}, one step every {player.PLAY_SECONDS:g} s: the tables follow "
        "when it stops."
    )
    if guide.shows("explain"):
        explain.explain_frames(state, shown, T_shown, start, row, neuron)
    if guide.shows("outputs"):  # (it says when the play ends only if the time view is not there)
        ends = None if guide.shows("hidden") else player.played
        outputs.outputs_frames(state, shown, T_shown, start, style, ends)


def browser_plays() -> bool:
    """Is a play drawn by the browser (else by server ticks, player.play)? Not too big, and one of
    its charts there to say when it ends."""
    shown = guide.shows("hidden") or guide.shows("outputs")
    return shown and player.in_browser(T_shown, B, state.n_neurons)


@st.fragment(key=page_state.RESULTS_FRAGMENT)
def view_part() -> None:
    """What a view pick changes (step, row, neuron, a clicked cell). A pick reruns this part when the
    browser cannot draw it (the first pick in a network not looked at, which sends every step; a
    lesson, a class, an open chapter that shows the view: follows), with the pickers' part before it,
    else only its explanation part (and the pickers' part for a click). A seed or weight-scale edit
    reruns this part alone while nothing else on the page depends on it (sidebar.results_only): then
    it computes the new result itself."""
    mem = page_state.memory()
    mem.view_free = mem.rows_free = False  # (this run's end says whether the next pick may be free)
    if mem.numbers_edited:  # a results-only rerun: the top of the page did not run
        mem.numbers_edited = False
        page_state.check_widgets()
        mem.results_state = session.current_state(X)
        computed = results.compute_result(mem.results_state)
        results.show_notices()
        if computed is None:
            return
    now = drawn_state()
    frames_for(numbers_key(now))  # (every step of this network, or the current one: follows)
    if player.playing():  # a play looks at every step: they stay once it ends
        mem.frames_key = mem.drawn_key
    in_browser = browser_plays()  # (then Play and Pause rerun only this part and the pickers)
    step, row, neuron = picked_view(now)
    guide.pick_bar(T_shown)  # a lesson's "click the cell" question: the pick, and the answer button
    if player.playing() and in_browser:
        play_frames(now, row, neuron)
    else:
        up_to(now, step, row, neuron, clickable=True)
    shown = results.recall(now)
    if shown is None:
        return
    viewed = session.with_current_view(now)  # the state with this run's step, row and neuron
    if guide.shows("weights") and is_open("weights", lazy=chapters):  # (opened with the weights' chapter)
        weights_charts(viewed, style)  # the explained cell's weights outlined
    pinned = now.pinned is not None  # (a link with a pinned network opens "Compare")
    box = None
    if guide.shows("weights"):
        box = chapter("compare", compare_keep, lazy=chapters, open_first=pinned)
    if box is not None:
        with box:
            compare_section(viewed, shown, style, present)  # A (pinned) beside B
    if guide.shows("crosscheck"):
        crosscheck.crosscheck_section(shown.check)
    box = chapter("share", share.KEEP, lazy=chapters) if guide.shows("share") else None
    if box is not None:
        with box:
            share.share_section(viewed)  # the link holds the view
    elif session.sync_link(viewed) is None and guide.shows("share"):
        share.too_big()  # (the address bar is the share link: say when there can be none)
    classroom.end_of_page(viewed)  # a teacher's page: what the class follows
    mem.view_free = follows(now, True)  # may the next pick rerun only the explanation? (hidden.view_picked)
    mem.rows_free = mem.view_free and hidden.rows_in_browser(T_shown, B)


if player.playing() and not browser_plays():  # (too big to send at once: the server ticks)
    step, row, neuron = hidden.view_controls(T_shown, B, state.n_neurons)
    player.play(T_shown, lambda t: up_to(state, t, row, neuron))
else:
    controls_part(T_shown, B, state.n_neurons, "fragment" if browser_plays() else "app")
    view_part()
if guide.shows("code") and (box := chapter("code", (page_state.CODE_OPEN_KEY,), lazy=chapters)) is not None:
    with box:
        code.code_section(state)

# ---- learning: training (a job polled by a fragment), then the gradients through time --------------
box = None
if guide.shows("training"):  # (a link that holds targets opens it)
    box = chapter("training", training.KEEP, lazy=chapters, open_first=state.targets is not None)
if box is not None:  # (a lesson step shows only its own sections)
    with box:
        training.training_section(state, shown, style, present)
else:
    training.keep_polling()  # a run goes on while its chapter is closed (the page follows it)
if guide.shows("gradients") and (box := chapter("gradients", gradients.KEEP, lazy=chapters)) is not None:
    page_state.memory().view_below = True  # (a pick reruns the page: page_state.rerun_view)
    with box:
        view = session.with_current_view(state).view
        gradients.gradients_section(state, shown, view.row, view.neuron, style, training.running())
mem = page_state.memory()
mem.results_only = (  # may a seed or weight-scale edit rerun only view_part? (sidebar.results_only)
    chapters
    and not present
    and not player.playing()
    and mem.classroom is None
    and not mem.weights
    and not training.running()
    and not any(is_open(name) for name in ("weights", "code", "training", "gradients"))
)
del shown, result  # the fragments above look results up in the shared, bounded cache: no session keeps one
