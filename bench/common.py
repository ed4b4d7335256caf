"""Shared pieces of the benchmarks: timing statistics, tables, results on disk, the machine.

Every benchmark prints its tables and, with --out, writes them (markdown) to bench/results/NAME.md,
which bench/report.py puts together into docs/PERFORMANCE.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
T = TypeVar("T")


def in_turn(variants: Sequence[T], round_: int) -> list[T]:
    """The variants of alternating round `round_` (1, 2, ...): in order in odd rounds, reversed in even
    ones (A B, B A, A B, ...), so that whatever comes first in a sitting weighs on both alike. An A/A
    run of the stampede measured the first of two identical variants slower in the first round
    (first page p95 2323 against 1599 ms; docs/PERFORMANCE.md)."""
    return list(variants) if round_ % 2 else list(reversed(variants))


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100), linear between order statistics; nan for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def median(values: Sequence[float]) -> float:
    return percentile(values, 50)


def p95(values: Sequence[float]) -> float:
    return percentile(values, 95)


def repeat(
    fn, *, warmup: int = 3, runs: int = 30, min_time: float = 0.0, max_time: float = 60.0
) -> list[float]:
    """Seconds per call of fn(): `warmup` untimed calls, then at least `runs` timed ones
    (more while the total stays under min_time; stop early past max_time)."""
    for _ in range(warmup):
        fn()
    times: list[float] = []
    started = time.perf_counter()
    while True:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
        elapsed = time.perf_counter() - started
        if elapsed > max_time:
            break
        if len(times) >= runs and elapsed >= min_time:
            break
    return times


def ms(seconds: float) -> str:
    """Milliseconds, with sensible digits."""
    value = seconds * 1000.0
    if value != value:  # nan
        return "–"
    if value < 1:
        return f"{value:.3f}"
    if value < 10:
        return f"{value:.2f}"
    if value < 100:
        return f"{value:.1f}"
    return f"{value:.0f}"


def ratio(value: float, baseline: float) -> str:
    if not baseline or value != value or baseline != baseline:
        return "–"
    r = value / baseline
    return f"{r:.3g}×"


def mb(n_bytes: float | None) -> str:
    return "–" if n_bytes is None else f"{n_bytes / 2**20:.0f}"


def kb(n_bytes: float) -> str:
    return f"{n_bytes / 1024:.1f}"


@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, *cells: object) -> None:
        self.rows.append([str(c) for c in cells])

    def markdown(self) -> str:
        lines = [f"#### {self.title}", ""]
        lines.append("| " + " | ".join(self.columns) + " |")
        lines.append("|" + "|".join("---" for _ in self.columns) + "|")
        lines += ["| " + " | ".join(row) + " |" for row in self.rows]
        if self.notes:
            lines.append("")
            lines += [f"- {note}" for note in self.notes]
        return "\n".join(lines) + "\n"

    def text(self) -> str:
        widths = [
            max(len(c), *(len(r[i]) for r in self.rows)) if self.rows else len(c)
            for i, c in enumerate(self.columns)
        ]
        out = [self.title, "  ".join(c.ljust(w) for c, w in zip(self.columns, widths, strict=True))]
        out.append("  ".join("-" * w for w in widths))
        out += ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in self.rows]
        out += [f"  * {note}" for note in self.notes]
        return "\n".join(out) + "\n"


@dataclass
class Report:
    """What one benchmark found: a heading, some tables, free text, and target verdicts."""

    name: str
    heading: str
    command: str
    tables: list[Table] = field(default_factory=list)
    text: list[str] = field(default_factory=list)
    targets: list[tuple[str, str, bool | None]] = field(default_factory=list)  # (target, measured, met)
    data: dict = field(default_factory=dict)

    def target(self, what: str, measured: str, met: bool | None) -> None:
        self.targets.append((what, measured, met))

    def markdown(self) -> str:
        parts = [f"### {self.heading}", "", f"`{self.command}`", ""]
        parts += [p + "\n" for p in self.text]
        parts += [t.markdown() for t in self.tables]
        if self.targets:
            targets = Table("Targets", ["target", "measured", "met"])
            for what, measured, met in self.targets:
                targets.add(what, measured, {True: "yes", False: "**no**", None: "–"}[met])
            parts.append(targets.markdown())
        return "\n".join(parts)

    def print(self) -> None:
        for table in self.tables:
            print(table.text())
        for what, measured, met in self.targets:
            print(f"target: {what}: {measured} -> {'met' if met else 'MISSED' if met is False else '?'}")
        sys.stdout.flush()

    def save(self, out: Path | None = None) -> Path:
        out = out or RESULTS
        out.mkdir(parents=True, exist_ok=True)
        path = out / f"{self.name}.md"
        path.write_text(self.markdown())
        payload = {"data": self.data, "targets": self.targets, "heading": self.heading}
        (out / f"{self.name}.json").write_text(json.dumps(payload, indent=1, default=str))
        return path


def add_common_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--save", action="store_true", help=f"write the tables to {RESULTS.relative_to(ROOT)}/"
    )
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (a smoke run)")


def finish(report: Report, args: argparse.Namespace) -> None:
    report.print()
    if args.save:
        print("saved", report.save())


def run_main(doc: str | None, run) -> None:
    """The command line of a benchmark whose only options are --quick and --save."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_args(parser)
    args = parser.parse_args()
    finish(run(args.quick), args)


# ---- the machine ------------------------------------------------------------------------------


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _version(package: str) -> str:
    from importlib import metadata

    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def machine() -> dict[str, str]:
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    mem = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) // 1024} MB"
    except OSError:
        pass
    packages = ["tensorflow-cpu", "keras", "streamlit", "numpy", "plotly", "pandas", "uvicorn", "websockets"]
    packages += ["uvloop", "protobuf", "playwright"]
    chromium = ""
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        command = ["/usr/bin/chromium", "--version"]
        chromium = subprocess.run(command, capture_output=True, text=True, timeout=20).stdout.strip()
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "uname": " ".join(platform.uname()),
        "cpu": _cpu_model(),
        "cores": str(os.cpu_count()),
        "memory": mem,
        "load average at start": load,
        "python": sys.version.split()[0],
        **{p: _version(p) for p in packages},
        "chromium": chromium,
    }


# ---- processes --------------------------------------------------------------------------------


def rss_bytes(pid: int | None) -> int | None:
    """Resident memory of one process (Linux /proc), or None if it is gone."""
    if pid is None:
        return None
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU time a process has used so far (Linux /proc), or None if it is gone."""
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def children(pid: int) -> list[int]:
    """Direct children of pid."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid:
            found.append(int(entry.name))
    return found


def find_worker(server_pid: int) -> int | None:
    """The TensorFlow worker (python -m rnn_core.worker) among the server's descendants."""
    todo = [server_pid]
    while todo:
        pid = todo.pop()
        for child in children(pid):
            try:
                cmdline = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ")
            except OSError:
                continue
            if b"rnn_core.worker" in cmdline:
                return child
            todo.append(child)
    return None


def _burn(share: float, period: float = 0.05) -> None:
    """Busy `share` of every `period` seconds, asleep for the rest (a process of its own)."""
    while True:
        start = time.perf_counter()
        while time.perf_counter() - start < share * period:
            pass
        time.sleep(max(0.0, period - (time.perf_counter() - start)))


@contextlib.contextmanager
def slower_machine(share: float) -> Iterator[None]:
    """One process per core that takes `share` of it (busy share × 50 ms of every 50 ms, at the same
    priority): the machine as a busier host or a slower hour of a shared VM leaves it, 1 / (1 - share)
    times slower for everything else (share 0.33: 1.5×, what this VM's slow hours measured)."""
    if share <= 0:
        yield
        return
    import multiprocessing

    procs = [
        multiprocessing.get_context("spawn").Process(target=_burn, args=(share,), daemon=True)
        for _ in range(os.cpu_count() or 1)
    ]
    for proc in procs:
        proc.start()
    try:
        yield
    finally:
        for proc in procs:
            proc.kill()
            proc.join()
