"""The benchmarks' own tools, where a mistake would measure the wrong code: a before/after run checks
out the revision it is given, as it is now."""

from __future__ import annotations

import asyncio
import http.server
import subprocess
import tempfile
import threading

import pytest

from bench import before_after, load, visit
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


# ---- bench/visit.py: a first visit's files, as a browser fetches them -------------------------------


class _Files(http.server.BaseHTTPRequestHandler):
    """Keep-alive HTTP/1.1: /n<size> answers `size` bytes (chunked when the query says so), else 404."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        path, _, query = self.path.partition("?")
        if not path.startswith("/n"):
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = b"x" * int(path[2:])
        self.send_response(200)
        if query == "chunked":
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for start in range(0, len(body), 1000):
                part = body[start : start + 1000]
                self.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def files_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Files)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


def test_a_visit_counts_every_byte_over_its_connections(files_server):
    """Six connections at once, content-length and chunked bodies: the bytes received are the files'
    (the counter was once updated across an await: connections overwrote each other's counts)."""
    paths = [f"/n{1000 * (i + 1)}" + ("?chunked" if i % 3 == 0 else "") for i in range(40)]
    received = asyncio.run(visit.fetch((files_server, None), paths))
    assert received == sum(1000 * (i + 1) for i in range(40))


def test_a_visit_fails_on_a_file_it_cannot_get(files_server):
    with pytest.raises(RuntimeError, match=r"/missing\.js: 404"):
        asyncio.run(visit.fetch((files_server, None), ["/n10", "/missing.js"]))


def test_the_stampede_with_files_is_a_stampede_whose_files_are_recorded_later():
    f, s = load.Scenario.parse("f200"), load.Scenario.parse("s200")
    assert f.files == () and s.files is None and "empty caches" in f.label
    assert (f.sessions, f.edits, f.stagger, f.think) == (s.sessions, s.edits, s.stagger, s.think)


def test_a_stampedes_opening_is_measured_when_every_student_has_the_page_and_before_any_edit(tmp_path):
    """The opening's CPU (bench/load.py Opening, in the hall's notes) is what every first page cost:
    `drive` reports it once, when each session has its first page, before the first edit is sent."""
    from tests.serving import streamlit_server

    seen: list[tuple[int, int, int]] = []

    def opened(outcome: load.Outcome) -> None:
        seen.append((len(outcome.first_loads), len(outcome.latencies), len(outcome.errors)))

    with streamlit_server(tmp_path, script="bench/pages/floor.py") as server:
        outcome = asyncio.run(load.drive([(server.url, None)], load.Scenario.parse("s6"), opened=opened))
    assert seen == [(6, 0, 0)]
    assert len(outcome.errors) == 6  # (then each edited a seed, which this page does not have)


def test_a_variants_environment_is_key_value_pairs_and_nothing_else():
    """--env K=V of the A/B benchmarks (bench/first_page.py, visit.py, lecture.py): a value may hold
    "=", a pair without a key or without "=" is refused by the command line, not met as a traceback."""
    import argparse

    parser = argparse.ArgumentParser()
    before_after.env_option(parser)
    args = parser.parse_args(["--env", "A=1", "--env", "B=x=y", "--env", "C="])
    assert dict(args.env) == {"A": "1", "B": "x=y", "C": ""}
    for bad in ("A", "=1"):
        with pytest.raises(SystemExit):
            parser.parse_args(["--env", bad])


def test_alternating_rounds_take_turns_going_first():
    """A B, B A, A B: neither variant is always the first of a sitting."""
    from bench.common import in_turn

    rounds = [in_turn(("A", "B", "C"), round_) for round_ in range(1, 5)]
    assert rounds == [["A", "B", "C"], ["C", "B", "A"], ["A", "B", "C"], ["C", "B", "A"]]
