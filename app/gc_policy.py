"""Once per server process: keep memory bounded without a full collection after every rerun.

Streamlit's own `runner.postScriptGC` (off in .streamlit/config.toml) runs gc.collect() after every
script run, holding the GIL for longer the more sessions are alive (DESIGN.md section 2). Instead:
freeze what start-up created (modules, caches: never garbage) so the collector stops re-scanning it,
and collect the rest on a timer. The same timer shuts down the disconnected sessions whose time to
live (server.disconnectedSessionTTL) has passed, and hands freed memory back to the system.

Streamlit keeps a disconnected session (for a reconnect) and expires it only lazily, when its session
storage is next written: after a class leaves, nothing writes, and every session stayed in memory
(200 sessions at the size caps: 259 -> 1,479 MB, still there 160 s later). An expired session dropped
that way is not shut down either (its download files stay in the media file manager).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import gc
import logging
import os
import sys
import threading
import time

import streamlit as st

_LOG = logging.getLogger(__name__)

GC_PERIOD_S = float(os.environ.get("RNN_GC_PERIOD_S", "30"))  # 0 turns the timer off


def _collect_forever(period: float) -> None:
    while True:
        time.sleep(period)
        try:
            expire_disconnected_sessions()
        except Exception:  # a Streamlit upgrade that moved its internals must not stop the collections
            _LOG.exception("expiring disconnected sessions failed")
        gc.collect()
        release_free_memory()


def expire_disconnected_sessions() -> int:
    """Shut down the stored (disconnected) sessions whose time to live has passed; their number.

    Runs on Streamlit's event loop (its session storage is not thread-safe); returns at once, the
    shutdown follows there. Streamlit 1.67 internals: Runtime._session_mgr._session_storage._cache."""
    from streamlit import runtime

    if not runtime.exists():
        return 0
    rt = runtime.get_instance()
    storage = getattr(getattr(rt, "_session_mgr", None), "_session_storage", None)
    cache = getattr(storage, "_cache", None)
    if cache is None or not hasattr(cache, "expire"):
        return 0
    loop = rt._get_async_objs().eventloop
    done = threading.Event()
    count = [0]

    def expire() -> None:
        try:
            for _, info in cache.expire():
                info.session.shutdown()
                count[0] += 1
        finally:
            done.set()

    loop.call_soon_threadsafe(expire)
    done.wait(10)
    return count[0]


_LIBC = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6") if os.name == "posix" else None


def release_free_memory() -> None:
    """Return the heap's free pages to the system (glibc keeps them otherwise: the process's RSS would
    stay at its peak after the sessions that used the memory are gone)."""
    arrow = sys.modules.get("pyarrow")  # Arrow keeps its own pool (the tables sent to the browser)
    if arrow is not None:
        with contextlib.suppress(Exception):
            arrow.default_memory_pool().release_unused()
    trim = getattr(_LIBC, "malloc_trim", None)
    if trim is not None:
        trim(0)


_frozen = threading.Lock()
_start_up_frozen = False


def freeze_start_up() -> None:
    """Collect once and freeze what is left (start-up's objects), once per process: app.serve does it
    when its background imports end, so the first visitor's run does not pay it (~60 ms)."""
    global _start_up_frozen
    with _frozen:
        if not _start_up_frozen:
            gc.collect()
            gc.freeze()
            _start_up_frozen = True


@st.cache_resource(show_spinner=False)
def keep_memory_bounded() -> dict:
    """Freeze start-up objects (unless done already) and start the collection timer (once; cached
    for the server's life)."""
    freeze_start_up()
    if GC_PERIOD_S > 0:
        threading.Thread(target=_collect_forever, args=(GC_PERIOD_S,), daemon=True, name="gc-timer").start()
    return {"frozen": gc.get_freeze_count(), "period_s": GC_PERIOD_S}
