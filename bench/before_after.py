"""A page rerun before and after a change, in the same run: this checkout's page against another
revision's, each in a fresh subprocess, alternating rounds so that a busy machine weighs on both alike.

    .venv/bin/python -m bench.before_after --before REV [--rounds 3] [--runs 20]

The other revision is checked out into a temporary git worktree; its page runs with that worktree
first on the path, so it imports its own `app` and `rnn_core`. Measured: the page process's CPU time
per rerun (steadier than wall time on a shared machine) and the wall time, for a seed edit (the
result cache misses: a worker call) and a row pick (the result comes from the cache).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from bench.common import ROOT, Table, in_turn, median, ms, p95
from tests.serving import free_port, stop, streamlit_command, wait_healthy


def arguments(doc: str, rounds: int = 2, **counts: int) -> tuple[argparse.Namespace, dict[str, Path]]:
    """The command line of a before/after benchmark (--before REV, --rounds, and an int option per
    count given), and its two checkouts: {"before": REV's worktree, "after": this one}."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", required=True, help="the revision to compare with (e.g. a commit)")
    parser.add_argument("--rounds", type=int, default=rounds)
    for name, default in counts.items():
        parser.add_argument(f"--{name}", type=int, default=default)
    args = parser.parse_args()
    return args, {"before": worktree(args.before), "after": ROOT}


def env_option(parser: argparse.ArgumentParser) -> None:
    """--env K=V (repeatable): the environment of an A/B run's variant B; `dict(args.env)` is it."""
    parser.add_argument(
        "--env", action="append", default=[], type=_key_value, help="variant B's environment, K=V"
    )


def _key_value(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"{text!r} is not K=V")
    return key, value


@contextlib.contextmanager
def served(
    checkout: Path, page: str | None = None, env: dict[str, str] | None = None
) -> Iterator[tuple[str, int]]:
    """A real server of `checkout`'s own code, started from there: (its URL, its page process's pid).
    `page`: another page (bench/pages/), served with the app's own start-up (bench/pages/serve.py);
    `env`: variables added to its environment (a variant of an A/B run)."""
    port = free_port()
    command = streamlit_command(port)
    if page is not None:  # (the same flags; `python -m app.serve` becomes bench/pages/serve.py PAGE)
        command = [sys.executable, "-m", "bench.pages.serve", page, *command[3:]]
    process = subprocess.Popen(
        command, cwd=checkout, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", **(env or {})}, start_new_session=True,
    )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url, process=process)
        yield url, process.pid
    finally:
        stop(process)


def worktree(rev: str) -> Path:
    """A checkout of `rev` in a git worktree, named by its commit: a ref that moves (HEAD, a branch)
    gets a checkout of what it names now, not the one an earlier run left under its name."""
    git = ["git", "-C", str(ROOT)]
    commit = subprocess.run([*git, "rev-parse", "--verify", f"{rev}^{{commit}}"], check=True,
                            capture_output=True, text=True).stdout.strip()  # fmt: skip
    path = Path(tempfile.gettempdir()) / f"rnn-bench-{commit[:12]}"
    if not path.exists():
        subprocess.run([*git, "worktree", "add", "--detach", str(path), commit], check=True)
    return path


# The child: this checkout's timing code (bench/rerun.py, loaded by path) on the other checkout's page,
# with the other checkout first on the path so that its page imports its own packages.
CHILD = """
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("rerun_timing", sys.argv[1])
timing = importlib.util.module_from_spec(spec)
spec.loader.exec_module(timing)
print(json.dumps(timing.child("ours", int(sys.argv[3]), sys.argv[2])))
"""


def measure(checkout: Path, runs: int) -> dict:
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    page = str(checkout / "app" / "main.py")
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(ROOT / "bench" / "rerun.py"), page, str(runs)],
        cwd=checkout, env=env, capture_output=True, text=True, timeout=1800,
    )  # fmt: skip
    if out.returncode != 0:
        raise RuntimeError(f"{checkout} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])["edits"]


def main() -> None:
    args, checkouts = arguments(__doc__, rounds=3, runs=20)  # (--runs: edits of each kind per round)
    samples: dict[str, dict[str, dict[str, list[float]]]] = {
        name: {kind: {"cpu": [], "run": []} for kind in ("seed", "row")} for name in checkouts
    }
    for round_ in range(1, args.rounds + 1):
        for name, checkout in in_turn(list(checkouts.items()), round_):
            for kind, edits in measure(checkout, args.runs).items():
                samples[name][kind]["cpu"] += edits["cpu"]
                samples[name][kind]["run"] += edits["run"]
    table = Table(
        f"Page rerun, ms ({args.rounds} alternating rounds × {args.runs} edits; before = {args.before})",
        ["edit", "page", "CPU median", "CPU p95", "wall median", "wall p95", "CPU × before"],
    )
    for kind in ("seed", "row"):
        base = median(samples["before"][kind]["cpu"])
        for name in checkouts:
            cpu, run = samples[name][kind]["cpu"], samples[name][kind]["run"]
            table.add(kind, name, ms(median(cpu)), ms(p95(cpu)), ms(median(run)), ms(p95(run)),
                      f"{median(cpu) / base:.2f}×")  # fmt: skip
    print(table.text())


if __name__ == "__main__":
    main()
