"""Training while others edit: N sessions train (each a run of STEPS steps, the engine's "train" job
in slices) while M other sessions edit every 1-5 s, against one real `streamlit run app/main.py`.

    .venv/bin/python -m bench.train_load [--trainers 30] [--editors 30] [--steps 2000] [--seconds 240]

Sessions speak Streamlit's browser protocol (bench/stclient.py). A trainer opens a link whose state
has the "copy the current input" targets and a step budget (the Training chapter opens by itself),
presses Train (a button trigger), and then does what a browser does: its fragment timers (`auto_rerun`,
bench/class_follow.py's client) rerun the page's polling fragment every POLL_S, and the page reruns
itself in full when it decides to; the trainer only watches for the end of the run. When the server
already runs its maximum of jobs the page says so and the trainer presses Train again 1-2 s later.
An editor changes the seed (a new one each time: every edit misses the result cache and goes
through the TensorFlow worker: forward pass and cross-check; the learning chapters are closed, as on
a page just opened) and waits for the run to finish. Reported: the editors' latency (median, p95,
max), errors (exception elements and error alerts) in either group, the trainers' time to finish
and their busy retries, and the load.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from streamlit.proto.WidgetStates_pb2 import WidgetState

from bench.class_follow import ClassClient
from bench.common import Table, cpu_seconds, find_worker, median, ms, p95
from bench.stclient import Session, user_key
from rnn_core.params import tutorial_inputs
from rnn_core.state import State, TrainingSettings, encode_link
from tests.serving import streamlit_server

SEED_MAX = 2**32 - 1
TARGET_P95_MS = 500.0
POLL_S = 1.0  # as the page's polling fragment (app/sections/training.py)


@dataclass
class Outcome:
    edit_latencies: list[float] = field(default_factory=list)
    edit_errors: list[str] = field(default_factory=list)
    train_seconds: list[float] = field(default_factory=list)
    train_errors: list[str] = field(default_factory=list)
    busy_retries: int = 0
    polls: int = 0
    unfinished: int = 0


def buttons(session: Session) -> set[str]:
    """The user keys of the buttons in the last run."""
    keys = set()
    for msg in session.elements.values():
        element = msg.delta.new_element
        if element.WhichOneof("type") == "button":
            keys.add(user_key(element.button.id) or "")
    return keys


def press(session: Session, key: str) -> None:
    session.override(key, WidgetState(trigger_value=True))


def release(session: Session, key: str) -> None:
    widget = session.widget(key)
    session.overrides.pop(widget.id, None)


async def trainer(
    url: str, query: str, steps: int, outcome: Outcome, rng: random.Random, stop: float
) -> None:
    await asyncio.sleep(rng.uniform(0, 3))
    session = ClassClient(url, query_string=query, timeout=120)  # (fragment timers, as a browser)
    try:
        first = await session.open()
        if not first.ok:
            outcome.train_errors.append(f"first load: {first.errors or first.status}")
            return
        start = time.perf_counter()
        done_text = f"Step {steps} ("
        while time.perf_counter() < stop:
            if "train_start" in buttons(session):
                if any(done_text in text for text in session_texts(session)):
                    outcome.train_seconds.append(time.perf_counter() - start)
                    return
                press(session, "train_start")
                result = await session.run()
                release(session, "train_start")
                if not result.ok:
                    outcome.train_errors.append("; ".join(result.errors) or f"status {result.status}")
                if any("busy" in body for _, body in result.notices):
                    outcome.busy_retries += 1
                    await asyncio.sleep(rng.uniform(1, 2))
                    continue
            await asyncio.sleep(POLL_S)  # (the page's fragment timer polls the job; the client watches)
            errors = [text for text in session_texts(session) if "Traceback" in text]
            if errors:
                outcome.train_errors.extend(errors)
                return
        outcome.unfinished += 1
    except Exception as err:
        outcome.train_errors.append(f"{type(err).__name__}: {err}")
    finally:
        outcome.polls += session.fragment_runs
        await session.close()


def session_texts(session: Session) -> list[str]:
    texts = []
    for msg in session.elements.values():
        element = msg.delta.new_element
        if element.WhichOneof("type") == "markdown":
            texts.append(element.markdown.body)
    return texts


async def editor(url: str, outcome: Outcome, rng: random.Random, stop: float, trained: asyncio.Event) -> None:
    """Edits until `stop`, or until every trainer is done: only edits made while others train count."""
    await asyncio.sleep(rng.uniform(0, 3))
    session = Session(url, timeout=120)
    try:
        first = await session.open()
        if not first.ok:
            outcome.edit_errors.append(f"first load: {first.errors or first.status}")
        while time.perf_counter() < stop and not trained.is_set():
            await asyncio.sleep(rng.uniform(1, 5))
            if trained.is_set():
                break
            result = await session.run({"seed": rng.randrange(SEED_MAX)})
            if result.ok:
                outcome.edit_latencies.append(result.seconds)
            else:
                outcome.edit_errors.append("; ".join(result.errors) or f"status {result.status}")
    except Exception as err:
        outcome.edit_errors.append(f"{type(err).__name__}: {err}")
    finally:
        await session.close()


def trainer_query(steps: int) -> str:
    """A trainer's link: the tutorial's network, "copy the current input" targets, a step budget."""
    X = tutorial_inputs()
    return f"s={encode_link(State(targets=X[:, :, 0], training=TrainingSettings(steps=steps)))}"


async def drive(url: str, trainers: int, editors: int, steps: int, seconds: float) -> Outcome:
    query = trainer_query(steps)
    outcome = Outcome()
    rng = random.Random(0)
    stop = time.perf_counter() + seconds
    train_tasks = [
        asyncio.create_task(trainer(url, query, steps, outcome, random.Random(rng.random()), stop))
        for _ in range(trainers)
    ]
    trained = asyncio.Event()  # set when every trainer is done: the editors stop there
    edit_tasks = [
        asyncio.create_task(editor(url, outcome, random.Random(rng.random()), stop, trained))
        for _ in range(editors)
    ]
    await asyncio.gather(*train_tasks)
    trained.set()
    await asyncio.gather(*edit_tasks)
    return outcome


async def warm(url: str, query: str) -> None:
    """The first page, one training step through the page (Step ×1) and the gradients chapter: the
    worker has traced its training loop and its gradients (what it would otherwise trace when first
    idle, tf_train.warm) before the clock starts: a trace takes seconds and holds every call behind it,
    once in a server's life."""
    async with Session(url, query_string=query, timeout=240) as session:
        await session.open()
        press(session, "train_step_1")
        result = await session.run()
        release(session, "train_step_1")
        result = await session.run({"open_gradients": True}) if result.ok else result
        if not result.ok:
            raise RuntimeError(f"warm-up failed: {result.errors}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trainers", type=int, default=30)
    parser.add_argument("--editors", type=int, default=30)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=240.0, help="the editors edit this long")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, streamlit_server(Path(tmp)) as server:
        asyncio.run(warm(server.url, trainer_query(args.steps)))
        load_before = os.getloadavg()
        page_pid, worker_pid = server.process.pid, find_worker(server.process.pid)
        cpu_before = (cpu_seconds(page_pid) or 0.0, cpu_seconds(worker_pid) or 0.0)
        client_before = time.process_time()  # the load generator's own CPU (it shares the 2 cores)
        started = time.perf_counter()
        outcome = asyncio.run(drive(server.url, args.trainers, args.editors, args.steps, args.seconds))
        wall = time.perf_counter() - started
        cpu_after = (cpu_seconds(page_pid) or 0.0, cpu_seconds(worker_pid) or 0.0)
        client_share = (time.process_time() - client_before) / wall
        load_after = os.getloadavg()
    page_share, worker_share = ((b - a) / wall for a, b in zip(cpu_before, cpu_after, strict=True))
    table = Table(
        f"{args.trainers} sessions training {args.steps} steps each while {args.editors} others "
        f"edit every 1-5 s (one server, {os.cpu_count()} cores)",
        ["group", "n", "median", "p95", "max", "errors", "notes"],
    )
    lat = outcome.edit_latencies
    met = bool(lat) and p95(lat) * 1000 <= TARGET_P95_MS
    table.add(
        "editors (edit → charts)",
        len(lat),
        ms(median(lat)) if lat else "-",
        ms(p95(lat)) if lat else "-",
        ms(max(lat)) if lat else "-",
        len(outcome.edit_errors),
        f"target p95 ≤ {TARGET_P95_MS:.0f} ms: {'met' if met else 'NOT met'}",
    )
    done = outcome.train_seconds
    table.add(
        "trainers (Train → done)",
        len(done),
        f"{median(done):.1f} s" if done else "-",
        f"{p95(done):.1f} s" if done else "-",
        f"{max(done):.1f} s" if done else "-",
        len(outcome.train_errors),
        f"{outcome.busy_retries} busy retries (8 jobs per server), {outcome.polls} polls, "
        f"{outcome.unfinished} unfinished",
    )
    table.notes.append(
        f"wall {wall:.0f} s; load average before {load_before[0]:.1f}, after {load_after[0]:.1f}; "
        f"CPU: page process {page_share:.0%} of a core, TensorFlow worker {worker_share:.0%}, "
        f"the load generator (60 clients, same machine) {client_share:.0%}"
    )
    for name, errors in (("editor", outcome.edit_errors), ("trainer", outcome.train_errors)):
        for error in sorted(set(errors))[:5]:
            table.notes.append(f"{name} error: {error[:200]}")
    print(table.text())


if __name__ == "__main__":
    main()
