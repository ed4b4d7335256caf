"""Class sessions (app/classroom): a follower's check, and a class of 60 answering at once.

    .venv/bin/python -m bench.classroom [--quick] [--save] [--redis redis://host:port/0]

Without --redis it starts its own redis-server (Debian's, no persistence) on a free port, as the
tests do. 1. What a student's once-a-second check costs: `version(code)` (one GET on Redis),
and `current(code)` (what is fetched only when the version changed), on MemoryStore and
RedisStore, timed call by call from one thread. 2. 60 students in threads sharing one store (as
sessions share one per server): each joins, then heartbeats and polls the version every second
while the teacher publishes every second; each answers a choice, a number and a cell at random
moments within 5 s, and a third of them change their choice. The teacher's distributions must
equal the last answers exactly, with zero errors.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import threading
import time

from app.classroom import ClassStore, new_client_id
from app.classroom.memory import MemoryStore
from app.classroom.redis_store import RedisStore
from bench.common import Report, Table, add_common_args, finish, median, p95

SNAPSHOT = {
    "state": "eJyrVkrOzy8qUbJSMjQyNlCqBQBLsAb" * 7,  # a tutorial-size share link is ~190 characters
    "view": {"step": 2, "row": 0, "neuron": 3, "present": False},
    "lesson": "saturation",
    "lesson_step": 4,
    "question": "q-sat-1",
    "revealed": False,
}
STUDENTS = 60
WINDOW_S = 5.0


def us(seconds: float) -> str:
    return f"{seconds * 1e6:.0f}"


def time_calls(fn, n: int) -> list[float]:
    for _ in range(min(200, n)):
        fn()
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def follower_check(store: ClassStore, n: int) -> dict[str, list[float]]:
    code, key = store.create_class()
    store.publish(code, key, SNAPSHOT)
    found = {"version()": time_calls(lambda: store.version(code), n)}
    found["current()"] = time_calls(lambda: store.current(code), n // 2)
    store.end(code, key)
    return found


def class_of_60(store: ClassStore, seed: int = 0) -> dict:
    rng = random.Random(seed)
    code, key = store.create_class()
    clients = [new_client_id() for _ in range(STUDENTS)]
    plans = []  # per student: [(at, question, answer)], in time order
    for i in range(STUDENTS):
        plan = [
            (rng.uniform(0, WINDOW_S), "q-choice", {"choice": rng.randrange(4)}),
            (rng.uniform(0, WINDOW_S), "q-number", {"number": round(rng.uniform(-1, 1), 3)}),
            (rng.uniform(0, WINDOW_S), "q-cell", {"cell": [rng.randrange(3), rng.randrange(8)]}),
        ]
        if i % 3 == 0:  # changes their mind
            plan.append((rng.uniform(plan[0][0], WINDOW_S), "q-choice", {"choice": rng.randrange(4)}))
        plans.append(sorted(plan, key=lambda p: p[0]))
    expected_choices: dict[int, int] = {}
    expected_numbers: list[float] = []
    expected_cells: dict[tuple[int, int], int] = {}
    for plan in plans:
        last = {question: answer for _, question, answer in plan}
        expected_choices[last["q-choice"]["choice"]] = expected_choices.get(last["q-choice"]["choice"], 0) + 1
        expected_numbers.append(float(last["q-number"]["number"]))
        cell = tuple(last["q-cell"]["cell"])
        expected_cells[cell] = expected_cells.get(cell, 0) + 1

    errors: list[str] = []
    answer_s: list[float] = []
    poll_s: list[float] = []
    final_versions: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(STUDENTS + 1)
    stop = threading.Event()

    def student(client: str, plan: list) -> None:
        mine_answer, mine_poll = [], []
        seen = -1
        try:
            store.join(code, client)
            start.wait()
            t0 = time.monotonic()
            next_poll = t0 + rng.random()
            for at, question, answer in plan:
                while time.monotonic() < t0 + at:
                    if time.monotonic() >= next_poll:
                        tp = time.perf_counter()
                        version = store.version(code)
                        if version != seen:
                            seen, _ = store.current(code)
                        store.heartbeat(code, client, following=True)
                        mine_poll.append(time.perf_counter() - tp)
                        next_poll += 1.0
                    time.sleep(min(0.01, max(0.0, t0 + at - time.monotonic())))
                ta = time.perf_counter()
                store.answer(code, client, question, answer)
                mine_answer.append(time.perf_counter() - ta)
            stop.wait(WINDOW_S + 1.5 - (time.monotonic() - t0))
            seen, _ = store.current(code)
        except Exception as error:
            with lock:
                errors.append(f"{type(error).__name__}: {error}")
        with lock:
            answer_s.extend(mine_answer)
            poll_s.extend(mine_poll)
            final_versions.append(seen)

    threads = [threading.Thread(target=student, args=(c, p)) for c, p in zip(clients, plans, strict=True)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.monotonic()
    published = 0
    while time.monotonic() - began < WINDOW_S + 1:
        published = store.publish(code, key, {**SNAPSHOT, "lesson_step": published})
        time.sleep(1.0)  # the teacher's pace, not a synchronisation
    for thread in threads:
        thread.join()
    wall = time.monotonic() - began
    presence = store.presence(code, key)
    got = {q: store.distribution(code, key, q) for q in ("q-choice", "q-number", "q-cell")}
    store.end(code, key)
    exact = (
        got["q-choice"].choices == dict(sorted(expected_choices.items()))
        and got["q-number"].numbers == sorted(expected_numbers)
        and got["q-cell"].cells == dict(sorted(expected_cells.items()))
        and all(d.total == STUDENTS for d in got.values())
    )
    return {
        "answers": len(answer_s),
        "errors": errors,
        "exact": exact,
        "answer_s": answer_s,
        "poll_s": poll_s,
        "wall": wall,
        "presence": presence,
        "followers_current": sum(v == published for v in final_versions),
    }


def run(quick: bool, redis_url: str | None) -> Report:
    n = 2000 if quick else 20000
    report = Report(
        name="classroom",
        heading="Class sessions: a follower's check and 60 students answering",
        command=".venv/bin/python -m bench.classroom --save",
    )
    with contextlib.ExitStack() as stack:
        if redis_url is None:
            from tests.redis_server import redis_server

            redis_url = stack.enter_context(redis_server())
        stores: dict[str, ClassStore] = {"memory": MemoryStore(), "redis": RedisStore(redis_url)}
        load_before = os.getloadavg()[0]
        checks = {name: follower_check(store, n) for name, store in stores.items()}
        table = Table(
            f"A follower's check, one thread ({n} calls; current() {n // 2}; snapshot "
            f"{len(str(SNAPSHOT))} B)",
            ["store", "call", "median µs", "p95 µs"],
        )
        for name, found in checks.items():
            for call, times in found.items():
                table.add(name, call, us(median(times)), us(p95(times)))
        table.notes.append("Redis on the same machine (loopback TCP); a Redis across a network adds its RTT.")
        table.notes.append(
            f"Load average {load_before:.1f} on {os.cpu_count()} CPUs when it started: Redis's p95 is "
            "the wait for a core when the machine is busy."
        )
        report.tables.append(table)

        runs = {name: class_of_60(store) for name, store in stores.items()}
        load = Table(
            f"{STUDENTS} students in threads, each answering 3-4 times within {WINDOW_S:.0f} s while "
            "polling every second; the teacher publishing every second",
            [
                "store",
                "answers",
                "errors",
                "counts exact",
                "answer median ms",
                "p95 ms",
                "poll (version+heartbeat) median ms",
                "p95 ms",
                "connected/following",
                "saw the last version",
            ],
        )
        for name, r in runs.items():
            load.add(
                name,
                r["answers"],
                len(r["errors"]),
                "yes" if r["exact"] else "**no**",
                f"{median(r['answer_s']) * 1e3:.2f}",
                f"{p95(r['answer_s']) * 1e3:.2f}",
                f"{median(r['poll_s']) * 1e3:.2f}",
                f"{p95(r['poll_s']) * 1e3:.2f}",
                f"{r['presence'].connected}/{r['presence'].following}",
                f"{r['followers_current']}/{STUDENTS}",
            )
            if r["errors"]:
                load.notes.append(f"{name}: {r['errors'][:3]}")
        report.tables.append(load)
        for store in stores.values():
            store.close()
        redis_run = runs["redis"]
        report.target(
            "60 students answer within 5 s on Redis: counts exact, zero errors",
            f"{redis_run['answers']} answers, {len(redis_run['errors'])} errors, exact: {redis_run['exact']}",
            redis_run["exact"] and not redis_run["errors"],
        )
        report.data = {
            name: {k: v for k, v in r.items() if k not in ("answer_s", "poll_s", "presence")}
            for name, r in runs.items()
        }
    return report


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_common_args(parser)
    parser.add_argument("--redis", help="an existing Redis (default: start redis-server on a free port)")
    args = parser.parse_args()
    finish(run(args.quick, args.redis), args)


if __name__ == "__main__":
    main()
