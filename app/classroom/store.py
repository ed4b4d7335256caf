"""The class-session store: one interface, what it returns, what it refuses, and `open_store`.

A teacher creates a class and gets a join code (for students) and a teacher key (kept by the
teacher's browser session only). Students join with the code and a random anonymous client id,
poll `version(code)` about once a second and fetch `current(code)` only when it changed, send
heartbeats, and answer questions. The teacher publishes snapshots of their view, reads presence
and the pooled answers of a question, reveals it, and ends the class. Everything of a class is
gone `ttl` seconds (12 hours) after it was created, or at once when the teacher ends it.

Pure Python (no streamlit, no tensorflow): the page, the tests and the benchmark all use it.
"""

from __future__ import annotations

import json
import math
import os
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

from app.classroom import codes

ENV_VAR = "RNN_CLASS_STORE"

CLASS_TTL_S = 12 * 3600  # a class ends 12 hours after it starts; also the most a store accepts
MAX_STUDENTS = 500
JOINS_PER_MINUTE = 10  # per client id
# Per network address (the page passes the visitor's IP when it knows it). A whole lecture hall
# often shares one public address (NAT), so this one is high: it only slows a scripted guesser.
JOINS_PER_MINUTE_PER_ADDRESS = 1000
JOIN_WINDOW_S = 60.0
PRESENCE_WINDOW_S = 10.0  # connected = a heartbeat within this many seconds
MAX_QUESTIONS = 200  # distinct question ids answered in one class
MAX_SNAPSHOT_BYTES = 64 * 1024  # a share link is refused past ~6,000 characters by the page
MAX_CHOICE = 64  # choices 0..63
MAX_NUMBER = 1e6  # like the page's inputs
MAX_CELL_INDEX = 4096  # rows and neurons 0..4095 (the page's caps are 32 and 256)


# -- errors ----------------------------------------------------------------------------------------


class ClassroomError(Exception):
    """Base of every refusal; str(error) is a sentence fit to show to the user."""


class ClassNotFound(ClassroomError, LookupError):
    def __init__(self, code: object = None):
        shown = code if isinstance(code, str) and len(code) <= 32 else "?"
        super().__init__(
            f"No class with the code {shown}: check the code, or the class has ended "
            f"(a class lasts at most {CLASS_TTL_S // 3600} hours)."
        )


class NotTeacher(ClassroomError, PermissionError):
    def __init__(self):
        super().__init__("Only the teacher of this class can do that.")


class ClassFull(ClassroomError):
    def __init__(self, limit: int):
        super().__init__(f"This class is full ({limit} students).")


class RateLimited(ClassroomError):
    def __init__(self, retry_after: float):
        self.retry_after = max(0.0, retry_after)
        super().__init__(f"Too many attempts to join: try again in {math.ceil(self.retry_after)} s.")


class NotJoined(ClassroomError):
    def __init__(self):
        super().__init__("Join the class first.")


class AnswersClosed(ClassroomError):
    def __init__(self, question_id: str):
        super().__init__(f"The answers to {question_id} have been revealed: answering is closed.")


class NotRevealed(ClassroomError):
    def __init__(self, question_id: str):
        super().__init__(f"The answers to {question_id} are not revealed yet.")


class TooManyQuestions(ClassroomError):
    def __init__(self, limit: int):
        super().__init__(f"This class already has answers to {limit} questions.")


class InvalidInput(ClassroomError, ValueError):
    """A malformed client id, question id, answer or snapshot."""


class StoreUnavailable(ClassroomError):
    def __init__(self, detail: str = ""):
        super().__init__("The class server cannot be reached right now; try again in a moment.")
        self.detail = detail


# -- results ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class JoinResult:
    code: str  # canonical form
    version: int  # of the current snapshot: 0 until the teacher publishes
    students: int  # joined so far, this student included
    rejoined: bool  # this client id had joined before (does not count twice)


@dataclass(frozen=True)
class Presence:
    connected: int  # students with a heartbeat in the last PRESENCE_WINDOW_S seconds
    following: int  # of those, the ones whose last heartbeat said they follow the teacher
    joined: int  # students who ever joined (at most MAX_STUDENTS)


@dataclass(frozen=True)
class Distribution:
    """The pooled answers to one question; no client ids."""

    question_id: str
    total: int  # students who answered (one answer each)
    choices: dict[int, int] = field(default_factory=dict)  # choice index -> count
    numbers: list[float] = field(default_factory=list)  # sorted, for a histogram
    cells: dict[tuple[int, int], int] = field(default_factory=dict)  # (row, neuron) -> count
    revealed: bool = False


# -- validation, shared by the stores --------------------------------------------------------------


def check_client_id(client_id: object) -> str:
    if not codes.valid_client_id(client_id):
        raise InvalidInput("A client id is 8-64 characters of A-Z, a-z, 0-9, _ and -.")
    return client_id  # type: ignore[return-value]


def check_question_id(question_id: object) -> str:
    if not codes.valid_question_id(question_id):
        raise InvalidInput("A question id is 1-64 characters of A-Z, a-z, 0-9, _, ., : and -.")
    return question_id  # type: ignore[return-value]


def _index(value: object, limit: int) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < limit:
        return value
    return None


ANSWER_HELP = (
    f'An answer is {{"choice": i}} with 0 <= i < {MAX_CHOICE}, {{"number": x}} with a finite '
    f'|x| <= {MAX_NUMBER:g}, or {{"cell": [row, neuron]}} with indices 0..{MAX_CELL_INDEX - 1}.'
)


def check_answer(answer: object) -> str:
    """The canonical JSON of a valid answer (at most ~40 bytes), or InvalidInput."""
    if not isinstance(answer, dict) or len(answer) != 1:
        raise InvalidInput(ANSWER_HELP)
    ((kind, value),) = answer.items()
    if kind == "choice" and _index(value, MAX_CHOICE) is not None:
        return json.dumps({"choice": value})
    if (
        kind == "number"
        and isinstance(value, int | float)
        and not isinstance(value, bool)
        and abs(value) <= MAX_NUMBER  # before isfinite: a huge int would overflow float(); NaN fails
        and math.isfinite(value)
    ):
        return json.dumps({"number": float(value)})
    if (
        kind == "cell"
        and isinstance(value, list | tuple)
        and len(value) == 2
        and all(_index(v, MAX_CELL_INDEX) is not None for v in value)
    ):
        return json.dumps({"cell": [value[0], value[1]]})
    raise InvalidInput(ANSWER_HELP)


def check_snapshot(snapshot: object) -> str:
    """The JSON text of a publishable snapshot: a JSON object of at most MAX_SNAPSHOT_BYTES."""
    if not isinstance(snapshot, dict):
        raise InvalidInput("A snapshot is a dict (a JSON object).")
    try:
        text = json.dumps(snapshot, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError) as error:
        raise InvalidInput(f"A snapshot must be JSON-serialisable: {error}") from None
    if len(text.encode()) > MAX_SNAPSHOT_BYTES:
        raise InvalidInput(f"A snapshot is at most {MAX_SNAPSHOT_BYTES // 1024} KiB of JSON.")
    return text


def pool(question_id: str, answers: list[str], revealed: bool) -> Distribution:
    """Count canonical answer JSON texts into a Distribution."""
    choices: dict[int, int] = {}
    numbers: list[float] = []
    cells: dict[tuple[int, int], int] = {}
    for text in answers:
        answer = json.loads(text)
        if "choice" in answer:
            choices[answer["choice"]] = choices.get(answer["choice"], 0) + 1
        elif "number" in answer:
            numbers.append(answer["number"])
        else:
            cell = (answer["cell"][0], answer["cell"][1])
            cells[cell] = cells.get(cell, 0) + 1
    return Distribution(
        question_id=question_id,
        total=len(answers),
        choices=dict(sorted(choices.items())),
        numbers=sorted(numbers),
        cells=dict(sorted(cells.items())),
        revealed=revealed,
    )


def check_limits(ttl: float, *counts: int) -> None:
    if not 0 < ttl <= CLASS_TTL_S:
        raise ValueError(f"ttl must be in (0, {CLASS_TTL_S}] seconds")
    if min(counts) < 1:
        raise ValueError("student, join and question limits must be at least 1")


# -- the interface ---------------------------------------------------------------------------------


class ClassStore(ABC):
    """Where classes live. Every method may raise ClassNotFound (bad, ended or expired code),
    InvalidInput, and StoreUnavailable (Redis down); teacher-only methods raise NotTeacher."""

    @abstractmethod
    def create_class(self) -> tuple[str, str]:
        """A new class: (join code, teacher key). Keep the key secret (the teacher's session)."""

    @abstractmethod
    def join(self, code: str, client_id: str, *, address: str | None = None) -> JoinResult:
        """Join with a typed code. Limited to JOINS_PER_MINUTE per client id and, when the page
        passes the visitor's network address, JOINS_PER_MINUTE_PER_ADDRESS per address (stored
        hashed), counted whether or not the code exists, so codes cannot be guessed fast. Joining
        again with the same client id is allowed and counted once. RateLimited, ClassFull."""

    @abstractmethod
    def publish(self, code: str, teacher_key: str, snapshot: dict[str, Any]) -> int:
        """Store the teacher's current state; returns its version (1, 2, 3 ...)."""

    @abstractmethod
    def version(self, code: str) -> int:
        """The current snapshot's version, 0 before the first publish. One small read: what a
        follower polls."""

    @abstractmethod
    def current(self, code: str) -> tuple[int, dict[str, Any] | None]:
        """(version, snapshot); (0, None) before the first publish. A fresh dict every call."""

    @abstractmethod
    def heartbeat(self, code: str, client_id: str, following: bool) -> None:
        """A joined student is here (and following the teacher, or browsing on their own)."""

    @abstractmethod
    def presence(self, code: str, teacher_key: str) -> Presence:
        """Students connected (heartbeat in the last PRESENCE_WINDOW_S) and following."""

    @abstractmethod
    def answer(self, code: str, client_id: str, question_id: str, answer: dict[str, Any]) -> None:
        """A joined student's answer; a second one to the same question replaces the first.
        NotJoined, AnswersClosed (after reveal), TooManyQuestions, InvalidInput."""

    @abstractmethod
    def distribution(self, code: str, teacher_key: str, question_id: str) -> Distribution:
        """The pooled answers to a question, for the teacher, revealed or not."""

    @abstractmethod
    def reveal(self, code: str, teacher_key: str, question_id: str) -> None:
        """Close a question: no more answers; students may now read results()."""

    @abstractmethod
    def results(self, code: str, question_id: str) -> Distribution:
        """The pooled answers of a revealed question, for anyone in the class; NotRevealed before."""

    @abstractmethod
    def end(self, code: str, teacher_key: str) -> None:
        """Delete everything of the class now."""

    def close(self) -> None:  # noqa: B027 (optional)
        """Release connections (nothing to do for memory)."""


def open_store(url: str | None = None, **limits: Any) -> ClassStore:
    """The store named by `url`, else by $RNN_CLASS_STORE: `memory` (the default: this process
    only) or `redis://host:port/db` (`rediss://` for TLS, `unix:///path.sock`): shared by replicas.
    Open one per process and share it between sessions."""
    url = (url if url is not None else os.environ.get(ENV_VAR, "")).strip() or "memory"
    if url == "memory":
        from app.classroom.memory import MemoryStore

        return MemoryStore(**limits)
    if url.startswith(("redis://", "rediss://", "unix://")):
        from app.classroom.redis_store import RedisStore

        return RedisStore(url, **limits)
    raise ValueError(f"{ENV_VAR} must be 'memory' or a redis:// URL, not {url[:40]!r}")
