"""A class following its teacher on two replicas with Redis, through Streamlit's own protocol (issue 15).

    .venv/bin/python -m bench.class_follow [--quick] [--save] [--students 60]

Starts redis-server (Debian's, no persistence), two replicas (`python -m app.serve` with the image's
ENV, one cookie secret, RNN_CLASS_STORE pointing at that Redis) behind the nginx of deploy/ (the
template rendered as tests/test_deploy.py does), then drives headless clients (bench/stclient.py,
plus what a browser does for a fragment: `auto_rerun` timers) through nginx:

1. the teacher opens the teacher link (sticky to replica A); the students open the join link, half
   sticky to each replica; every student follows;
2. follow: the teacher changes the seed, N times; for each change, the time from the teacher's edit
   leaving the client to the moment each student's page holds the new seed (the student's fragment
   saw a new version, the page reran and sent the seed widget with the new value);
3. idle: nothing changes for 30 s; each replica's CPU (utime + stime of the server process from
   /proc) as a share of one core, and the follower checks it served in that time;
4. answers: the teacher starts the tutorial lesson (its first step asks a choice question); every
   student answers at a random moment within 5 s (the radio and the "Answer" button, as a browser
   sends them); the teacher's distribution (the store, and the chart on the teacher's page) must
   equal the answers sent, with zero errors.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import secrets
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

from bench.common import Report, Table, add_common_args, cpu_seconds, finish, median, p95
from bench.stclient import Session, user_key

STUDENTS = 60
ANSWER_WINDOW_S = 5.0
QUESTION = "tutorial:the-network"  # the tutorial lesson's first question, as the store spells it


class ClassClient(Session):
    """A browser tab for a class page: the affinity cookie, fragment timers (`run_every`), buttons
    by label, and the moment each value of a watched widget first arrived."""

    def __init__(self, url: str, query_string: str = "", cookie: str | None = None, timeout: float = 120.0):
        super().__init__(url, query_string, timeout, cookie=f"st_route={cookie}" if cookie else None)
        self.timers: dict[str, asyncio.Task] = {}
        self.intervals: dict[str, float] = {}
        self.fragment_of: dict[str, str] = {}  # widget key -> the fragment it is drawn in
        self.buttons: dict[str, str] = {}  # label -> widget id (the last run's)
        self.seen: dict[tuple[str, object], float] = {}  # (widget key, value) -> perf_counter at arrival
        self.fragment_runs = 0  # fragment runs the server started for this tab
        self.full_runs = 0  # ... and runs of the whole page
        self.texts: list[str] = []  # the last run's markdown

    async def close(self) -> None:
        for task in self.timers.values():
            task.cancel()
        self.timers.clear()
        await super().close()

    def _states(self) -> list[WidgetState]:
        """As the browser sends them: a number input's value is always a double_value (Streamlit 1.67
        registers it so; app/hardening.py refuses an int_value). bench/stclient.py sends ints as
        int_value, which the hardened page replaces by the widget's default."""
        states = super()._states()
        for state in states:
            if state.WhichOneof("value") == "int_value":
                state.double_value = float(state.int_value)
        return states

    # -- fragments: what the browser does with auto_rerun ---------------------------------------------

    async def _tick(self, fragment_id: str, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            msg = self.rerun_message()
            msg.rerun_script.fragment_id = fragment_id
            msg.rerun_script.is_auto_rerun = True
            with contextlib.suppress(Exception):
                await self.ws.send(msg.SerializeToString())

    def _receive(self, raw: bytes) -> None:
        msg = ForwardMsg()
        msg.ParseFromString(raw)
        kind = msg.WhichOneof("type")
        if kind == "auto_rerun":  # as the browser: one interval timer per fragment, kept across runs
            fragment_id, interval = msg.auto_rerun.fragment_id, msg.auto_rerun.interval
            if self.intervals.get(fragment_id) != interval:
                old = self.timers.pop(fragment_id, None)
                if old is not None:
                    old.cancel()
                self.intervals[fragment_id] = interval
                self.timers[fragment_id] = asyncio.get_running_loop().create_task(
                    self._tick(fragment_id, interval)
                )
            return
        if kind == "stop_auto_rerun":
            for fragment_id in msg.stop_auto_rerun.fragment_ids:
                self.intervals.pop(fragment_id, None)
                task = self.timers.pop(fragment_id, None)
                if task is not None:
                    task.cancel()
            return
        if kind == "new_session":
            if msg.metadata.run.fragment_ids:  # a fragment run replaces only its own elements
                self.fragment_runs += 1
                return
            self.full_runs += 1
            self.texts = []
        super()._receive(raw)

    def _take(self, msg: ForwardMsg, acc) -> None:
        super()._take(msg, acc)
        if msg.WhichOneof("type") == "ref_hash":  # an element the client had cached
            cached = self.cache.get(msg.ref_hash)
            if cached is None:
                return
            msg = cached
        if msg.WhichOneof("type") != "delta" or msg.delta.WhichOneof("type") != "new_element":
            return
        element = msg.delta.new_element
        kind = element.WhichOneof("type")
        widget_id = getattr(getattr(element, kind), "id", "") if kind else ""
        if msg.delta.fragment_id and isinstance(widget_id, str) and user_key(widget_id):
            self.fragment_of[user_key(widget_id) or ""] = msg.delta.fragment_id
        if kind == "button":
            self.buttons[element.button.label] = element.button.id
        elif kind == "markdown":
            self.texts.append(element.markdown.body)
        elif kind in ("number_input", "selectbox"):
            widget_id = getattr(element, kind).id
            key = user_key(widget_id)
            if key is not None:
                widget = self.widgets.get(widget_id)
                if widget is not None:
                    self.seen.setdefault((key, widget.value), time.perf_counter())

    def value(self, key: str) -> object:
        return self.widget(key).value

    async def edit_in_fragment(self, changes: dict[str, object]) -> None:
        """A widget inside a fragment changed: the browser reruns only that fragment (not waited for)."""
        for key, value in changes.items():
            self.widget(key).value = value
        msg = self.rerun_message()
        msg.rerun_script.fragment_id = self.fragment_of[next(iter(changes))]
        await self.ws.send(msg.SerializeToString())

    async def click(self, label: str, changes: dict[str, object] | None = None):
        """Set widgets and press a button in one rerun request, as a browser does; the RunResult."""
        for key, value in (changes or {}).items():
            self.widget(key).value = value
        msg: BackMsg = self.rerun_message()
        msg.rerun_script.widget_states.widgets.append(WidgetState(id=self.buttons[label], trigger_value=True))
        future = asyncio.get_running_loop().create_future()
        from bench.stclient import _Pending

        self._pending.append(_Pending(time.perf_counter(), future))
        await self.ws.send(msg.SerializeToString())
        return await asyncio.wait_for(future, self.timeout)


# ---- the cluster ---------------------------------------------------------------------------------


@contextlib.contextmanager
def class_cluster(tmp: Path, redis_url: str) -> Iterator[tuple]:
    """Two replicas sharing `redis_url` behind nginx: (replica A, replica B, proxy, cookies by port)."""
    from tests.serving import ROOT, streamlit_server
    from tests.test_deploy import first_visits, image_env, nginx_proxy

    env = {
        **image_env(),
        "STREAMLIT_SERVER_COOKIE_SECRET": secrets.token_hex(32),
        "RNN_CLASS_STORE": redis_url,
        "RNN_LESSONS_DIR": str(ROOT / "lessons"),  # the image's ENV names /app/lessons
    }
    with (
        streamlit_server(tmp, env=env) as a,
        streamlit_server(tmp, env=env) as b,
        nginx_proxy(tmp / "nginx", [a.port, b.port]) as proxy,
    ):
        cookies = first_visits(proxy, {a.port, b.port})
        yield a, b, proxy, cookies


async def wait_until(check, timeout: float, poll: float = 0.05) -> bool:
    deadline = time.perf_counter() + timeout
    while not check():
        if time.perf_counter() > deadline:
            return False
        await asyncio.sleep(poll)
    return True


def cpu_share(pids: list[int], seconds: float) -> list[float]:
    """Each process's CPU over `seconds` of wall time, as a share of one core."""
    start = [cpu_seconds(pid) or 0.0 for pid in pids]
    time.sleep(seconds)
    return [((cpu_seconds(pid) or 0.0) - s) / seconds for pid, s in zip(pids, start, strict=True)]


# ---- the benchmark -------------------------------------------------------------------------------


async def drive(
    proxy, cookies: dict[int, str], a, b, store, n_students: int, rounds: int, idle_s: float
) -> dict:
    code, key = store.create_class()
    found: dict = {"errors": []}
    teacher = ClassClient(proxy.url, f"class={code}&teacher={key}", cookies[a.port])
    first = await teacher.open()
    found["teacher_open_s"] = first.seconds
    students = [
        ClassClient(proxy.url, f"class={code}", cookies[(a.port, b.port)[i % 2]]) for i in range(n_students)
    ]
    t0 = time.perf_counter()
    for i in range(0, n_students, 10):  # a class arriving: ten at a time
        results = await asyncio.gather(*(s.open() for s in students[i : i + 10]), return_exceptions=True)
        found["errors"] += [repr(r) for r in results if isinstance(r, Exception)]
        found["errors"] += [e for r in results if not isinstance(r, Exception) for e in r.errors]
    found["join_s"] = time.perf_counter() - t0
    seed0 = teacher.value("seed")
    joined = await wait_until(lambda: all(s.value("seed") == seed0 for s in students), 30)
    found["all_joined"] = joined
    print(
        f"{n_students} students joined in {found['join_s']:.1f} s; all showing the class: {joined}",
        flush=True,
    )

    # 2. follow: the teacher's change on every student's page
    latencies: list[float] = []
    missed = 0
    cpu_start = [cpu_seconds(server.process.pid) or 0.0 for server in (a, b)]
    follow_start = time.perf_counter()
    for r in range(rounds):
        seed = 1000 + r
        sent = time.perf_counter()
        result = await teacher.run({"seed": seed})
        found["errors"] += result.errors
        missed += await arrivals(students, ("seed", seed), sent, latencies)
        await asyncio.sleep(2.0)
    found["follow_s"], found["follow_missed"] = latencies, missed
    found["view_s"], found["view_missed"] = await view_picks(teacher, students, rounds)
    # CPU the replicas spent per follower page rerun (the idle checks in the same time deducted later)
    found["follow_cpu_s"] = sum((cpu_seconds(x.process.pid) or 0.0) for x in (a, b)) - sum(cpu_start)
    found["follow_wall_s"] = time.perf_counter() - follow_start
    found["detached"] = sum(any("exploring on your own" in t for t in c.texts) for c in students)
    print(
        f"follow: {len(latencies)} pages updated, {missed} missed, {found['detached']} detached", flush=True
    )

    # 3. idle following: each replica's CPU
    await asyncio.sleep(3.0)
    checks_before = sum(c.fragment_runs for c in students)
    loop = asyncio.get_running_loop()
    found["load_idle"] = os.getloadavg()
    found["cpu_idle"] = await loop.run_in_executor(None, cpu_share, [a.process.pid, b.process.pid], idle_s)
    found["checks_idle"] = sum(c.fragment_runs for c in students) - checks_before
    found["idle_s"] = idle_s
    print(f"idle: CPU {found['cpu_idle']}, {found['checks_idle']} checks", flush=True)

    # 4. answers: the tutorial lesson's first question, a random choice each, within 5 s
    result = await teacher.click("Start the lesson")
    found["errors"] += result.errors
    ready = await wait_until(lambda: all("Answer" in c.buttons for c in students), 90)
    found["all_at_question"] = ready
    print(f"lesson started; every student at the question: {ready}", flush=True)
    radio = next(
        user_key(w.id)
        for w in students[0].widgets.values()
        if (user_key(w.id) or "").startswith("lesson_choice_")
    )
    options = students[0].widget(radio).options
    rng = random.Random(0)
    picks = [rng.randrange(len(options)) for _ in students]

    unconfirmed: list[bool] = []

    async def answer(client: ClassClient, pick: int, delay: float) -> float:
        await asyncio.sleep(delay)
        client.timeout = 30.0
        try:
            done = await client.click("Answer", {radio: options[pick]})
        except TimeoutError:  # the run's end never reached the client: does its page show the answer?
            shown = "\n".join(str(m) for m in client.elements.values())
            unconfirmed.append("The teacher reveals the answer" in shown)
            raise
        found["errors"].extend(done.errors)
        return done.seconds

    t0 = time.perf_counter()
    outcomes = await asyncio.gather(
        *(answer(c, p, rng.uniform(0, ANSWER_WINDOW_S - 1.0)) for c, p in zip(students, picks, strict=True)),
        return_exceptions=True,
    )
    found["answer_window_s"] = time.perf_counter() - t0
    found["errors"] += [repr(o) for o in outcomes if isinstance(o, Exception)]
    found["answer_s"] = [o for o in outcomes if not isinstance(o, Exception)]
    found["unconfirmed"] = unconfirmed
    expected = {i: picks.count(i) for i in sorted(set(picks))}
    pooled = store.distribution(code, key, QUESTION)
    found["expected"], found["pooled"] = expected, dict(pooled.choices)
    found["exact"] = pooled.choices == expected and pooled.total == len(students)

    def chart_counts() -> list:
        spec = teacher.plotly_specs().get("class-choice")
        return list(spec["data"][0].get("y", [])) if spec else []

    want = [expected.get(i, 0) for i in range(len(options))]
    found["teacher_chart_exact"] = await wait_until(lambda: chart_counts() == want, 10)
    found["teacher_chart"] = chart_counts()
    for c in [teacher, *students]:
        await c.close()
    return found


async def view_picks(
    teacher: ClassClient, students: list[ClassClient], rounds: int
) -> tuple[list[float], int]:
    """The teacher picks another row, `rounds` times: the time to each student's page showing it."""
    latencies: list[float] = []
    missed = 0
    rows = teacher.widget("view_row").options
    for r in range(rounds):
        row = rows[(r + 1) % len(rows)]
        for c in students:
            c.seen.pop(("view_row", row), None)
        sent = time.perf_counter()
        await teacher.edit_in_fragment({"view_row": row})
        missed += await arrivals(students, ("view_row", row), sent, latencies)
        await asyncio.sleep(2.0)
    return latencies, missed


async def arrivals(
    students: list[ClassClient], value: tuple[str, object], sent: float, latencies: list
) -> int:
    """Waits (15 s at most) until every page showed `value` (a widget key and its value); each page's
    time since `sent` goes to `latencies`. The number of pages that never showed it."""
    await wait_until(lambda: all(value in c.seen for c in students), 15)
    shown = [c.seen[value] - sent for c in students if value in c.seen]
    latencies.extend(shown)
    return len(students) - len(shown)


def run(quick: bool, n_students: int) -> Report:
    from app.classroom.redis_store import RedisStore
    from tests.redis_server import redis_server

    rounds, idle_s = (3, 10.0) if quick else (8, 30.0)
    report = Report(
        "class_follow",
        f"A class of {n_students} following one teacher on 2 replicas with Redis",
        "python -m bench.class_follow" + (" --quick" if quick else ""),
    )
    load_start = os.getloadavg()
    with redis_server() as url, tempfile.TemporaryDirectory(prefix="class-follow-") as tmp:
        store = RedisStore(url)
        with class_cluster(Path(tmp), url) as (a, b, proxy, cookies):
            found = asyncio.run(drive(proxy, cookies, a, b, store, n_students, rounds, idle_s))
        store.close()
    follow = found["follow_s"]
    cpu = found["cpu_idle"]
    per_check_ms = sum(cpu) * found["idle_s"] * 1000 / max(found["checks_idle"], 1)
    check_s = per_check_ms / 1000
    reruns = rounds * n_students
    rerun_ms = (found["follow_cpu_s"] - check_s * n_students * found["follow_wall_s"]) * 1000 / reruns
    table = Table(
        f"{n_students} students (half on each replica), the teacher on replica A; load average "
        f"{load_start[0]:.1f} at the start, {found['load_idle'][0]:.1f} before the idle window (2 cores)",
        ["what", "measured", "target"],
    )
    table.add(
        "students joined and showing the class's network", "yes" if found["all_joined"] else "**no**", "all"
    )
    table.add(
        f"teacher's change → on each student's page, median ({rounds} changes × {n_students})",
        f"{median(follow):.2f} s",
        "",
    )
    table.add("… p95", f"{p95(follow):.2f} s", "≤ 2 s")
    table.add(
        "… max; pages that never showed it",
        f"{max(follow, default=float('nan')):.2f} s; {found['follow_missed']}",
        "0",
    )
    view = found["view_s"]
    table.add(
        f"teacher's view pick (a row) → on each student's page, median / p95 ({rounds} × {n_students})",
        f"{median(view):.2f} s / {p95(view):.2f} s",
        "≤ 2 s",
    )
    table.add("… pages that never showed it", f"{found['view_missed']}", "0")
    table.add(
        f"idle following, CPU of replica A, B ({found['idle_s']:.0f} s)",
        f"{cpu[0]:.1%}, {cpu[1]:.1%} of a core",
        "≤ 20% each",
    )
    table.add(
        "follower checks served in that window; CPU per check",
        f"{found['checks_idle']}; {per_check_ms:.1f} ms",
        "",
    )
    table.add(
        "answers: pooled = sent (store)",
        f"{'yes' if found['exact'] else '**no**'}: {found['pooled']}",
        "exact",
    )
    table.add(
        "answers: the teacher's chart",
        f"{'yes' if found['teacher_chart_exact'] else '**no**'}: {found['teacher_chart']}",
        "exact",
    )
    table.add(
        "answer round trip median / p95; all sent within",
        f"{median(found['answer_s']):.2f} s / {p95(found['answer_s']):.2f} s; "
        f"{found['answer_window_s']:.1f} s",
        "within 5 s",
    )
    table.add(
        "CPU per follower page rerun (replicas' CPU in the follow phase, less the checks)",
        f"{rerun_ms:.0f} ms: {n_students // 2} reruns per replica ≈ "
        f"{rerun_ms * n_students / 2000:.1f} s of a core",
        "",
    )
    if found["unconfirmed"]:
        table.add(
            "answer runs whose end never reached the client in 30 s (page shows the answer)",
            f"{len(found['unconfirmed'])} ({sum(found['unconfirmed'])})",
            "0",
        )
    table.add("students detached by a race (should be 0)", str(found["detached"]), "0")
    table.add("errors", str(len(found["errors"])), "0")
    if found["errors"]:
        table.notes.append(f"first errors: {found['errors'][:3]}")
    table.notes.append(
        "The follower polls once a second (st.fragment(run_every=1): one Redis GET), so a change waits up "
        "to 1 s for the next check, then one page rerun per student; 30 students rerunning on one core "
        "queue for it."
    )
    report.tables.append(table)
    report.target(
        "teacher's change on every student's page, p95 ≤ 2 s", f"{p95(follow):.2f} s", p95(follow) <= 2.0
    )
    report.target("idle following ≤ 20% of a core per replica", f"{max(cpu):.1%}", max(cpu) <= 0.20)
    ok = found["exact"] and found["teacher_chart_exact"] and not found["errors"]
    report.target(
        "60 answers within 5 s: distribution complete and exact, zero errors", "yes" if ok else "no", ok
    )
    report.data = {k: v for k, v in found.items() if k not in ("follow_s", "answer_s", "view_s")}
    return report


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_common_args(parser)
    parser.add_argument("--students", type=int, default=STUDENTS)
    args = parser.parse_args()
    finish(run(args.quick, args.students), args)


if __name__ == "__main__":
    main()
