"""What a first page costs the server, one visitor at a time, in variants given by environment
variables, alternating rounds so that a busy machine weighs on both alike.

    .venv/bin/python -m bench.first_page [--rounds 3] [--pages 60] [--env K=V ... | --before REV]

Variant A is this checkout's server; variant B runs with the --env variables (default
STREAMLIT_RUNNER_MAGIC_ENABLED=true: Streamlit's magic on, as it is unless configured). With --before,
A is that revision's code (a git worktree, bench/before_after.py) and B this checkout's. Two ways a
visitor comes:
  alone:  no other session is open (a public demo between visitors; the first student of a class).
          Streamlit then drops the page script's compiled code when the last session closes
          (websocket_session_manager: "avoid stale cached scripts") and compiles it again;
  beside: another session stays open (a class): the compiled script is reused.
Measured per first page: the page process's CPU (from /proc), the median time to the end of its run,
and the messages sent (the same page: a check that both variants draw alike).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from bench.before_after import env_option, served, worktree
from bench.common import ROOT, Table, cpu_seconds, in_turn, median
from bench.stclient import Session


async def visits(url: str, pid: int, pages: int, beside: bool) -> tuple[float, float, float]:
    """CPU ms per first page, median seconds to its run's end, median messages."""
    async with contextlib.AsyncExitStack() as stack:
        if beside:  # (a session that stays open: the compiled script is kept)
            await (await stack.enter_async_context(Session(url, timeout=60))).open()
        seconds, messages = [], []
        start = cpu_seconds(pid) or 0.0
        for _ in range(pages):
            async with Session(url, timeout=60, chart_words=False) as visitor:
                first = await visitor.open()
            assert first.ok, first.errors
            seconds.append(first.seconds)
            messages.append(first.n_messages)
        cpu = ((cpu_seconds(pid) or 0.0) - start) / pages * 1000
    return cpu, median(seconds), median(messages)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pages", type=int, default=60)
    env_option(parser)
    parser.add_argument("--before", help="variant A: this revision's code (B: this checkout, as it is)")
    args = parser.parse_args()
    if args.before:  # (a code change: the same environment, two checkouts)
        variants = {f"A: {args.before}": (worktree(args.before), {}), "B: this checkout": (ROOT, {})}
    else:
        env_b = dict(args.env) or {"STREAMLIT_RUNNER_MAGIC_ENABLED": "true"}
        variants = {"A: as committed": (ROOT, {}), f"B: {env_b}": (ROOT, env_b)}
    table = Table(
        f"A first page, one visitor at a time ({args.rounds} alternating rounds × {args.pages} pages)",
        ["variant", "round", "how", "CPU ms per first page", "median ms to its run's end", "messages"],
    )
    for round_ in range(1, args.rounds + 1):
        for label, (checkout, env) in in_turn(list(variants.items()), round_):
            with served(checkout, env=env) as (url, pid):
                asyncio.run(visits(url, pid, 3, beside=True))  # (the worker warm, the modules loaded)
                for how in ("alone", "beside"):
                    cpu, seconds, messages = asyncio.run(visits(url, pid, args.pages, how == "beside"))
                    table.add(label, round_, how, f"{cpu:.1f}", f"{seconds * 1000:.1f}", f"{messages:g}")
                    print(" | ".join(str(cell) for cell in table.rows[-1]), flush=True)
    print()
    print(table.markdown())


if __name__ == "__main__":
    main()
