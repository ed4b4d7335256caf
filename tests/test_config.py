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

import pytest
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
    kept = [line for line in result.stdout.splitlines() if re.match(r"\[[\w.]+\]$|\w+ = ", line)]
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
