"""Classes in Redis: shared by every replica, and kept when a replica restarts.

Keys of a class (the braces are a Redis Cluster hash tag: one class, one slot):

    rnnclass:{CODE}:meta        hash: teacher (SHA-256 of the key), expires (epoch ms)
    rnnclass:{CODE}:ver         the snapshot's version: the one key followers poll (GET)
    rnnclass:{CODE}:snap        {"version": n, "snapshot": {...}} as JSON
    rnnclass:{CODE}:members     set of client ids (SCARD is the 500 cap)
    rnnclass:{CODE}:seen        zset client id -> last heartbeat (ms, Redis clock)
    rnnclass:{CODE}:following   zset client id -> last heartbeat that said "following"
    rnnclass:{CODE}:questions   set of question ids answered (bounded)
    rnnclass:{CODE}:revealed    set of revealed question ids
    rnnclass:{CODE}:ans:QID     hash client id -> answer JSON
    rnnclass:join:BUCKET        join counter of a hashed client id / IP (expires after a minute)

Every write is a Lua script that first checks the class's meta key exists (so nothing is recreated
after `end` or expiry) and sets PEXPIREAT to the class's end time on what it writes: every key of
a class dies at the same moment, 12 hours after creation. Time is Redis's own clock (TIME), so
replicas with skewed clocks agree on presence.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any, cast

import redis

from app import run_slots
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
    StoreUnavailable,
    TooManyQuestions,
    check_answer,
    check_client_id,
    check_limits,
    check_question_id,
    check_snapshot,
    pool,
)

PREFIX = "rnnclass:"

_NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""
_ALIVE = """
local exp = redis.call('HGET', KEYS[1], 'expires')
if not exp then return redis.error_reply('RNN_NOCLASS') end
"""

# KEYS: meta, ver   ARGV: key digest, ttl ms
CREATE = (
    _NOW
    + """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local exp = now + tonumber(ARGV[2])
redis.call('HSET', KEYS[1], 'teacher', ARGV[1], 'expires', string.format('%d', exp))
redis.call('PEXPIREAT', KEYS[1], string.format('%d', exp))
redis.call('SET', KEYS[2], 0)
redis.call('PEXPIREAT', KEYS[2], string.format('%d', exp))
return 1
"""
)

# KEYS: meta, ver, members, client's join counter[, address's join counter]
# ARGV: client id, max students, window ms, client's limit[, address's limit]
JOIN = (
    """
local wait = -1
for i = 4, #KEYS do
  local n = redis.call('INCR', KEYS[i])
  if n == 1 then redis.call('PEXPIRE', KEYS[i], ARGV[3]) end
  if n > tonumber(ARGV[i]) then wait = math.max(wait, redis.call('PTTL', KEYS[i])) end
end
if wait >= 0 then return redis.error_reply('RNN_RATE ' .. wait) end
"""
    + _ALIVE
    + """
local version = tonumber(redis.call('GET', KEYS[2]) or '0')
if redis.call('SISMEMBER', KEYS[3], ARGV[1]) == 1 then
  return {1, redis.call('SCARD', KEYS[3]), version}
end
if redis.call('SCARD', KEYS[3]) >= tonumber(ARGV[2]) then return redis.error_reply('RNN_FULL') end
redis.call('SADD', KEYS[3], ARGV[1])
redis.call('PEXPIREAT', KEYS[3], exp)
return {0, redis.call('SCARD', KEYS[3]), version}
"""
)

# KEYS: meta, ver, snap   ARGV: snapshot JSON
PUBLISH = (
    _ALIVE
    + """
local v = redis.call('INCR', KEYS[2])
redis.call('PEXPIREAT', KEYS[2], exp)
redis.call('SET', KEYS[3], '{"version":' .. v .. ',"snapshot":' .. ARGV[1] .. '}')
redis.call('PEXPIREAT', KEYS[3], exp)
return v
"""
)

# KEYS: meta, members, seen, following   ARGV: client id, following (0/1)
HEARTBEAT = (
    _ALIVE
    + _NOW
    + """
if redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 0 then return redis.error_reply('RNN_NOTJOINED') end
redis.call('ZADD', KEYS[3], now, ARGV[1])
redis.call('PEXPIREAT', KEYS[3], exp)
if ARGV[2] == '1' then
  redis.call('ZADD', KEYS[4], now, ARGV[1])
  redis.call('PEXPIREAT', KEYS[4], exp)
else
  redis.call('ZREM', KEYS[4], ARGV[1])
end
return 1
"""
)

# KEYS: meta, members, seen, following   ARGV: window ms
PRESENCE = (
    _ALIVE
    + _NOW
    + """
local since = '(' .. string.format('%d', now - tonumber(ARGV[1]))
return {redis.call('ZCOUNT', KEYS[3], since, '+inf'), redis.call('ZCOUNT', KEYS[4], since, '+inf'),
        redis.call('SCARD', KEYS[2])}
"""
)

# KEYS: meta, members, questions, revealed, answers   ARGV: client id, question id, answer, max questions
ANSWER = (
    _ALIVE
    + """
if redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 0 then return redis.error_reply('RNN_NOTJOINED') end
if redis.call('SISMEMBER', KEYS[4], ARGV[2]) == 1 then return redis.error_reply('RNN_CLOSED') end
if redis.call('SISMEMBER', KEYS[3], ARGV[2]) == 0 then
  if redis.call('SCARD', KEYS[3]) >= tonumber(ARGV[4]) then return redis.error_reply('RNN_QUESTIONS') end
  redis.call('SADD', KEYS[3], ARGV[2])
  redis.call('PEXPIREAT', KEYS[3], exp)
end
redis.call('HSET', KEYS[5], ARGV[1], ARGV[3])
redis.call('PEXPIREAT', KEYS[5], exp)
return 1
"""
)

# KEYS: meta, revealed   ARGV: question id
REVEAL = (
    _ALIVE
    + """
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('PEXPIREAT', KEYS[2], exp)
return 1
"""
)

# KEYS: meta, revealed, answers   ARGV: must be revealed (0/1), question id
POOL = (
    _ALIVE
    + """
local revealed = redis.call('SISMEMBER', KEYS[2], ARGV[2])
if ARGV[1] == '1' and revealed == 0 then return redis.error_reply('RNN_NOTREVEALED') end
return {revealed, redis.call('HVALS', KEYS[3])}
"""
)

# KEYS: meta, ver, snap, members, seen, following, questions, revealed   ARGV: answers key prefix
END = """
for _, q in ipairs(redis.call('SMEMBERS', KEYS[7])) do redis.call('DEL', ARGV[1] .. q) end
return redis.call('DEL', unpack(KEYS))
"""


class RedisStore(ClassStore):
    """A URL (`redis://host:port/db`), or a client made with decode_responses=True. Thread-safe
    (redis-py's connection pool): open one per process and share it between sessions."""

    def __init__(
        self,
        url_or_client: str | redis.Redis = "redis://localhost:6379/0",
        *,
        ttl: float = CLASS_TTL_S,
        max_students: int = MAX_STUDENTS,
        joins_per_minute: int = JOINS_PER_MINUTE,
        joins_per_minute_per_address: int = JOINS_PER_MINUTE_PER_ADDRESS,
        join_window: float = JOIN_WINDOW_S,
        presence_window: float = PRESENCE_WINDOW_S,
        max_questions: int = MAX_QUESTIONS,
        timeout: float = 2.0,
    ):
        check_limits(ttl, max_students, joins_per_minute, joins_per_minute_per_address, max_questions)
        self.ttl = ttl
        self.max_students = max_students
        self.joins_per_minute = joins_per_minute
        self.joins_per_minute_per_address = joins_per_minute_per_address
        self.join_window = join_window
        self.presence_window = presence_window
        self.max_questions = max_questions
        if isinstance(url_or_client, str):
            self.redis = redis.Redis.from_url(
                url_or_client,
                decode_responses=True,
                socket_timeout=timeout,
                socket_connect_timeout=timeout,
                health_check_interval=30,
            )
        else:
            self.redis = url_or_client
        script = self.redis.register_script  # EVALSHA, loaded again after a Redis restart
        self._create, self._join, self._publish = script(CREATE), script(JOIN), script(PUBLISH)
        self._heartbeat, self._presence = script(HEARTBEAT), script(PRESENCE)
        self._answer, self._reveal = script(ANSWER), script(REVEAL)
        self._pool, self._end = script(POOL), script(END)

    def close(self) -> None:
        self.redis.close()

    # -- internals --

    @staticmethod
    def keys(code: str) -> dict[str, str]:
        base = f"{PREFIX}{{{code}}}:"
        names = ("meta", "ver", "snap", "members", "seen", "following", "questions", "revealed")
        return {name: base + name for name in names} | {"ans": base + "ans:"}

    @contextlib.contextmanager
    def _errors(self, code: object, question_id: str = "") -> Iterator[None]:
        """Redis's errors as the store's; a page's run gives its CPU slot to another run while it
        waits for Redis (app/run_slots.py: at most 2 s when Redis cannot be reached)."""
        try:
            with run_slots.released():
                yield
        except redis.exceptions.ResponseError as error:
            reason = str(error)
            if reason == "RNN_NOCLASS":
                raise ClassNotFound(code) from None
            if reason.startswith("RNN_RATE"):
                raise RateLimited(int(reason.split()[1]) / 1000) from None
            if reason == "RNN_FULL":
                raise ClassFull(self.max_students) from None
            if reason == "RNN_NOTJOINED":
                raise NotJoined() from None
            if reason == "RNN_QUESTIONS":
                raise TooManyQuestions(self.max_questions) from None
            if reason == "RNN_CLOSED":
                raise AnswersClosed(question_id) from None
            if reason == "RNN_NOTREVEALED":
                raise NotRevealed(question_id) from None
            raise StoreUnavailable(reason) from error
        except redis.exceptions.RedisError as error:
            raise StoreUnavailable(str(error)) from error

    def _code(self, code: object) -> tuple[str, dict[str, str]]:
        canonical = codes.normalize_code(code)
        if canonical is None:
            raise ClassNotFound(code)
        return canonical, self.keys(canonical)

    def _teacher(self, code: object, teacher_key: str) -> tuple[str, dict[str, str]]:
        canonical, k = self._code(code)
        with self._errors(code):
            digest = cast(str | None, self.redis.hget(k["meta"], "teacher"))
        if digest is None:
            raise ClassNotFound(code)
        if not codes.key_matches(teacher_key, digest):
            raise NotTeacher()
        return canonical, k

    # -- the interface --

    def create_class(self) -> tuple[str, str]:
        key = codes.new_teacher_key()
        digest = codes.key_digest(key)
        with self._errors(None):
            while True:
                code = codes.new_code()
                k = self.keys(code)
                if self._create(keys=[k["meta"], k["ver"]], args=[digest, int(self.ttl * 1000)]):
                    return code, key

    def join(self, code: str, client_id: str, *, address: str | None = None) -> JoinResult:
        check_client_id(client_id)
        canonical = codes.normalize_code(code)
        k = self.keys(canonical or "-")  # a malformed code still spends a join attempt
        keys = [k["meta"], k["ver"], k["members"], PREFIX + "join:" + codes.rate_bucket("client", client_id)]
        window_ms = int(self.join_window * 1000)
        args: list[str | int] = [client_id, self.max_students, window_ms, self.joins_per_minute]
        if address is not None:
            keys.append(PREFIX + "join:" + codes.rate_bucket("address", address))
            args.append(self.joins_per_minute_per_address)
        with self._errors(code):
            rejoined, students, version = self._join(keys=keys, args=args)
        return JoinResult(canonical or "", int(version), int(students), bool(rejoined))

    def publish(self, code: str, teacher_key: str, snapshot: dict[str, Any]) -> int:
        text = check_snapshot(snapshot)
        _, k = self._teacher(code, teacher_key)
        with self._errors(code):
            return int(self._publish(keys=[k["meta"], k["ver"], k["snap"]], args=[text]))

    def version(self, code: str) -> int:
        _, k = self._code(code)
        with self._errors(code):
            value = cast(str | None, self.redis.get(k["ver"]))
        if value is None:
            raise ClassNotFound(code)
        return int(value)

    def current(self, code: str) -> tuple[int, dict[str, Any] | None]:
        _, k = self._code(code)
        with self._errors(code):
            text, version = cast(list[str | None], self.redis.mget(k["snap"], k["ver"]))
        if text is not None:
            stored = json.loads(text)
            return stored["version"], stored["snapshot"]
        if version is None:
            raise ClassNotFound(code)
        return 0, None

    def heartbeat(self, code: str, client_id: str, following: bool) -> None:
        check_client_id(client_id)
        _, k = self._code(code)
        with self._errors(code):
            self._heartbeat(
                keys=[k["meta"], k["members"], k["seen"], k["following"]],
                args=[client_id, "1" if following else "0"],
            )

    def presence(self, code: str, teacher_key: str) -> Presence:
        _, k = self._teacher(code, teacher_key)
        with self._errors(code):
            connected, following, joined = self._presence(
                keys=[k["meta"], k["members"], k["seen"], k["following"]],
                args=[int(self.presence_window * 1000)],
            )
        return Presence(int(connected), int(following), int(joined))

    def answer(self, code: str, client_id: str, question_id: str, answer: dict[str, Any]) -> None:
        check_client_id(client_id)
        check_question_id(question_id)
        text = check_answer(answer)
        _, k = self._code(code)
        with self._errors(code, question_id):
            self._answer(
                keys=[k["meta"], k["members"], k["questions"], k["revealed"], k["ans"] + question_id],
                args=[client_id, question_id, text, self.max_questions],
            )

    def _pooled(self, code: str, k: dict[str, str], question_id: str, revealed_only: bool) -> Distribution:
        with self._errors(code, question_id):
            revealed, texts = self._pool(
                keys=[k["meta"], k["revealed"], k["ans"] + question_id],
                args=["1" if revealed_only else "0", question_id],
            )
        return pool(question_id, texts, bool(revealed))

    def distribution(self, code: str, teacher_key: str, question_id: str) -> Distribution:
        check_question_id(question_id)
        _, k = self._teacher(code, teacher_key)
        return self._pooled(code, k, question_id, revealed_only=False)

    def reveal(self, code: str, teacher_key: str, question_id: str) -> None:
        check_question_id(question_id)
        _, k = self._teacher(code, teacher_key)
        with self._errors(code):
            self._reveal(keys=[k["meta"], k["revealed"]], args=[question_id])

    def results(self, code: str, question_id: str) -> Distribution:
        check_question_id(question_id)
        _, k = self._code(code)
        return self._pooled(code, k, question_id, revealed_only=True)

    def end(self, code: str, teacher_key: str) -> None:
        _, k = self._teacher(code, teacher_key)
        names = ("meta", "ver", "snap", "members", "seen", "following", "questions", "revealed")
        with self._errors(code):
            self._end(keys=[k[n] for n in names], args=[k["ans"]])
