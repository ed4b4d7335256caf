""".streamlit/config.toml: a public configuration, in keys Streamlit 1.67 knows, each explained.

The fast tests read the file and ask Streamlit what it makes of it (in a subprocess, from the
repository root, with no user config or STREAMLIT_* variables around). The slow one runs a page
that raises on a real server with this config, and with the development override.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import tomllib
import urllib.error
import urllib.request

import pytest
import websockets.exceptions
from websockets.sync.client import connect

from tests.serving import ROOT, streamlit_server
from tests.test_docker import run_page

CONFIG = ROOT / ".streamlit" / "config.toml"
# What the issue asks of a public demo (and DESIGN.md section 2 of the runner).
PUBLIC = {
    "server.enableXsrfProtection": True,
    "server.enableCORS": True,
    "server.fileWatcherType": "none",
    "client.showErrorDetails": "none",
    "client.toolbarMode": "viewer",
    "browser.gatherUsageStats": False,
    "runner.postScriptGC": False,
    "server.allowedHosts": ["localhost", "127.0.0.1", "::1"],
    "server.maxWidgetStateSize": 2,
    "server.enableAgentApi": False,
    "client.allowedOrigins": [],
}
STATE_JSON_MB = 2  # the largest upload the app takes: one state JSON
STREAMLIT_DEFAULT_MB = 200  # server.maxUploadSize and server.maxMessageSize out of the box


def settings() -> dict[str, object]:
    """The file's settings as dotted keys."""
    data = tomllib.loads(CONFIG.read_text())
    return {f"{section}.{key}": value for section, table in data.items() for key, value in table.items()}


def effective(env: dict[str, str] | None = None) -> dict[str, object]:
    """`streamlit config show` run from the repository root, with no user config and no STREAMLIT_*
    variables but `env` (the CLI is where Streamlit reads those), as dotted keys. Hidden options
    such as runner.postScriptGC are not shown."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("STREAMLIT_")}
    clean["HOME"] = str(ROOT / "nonexistent-home")  # no ~/.streamlit/config.toml
    result = subprocess.run(
        [sys.executable, "-m", "streamlit", "config", "show"],
        cwd=ROOT,
        env={**clean, **(env or {})},
        capture_output=True,
        text=True,
        check=True,
    )
    kept, in_list = [], False
    for line in result.stdout.splitlines():  # sections, `key = value` lines and multi-line lists
        if in_list or re.match(r"\[[\w.]+\]$|\w+ = ", line):
            kept.append(line)
            in_list = (in_list or line.rstrip().endswith("[")) and line.strip() != "]"
    found = {}
    for section, table in tomllib.loads("\n".join(kept)).items():
        found.update(
            {f"{section}.{key}": value for key, value in table.items() if not isinstance(value, dict)}
        )
    return found


def hidden_option(key: str) -> object:
    """A hidden option's value as Streamlit reads it from the repository root's config file."""
    code = "import sys; from streamlit import config; print(repr(config.get_option(sys.argv[1])))"
    env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMLIT_")}
    env["HOME"] = str(ROOT / "nonexistent-home")
    result = subprocess.run(
        [sys.executable, "-c", code, key], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    return result.stdout.strip().splitlines()[-1]


def test_every_key_exists_in_this_streamlit():
    import streamlit
    from streamlit import config

    assert streamlit.__version__.startswith("1.67"), "re-check the keys against `streamlit config show`"
    config.get_config_options()
    unknown = set(settings()) - set(config._config_options_template)
    assert not unknown, f"not Streamlit options: {unknown}"


def test_every_setting_is_explained_by_a_comment_above_it():
    lines = CONFIG.read_text().splitlines()
    for i, line in enumerate(lines):
        if re.match(r"\s*\w+\s*=", line):
            assert lines[i - 1].lstrip().startswith("#"), f"line {i + 1} has no comment: {line}"


def test_public_settings_are_set_in_the_file_and_in_effect():
    assert settings().items() >= PUBLIC.items()
    shown = effective()
    for key, value in PUBLIC.items():
        actual = shown[key] if key in shown else ast.literal_eval(hidden_option(key))
        assert actual == value, key


def test_magic_is_off_and_the_page_needs_none():
    """Streamlit's magic is off (it rewrites the page script at each compile: ~13 ms, again whenever
    the last session closed), and the page has nothing magic would draw: Streamlit's own rewrite of
    app/main.py draws nothing (a bare value in the page would be lost: write it with st.write)."""
    from streamlit.runtime.scriptrunner import magic

    assert ast.literal_eval(hidden_option("runner.magicEnabled")) is False
    page = ROOT / "app" / "main.py"
    source = page.read_text()
    assert "transparent_write" not in ast.unparse(magic.add_magic(source, str(page)))
    assert "transparent_write" in ast.unparse(magic.add_magic(source + "\nstate\n", str(page)))


def test_sizes_are_limited_to_what_the_app_needs():
    found = effective()
    assert STATE_JSON_MB < found["server.maxUploadSize"] <= 10
    assert 10 <= found["server.maxMessageSize"] < STREAMLIT_DEFAULT_MB


def test_no_secret_in_the_file():
    assert "server.cookieSecret" not in settings(), "set STREAMLIT_SERVER_COOKIE_SECRET instead"
    assert (
        not (ROOT / ".streamlit" / "secrets.toml").exists()
        or ".streamlit/secrets.toml" in (ROOT / ".gitignore").read_text()
    )


def test_developers_can_show_error_details_through_the_environment():
    env = {"STREAMLIT_CLIENT_SHOW_ERROR_DETAILS": "full", "STREAMLIT_SERVER_FILE_WATCHER_TYPE": "auto"}
    shown = effective(env)
    assert (shown["client.showErrorDetails"], shown["server.fileWatcherType"]) == ("full", "auto")


@pytest.mark.slow
@pytest.mark.parametrize("override", [None, "full"])
def test_visitors_do_not_see_error_details(tmp_path, override):
    """A page that raises, on a real server run from the repository root with this config."""
    script = tmp_path / "boom.py"
    script.write_text('import streamlit as st\nst.write("before")\nraise ValueError("secret detail")\n')
    env = {"STREAMLIT_CLIENT_SHOW_ERROR_DETAILS": override} if override else {}
    with (
        streamlit_server(tmp_path, script=str(script), env=env) as server,
        connect(server.url.replace("http://", "ws://") + "/_stcore/stream", subprotocols=["streamlit"]) as ws,
    ):
        (shown,) = run_page(ws, timeout=30)
    if override:
        assert "ValueError" in shown and "secret detail" in shown
    else:
        assert "ValueError" not in shown and "secret detail" not in shown
        assert "redacted" in shown


@pytest.mark.slow
def test_the_largest_message_at_the_size_caps_fits_with_room_to_spare(tmp_path):
    """The real page at every size cap (opened from a share link), on a server with this config."""
    import numpy as np

    from rnn_core.config import LIMITS
    from rnn_core.state import State, View, encode_link

    T, B, F, H = (LIMITS[k][1] for k in ("n_steps", "batch", "n_inputs", "n_neurons"))
    inputs = np.random.default_rng(0).uniform(-20, 20, (T, B, F))
    link = encode_link(State(inputs=inputs, n_neurons=H, view=View(step=T - 1)))
    sizes: list[int] = []
    with (
        streamlit_server(tmp_path) as server,
        connect(
            server.url.replace("http://", "ws://") + "/_stcore/stream",
            subprotocols=["streamlit"],
            max_size=None,
        ) as ws,
    ):
        assert run_page(ws, timeout=180, query_string=f"s={link}", sizes=sizes) == []
    limit = effective()["server.maxMessageSize"] * 1024 * 1024
    assert sum(sizes) > 1_000_000, "the page did draw at the caps"
    assert max(sizes) * 4 <= limit, f"largest message {max(sizes)} bytes; the limit is {limit}"


# ---- what the plain server exposes, and to whom ---------------------------------------------------


def open_websocket(url: str, host: str, origin: str | None = None):
    """The browser's websocket to `url`, as if the page had been loaded from `host` (Host header)."""
    import socket

    port = int(url.rsplit(":", 1)[1])
    return connect(
        f"ws://{host}:{port}/_stcore/stream",
        sock=socket.create_connection(("127.0.0.1", port), timeout=10),
        origin=origin or f"http://{host}:{port}",
        subprotocols=["streamlit"],
        open_timeout=10,
    )


def http_get(url: str, host: str | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"Host": host} if host else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@pytest.mark.slow
def test_dns_rebinding_a_foreign_host_gets_no_session(tmp_path):
    """A page at evil.example whose name now points here sends Host and Origin evil.example: same
    origin, so only the Host allow-list refuses it. Named hosts are added through the environment."""
    script = tmp_path / "page.py"
    script.write_text('import streamlit as st\nst.write("hello")\n')
    env = {"STREAMLIT_SERVER_ALLOWED_HOSTS": "localhost 127.0.0.1 demo.test"}
    for extra_env, allowed, refused in [
        ({}, ["127.0.0.1", "localhost"], ["evil.example", "demo.test"]),
        (env, ["127.0.0.1", "demo.test"], ["evil.example"]),
    ]:
        with streamlit_server(tmp_path, script=str(script), env=extra_env) as server:
            for host in allowed:
                with open_websocket(server.url, host) as ws:
                    assert run_page(ws, timeout=30) == []
            for host in refused:
                with pytest.raises(websockets.exceptions.InvalidStatus) as refusal:
                    open_websocket(server.url, host)
                assert refusal.value.response.status_code == 403, host


@pytest.mark.slow
def test_what_the_plain_server_still_exposes(tmp_path):
    """docs/SECURITY.md lists these; deploy/'s nginx hides the metrics (tests/test_deploy.py)."""
    import json

    script = tmp_path / "page.py"
    script.write_text('import streamlit as st\nst.write("hello")\n')
    with streamlit_server(tmp_path, script=str(script)) as server:
        status, body = http_get(server.url + "/_stcore/metrics")
        assert status == 200 and b"active_sessions" in body  # no option turns it off in 1.67
        status, body = http_get(server.url + "/_stcore/host-config")
        assert status == 200  # the browser client needs it to connect (DoInitPings)
        assert json.loads(body)["allowedOrigins"] == []  # no framing page may drive the app
        status, _ = http_get(server.url + "/_stcore/agent/interact")
        assert status in (403, 404, 405)  # the agent API is off
