"""Classes in this process's memory: one server (`docker run`), nothing to install.

One lock guards everything (every operation is a few dict lookups). A class past its end time is
deleted when it is next touched, and a sweep (at most once per SWEEP_EVERY_S, on any operation)
deletes the ones nobody touches any more, as well as spent join-rate windows.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from app.classroom import codes
from app.classroom.store import (
    CLASS_TTL_S,
    JOIN_WINDOW_S,
    JOINS_PER_MINUTE,
    JOINS_PER_MINUTE_PER_ADDRESS,
    MAX_QUESTIONS,
    MAX_STUDENTS,
    PRESENCE_WINDOW_S,
    AnswersClosed,
    ClassFull,
    ClassNotFound,
    ClassStore,
    Distribution,
    JoinResult,
    NotJoined,
    NotRevealed,
    NotTeacher,
    Presence,
    RateLimited,
    TooManyQuestions,
    check_answer,
    check_client_id,
    check_limits,
    check_question_id,
    check_snapshot,
    pool,
)

SWEEP_EVERY_S = 60.0


@dataclass
class _Class:
    key_digest: str
    expires: float  # time.monotonic()
    version: int = 0
    snapshot: str | None = None  # JSON text
    members: set[str] = field(default_factory=set)
    seen: dict[str, tuple[float, bool]] = field(default_factory=dict)  # client -> (time, following)
    answers: dict[str, dict[str, str]] = field(default_factory=dict)  # question -> client -> JSON
    revealed: set[str] = field(default_factory=set)


class MemoryStore(ClassStore):
    def __init__(
        self,
        *,
        ttl: float = CLASS_TTL_S,
        max_students: int = MAX_STUDENTS,
        joins_per_minute: int = JOINS_PER_MINUTE,
        joins_per_minute_per_address: int = JOINS_PER_MINUTE_PER_ADDRESS,
        join_window: float = JOIN_WINDOW_S,
        presence_window: float = PRESENCE_WINDOW_S,
        max_questions: int = MAX_QUESTIONS,
    ):
        check_limits(ttl, max_students, joins_per_minute, joins_per_minute_per_address, max_questions)
        self.ttl = ttl
        self.max_students = max_students
        self.joins_per_minute = joins_per_minute
        self.joins_per_minute_per_address = joins_per_minute_per_address
        self.join_window = join_window
        self.presence_window = presence_window
        self.max_questions = max_questions
        self._lock = threading.Lock()
        self._classes: dict[str, _Class] = {}
        self._joins: dict[str, tuple[float, int]] = {}  # rate bucket -> (window end, count)
        self._next_sweep = time.monotonic() + SWEEP_EVERY_S

    # -- internals (call with the lock held) --

    def _sweep(self, now: float) -> None:
        if now < self._next_sweep:
            return
        self._next_sweep = now + SWEEP_EVERY_S
        for code in [c for c, k in self._classes.items() if k.expires <= now]:
            del self._classes[code]
        for bucket in [b for b, (end, _) in self._joins.items() if end <= now]:
            del self._joins[bucket]

    def _class(self, code: str, now: float) -> tuple[str, _Class]:
        canonical = codes.normalize_code(code)
        klass = self._classes.get(canonical) if canonical else None
        if canonical is None or klass is None:
            raise ClassNotFound(code)
        if klass.expires <= now:
            del self._classes[canonical]
            raise ClassNotFound(code)
        return canonical, klass

    def _teacher(self, code: str, teacher_key: str, now: float) -> tuple[str, _Class]:
        canonical, klass = self._class(code, now)
        if not codes.key_matches(teacher_key, klass.key_digest):
            raise NotTeacher()
        return canonical, klass

    # -- the interface --

    def create_class(self) -> tuple[str, str]:
        key = codes.new_teacher_key()
        with self._lock:
            now = time.monotonic()
            self._sweep(now)
            code = codes.new_code()
            while code in self._classes:  # 2^45 codes: practically never
                code = codes.new_code()
            self._classes[code] = _Class(key_digest=codes.key_digest(key), expires=now + self.ttl)
        return code, key

    def _spend(self, bucket: str, limit: int, now: float) -> float | None:
        """Count a join attempt; the seconds until the window ends when over the limit."""
        end, count = self._joins.get(bucket, (0.0, 0))
        if end <= now:
            end, count = now + self.join_window, 0
        self._joins[bucket] = (end, count + 1)
        return end - now if count + 1 > limit else None

    def join(self, code: str, client_id: str, *, address: str | None = None) -> JoinResult:
        check_client_id(client_id)
        limits = [(codes.rate_bucket("client", client_id), self.joins_per_minute)]
        if address is not None:
            limits.append((codes.rate_bucket("address", address), self.joins_per_minute_per_address))
        with self._lock:
            now = time.monotonic()
            self._sweep(now)
            waits = [self._spend(bucket, limit, now) for bucket, limit in limits]
            if any(wait is not None for wait in waits):
                raise RateLimited(max(wait for wait in waits if wait is not None))
            canonical, klass = self._class(code, now)
            rejoined = client_id in klass.members
            if not rejoined:
                if len(klass.members) >= self.max_students:
                    raise ClassFull(self.max_students)
                klass.members.add(client_id)
            return JoinResult(canonical, klass.version, len(klass.members), rejoined)

    def publish(self, code: str, teacher_key: str, snapshot: dict[str, Any]) -> int:
        text = check_snapshot(snapshot)
        with self._lock:
            _, klass = self._teacher(code, teacher_key, time.monotonic())
            klass.version += 1
            klass.snapshot = text
            return klass.version

    def version(self, code: str) -> int:
        with self._lock:
            return self._class(code, time.monotonic())[1].version

    def current(self, code: str) -> tuple[int, dict[str, Any] | None]:
        with self._lock:
            _, klass = self._class(code, time.monotonic())
            version, text = klass.version, klass.snapshot
        return version, (json.loads(text) if text is not None else None)

    def heartbeat(self, code: str, client_id: str, following: bool) -> None:
        check_client_id(client_id)
        with self._lock:
            now = time.monotonic()
            self._sweep(now)
            _, klass = self._class(code, now)
            if client_id not in klass.members:
                raise NotJoined()
            klass.seen[client_id] = (now, bool(following))

    def presence(self, code: str, teacher_key: str) -> Presence:
        with self._lock:
            now = time.monotonic()
            _, klass = self._teacher(code, teacher_key, now)
            since = now - self.presence_window
            recent = [following for at, following in klass.seen.values() if at > since]
            return Presence(len(recent), sum(recent), len(klass.members))

    def answer(self, code: str, client_id: str, question_id: str, answer: dict[str, Any]) -> None:
        check_client_id(client_id)
        check_question_id(question_id)
        text = check_answer(answer)
        with self._lock:
            _, klass = self._class(code, time.monotonic())
            if client_id not in klass.members:
                raise NotJoined()
            if question_id in klass.revealed:
                raise AnswersClosed(question_id)
            answers = klass.answers.get(question_id)
            if answers is None:
                if len(klass.answers) >= self.max_questions:
                    raise TooManyQuestions(self.max_questions)
                answers = klass.answers[question_id] = {}
            answers[client_id] = text

    def _pool(self, klass: _Class, question_id: str) -> Distribution:
        texts = list(klass.answers.get(question_id, {}).values())
        return pool(question_id, texts, question_id in klass.revealed)

    def distribution(self, code: str, teacher_key: str, question_id: str) -> Distribution:
        check_question_id(question_id)
        with self._lock:
            _, klass = self._teacher(code, teacher_key, time.monotonic())
            return self._pool(klass, question_id)

    def reveal(self, code: str, teacher_key: str, question_id: str) -> None:
        check_question_id(question_id)
        with self._lock:
            _, klass = self._teacher(code, teacher_key, time.monotonic())
            klass.revealed.add(question_id)

    def results(self, code: str, question_id: str) -> Distribution:
        check_question_id(question_id)
        with self._lock:
            _, klass = self._class(code, time.monotonic())
            if question_id not in klass.revealed:
                raise NotRevealed(question_id)
            return self._pool(klass, question_id)

    def end(self, code: str, teacher_key: str) -> None:
        with self._lock:
            canonical, _ = self._teacher(code, teacher_key, time.monotonic())
            del self._classes[canonical]

    # -- for tests and operators --

    def class_count(self) -> int:
        with self._lock:
            return len(self._classes)
