"""Payload: bytes sent to the browser per rerun, at the tutorial size and at the caps.

    .venv/bin/python -m bench.payload [--quick] [--save]

One session on a real server (bench/stclient.py, the browser's protocol, with its message cache):
the first page load, then edits of the seed (every chart changes), picks of the followed row (rows
not shown before, then the same rows again: an element of 10 KB or more that the browser already
holds is sent as a reference to its hash), and plain reruns with nothing changed. Bytes are the
serialized ForwardMsgs as they cross the websocket. At the caps
(50 steps × 32 rows × 8 features × 256 neurons) the state comes from a share link (?s=...), with
random inputs. The breakdown lists the largest elements of one rerun.
"""

from __future__ import annotations

import asyncio
import json
import random
import tempfile
from pathlib import Path

import numpy as np

from bench.common import Report, Table, kb, median, ms, p95, run_main
from bench.stclient import Session
from rnn_core.config import LIMITS
from rnn_core.state import State, encode_link
from tests.serving import streamlit_server


def caps_query() -> str:
    T, B, F, N = LIMITS["n_steps"][1], LIMITS["batch"][1], LIMITS["n_inputs"][1], LIMITS["n_neurons"][1]
    inputs = np.round(np.random.default_rng(0).normal(size=(T, B, F)), 2)
    return "s=" + encode_link(State(inputs=inputs, n_neurons=N))


def element_sizes(session: Session) -> list[tuple[int, str]]:
    """(bytes, description) of every element of the last run, largest first."""
    found = []
    for path, msg in session.elements.items():
        element = msg.delta.new_element
        kind = element.WhichOneof("type")
        name = kind
        if kind == "plotly_chart":
            name = f"plotly_chart {json.loads(element.plotly_chart.spec).get('layout', {}).get('meta', '')}"
        elif kind in ("markdown", "code", "alert", "heading"):
            proto = getattr(element, kind)
            body = getattr(proto, "body", "") or getattr(proto, "code_text", "")
            name = f"{kind} {body[:40]!r}"
        found.append((msg.ByteSize(), f"{name} at {'.'.join(map(str, path))}"))
    return sorted(found, reverse=True)


async def measure(url: str, query: str, edits: int) -> dict:
    rng = random.Random(0)
    async with Session(url, query_string=query, timeout=300) as session:
        first = await session.open()
        first_elements = element_sizes(session)
        seed_runs = [await session.run({"seed": rng.randrange(2**32)}) for _ in range(edits)]
        by_element = element_sizes(session)
        rows = session.widget("view_row").options  # new rows first, then rows seen before
        fresh = [r for r in rows if r != session.widget("view_row").value][:edits]
        row_runs = [await session.run({"view_row": row}) for row in fresh]
        revisit_runs = [await session.run({"view_row": row}) for row in fresh[:edits]]
        same_runs = [await session.run() for _ in range(edits)]  # nothing changed: a plain rerun
    kinds: dict[str, list[int]] = {}
    for run in seed_runs:
        for kind, n in run.bytes_by_kind.items():
            kinds.setdefault(kind, []).append(n)
    return {
        "first": {"bytes": first.n_bytes, "messages": first.n_messages, "seconds": first.seconds},
        "first_largest": first_elements[:5],
        "seed": {
            "bytes": [r.n_bytes for r in seed_runs],
            "messages": [r.n_messages for r in seed_runs],
            "seconds": [r.seconds for r in seed_runs],
        },
        "row": {"bytes": [r.n_bytes for r in row_runs], "seconds": [r.seconds for r in row_runs]},
        "row_again": {"bytes": [r.n_bytes for r in revisit_runs]},
        "same": {"bytes": [r.n_bytes for r in same_runs], "seconds": [r.seconds for r in same_runs]},
        "by_kind": {k: median(v) for k, v in sorted(kinds.items(), key=lambda kv: -median(kv[1]))},
        "largest": by_element[:15],
        "n_elements": len(by_element),
        "errors": sorted(
            {e for r in [first, *seed_runs, *row_runs, *revisit_runs, *same_runs] for e in r.errors}
        ),
    }


def run(quick: bool) -> Report:
    edits = 3 if quick else 10
    report = Report(
        name="payload",
        heading="5. Payload per rerun",
        command=".venv/bin/python -m bench.payload --save",
    )
    with tempfile.TemporaryDirectory() as tmp, streamlit_server(Path(tmp)) as server:
        found = {
            "tutorial 3×3×2×8": asyncio.run(measure(server.url, "", edits)),
            "caps 50×32×8×256": asyncio.run(measure(server.url, caps_query(), edits)),
        }
    report.data = found
    table = Table(
        "Bytes sent to the browser per rerun (KB; sum of ForwardMsg sizes); one session's rerun time (ms)",
        [
            "size T×B×F×N",
            "first load",
            "seed edit",
            "new row picked",
            "a row seen before",
            "rerun, no change",
            "seed edit p50",
            "p95",
        ],
    )
    for size, f in found.items():
        table.add(
            size,
            kb(f["first"]["bytes"]),
            kb(median(f["seed"]["bytes"])),
            kb(median(f["row"]["bytes"])),
            kb(median(f["row_again"]["bytes"])),
            kb(median(f["same"]["bytes"])),
            ms(median(f["seed"]["seconds"])),
            ms(p95(f["seed"]["seconds"])),
        )
    for size, f in found.items():
        if f["errors"]:
            table.notes.append(f"{size}: errors {f['errors'][:3]}")
    report.tables.append(table)
    for size, f in found.items():
        kinds = Table(f"By element type, one seed edit at {size} (KB)", ["element", "KB", "share"])
        total = sum(f["by_kind"].values())
        for kind, n in list(f["by_kind"].items())[:10]:
            kinds.add(kind, kb(n), f"{n / total:.0%}")
        report.tables.append(kinds)
        largest = Table(
            f"Largest elements of one seed edit at {size} (of {f['n_elements']})", ["element", "KB"]
        )
        for n, name in f["largest"][:10]:
            largest.add(name.replace("|", "/"), kb(n))
        report.tables.append(largest)
    return report


def main() -> None:
    run_main(__doc__, run)


if __name__ == "__main__":
    main()
