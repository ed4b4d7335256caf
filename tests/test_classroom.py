"""app/classroom: the same suite against MemoryStore and RedisStore (a real redis-server).

Timing-dependent checks (expiry, presence window, rate window) use stores built with short limits
and poll with a deadline; nothing synchronises on a fixed sleep.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable

import pytest

from app.classroom import (
    AnswersClosed,
    ClassFull,
    ClassNotFound,
    ClassStore,
    InvalidInput,
    NotJoined,
    NotRevealed,
    NotTeacher,
    RateLimited,
    StoreUnavailable,
    TooManyQuestions,
    codes,
    format_code,
    new_client_id,
    normalize_code,
    open_store,
)
from app.classroom.memory import MemoryStore
from app.classroom.store import CLASS_TTL_S, MAX_SNAPSHOT_BYTES, MAX_STUDENTS
from tests.serving import free_port

Factory = Callable[..., ClassStore]


@pytest.fixture(params=["memory", "redis"])
def kind(request) -> str:
    return request.param


@pytest.fixture
def make_store(kind, request) -> Factory:
    """Build stores of this kind with test-sized limits; Redis stores share one flushed server."""
    made: list[ClassStore] = []
    if kind == "redis":
        from app.classroom.redis_store import RedisStore

        url = request.getfixturevalue("redis_url")
        import redis

        redis.Redis.from_url(url).flushdb()

        def factory(**limits) -> ClassStore:
            made.append(RedisStore(url, **limits))
            return made[-1]
    else:

        def factory(**limits) -> ClassStore:
            made.append(MemoryStore(**limits))
            return made[-1]

    yield factory
    for store in made:
        store.close()


@pytest.fixture
def store(make_store) -> ClassStore:
    return make_store()


def student(store: ClassStore, code: str) -> str:
    client = new_client_id()
    store.join(code, client)
    return client


def wait_until(condition: Callable[[], bool], timeout: float = 10.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not true within {timeout} s")
        time.sleep(0.02)


def raises_not_found(call: Callable[[], object]) -> bool:
    try:
        call()
    except ClassNotFound:
        return True
    return False


def redis_keys(store: ClassStore, code: str = "") -> list[str]:
    pattern = f"rnnclass:{{{code}}}*" if code else "rnnclass:*"
    return sorted(store.redis.scan_iter(match=pattern, count=1000))  # type: ignore[attr-defined]


# -- codes -----------------------------------------------------------------------------------------


def test_codes_and_keys_are_random_enough_and_forgiving():
    assert len(codes.ALPHABET) == 32 and codes.CODE_LENGTH * 5 >= 40
    assert codes.TEACHER_KEY_BYTES * 8 >= 128
    made = {codes.new_code() for _ in range(2000)}
    assert len(made) == 2000 and all(normalize_code(c) == c for c in made)
    code = "AB0CD1EFG"
    assert normalize_code("ab0cd-1efg") == code
    assert normalize_code(" abOc dIefg ") == code and normalize_code("ABOCDLEFG") == code
    assert normalize_code(format_code(code)) == code and format_code(code) == "AB0C-D1EFG"
    for bad in ["", "ABC", "ABCDEFGHJK", "ABCDEFGHU", None, 123, "A" * 100, "ABCDEFGH!"]:
        assert normalize_code(bad) is None, bad
    key = codes.new_teacher_key()
    assert codes.key_matches(key, codes.key_digest(key))
    assert not codes.key_matches(key + "x", codes.key_digest(key))
    assert not codes.key_matches(None, codes.key_digest(key))


# -- the suite, both stores ------------------------------------------------------------------------


def test_create_join_publish_current_version(store):
    code, key = store.create_class()
    assert normalize_code(code) == code and len(key) >= 32
    assert store.version(code) == 0 and store.current(code) == (0, None)
    client = new_client_id()
    joined = store.join(code.lower(), client)
    assert (joined.code, joined.version, joined.students, joined.rejoined) == (code, 0, 1, False)
    snapshot = {"state": "eJyrVkrOzy8qUbJSMjQyNlCqBQA", "view": {"step": 2}, "lesson": "intro", "q": None}
    assert store.publish(code, key, snapshot) == 1
    assert store.version(format_code(code)) == 1
    version, got = store.current(code)
    assert (version, got) == (1, snapshot)
    got["view"]["step"] = 99  # a fresh dict: the caller's edits do not reach the store
    assert store.current(code)[1] == snapshot
    again = store.join(code, client)
    assert (again.version, again.students, again.rejoined) == (1, 1, True)


def test_followers_see_each_new_version(store):
    code, key = store.create_class()
    seen = store.version(code)
    for step in range(1, 6):
        assert store.publish(code, key, {"view": {"step": step}}) == step
        assert store.version(code) == step > seen
        version, snapshot = store.current(code)
        assert version == step and snapshot == {"view": {"step": step}}
        seen = version
    assert store.version(code) == store.version(code) == 5, "reading does not bump"


def test_classes_are_independent(store):
    (a, key_a), (b, key_b) = store.create_class(), store.create_class()
    assert a != b and key_a != key_b
    store.publish(a, key_a, {"x": 1})
    assert store.version(a) == 1 and store.version(b) == 0
    with pytest.raises(NotTeacher):
        store.publish(b, key_a, {"x": 2})


def test_presence_counts_connected_and_following(make_store):
    store = make_store(presence_window=1.0)
    code, key = store.create_class()
    clients = [student(store, code) for _ in range(5)]
    late = student(store, code)  # joined, never heartbeats
    assert store.presence(code, key).joined == 6
    assert (store.presence(code, key).connected, store.presence(code, key).following) == (0, 0)
    for i, client in enumerate(clients):
        store.heartbeat(code, client, following=i < 3)
    presence = store.presence(code, key)
    assert (presence.connected, presence.following, presence.joined) == (5, 3, 6)
    store.heartbeat(code, clients[0], following=False)  # browses on their own
    store.heartbeat(code, clients[4], following=True)
    presence = store.presence(code, key)
    assert (presence.connected, presence.following) == (5, 3)
    with pytest.raises(NotJoined):
        store.heartbeat(code, new_client_id(), following=True)
    # Past the window without a heartbeat, a student no longer counts; one who keeps beating does.
    stop = threading.Event()

    def keep_beating():
        while not stop.is_set():
            store.heartbeat(code, late, following=True)
            stop.wait(0.1)

    beater = threading.Thread(target=keep_beating)
    beater.start()
    try:
        wait_until(lambda: store.presence(code, key).connected == 1, what="stale heartbeats dropped")
        presence = store.presence(code, key)
        assert (presence.connected, presence.following, presence.joined) == (1, 1, 6)
    finally:
        stop.set()
        beater.join()


def test_one_answer_per_student_per_question_and_exact_distributions(store):
    code, key = store.create_class()
    clients = [student(store, code) for _ in range(12)]
    for i, client in enumerate(clients):
        store.answer(code, client, "q-choice", {"choice": i % 3})
        store.answer(code, client, "q-number", {"number": i / 4})
        store.answer(code, client, "q-cell", {"cell": [i % 2, 5]})
    # Two students change their minds: replaced, not added.
    store.answer(code, clients[0], "q-choice", {"choice": 2})
    store.answer(code, clients[1], "q-number", {"number": -7})
    store.answer(code, clients[2], "q-cell", {"cell": (1, 7)})

    choice = store.distribution(code, key, "q-choice")
    assert choice.total == 12 and choice.choices == {0: 3, 1: 4, 2: 5}
    assert choice.numbers == [] and choice.cells == {} and choice.revealed is False
    number = store.distribution(code, key, "q-number")
    expected = sorted([-7.0] + [i / 4 for i in range(12) if i != 1])
    assert number.total == 12 and number.numbers == expected
    cell = store.distribution(code, key, "q-cell")
    assert cell.total == 12 and cell.cells == {(0, 5): 5, (1, 5): 6, (1, 7): 1}
    empty = store.distribution(code, key, "nobody-answered")
    assert (empty.total, empty.choices, empty.numbers, empty.cells) == (0, {}, [], {})


def test_answers_are_bounded_and_validated(make_store):
    store = make_store(max_questions=3)
    code, _ = store.create_class()
    client = student(store, code)
    bad = [
        None,
        2,
        "2",
        [1, 2],
        {},
        {"choice": 1, "number": 2},
        {"choice": -1},
        {"choice": 64},
        {"choice": True},
        {"choice": 1.0},
        {"choice": "1"},
        {"number": float("nan")},
        {"number": float("inf")},
        {"number": 1e7},
        {"number": "0.5"},
        {"number": False},
        {"cell": [1]},
        {"cell": [1, 2, 3]},
        {"cell": [1, -1]},
        {"cell": [4096, 0]},
        {"cell": [1.0, 2]},
        {"cell": "1,2"},
        {"text": "my name is Ada"},
        {"choice": 1, "x": "y" * 10_000},
        {"number": 10**400},
    ]
    for answer in bad:
        with pytest.raises(InvalidInput) as refused:
            store.answer(code, client, "q1", answer)
        assert "An answer is" in str(refused.value)
    for question in ["", "q" * 65, "q 1", "q/1", "q\n", None, 7]:
        with pytest.raises(InvalidInput):
            store.answer(code, client, question, {"choice": 0})
    for client_id in ["", "short", "x" * 65, "has space!", None, 12345678]:
        with pytest.raises(InvalidInput):
            store.answer(code, client_id, "q1", {"choice": 0})
    with pytest.raises(NotJoined):
        store.answer(code, new_client_id(), "q1", {"choice": 0})
    for question in ["q1", "q2", "q3"]:
        store.answer(code, client, question, {"choice": 0})
    store.answer(code, client, "q3", {"choice": 1})  # an existing question: fine
    with pytest.raises(TooManyQuestions):
        store.answer(code, client, "q4", {"choice": 0})


def test_reveal_closes_a_question_and_opens_its_results(store):
    code, key = store.create_class()
    a, b = student(store, code), student(store, code)
    store.answer(code, a, "q1", {"choice": 1})
    store.answer(code, b, "q2", {"choice": 0})
    with pytest.raises(NotRevealed):
        store.results(code, "q1")  # a student cannot see the others' answers before the reveal
    store.reveal(code, key, "q1")
    with pytest.raises(AnswersClosed):
        store.answer(code, b, "q1", {"choice": 0})
    results = store.results(code, "q1")
    assert results.revealed and results.total == 1 and results.choices == {1: 1}
    assert store.distribution(code, key, "q1") == results
    assert store.distribution(code, key, "q2").revealed is False
    store.answer(code, a, "q2", {"choice": 0})  # other questions stay open


def test_end_deletes_everything(store, kind):
    code, key = store.create_class()
    other, other_key = store.create_class()
    clients = [student(store, code) for _ in range(3)]
    store.publish(code, key, {"x": 1})
    for client in clients:
        store.heartbeat(code, client, following=True)
        store.answer(code, client, "q1", {"choice": 0})
        store.answer(code, client, "q:2", {"cell": [0, 1]})
    store.reveal(code, key, "q1")
    if kind == "redis":
        assert len(redis_keys(store, code)) == 10
    store.end(code, key)
    for call in [
        lambda: store.version(code),
        lambda: store.current(code),
        lambda: store.join(code, new_client_id()),
        lambda: store.heartbeat(code, clients[0], True),
        lambda: store.answer(code, clients[0], "q3", {"choice": 0}),
        lambda: store.results(code, "q1"),
        lambda: store.publish(code, key, {"x": 2}),
        lambda: store.presence(code, key),
        lambda: store.distribution(code, key, "q1"),
        lambda: store.reveal(code, key, "q1"),
        lambda: store.end(code, key),
    ]:
        assert raises_not_found(call)
    assert store.version(other) == 0, "the other class is untouched"
    if kind == "redis":
        assert redis_keys(store, code) == []
        assert len(redis_keys(store, other)) == 2
    else:
        assert store.class_count() == 1
    store.end(other, other_key)


def test_a_class_expires_after_its_ttl(make_store, kind):
    store = make_store(ttl=1.0)
    code, key = store.create_class()
    client = student(store, code)
    store.publish(code, key, {"x": 1})
    store.heartbeat(code, client, following=True)
    store.answer(code, client, "q1", {"number": 1.5})
    assert store.version(code) == 1
    wait_until(lambda: raises_not_found(lambda: store.version(code)), what="the class expired")
    assert raises_not_found(lambda: store.current(code))
    assert raises_not_found(lambda: store.join(code, new_client_id()))
    assert raises_not_found(lambda: store.publish(code, key, {"x": 2}))
    if kind == "redis":
        wait_until(lambda: redis_keys(store, code) == [], what="every key of the class gone")
    else:
        assert store.class_count() == 0


def test_memory_sweep_drops_untouched_expired_classes(monkeypatch):
    import app.classroom.memory as memory

    monkeypatch.setattr(memory, "SWEEP_EVERY_S", 0.0)
    store = MemoryStore(ttl=0.2, joins_per_minute=10**6)
    for _ in range(5):
        store.create_class()
    assert store.class_count() == 5

    def swept() -> bool:  # a join with an unknown code touches none of them, but sweeps
        assert raises_not_found(lambda: store.join(codes.new_code(), "client-0001"))
        return store.class_count() == 0

    wait_until(swept, what="swept")


def test_only_the_teacher_key_can_publish_reveal_end_or_read(store):
    code, key = store.create_class()
    other_code, other_key = store.create_class()
    client = student(store, code)
    store.answer(code, client, "q1", {"choice": 0})
    wrong_keys = [other_key, key + "x", key[:-1], "", "x" * 300, None, codes.key_digest(key)]
    for wrong in wrong_keys:
        for call in [
            lambda w=wrong: store.publish(code, w, {"x": 1}),
            lambda w=wrong: store.presence(code, w),
            lambda w=wrong: store.distribution(code, w, "q1"),
            lambda w=wrong: store.reveal(code, w, "q1"),
            lambda w=wrong: store.end(code, w),
        ]:
            with pytest.raises(NotTeacher) as refused:
                call()
            assert str(refused.value) == "Only the teacher of this class can do that."
    assert store.version(code) == 0 and store.distribution(code, key, "q1").revealed is False
    assert store.version(other_code) == 0


def test_forged_malformed_and_unknown_codes(store):
    store.create_class()
    forged = codes.new_code()
    for code in [forged, "", "nope", "A" * 100, None, 42, "ABCDEFGHU", "rnnclass:*"]:
        for call in [
            lambda c=code: store.version(c),
            lambda c=code: store.current(c),
            lambda c=code: store.join(c, new_client_id()),
            lambda c=code: store.heartbeat(c, new_client_id(), True),
            lambda c=code: store.answer(c, new_client_id(), "q1", {"choice": 0}),
            lambda c=code: store.results(c, "q1"),
            lambda c=code: store.publish(c, "key", {}),
            lambda c=code: store.end(c, "key"),
        ]:
            with pytest.raises(ClassNotFound) as refused:
                call()
            message = str(refused.value)
            assert message.startswith("No class with the code") and "12 hours" in message
    assert "ABCD" in str(ClassNotFound("ABCD")) and "A" * 100 not in str(ClassNotFound("A" * 100))


def test_class_full(make_store):
    store = make_store(max_students=5, joins_per_minute=100)
    code, key = store.create_class()
    clients = [new_client_id() for _ in range(5)]
    assert [store.join(code, c).students for c in clients] == [1, 2, 3, 4, 5]
    with pytest.raises(ClassFull) as refused:
        store.join(code, new_client_id())
    assert "full (5 students)" in str(refused.value)
    assert store.join(code, clients[2]).rejoined, "a student already in gets back in"
    assert store.presence(code, key).joined == 5


def test_the_real_cap_is_500():
    store = MemoryStore()
    assert store.max_students == MAX_STUDENTS == 500
    code, key = store.create_class()
    for i in range(500):
        store.join(code, f"student-{i:04d}")
    with pytest.raises(ClassFull):
        store.join(code, "student-0500")
    assert store.presence(code, key).joined == 500


def test_joins_are_rate_limited_per_client_and_per_address(make_store):
    store = make_store(joins_per_minute=10, joins_per_minute_per_address=25, join_window=1.0)
    code, _ = store.create_class()
    client = new_client_id()
    for _ in range(10):
        store.join(code, client)
    with pytest.raises(RateLimited) as refused:
        store.join(code, client)
    assert 0 < refused.value.retry_after <= 1.0 and "try again in 1 s" in str(refused.value)
    store.join(code, new_client_id())  # another student is not affected
    # Guessing codes costs attempts too: unknown codes count, and the limit holds before the lookup.
    guesser = new_client_id()
    for _ in range(10):
        with pytest.raises(ClassNotFound):
            store.join(codes.new_code(), guesser)
    with pytest.raises(RateLimited):
        store.join(code, guesser)
    # One address with many client ids (a script, or a lecture hall behind one NAT): its own limit.
    ip = f"203.0.113.{uuid.uuid4().int % 250}"
    for _ in range(25):
        store.join(code, new_client_id(), address=ip)
    with pytest.raises(RateLimited):
        store.join(code, new_client_id(), address=ip)
    store.join(code, new_client_id(), address="198.51.100.1")  # another address is not affected
    # The window passes.
    wait_until(lambda: not_rate_limited(store, code, client), what="the join window passed")


def not_rate_limited(store: ClassStore, code: str, client: str) -> bool:
    try:
        store.join(code, client)
    except RateLimited:
        return False
    return True


def test_the_real_join_limits(store):
    assert store.joins_per_minute == 10 and store.join_window == 60
    assert store.joins_per_minute_per_address == 1000
    code, _ = store.create_class()
    client = new_client_id()
    for _ in range(10):
        store.join(code, client)
    with pytest.raises(RateLimited) as refused:
        store.join(code, client)
    assert 50 < refused.value.retry_after <= 60


def test_snapshots_are_validated(store):
    code, key = store.create_class()
    for snapshot in [None, [1], "text", {"x": float("nan")}, {"x": {1, 2}}, {"x": object()}]:
        with pytest.raises(InvalidInput):
            store.publish(code, key, snapshot)
    with pytest.raises(InvalidInput):
        store.publish(code, key, {"state": "x" * MAX_SNAPSHOT_BYTES})
    assert store.version(code) == 0
    big = {"state": "x" * (MAX_SNAPSHOT_BYTES - 100), "quote": 'a "b" \\ é'}
    assert store.publish(code, key, big) == 1 and store.current(code) == (1, big)


def test_store_limits_are_checked():
    with pytest.raises(ValueError):
        MemoryStore(ttl=CLASS_TTL_S + 1)
    with pytest.raises(ValueError):
        MemoryStore(ttl=0)
    with pytest.raises(ValueError):
        MemoryStore(max_students=0)
    with pytest.raises(ValueError):
        MemoryStore(joins_per_minute_per_address=0)


def test_concurrent_students(store):
    code, key = store.create_class()
    clients = [new_client_id() for _ in range(40)]
    errors: list[BaseException] = []

    def run(client: str, i: int) -> None:
        try:
            store.join(code, client)
            store.heartbeat(code, client, following=True)
            store.answer(code, client, "q1", {"choice": i % 4})
            store.version(code)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(c, i)) for i, c in enumerate(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert store.distribution(code, key, "q1").choices == {0: 10, 1: 10, 2: 10, 3: 10}
    presence = store.presence(code, key)
    assert (presence.connected, presence.following, presence.joined) == (40, 40, 40)


# -- Redis only ------------------------------------------------------------------------------------


def test_two_redis_stores_share_a_class(redis_url):
    from app.classroom.redis_store import RedisStore

    a, b = RedisStore(redis_url), RedisStore(redis_url)
    try:
        code, key = a.create_class()
        client = new_client_id()
        assert b.join(code, client).students == 1
        assert a.publish(code, key, {"view": 1}) == 1
        assert b.version(code) == 1 and b.current(code) == (1, {"view": 1})
        assert b.publish(code, key, {"view": 2}) == 2, "any replica serves the teacher"
        assert a.current(code) == (2, {"view": 2})
        b.heartbeat(code, client, following=True)
        b.answer(code, client, "q1", {"number": 0.5})
        assert a.presence(code, key).following == 1
        assert a.distribution(code, key, "q1").numbers == [0.5]
        a.close()
        restarted = RedisStore(redis_url)  # a replica that restarts finds its classes
        assert restarted.current(code) == (2, {"view": 2})
        restarted.end(code, key)
        assert raises_not_found(lambda: b.version(code))
        restarted.close()
    finally:
        b.close()


def test_every_redis_key_has_a_ttl_of_at_most_12_hours(redis_url):
    from app.classroom.redis_store import RedisStore

    store = RedisStore(redis_url)
    try:
        code, key = store.create_class()
        client = new_client_id()
        store.join(code, client, address="198.51.100.7")
        store.publish(code, key, {"x": 1})
        store.heartbeat(code, client, following=True)
        store.answer(code, client, "q1", {"choice": 1})
        store.reveal(code, key, "q1")
        store.join(code, new_client_id())
        keys = redis_keys(store)
        class_keys = redis_keys(store, code)
        assert len(class_keys) == 9, class_keys  # meta ver snap members seen following questions revealed ans
        assert any(k.startswith("rnnclass:join:") for k in keys)
        assert not any("198.51.100.7" in k for k in keys), "IP addresses are hashed"
        for name in keys:
            ttl = store.redis.ttl(name)
            assert 0 < ttl <= 12 * 3600, (name, ttl)
        expiries = {store.redis.pexpiretime(name) for name in class_keys}
        assert len(expiries) == 1, "every key of a class ends at the same moment"
        assert not any(client in k for k in keys)
        store.end(code, key)
    finally:
        store.close()


def test_answers_are_anonymous_in_redis(redis_url):
    from app.classroom.redis_store import RedisStore

    store = RedisStore(redis_url)
    try:
        code, key = store.create_class()
        client = student(store, code)
        store.answer(code, client, "q1", {"cell": [2, 3]})
        stored = store.redis.hgetall(f"rnnclass:{{{code}}}:ans:q1")
        assert stored == {client: json.dumps({"cell": [2, 3]})}
        assert store.redis.hgetall(f"rnnclass:{{{code}}}:meta").keys() == {"teacher", "expires"}
        assert key not in json.dumps(store.redis.hgetall(f"rnnclass:{{{code}}}:meta")), "only a digest"
        store.end(code, key)
    finally:
        store.close()


def test_redis_down_is_a_clear_error():
    from app.classroom.redis_store import RedisStore

    store = RedisStore(f"redis://127.0.0.1:{free_port()}/0", timeout=0.5)
    with pytest.raises(StoreUnavailable) as refused:
        store.version(codes.new_code())
    assert "cannot be reached" in str(refused.value)
    with pytest.raises(StoreUnavailable):
        store.create_class()


# -- selection and imports -------------------------------------------------------------------------


def test_open_store_picks_by_the_environment(monkeypatch, redis_url):
    from app.classroom.redis_store import RedisStore

    monkeypatch.delenv("RNN_CLASS_STORE", raising=False)
    assert isinstance(open_store(), MemoryStore)
    monkeypatch.setenv("RNN_CLASS_STORE", "memory")
    assert isinstance(open_store(), MemoryStore)
    monkeypatch.setenv("RNN_CLASS_STORE", redis_url)
    store = open_store()
    assert isinstance(store, RedisStore) and store.version(store.create_class()[0]) == 0
    store.close()
    assert isinstance(open_store("memory", max_students=3), MemoryStore)
    monkeypatch.setenv("RNN_CLASS_STORE", "postgres://x")
    with pytest.raises(ValueError, match="RNN_CLASS_STORE"):
        open_store()


def test_the_store_imports_neither_streamlit_nor_tensorflow():
    code = (
        "import sys, app.classroom, app.classroom.memory, app.classroom.redis_store\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('streamlit', 'tensorflow', 'keras', 'numpy')]\n"
        "print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# -- deploy/ ---------------------------------------------------------------------------------------


def test_compose_runs_redis_for_the_replicas():
    import yaml

    from tests.test_deploy import COMPOSE, resolve

    compose = resolve(yaml.safe_load(COMPOSE.read_text()), {"STREAMLIT_COOKIE_SECRET": "s3cret"})
    redis_service, app = compose["services"]["redis"], compose["services"]["app"]
    assert re.fullmatch(r"redis:7\.\d+\.\d+-alpine", redis_service["image"]), "a pinned official image"
    command = redis_service["command"]
    assert command[0] == "redis-server"
    assert command[command.index("--save") + 1] == "" and command[command.index("--appendonly") + 1] == "no"
    assert command[command.index("--maxmemory-policy") + 1] == "noeviction"
    assert "ports" not in redis_service, "reachable by the replicas only"
    assert redis_service["healthcheck"]["test"][-1] == "ping"
    assert app["environment"]["RNN_CLASS_STORE"] == "redis://redis:6379/0"
    assert app["depends_on"]["redis"]["condition"] == "service_healthy"


def test_kubernetes_redis_is_valid_and_wired_to_the_app():
    import kubernetes_validate
    import yaml

    from tests.test_deploy import K8S

    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    assert kustomization["resources"][0] == "redis.yaml"
    docs = {d["kind"]: d for d in yaml.safe_load_all((K8S / "redis.yaml").read_text())}
    version = kubernetes_validate.latest_version()
    for doc in docs.values():
        kubernetes_validate.validate(doc, version, strict=True)
    pod = docs["Deployment"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert re.fullmatch(r"redis:7\.\d+\.\d+-alpine", container["image"])
    args = container["args"]
    assert args[args.index("--save") + 1] == "" and args[args.index("--appendonly") + 1] == "no"
    assert args[args.index("--requirepass") + 1] == "$(REDIS_PASSWORD)"
    env = {e["name"]: e for e in container["env"]}
    secret = env["REDIS_PASSWORD"]["valueFrom"]["secretKeyRef"]
    assert secret == {"name": "rnn-explorer", "key": "redis-password"}
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert docs["Deployment"]["spec"]["replicas"] == 1
    service = docs["Service"]
    redis_labels = docs["Deployment"]["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= redis_labels.items()
    app_doc = yaml.safe_load((K8S / "deployment.yaml").read_text())
    app_labels = app_doc["spec"]["template"]["metadata"]["labels"]
    assert not service["spec"]["selector"].items() <= app_labels.items(), (
        "the redis Service selects redis only"
    )
    app_selector = yaml.safe_load((K8S / "service.yaml").read_text())["spec"]["selector"]
    assert not app_selector.items() <= redis_labels.items(), "the app's Service does not select redis"
    (app,) = app_doc["spec"]["template"]["spec"]["containers"]
    app_env = [e["name"] for e in app["env"]]
    assert app_env.index("REDIS_PASSWORD") < app_env.index("RNN_CLASS_STORE"), "$(VAR) needs it defined first"
    url = {e["name"]: e for e in app["env"]}["RNN_CLASS_STORE"]["value"]
    port = service["spec"]["ports"][0]["port"]
    assert url == f"redis://:$(REDIS_PASSWORD)@{service['metadata']['name']}:{port}/0"
