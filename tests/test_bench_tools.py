"""The benchmarks' own tools, where a mistake would measure the wrong code: a before/after run checks
out the revision it is given, as it is now."""

from __future__ import annotations

import subprocess
import tempfile

import pytest

from bench import before_after
from bench.common import ROOT

REF = "refs/rnn-bench-test/moving"  # a ref of the test's own, moved by the test (then deleted)


def git(*args: str) -> str:
    found = subprocess.run(["git", "-C", str(ROOT), *args], check=True, capture_output=True, text=True)
    return found.stdout.strip()


@pytest.fixture
def moving_ref(tmp_path, monkeypatch):
    """A ref at HEAD~1, to be moved; worktrees under tmp_path; everything removed afterwards."""
    if subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--verify", "-q", "HEAD~1"]).returncode:
        pytest.skip("a checkout with one commit (no history to move a ref along)")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    git("update-ref", REF, "HEAD~1")
    try:
        yield REF
    finally:
        git("update-ref", "-d", REF)
        for path in tmp_path.glob("rnn-bench-*"):
            git("worktree", "remove", "--force", str(path))
        git("worktree", "prune")


def test_a_before_checkout_is_what_its_ref_names_now(moving_ref):
    """A ref that moves (HEAD, a branch) between two runs gets a checkout of what it names at each:
    the worktree used to be named after the ref, so the second run measured the first run's code."""
    first = before_after.worktree(moving_ref)
    assert git("-C", str(first), "rev-parse", "HEAD") == git("rev-parse", "HEAD~1")
    git("update-ref", moving_ref, "HEAD")
    second = before_after.worktree(moving_ref)
    assert git("-C", str(second), "rev-parse", "HEAD") == git("rev-parse", "HEAD")
    assert before_after.worktree(moving_ref) == second  # (the same commit: its checkout is reused)
