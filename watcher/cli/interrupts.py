"""Ctrl-C: the first one stops a command its ordinary way, a second one stops it at once.

The first interrupt raises KeyboardInterrupt (one-shot commands: the line they print and
status 130) or asks `run` for its clean stop. Either may wait on work in other threads:
an alert being sent to a channel that does not answer (up to `notify.timeout`), polls in
hand. A second Ctrl-C exits at once with status 130, as a kill would: the database keeps
what was committed, and claimed alerts are sent by the next process (a claim of a process
that is gone is taken at once; an alert the channel had already taken may then arrive
twice, as after a kill).

Kept free of heavy imports: the console script uses it before the commands are imported.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from types import FrameType
from typing import NoReturn

EXIT_INTERRUPTED = 130  # 128 + SIGINT, what shells report for a process stopped by Ctrl-C
STOPPED_AT_ONCE = (
    "watcher: interrupted again: stopped at once (committed work is kept; alerts being "
    "sent stay pending for the next run or `watcher deliveries flush`)"
)


def raise_keyboard_interrupt() -> None:
    raise KeyboardInterrupt


@contextmanager
def second_interrupt_exits(first: Callable[[], None]) -> Iterator[None]:
    """While inside: the first SIGINT calls `first`, the next ones exit at once (130).
    Outside the main thread (where signals cannot be handled) it changes nothing."""
    try:
        previous = signal.getsignal(signal.SIGINT)
        signal.signal(signal.SIGINT, _TwoStage(first))
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


class _TwoStage:
    def __init__(self, first: Callable[[], None]) -> None:
        self.first = first
        self.interrupted = False

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        if self.interrupted:
            _exit_at_once()
        self.interrupted = True
        self.first()


def _exit_at_once() -> NoReturn:
    """Threads stuck on a silent channel would hold up an ordinary exit: os._exit does not
    wait for them. What is buffered for stdout is written first."""
    for stream in (sys.stdout, sys.stderr):
        # closed, a reader that left, or interrupted in the middle of a write (reentrant)
        with suppress(OSError, ValueError, RuntimeError):
            stream.flush()
    os.write(sys.stderr.fileno(), f"{STOPPED_AT_ONCE}\n".encode())
    os._exit(EXIT_INTERRUPTED)
