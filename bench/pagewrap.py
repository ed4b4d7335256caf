"""Run app/main.py from a bench-only wrapper page, with something set up around it.

The wrapper pages under bench/pages/ are what `streamlit run` (or AppTest) is given; each calls
run_app() to execute the real page's code, as if app/main.py were the main script.
"""

from __future__ import annotations

import gc
import json
import os
import threading
import time
from pathlib import Path

APP = Path(__file__).resolve().parents[1] / "app" / "main.py"
GC_MODES = ("app", "none", "freeze", "timer")
_code = None
_gc_mode: str | None = None


def run_app() -> None:
    """Execute app/main.py in a fresh namespace named __main__ (like `streamlit run app/main.py`)."""
    global _code
    if _code is None:
        _code = compile(APP.read_text(), str(APP), "exec")
    exec(_code, {"__name__": "__main__", "__file__": str(APP)})


def setup_gc(mode: str, log_path: str | None = None) -> None:
    """Once per process: replace app.gc_policy.keep_memory_bounded according to `mode`, and log every
    full (generation 2) collection, whoever runs it, to `log_path` as JSON lines."""
    global _gc_mode
    if _gc_mode is not None:
        return
    if mode not in GC_MODES:
        raise ValueError(f"BENCH_GC_MODE must be one of {GC_MODES}, got {mode!r}")
    _gc_mode = mode
    if log_path:
        _log_full_collections(log_path)
    if mode == "app":
        return
    from app import gc_policy

    period = float(os.environ.get("RNN_GC_PERIOD_S", "30"))

    def keep_memory_bounded() -> dict:
        if mode == "freeze":
            gc.collect()
            gc.freeze()
        elif mode == "timer":
            threading.Thread(target=_collect_every, args=(period,), daemon=True, name="gc-timer").start()
        return {"mode": mode}

    once = _once(keep_memory_bounded)
    gc_policy.keep_memory_bounded = once


def _once(fn):
    done: list = []

    def wrapper():
        if not done:
            done.append(fn())
        return done[0]

    return wrapper


def _collect_every(period: float) -> None:
    while True:
        time.sleep(period)
        gc.collect()


def _log_full_collections(path: str) -> None:
    started: dict[str, float] = {}
    out = open(path, "a", buffering=1)  # noqa: SIM115 (open for the life of the process)

    def callback(phase: str, info: dict) -> None:
        if info.get("generation") != 2:
            return
        if phase == "start":
            started["t"], started["cpu"] = time.perf_counter(), time.thread_time()
        elif "t" in started:
            seconds = time.perf_counter() - started.pop("t")
            cpu = time.thread_time() - started.pop("cpu")
            line = {
                "t": time.time(),
                "ms": seconds * 1000,
                "cpu_ms": cpu * 1000,
                "collected": info.get("collected"),
                "thread": threading.current_thread().name,
            }
            out.write(json.dumps(line) + "\n")

    gc.callbacks.append(callback)
