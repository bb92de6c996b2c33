"""The waiting helpers of tests/support: each returns as soon as what it waits for
happens, and fails with a line saying what did not happen (CONTRIBUTING.md, Tests)."""

from __future__ import annotations

import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

import pytest

from tests.support.helpers import returns_within
from tests.support.http_server import Reply, ScriptedServer
from tests.support.processes import PipeLines, start_watcher

PRINTS_THREE_LINES = "print('starting'); print('polled x'); print('polled x again')"


def test_pipe_lines_waits_for_the_nth_line_and_fails_once_the_pipe_closes_without_it():
    process = subprocess.Popen([sys.executable, "-c", PRINTS_THREE_LINES],
                               stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    lines = PipeLines(process.stdout)
    assert lines.wait_for("polled x", count=2) == "polled x again\n"
    with pytest.raises(AssertionError, match="the pipe closed before line 1 with 'stopped'"):
        lines.wait_for("stopped")  # at once: the process has exited, not after PATIENCE
    assert process.wait() == 0
    assert lines.whole() == "starting\npolled x\npolled x again\n"


def test_a_watcher_process_communicates_what_its_pipes_said(tmp_path: Path):
    process = start_watcher("--help", cwd=tmp_path)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0 and out.startswith("Usage: ") and err == ""


def test_a_scripted_server_says_when_requests_arrived_and_which_never_did():
    with ScriptedServer() as server:
        server.route("/feed", Reply(200, b"ok"))
        for _ in range(2):
            with urllib.request.urlopen(server.url("/feed"), timeout=60) as answer:
                assert answer.read() == b"ok"
        assert [r.path for r in server.wait_for_requests("/feed", 2)] == ["/feed"] * 2
        with pytest.raises(AssertionError, match="^2 of 3 requests to /feed arrived$"):
            server.wait_for_requests("/feed", 3, timeout=0.1)  # no third is on its way


def test_returns_within_hands_back_the_result_or_the_error_and_fails_a_hang():
    assert returns_within(60, lambda: 42) == 42
    with pytest.raises(ZeroDivisionError):
        returns_within(60, lambda: 1 / 0)
    never = threading.Event()
    try:
        with pytest.raises(AssertionError, match="^the wait still running after 0.1 s$"):
            returns_within(0.1, never.wait, "the wait")
    finally:
        never.set()
