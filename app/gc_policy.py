"""Once per server process: keep memory bounded without a full collection after every rerun.

Streamlit's own `runner.postScriptGC` (off in .streamlit/config.toml) runs gc.collect() after every
script run, holding the GIL for longer the more sessions are alive (DESIGN.md section 2). Instead:
freeze what start-up created (modules, caches: never garbage) so the collector stops re-scanning it,
and collect the rest on a timer.
"""

from __future__ import annotations

import gc
import os
import threading
import time

import streamlit as st

GC_PERIOD_S = float(os.environ.get("RNN_GC_PERIOD_S", "30"))  # 0 turns the timer off


def _collect_forever(period: float) -> None:
    while True:
        time.sleep(period)
        gc.collect()


@st.cache_resource(show_spinner=False)
def keep_memory_bounded() -> dict:
    """Freeze start-up objects and start the collection timer (once; cached for the server's life)."""
    gc.collect()
    gc.freeze()
    if GC_PERIOD_S > 0:
        threading.Thread(target=_collect_forever, args=(GC_PERIOD_S,), daemon=True, name="gc-timer").start()
    return {"frozen": gc.get_freeze_count(), "period_s": GC_PERIOD_S}
