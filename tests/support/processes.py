"""`watcher` as a separate OS process, for tests that signal, kill or race it.

The environment's WATCHER_* variables are left out, so only the test's own
configuration file counts.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from watcher.store.owners import Owner


def start_watcher(*args: str, cwd: Path) -> subprocess.Popen[str]:
    """`python -m watcher ARGS` in `cwd`, its output captured as text."""
    return subprocess.Popen(
        [sys.executable, "-m", "watcher", *args], cwd=cwd, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env={k: v for k, v in os.environ.items() if not k.startswith("WATCHER_")},
    )


def exited_worker_name() -> str:
    """The claim name of a process that has exited (and been reaped): a dead owner."""
    done = subprocess.run(
        [sys.executable, "-c",
         "from watcher.store.owners import worker_name; print(worker_name())"],
        capture_output=True, text=True, check=True,
    )
    return done.stdout.strip()


def on_another_host(name: str) -> str:
    """The same claim name as if its process ran on another machine (none this test can
    check)."""
    owner = Owner.parse(name)
    assert owner is not None, name
    return str(replace(owner, host="worker-2.example"))


def stop_watchers(processes: list[subprocess.Popen[str]], timeout: float = 30) -> list[str]:
    """SIGTERM every one still running, wait (kill one that outstays `timeout`); their
    stderr logs, also printed for pytest's report of a failed test. Safe in a `finally`:
    a test that failed midway leaves nothing running, and says what the processes said."""
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    logs = []
    for process in processes:
        try:
            logs.append(process.communicate(timeout=timeout)[1])
        except subprocess.TimeoutExpired:
            process.kill()
            logs.append(process.communicate()[1])
    for number, log in enumerate(logs, start=1):  # pytest shows it when the test fails
        print(f"--- stderr of watcher process {number} of {len(logs)}:\n{log}")
    return logs
