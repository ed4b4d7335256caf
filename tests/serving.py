"""Start real `streamlit run` servers on free loopback ports, for browser and deployment tests."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_healthy(
    url: str,
    timeout: float = 60.0,
    process: subprocess.Popen | None = None,
    start: float | None = None,
    poll_s: float = 0.05,
) -> float:
    """Poll `url`/_stcore/health until it answers ok; return the seconds since `start` (a
    time.perf_counter() reading, default: now)."""
    start = time.perf_counter() if start is None else start
    while time.perf_counter() - start < timeout:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return time.perf_counter() - start
        except OSError:
            pass
        time.sleep(poll_s)
    raise TimeoutError(f"{url} not healthy after {timeout} s")


@dataclass
class Server:
    url: str
    port: int
    process: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def streamlit_command(port: int, script: str = "app/main.py", extra: list[str] | None = None) -> list[str]:
    """The app's own start command (`python -m app.serve`: the worker first, then `streamlit run
    app/main.py`), or `streamlit run SCRIPT` for any other page."""
    start = ["-m", "app.serve"] if script == "app/main.py" else ["-m", "streamlit", "run", script]
    return [
        sys.executable,
        *start,
        "--server.headless=true",
        "--server.address=127.0.0.1",
        f"--server.port={port}",
        "--browser.gatherUsageStats=false",
        *(extra or []),
    ]


@contextlib.contextmanager
def streamlit_server(
    tmp_dir: Path,
    script: str = "app/main.py",
    extra: list[str] | None = None,
    env: dict | None = None,
    port: int | None = None,
) -> Iterator[Server]:
    """A real `streamlit run` server on a free loopback port, stopped on exit."""
    port = port or free_port()
    log_path = Path(tmp_dir) / f"streamlit-{port}.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            streamlit_command(port, script, extra),
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            start_new_session=True,
        )
    server = Server(f"http://127.0.0.1:{port}", port, process, log_path)
    try:
        wait_healthy(server.url, process=process)
        yield server
    finally:
        stop(process)


def stop(process: subprocess.Popen) -> None:
    """Stop the server and its worker (they share a process group)."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, 15)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait()


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")
