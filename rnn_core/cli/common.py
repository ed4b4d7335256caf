"""What several commands share: reading a state file, running the forward pass, failing in one line."""

from __future__ import annotations

import os
import stat
import sys

from .. import reference
from ..state import MAX_STATE_CHARS, State, StateError, load_state


def fail(message: str, status: int = 2) -> int:
    """One line on stderr; the status to exit with."""
    print(f"error: {message}", file=sys.stderr)
    return status


def read_state(path: str | None) -> State:
    """The state in the file, or the tutorial's defaults when no file is given."""
    if path is None:
        return State()
    return load_state(read_limited(path))


def read_limited(path: str, limit: int = MAX_STATE_CHARS) -> str:
    """The text of a regular file of at most `limit` bytes, or StateError naming the file.

    Never blocks and never reads more than limit + 1 bytes: opened with O_NONBLOCK (a FIFO without a
    writer opens at once), then fstat on that descriptor refuses anything but a regular file
    (/dev/zero, a FIFO, a directory, a socket) and a file whose size is over the limit (a 1 GB sparse
    file is refused without reading it); the read stops past the limit in case the file grows.
    A state is ASCII JSON, so the byte limit is the character limit of load_state.
    """
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as err:
        raise StateError("file", f"cannot read {path}: {err.strerror or err}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = _file_kind(info.st_mode)
            raise StateError("file", f"{path} is {kind}, not a regular file")
        if info.st_size > limit:
            raise StateError("file", f"{path} is {info.st_size} bytes; a state file is at most {limit}")
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as err:
        raise StateError("file", f"cannot read {path}: {err.strerror or err}") from None
    finally:
        os.close(fd)
    if size > limit:
        raise StateError("file", f"{path} is over {limit} bytes; a state file is at most {limit}")
    try:
        return b"".join(chunks).decode("utf-8")
    except UnicodeDecodeError as err:
        raise StateError(
            "file", f"cannot read {path}: not UTF-8 text ({err.reason} at byte {err.start})"
        ) from None


def _file_kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def add_state_argument(parser) -> None:
    parser.add_argument("state", nargs="?", help="state JSON file (default: the tutorial's network)")


def add_engine_argument(parser) -> None:
    parser.add_argument("--engine", choices=("tensorflow", "numpy"), default="tensorflow")


def compute_trace(state: State, engine: str) -> reference.Trace:
    """One forward pass of the state, in numpy or in a TensorFlow worker stopped afterwards."""
    weights = state.resolved_weights()
    if engine == "numpy":
        return reference.forward(state.inputs, weights, state.activation)
    from ..engine import Engine

    tf_engine = Engine()
    try:
        tf_engine.start()  # a call alone waits only queue_timeout for TensorFlow to start
        return tf_engine.forward(state.inputs, weights, state.activation).value
    finally:
        tf_engine.stop()
