"""The step player: a slider for the current step (y0 … y_t revealed) and Play / Pause.

A play on the page is drawn by the browser: one run sends every step's charts at once and the
browser shows them one after another on its own clock (app/components/charts: `frames`), then says
"played" and the page shows the last step; the server does nothing in between (docs/PERFORMANCE.md,
"Play in the browser"). A play too big to send at once (`in_browser`), and the slides of the
presentation, use `play`: a fragment on a timer that reruns the part of the page showing time, one
step per tick. Either way, when it stops the page shows the step it stopped at.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Literal

import streamlit as st

from .. import page_state
from ..page_state import VIEW_KEYS

Scope = Literal["app", "fragment"]  # what Play and Pause rerun
BUTTON_WIDTH = 110  # px: Play or Pause, beside the step slider (which takes the rest of the line)
PLAY_SECONDS = 1.2  # one step revealed per tick while playing
# A play goes to the browser while its charts hold at most this many numbers in all (an upper bound:
# T frames of up to T heatmaps of B × N and a row view of T × N): ~4 MB as sent, far under the
# 10 MB message limit. The tutorial's is 360; past it (long runs of big networks) the server ticks.
MAX_FRAME_NUMBERS = 400_000


def in_browser(n_steps: int, batch: int, n_neurons: int) -> bool:
    return n_steps * (n_steps * n_neurons * (batch + 1)) <= MAX_FRAME_NUMBERS


def step_controls(
    n_steps: int, slider=st, button=st, scope: Scope = "app", on_change=None, in_browser: bool = False
) -> int:
    """The step slider and play/pause (in the containers given); returns the current step (the last
    one when following it). `scope`: what Play and Pause rerun ("fragment": the page's part that
    draws a play in the browser; "app": the whole page, which starts the server's ticks). on_change:
    the slider's. `in_browser`: the page's charts draw any step in the browser, so the slider's moves
    are the browser's alone (Streamlit's on_change="ignore": nothing is sent, the server reads the
    step with the next run; Memory.in_browser; app/components/charts: Controls)."""
    mem = page_state.memory()
    player = mem.player
    key = VIEW_KEYS["step"]
    if player.pending_step is not None:  # set when play stops; applied before the slider exists
        page_state.put(key, player.pending_step)
        player.pending_step = None
    current = page_state.get(key, n_steps - 1)
    try:
        current = int(current)
    except (TypeError, ValueError, OverflowError):
        current = n_steps - 1
    at_end = current >= (player.known_steps or n_steps) - 1  # following the last step
    page_state.put(key, n_steps - 1 if at_end else min(max(current, 0), n_steps - 1))
    player.known_steps = n_steps
    if n_steps == 1:
        return 0
    alone = in_browser and not player.playing
    if alone:
        mem.in_browser[key] = n_steps
    step = slider.slider(  # (while playing it would say one step and show another: Pause first)
        "Current step: reveal y0 … y_t",
        0,
        n_steps - 1,
        key=key,
        format="y%d",
        disabled=player.playing,
        on_change="ignore" if alone else on_change,
    )
    if player.playing:
        button.button(
            "Pause",
            key="pause",
            icon=":material/pause:",
            width=BUTTON_WIDTH,
            on_click=pause,
            args=(n_steps, scope),
        )
    else:  # (Streamlit's own icon font: "⏸" was a blank box where no emoji font is)
        button.button(
            "Play",
            key="play",
            icon=":material/play_arrow:",
            width=BUTTON_WIDTH,
            help=f"One step every {PLAY_SECONDS:g} s",
            on_click=start,
            args=(scope,),
        )
    return int(step)


def start(scope: Scope) -> None:
    """Play's on_click."""
    player = page_state.memory().player
    player.playing, player.tick, player.started = True, 0, None
    rerun(scope)


def pause(n_steps: int, scope: Scope) -> None:
    """Pause's on_click: the page shows the step the play is at."""
    player = page_state.memory().player
    player.playing = False
    player.pending_step = max(0, min(shown_step(), n_steps - 1))
    rerun(scope)


def rerun(scope: Scope) -> None:
    """From a callback: rerun the results part of the page ("fragment": it draws a play in the
    browser) or the whole page ("app"; also when the results part is not on the page)."""
    if scope == "fragment":
        page_state.rerun_view()  # (Play becomes Pause: the pickers' part too)
    st.rerun()


def shown_step() -> int:
    """The step a play shows now: the last tick's, or where the browser's clock is."""
    player = page_state.memory().player
    if player.started is None:
        return player.tick - 1
    return int((time.monotonic() - player.started) / PLAY_SECONDS)


def browser_frame(n_steps: int) -> int:
    """The step a play drawn by the browser starts from in this run: 0 at first; a later run while
    it plays (a pick, an edit) goes on from where its clock is."""
    player = page_state.memory().player
    if player.started is None:
        player.started = time.monotonic()
    return max(0, min(shown_step(), n_steps - 1))


def played() -> None:
    """The browser showed the last step (its trigger "played"): the page shows that step again."""
    player = page_state.memory().player
    if player.playing:
        player.playing, player.started = False, None
        player.pending_step = max(0, player.known_steps - 1)
        page_state.rerun_view()  # (the slider shows the last step, Pause becomes Play)


def playing() -> bool:
    return page_state.memory().player.playing


def play(n_steps: int, draw: Callable[[int], None]) -> None:
    """Run draw(t) for t = 0, 1, … on a timer, then stop at the last step and rerun the page."""

    def tick() -> None:
        player = page_state.memory().player
        if player.tick >= n_steps or not player.playing:
            player.playing, player.pending_step = False, n_steps - 1
            st.rerun()
        draw(player.tick)
        player.tick += 1

    st.fragment(tick, run_every=PLAY_SECONDS)()
