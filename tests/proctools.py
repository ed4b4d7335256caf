"""Watching and interrupting real processes: what a terminal's Ctrl-C does, synchronised on /proc."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path


def descendants(pid: int) -> list[tuple[int, str]]:
    """Every process below `pid` (Linux /proc), as (pid, command line)."""
    children: dict[int, list[tuple[int, str]]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_bytes().rsplit(b")", 1)[1].split()[1])
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append((int(entry.name), command))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child[0])
    return found


def wait_for_descendant(process: subprocess.Popen, needle: str, timeout: float = 60.0) -> int:
    """Poll until a process whose command line contains `needle` runs below `process`; its pid."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if process.poll() is not None:
            raise AssertionError(f"exited with {process.returncode} before {needle!r} started")
        for pid, command in descendants(process.pid):
            if needle in command:
                return pid
        time.sleep(0.02)
    raise TimeoutError(f"no {needle!r} below {process.pid} after {timeout} s")


def ctrl_c(process: subprocess.Popen) -> None:
    """What a terminal does on Ctrl-C: SIGINT to the whole foreground process group."""
    os.killpg(process.pid, signal.SIGINT)


def kill_tree(process: subprocess.Popen) -> None:
    """Clean up after a failed test: the process group and every descendant's group."""
    for pid, _ in descendants(process.pid):
        with contextlib.suppress(OSError):
            os.killpg(os.getpgid(pid), signal.SIGKILL)
    with contextlib.suppress(OSError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def wait_for_mapping(pid: int, needle: str, timeout: float = 60.0) -> None:
    """Poll until process `pid` has a file whose path contains `needle` mapped (a library it is
    importing, e.g. TensorFlow's), read from /proc/<pid>/maps."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        try:
            if needle in Path(f"/proc/{pid}/maps").read_text(errors="replace"):
                return
        except OSError as err:
            raise AssertionError(f"process {pid} ended before mapping {needle!r}") from err
        time.sleep(0.02)
    raise TimeoutError(f"process {pid} did not map {needle!r} within {timeout} s")
