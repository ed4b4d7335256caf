"""Start the app: the TensorFlow worker first (in the background), then `streamlit run app/main.py`,
in one process, so the first visitor does not wait ~5 s for TensorFlow to import.

    python -m app.serve [streamlit options, e.g. --server.port=8502]

Not to be confused with app/gc_policy.py (what each server process does about garbage collection).
"""

from __future__ import annotations

import ast
import contextlib
import importlib
import os
import socket
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


SWITCH_INTERVAL_S = 0.0005  # the GIL switch interval of the page process (see main)


def tcp_nodelay() -> None:
    """Make Streamlit's listening socket an explicit TCP socket, so that every websocket gets TCP_NODELAY.

    Streamlit 1.67 creates it as socket.socket(family) (protocol 0). Accepted connections inherit that,
    and asyncio turns Nagle's algorithm off only for sockets whose proto is IPPROTO_TCP: a reply of
    several messages then waits ~40 ms for the client's delayed ACK (measured: the class p95 halves
    with this). The socket is re-wrapped with its protocol stated; nothing else about it changes.
    """
    from streamlit.web.server.starlette import starlette_server

    bind = starlette_server._bind_socket
    if getattr(bind, "tcp_nodelay", False):
        return

    def bind_tcp(address: str, port: int, backlog: int) -> socket.socket:
        sock = bind(address, port, backlog)
        tcp = socket.socket(sock.family, sock.type, socket.IPPROTO_TCP, fileno=sock.detach())
        tcp.setblocking(False)
        tcp.set_inheritable(True)
        return tcp

    bind_tcp.tcp_nodelay = True  # type: ignore[attr-defined]
    bind_tcp.original = bind  # type: ignore[attr-defined]
    starlette_server._bind_socket = bind_tcp


def theme_once() -> None:
    """Build the theme part of Streamlit's new-session message once per process, not at every run.

    Streamlit 1.67 starts each run's message (`AppSession._create_new_session_message`) by reading
    every config option six times over (`config.get_options_for_section` for theme, theme.light, ...,
    all 367 options each time, under a lock): ~1 ms of the event loop's time per seed edit (py-spy
    --gil on a real server; a seed edit is two runs). The theme cannot change while the server runs
    (fileWatcherType is "none", the page sets no theme option), so each section's message is built by
    Streamlit's own code the first time and copied afterwards."""
    from streamlit.runtime import app_session

    app_session._populate_theme_msg = _built_once(app_session._populate_theme_msg)


def _built_once(populate: Callable[..., None]) -> Callable[..., None]:
    """`populate(msg, *section)`, which writes a fixed part of the new-session message, as a function
    that runs it once per section (into a fresh message of its kind, by Streamlit's own code) and
    merges a copy of the bytes at every later call. Already wrapped: returned as it is."""
    if getattr(populate, "cached", False):
        return populate
    built: dict[tuple, bytes] = {}

    def populate_once(msg: Any, *section: str) -> None:
        if section not in built:
            fresh = type(msg)()
            populate(fresh, *section)
            built[section] = fresh.SerializeToString()
        if built[section]:  # (merging nothing would still mark an unset section as present)
            msg.MergeFromString(built[section])

    populate_once.cached = True  # type: ignore[attr-defined]
    populate_once.original = populate  # type: ignore[attr-defined]
    return populate_once


def config_once() -> None:
    """Build the rest of the new-session message's fixed part once per process too: its client config
    and the skills nudge. Both read config options at every run (`_populate_config_msg`: 9 options,
    under the config lock; `_compute_skills_nudge_state`: a headless server's answer is always "no
    nudge"): 8.5% of the event loop's and scripts' GIL time during cell clicks (py-spy --gil; 2 runs a
    click). The page sets no option while serving; the nudge is kept only when the server is headless,
    which cannot change while it runs."""
    from streamlit import config
    from streamlit.runtime import app_session

    if getattr(app_session._populate_config_msg, "cached", False):
        return
    app_session._populate_config_msg = _built_once(app_session._populate_config_msg)
    nudge = app_session.AppSession._compute_skills_nudge_state
    headless: list[tuple[bool, str]] = []

    def nudge_once(self) -> tuple[bool, str]:
        if headless:
            return headless[0]
        found = nudge(self)
        if config.get_option("server.headless"):
            headless.append(found)
        return found

    nudge_once.original = nudge  # type: ignore[attr-defined]
    app_session.AppSession._compute_skills_nudge_state = nudge_once  # type: ignore[method-assign]


def page_modules() -> list[str]:
    """The modules app/main.py imports (read from its source: the page itself is not run here), and
    the emoji table Streamlit loads for the page icon."""
    tree = ast.parse((ROOT / "app" / "main.py").read_text(encoding="utf-8"))
    found = ["streamlit.emojis"]
    for node in tree.body:
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found += [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
    return list(dict.fromkeys(found))


def preimport() -> threading.Thread:
    """Import the page's modules in the background while the server starts, then freeze start-up's
    objects for the collector (app/gc_policy.py): the first visitor's run does not pay them (~1 s of
    a first run on 2 cores: pandas, the figures, the sections; ~60 ms of a full collection)."""

    def run() -> None:
        for name in page_modules():
            with contextlib.suppress(ImportError):  # (`from m import f` lists m.f: f may be a function)
                importlib.import_module(name)
        from app import gc_policy

        gc_policy.freeze_start_up()  # (the modules are in: what the first run would freeze)

    thread = threading.Thread(target=run, daemon=True, name="rnn-page-preimport")
    thread.start()
    return thread


def patch_streamlit() -> None:
    """What this start-up changes in Streamlit before it serves (each switchable for A/B runs by its
    environment variable): the hardening, HTTP parsed by h11, the switch interval, TCP_NODELAY, the
    new-session message's fixed parts built once, the script runs queued into CPU slots
    (app/run_slots.py), uvloop (which Streamlit uses when installed: requirements.txt), the browser's
    files compressed once and served from memory (app/static_cache.py)."""
    from app import hardening, run_slots, static_cache

    hardening.install()
    http_h11()  # (not switchable: a limit on what a request's head may hold)
    # The event loop that sends every session's messages needs the GIL after each send; while script
    # threads compute, Python's default 5 ms switch interval makes it wait up to 5 ms each time (the
    # convoy effect): 0.5 ms lets replies out sooner (bench/train_load.py; RNN_SWITCH_INTERVAL=0.005
    # for the A/B).
    sys.setswitchinterval(float(os.environ.get("RNN_SWITCH_INTERVAL", str(SWITCH_INTERVAL_S))))
    if os.environ.get("RNN_TCP_NODELAY", "1") != "0":  # 0: Streamlit's own socket (benchmarks compare)
        tcp_nodelay()
    if os.environ.get("RNN_THEME_ONCE", "1") != "0":  # 0: Streamlit's own (benchmarks compare)
        theme_once()
    if os.environ.get("RNN_CONFIG_ONCE", "1") != "0":  # 0: Streamlit's own (benchmarks compare)
        config_once()
    run_slots.install(run_slots.from_environment(os.environ.get("RNN_RUN_SLOTS")))  # 0: Streamlit's own
    if os.environ.get("RNN_UVLOOP", "1") == "0":  # 0: asyncio's own event loop (A/B runs)
        without_uvloop()
    if os.environ.get("RNN_STATIC_CACHE", "1") != "0":  # 0: Streamlit's own static files (A/B runs)
        static_cache.install()


def without_uvloop() -> None:
    """Serve on asyncio's own event loop, as Streamlit does when uvloop is not installed (it is skipped
    when it cannot be imported: None in sys.modules makes importing it raise ModuleNotFoundError)."""
    sys.modules["uvloop"] = None  # type: ignore[assignment]


def http_h11() -> None:
    """Parse HTTP with h11 whatever is installed. uvicorn picks httptools when it can import it (a
    package that depends on uvicorn[standard] brings it), and its httptools parser takes a request head
    of any size: a 20 MB header or 200,000 headers were read into memory (+30 MB each), where h11
    refuses a head that one read of the socket does not complete past 16 KB (tests/test_hostile.py).
    Only the websocket's handshake and the few plain requests are HTTP: the parser's speed is not the
    server's."""
    from streamlit.web.server.starlette import starlette_server

    kwargs = starlette_server._get_uvicorn_config_kwargs
    if getattr(kwargs, "h11", False):
        return

    def with_h11() -> dict[str, Any]:
        return {**kwargs(), "http": "h11"}

    with_h11.h11 = True  # type: ignore[attr-defined]
    starlette_server._get_uvicorn_config_kwargs = with_h11


def main() -> None:
    from rnn_core.engine import prewarm

    prewarm()  # first: the worker's TensorFlow import (~2-5 s) overlaps Streamlit's import here (~1 s)
    from streamlit.web import cli

    from app import hardening  # noqa: F401  (imported before the page's modules' thread starts)

    # The page's modules in the background, once Streamlit is imported: importing the streamlit
    # package in two threads at once once ran its __init__ twice ("DeltaGeneratorSingleton instance
    # already exists!": the server exited at start, 1 start in some hundreds).
    if os.environ.get("RNN_PREIMPORT", "1") != "0":
        preimport()

    patch_streamlit()
    sys.argv = ["streamlit", "run", str(ROOT / "app" / "main.py"), *sys.argv[1:]]
    cli.main(prog_name="streamlit")


if __name__ == "__main__":
    main()
