"""app.serve: the websocket connections of the server get TCP_NODELAY (no ~40 ms Nagle stalls)."""

from __future__ import annotations

import ast
import asyncio
import copy
import socket
import subprocess
import sys
import types
from pathlib import Path

import pytest

from app import serve


def nodelay_of_an_accepted_connection(listener: socket.socket) -> int:
    """TCP_NODELAY of the server side of one connection accepted by asyncio, as Streamlit's server does."""
    port = listener.getsockname()[1]
    seen: list[int] = []

    async def scenario() -> None:
        def accepted(reader, writer):
            seen.append(writer.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        server = await asyncio.start_server(accepted, sock=listener)
        async with server:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            while not seen:
                await asyncio.sleep(0)  # yield to the accept callback (no timing involved)
            writer.close()

    asyncio.run(asyncio.wait_for(scenario(), timeout=30))
    return seen[0]


def fresh_python(code: str) -> subprocess.CompletedProcess:
    """`code` run by a fresh interpreter from the repository's root, as a server's start would."""
    return subprocess.run(
        [sys.executable, "-c", code], cwd=serve.ROOT, capture_output=True, text=True, timeout=120
    )


@pytest.fixture(scope="module")
def bind():
    from streamlit.web.server.starlette import starlette_server

    serve.tcp_nodelay()
    serve.tcp_nodelay()  # twice: still one wrapper
    assert not getattr(starlette_server._bind_socket.original, "tcp_nodelay", False)
    return starlette_server._bind_socket


def test_accepted_connections_have_tcp_nodelay(bind):
    listener = bind("127.0.0.1", 0, 8)
    assert listener.proto == socket.IPPROTO_TCP
    assert nodelay_of_an_accepted_connection(listener) == 1


def test_streamlit_alone_leaves_nagle_on(bind):
    """The reason for the fix: when this fails, Streamlit sets the protocol itself and the fix can go."""
    listener = bind.original("127.0.0.1", 0, 8)
    assert listener.proto == 0
    assert nodelay_of_an_accepted_connection(listener) == 0


def test_the_page_modules_are_imported_before_the_first_visitor():
    """app.serve imports what app/main.py imports in the background (read from main.py's source),
    without running the page, then freezes start-up's objects (app/gc_policy.py); in a fresh
    interpreter, as at a server's start."""
    names = serve.page_modules()
    assert {"app.sections.hidden", "app.figures", "app.components.charts", "streamlit.emojis"} <= set(names)
    code = (
        "import gc, sys; from app import serve; serve.preimport().join(); print(gc.get_freeze_count() > 0); "
        "print(sorted(m for m in sys.modules if m.startswith(('app.', 'streamlit.emojis', 'pandas'))))"
    )
    done = fresh_python(code)
    assert done.returncode == 0, done.stderr
    *_, frozen, modules = done.stdout.strip().splitlines()
    assert frozen == "True"  # start-up's objects frozen for the collector, before any visitor's run
    loaded = set(ast.literal_eval(modules))
    assert {
        "app.sections.hidden",
        "app.sections.training",
        "app.figures.chart",
        "streamlit.emojis",
        "pandas",
    } <= loaded
    assert "app.main" not in loaded  # the page itself did not run


def test_streamlit_is_imported_before_the_background_imports_start():
    """The background imports start once the main thread has imported Streamlit: the streamlit
    package imported by two threads at once once ran its __init__ twice and the server exited at
    start ("DeltaGeneratorSingleton instance already exists!")."""
    code = (
        "import sys; import rnn_core.engine as engine; engine.prewarm = lambda: None\n"
        "from app import serve\n"
        "def started():\n"
        "    print('streamlit.web.cli' in sys.modules); raise SystemExit(0)\n"
        "serve.preimport = started\n"
        "serve.main()\n"
    )
    done = fresh_python(code)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "True"


def test_the_theme_message_is_built_once_and_is_streamlits_own(monkeypatch):
    """serve.theme_once: the new-session message's theme, with a theme set (a primary color, a dark
    sidebar), equals what Streamlit's own code writes, and is built once per section."""
    from streamlit import config
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
    from streamlit.runtime import app_session

    monkeypatch.setattr(app_session, "_populate_theme_msg", app_session._populate_theme_msg)  # (restored)
    original = app_session._populate_theme_msg
    calls: list[str] = []

    def counted(msg, section="theme"):
        calls.append(section)
        original(msg, section)

    app_session._populate_theme_msg = counted
    options = config.get_config_options()
    for key, value in (("theme.primaryColor", "#aa3377"), ("theme.dark.sidebar.backgroundColor", "#102030")):
        monkeypatch.setitem(options, key, copy.deepcopy(options[key]))  # (the original comes back)
        config._set_option(key, value, "test")

    def theme_part() -> bytes:
        msg = ForwardMsg()
        theme = msg.new_session.custom_theme
        app_session._populate_theme_msg(theme)
        for section, part in (("theme.light", theme.light), ("theme.dark.sidebar", theme.dark.sidebar)):
            app_session._populate_theme_msg(part, section)
        return msg.SerializeToString()

    expected = theme_part()
    assert b"#aa3377" in expected and b"#102030" in expected  # (the options were read)
    serve.theme_once()
    serve.theme_once()  # twice: still one wrapper
    calls.clear()
    assert [theme_part() for _ in range(3)] == [expected] * 3
    assert calls == ["theme", "theme.light", "theme.dark.sidebar"]  # built once, then copied


def test_the_config_message_and_the_nudge_are_built_once_and_are_streamlits_own(monkeypatch):
    """serve.config_once: the new-session message's client config, with options set away from their
    defaults, equals what Streamlit's own code writes and is built once; the skills nudge is asked at
    every run while the server has a screen (an install can change it), once when it is headless."""
    from streamlit import config
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
    from streamlit.runtime import app_session

    monkeypatch.setattr(app_session, "_populate_config_msg", app_session._populate_config_msg)  # (restored)
    nudge_key = "_compute_skills_nudge_state"
    monkeypatch.setattr(app_session.AppSession, nudge_key, getattr(app_session.AppSession, nudge_key))
    options = config.get_config_options()
    changed = (("client.toolbarMode", "minimal"), ("ui.hideTopBar", True), ("server.headless", False))
    for key, value in changed:
        monkeypatch.setitem(options, key, copy.deepcopy(options[key]))  # (the original comes back)
        config._set_option(key, value, "test")
    original = app_session._populate_config_msg
    builds: list[int] = []

    def counted(msg):
        builds.append(1)
        original(msg)

    def config_part() -> bytes:
        msg = ForwardMsg()
        app_session._populate_config_msg(msg.new_session.config)
        return msg.SerializeToString()

    app_session._populate_config_msg = counted
    expected = config_part()
    assert config_part() == expected and len(builds) == 2  # (Streamlit's own: built at every run)
    asked: list[str] = []

    def nudge(self):
        asked.append(self.id)
        return False, ""

    setattr(app_session.AppSession, nudge_key, nudge)
    serve.config_once()
    serve.config_once()  # twice: still one wrapper
    builds.clear()
    assert [config_part() for _ in range(3)] == [expected] * 3
    assert len(builds) == 1  # built once, then copied
    session = types.SimpleNamespace(id="s1")
    wrapped = getattr(app_session.AppSession, nudge_key)
    assert [wrapped(session) for _ in range(2)] == [(False, "")] * 2 and asked == ["s1", "s1"]
    config._set_option("server.headless", True, "test")
    assert [wrapped(session) for _ in range(3)] == [(False, "")] * 3
    assert asked == ["s1"] * 3  # headless: asked once more, then kept


def test_the_server_runs_on_uvloop(tmp_path):
    """A real server's process has loaded uvloop (Streamlit imports it when it creates its event loop):
    requirements.txt installs it, and nothing in the start-up keeps it out."""
    from tests.serving import streamlit_server

    with streamlit_server(tmp_path) as server:
        maps = Path(f"/proc/{server.process.pid}/maps").read_text()
    assert "/uvloop/loop." in maps


def test_rnn_uvloop_0_serves_on_asyncios_own_loop():
    """RNN_UVLOOP=0 (for A/B runs): Streamlit finds no uvloop and creates asyncio's own loop."""
    code = (
        "from app import serve; serve.without_uvloop()\n"
        "from streamlit.web import bootstrap; print(bootstrap._get_uvloop_loop_factory())\n"
        "import uvloop\n"
    )
    done = fresh_python(code)
    assert done.stdout.split() == ["None"]
    assert "ModuleNotFoundError" in done.stderr  # (the last line: uvloop cannot be imported)


def test_http_is_parsed_by_h11_whatever_is_installed():
    """uvicorn would pick httptools when importable (it takes a request head of any size: the hostile
    suite's HTTP cases); the start-up names h11, once however often it is called, and keeps the rest of
    Streamlit's settings."""
    code = (
        "from streamlit.web.server.starlette import starlette_server as s\n"
        "before = s._get_uvicorn_config_kwargs()\n"
        "from app import serve; serve.http_h11(); serve.http_h11()\n"
        "after = s._get_uvicorn_config_kwargs()\n"
        "print(after.pop('http'), before.get('http'), after == before)\n"
    )
    done = fresh_python(code)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["h11", "None", "True"]
