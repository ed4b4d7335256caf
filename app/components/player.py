"""The step player: a slider for the current step (y0 … y_t revealed) and Play / Pause.

While playing, `play` reruns only the part of the page that shows time (a fragment on a timer),
one step per tick; when it stops, the whole page reruns at the last step.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from .. import page_state
from ..page_state import VIEW_KEYS

PLAY_SECONDS = 1.2  # one step revealed per tick while playing


def step_controls(n_steps: int, slider=st, button=st) -> int:
    """The step slider and play/pause (in the containers given); returns the current step (the last
    one when following it)."""
    player = page_state.memory().player
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
    step = slider.slider("Current step: reveal y0 … y_t", 0, n_steps - 1, key=key, format="y%d")
    if player.playing:
        if button.button("⏸ Pause", width="stretch"):
            player.playing = False
            player.pending_step = max(0, min(player.tick - 1, n_steps - 1))
            st.rerun()
    elif button.button("▶ Play", width="stretch", help=f"Reveal one step every {PLAY_SECONDS:g} s"):
        player.playing, player.tick = True, 0
        st.rerun()
    return int(step)


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
