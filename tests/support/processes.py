"""`watcher` as a separate OS process, for tests that signal, kill or race it.

The environment's WATCHER_* variables are left out, so only the test's own
configuration file counts. Its output is read as it comes (`PipeLines`), so a test waits
for the log line that says a thing happened (`process.errors.wait_for("event=poll ")`)
instead of asking again and again whether it has.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from dataclasses import replace
from pathlib import Path
from typing import IO

from tests.support.helpers import PATIENCE
from watcher.store.owners import Owner

# Notified on every line any PipeLines reads: a test waiting on several processes' lines
# at once (`wait_for_lines`) wakes when one of them writes.
_ANY_LINE = threading.Condition()


class PipeLines:
    """Every line a process writes to one pipe, read by a thread of its own as it comes:
    `wait_for` blocks until a line says what the test waits for, and the pipe never fills
    up and stalls the process."""

    def __init__(self, pipe: IO[str]) -> None:
        self._lines: list[str] = []
        self._ended = False
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, args=(pipe,), daemon=True)
        self._reader.start()

    def _read(self, pipe: IO[str]) -> None:
        with pipe:
            for line in pipe:
                with self._changed:
                    self._lines.append(line)
                    self._changed.notify_all()
                with _ANY_LINE:
                    _ANY_LINE.notify_all()
        with self._changed:
            self._ended = True
            self._changed.notify_all()
        with _ANY_LINE:
            _ANY_LINE.notify_all()

    def wait_for(self, text: str, count: int = 1, timeout: float = PATIENCE) -> str:
        """The `count`th line containing `text`, once it is written; fail the test (with
        what was written) when the process closes the pipe first, or after `timeout`."""
        with self._changed:
            self._changed.wait_for(
                lambda: len(self._having(text)) >= count or self._ended, timeout)
            found = self._having(text)
            if len(found) < count:
                why = "the pipe closed" if self._ended else f"{timeout:g} s passed"
                raise AssertionError(f"{why} before line {count} with {text!r}; the lines:\n"
                                     + "".join(self._lines))
            return found[count - 1]

    def _having(self, text: str) -> list[str]:
        return [line for line in self._lines if text in line]

    def whole(self, timeout: float = PATIENCE) -> str:
        """Everything written, once the pipe is closed (the process and its children are
        gone); fail the test if it is still open after `timeout`."""
        self._reader.join(timeout)
        if self._reader.is_alive():
            raise AssertionError(f"the pipe still open after {timeout:g} s")
        with self._changed:
            return "".join(self._lines)


class WatcherProcess(subprocess.Popen[str]):
    """A `watcher` process whose standard output and error are `PipeLines`: `output` and
    `errors`. `communicate` waits for it to exit and returns both, as Popen's does."""

    def __init__(self, args: list[str], cwd: Path) -> None:
        super().__init__(
            args, cwd=cwd, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env={k: v for k, v in os.environ.items() if not k.startswith("WATCHER_")},
        )
        assert self.stdout is not None and self.stderr is not None
        self.output, self.errors = PipeLines(self.stdout), PipeLines(self.stderr)

    def communicate(self, input: str | None = None,  # noqa: A002 (Popen's name for it)
                    timeout: float | None = None) -> tuple[str, str]:
        assert input is None, "no standard input is piped to it"
        self.wait(timeout)
        return self.output.whole(), self.errors.whole()


def wait_for_lines(
    streams: list[PipeLines], text: str, count: int, timeout: float = PATIENCE
) -> None:
    """Until the streams together hold `count` lines containing `text` (several workers'
    logs: each feed's poll is in one of them); fail the test when they have all closed
    first, or after `timeout`."""
    def seen() -> int:
        total = 0
        for stream in streams:
            with stream._changed:  # noqa: SLF001 (this module's own class)
                total += len(stream._having(text))  # noqa: SLF001
        return total

    with _ANY_LINE:
        _ANY_LINE.wait_for(
            lambda: seen() >= count or all(stream._ended for stream in streams),  # noqa: SLF001
            timeout)
    if seen() < count:
        raise AssertionError(f"{seen()} of {count} lines with {text!r} written")


def start_watcher(*args: str, cwd: Path) -> WatcherProcess:
    """`python -m watcher ARGS` in `cwd`, its output read as it comes."""
    return WatcherProcess([sys.executable, "-m", "watcher", *args], cwd)


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


def stop_watchers(processes: list[WatcherProcess], timeout: float = 30) -> list[str]:
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
