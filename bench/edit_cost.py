"""What one edit costs a real server, by kind, before and after a change, in the same run.

    .venv/bin/python -m bench.edit_cost --before REV [--rounds 2] [--edits 40]

One session over Streamlit's protocol (bench/stclient.py: a widget drawn in a fragment reruns that
fragment, as in a browser) on a real server of this checkout and of REV (a git worktree, started
from there so it runs its own code), alternating rounds. Per kind of edit: the page process's CPU
per edit (from /proc), the messages and kilobytes sent for it and the median time to the end of its
run. Kinds: a seed edit (every chart changes; the result is computed), a row pick, a step pick, a
neuron pick and a click on a cell of y2 in the same row (view picks: the result comes from the
cache; the view controls are the browser's: the row and neuron picks and the click (which sets them)
are drawn by the browser, the server reruns only the explanation's part; the step slider's move sends
nothing: Session.move, Session.click),
and a seed edit followed by a step move (the pair: the first in its network, which the charts ask
the server for). A tool for one change's effect; the class tables come from
bench/lecture.py.
"""

from __future__ import annotations

import asyncio
import os
import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.before_after import arguments, served
from bench.common import Table, in_turn
from bench.stclient import Session

KINDS: dict[str, Callable[[int], Any]] = {
    "seed edit": lambda i: {"seed": 1000 + i},
    "row pick": lambda i: {"view_row": f"row {i % 3}"},  # (a select box sends its option's label)
    "step pick": lambda i: {"view_step": i % 3},
    "neuron pick": lambda i: {"view_neuron": f"neuron {i % 3}"},
    "cell click": lambda i: ("hidden_2", 1, i % 8),  # (chart, y, x: Session.click)
    # a seed edit, then one step pick: the pair (the pick is the first in its network: it reruns the
    # results part and sends every step, which the picks after it draw in the browser)
    "edit, then a pick": lambda i: [{"seed": 2000 + i}, {"view_step": i % 3}],
}


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def session(url: str, pid: int, edits: int) -> dict[str, tuple[float, float, float, float]]:
    found = {}
    async with Session(url, timeout=60) as client:
        await client.run()
        await client.run({"seed": 5})  # the worker warm, every widget seen
        await client.run({"view_row": "row 1"})
        for kind, change in KINDS.items():
            start, messages, sizes, seconds = cpu_seconds(pid), [], [], []
            for i in range(edits):
                results = []
                if kind == "cell click":  # as a browser: the controls set, or the trigger "click"
                    results.append(await client.click(*change(i)))
                elif kind == "seed edit":
                    results.append(await client.run(change(i)))
                elif kind == "edit, then a pick":
                    edit, step = change(i)
                    results.append(await client.run(edit))
                    results.append(await client.move(step))
                else:  # the view controls, as a browser moves them (they may send nothing)
                    results.append(await client.move(change(i)))
                messages.append(sum(result.n_messages for result in results))
                sizes.append(sum(result.n_bytes for result in results) / 1000)
                seconds.append(sum(result.seconds for result in results))
            cpu_ms = (cpu_seconds(pid) - start) / edits * 1000
            median = statistics.median
            found[kind] = (cpu_ms, median(messages), median(sizes), median(seconds) * 1000)
    return found


def measure(checkout: Path, edits: int) -> dict[str, tuple[float, float, float, float]]:
    with served(checkout) as (url, pid):
        return asyncio.run(session(url, pid, edits))


def main() -> None:
    args, checkouts = arguments(__doc__, edits=40)
    columns = ["round", "code", *[f"{kind}: CPU ms / messages / KB / ms" for kind in KINDS]]
    table = Table("One edit on a real server, by kind (one session)", columns)
    for round_ in range(1, args.rounds + 1):
        for name, checkout in in_turn(list(checkouts.items()), round_):
            found = measure(checkout, args.edits)
            cells = [f"{cpu:.1f} / {n:.0f} / {kb:.1f} / {wall:.1f}" for cpu, n, kb, wall in found.values()]
            table.add(round_, name, *cells)
    print(table.markdown())


if __name__ == "__main__":
    main()
