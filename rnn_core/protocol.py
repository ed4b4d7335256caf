"""What travels over the socket between the engine and the worker (pickled; no TensorFlow here).

The engine sends one Request and reads one Answer before it sends the next; a job's slice is a
Request too (op "job.slice"), so short calls and slices simply take turns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Request:
    op: str  # a key of worker.OPS, or one of the job ops below
    args: dict[str, Any] = field(default_factory=dict)  # keyword arguments of the op


@dataclass(frozen=True)
class Answer:
    ok: bool
    value: Any = None
    error: str = ""  # the exception's one-line text when not ok


@dataclass(frozen=True)
class JobSlice:
    """What one slice of a job reports: its progress and its result so far."""

    progress: float  # 0..1
    result: Any
    done: bool


# The worker's own ops that drive jobs (args: job_id, and kind + args for job.start).
JOB_START, JOB_SLICE, JOB_DROP = "job.start", "job.slice", "job.drop"
