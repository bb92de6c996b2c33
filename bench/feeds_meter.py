"""Where a `watcher run --once` pass spends its time: the daemon's own functions wrapped,
for the duration of the benchmark only, to add each call's wall and thread CPU time.

Polls run MAX_CONCURRENT_POLLS at a time in threads, so the sums are of thread time: a
stage's wall time includes waiting for the GIL, for SQLite's write lock or for the
matcher's lock while other threads work; its CPU time (`time.thread_time`) does not.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from types import TracebackType
from typing import Any, TypeVar
from unittest import mock

from watcher.daemon import poller as poller_module
from watcher.engine.matcher import Matcher
from watcher.ingest import pipeline as pipeline_module
from watcher.sources.fetch import Fetcher
from watcher.store import Store

R = TypeVar("R")

# (stage, owner, attribute): what is wrapped. Functions the poller and the pipeline call
# through their own module's names are patched there; methods on their class.
WRAPPED: tuple[tuple[str, object, str], ...] = (
    ("fetch", Fetcher, "fetch"),
    ("parse", poller_module, "parse_feed"),
    ("identity_keys", pipeline_module, "identify"),
    ("match", Matcher, "match_many"),
    ("signature", pipeline_module, "story_signature"),
    ("claim_poll", Store, "claim_poll"),
    ("is_known", Store, "is_known"),
    ("ingest", Store, "ingest"),
    ("record_poll", Store, "record_poll"),
)
STAGES = tuple(stage for stage, _, _ in WRAPPED)
LOCK_WAIT = "matcher_lock_wait"


class ThreadMeter:
    """Per stage: calls, summed wall seconds, summed thread CPU seconds, items handled."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.wall: Counter[str] = Counter()
        self.cpu: Counter[str] = Counter()
        self.items: Counter[str] = Counter()
        self._lock = threading.Lock()

    def add(self, stage: str, wall: float, cpu: float, items: int = 0) -> None:
        with self._lock:
            self.calls[stage] += 1
            self.wall[stage] += wall
            self.cpu[stage] += cpu
            self.items[stage] += items

    def snapshot(self) -> ThreadMeter:
        copy = ThreadMeter()
        with self._lock:
            for mine, theirs in ((self.calls, copy.calls), (self.wall, copy.wall),
                                 (self.cpu, copy.cpu), (self.items, copy.items)):
                theirs.update(mine)
        return copy

    def timing(self, stage: str, function: Callable[..., R]) -> Callable[..., R]:
        """`function` that adds each call's time to `stage` (a method stays a method)."""
        counts_items = stage == "match"

        def timed_call(*args: Any, **kwargs: Any) -> R:
            wall, cpu = time.perf_counter(), time.thread_time()
            try:
                return function(*args, **kwargs)
            finally:
                items = len(args[1]) if counts_items else 0  # match_many(self, articles)
                self.add(stage, time.perf_counter() - wall, time.thread_time() - cpu, items)

        return timed_call

    @contextmanager
    def wrapping(self) -> Iterator[None]:
        """Every WRAPPED function timed for the duration of the block, then restored."""
        with ExitStack() as stack:
            for stage, owner, name in WRAPPED:
                wrapped = self.timing(stage, getattr(owner, name))
                stack.enter_context(mock.patch.object(owner, name, wrapped))
            yield


class TimedLock:
    """Stands in for the Matcher's lock: the same threading.Lock, with the seconds threads
    spent waiting to acquire it added to LOCK_WAIT (part of the `match` stage's wall)."""

    def __init__(self, meter: ThreadMeter) -> None:
        self._lock = threading.Lock()
        self._meter = meter

    def __enter__(self) -> bool:
        start = time.perf_counter()
        self._lock.acquire()
        self._meter.add(LOCK_WAIT, time.perf_counter() - start, 0.0)
        return True

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._lock.release()


def difference(after: ThreadMeter, before: ThreadMeter) -> ThreadMeter:
    out = ThreadMeter()
    for a, b, o in ((after.calls, before.calls, out.calls), (after.wall, before.wall, out.wall),
                    (after.cpu, before.cpu, out.cpu), (after.items, before.items, out.items)):
        for key in a:
            o[key] = a[key] - b.get(key, 0)
    return out


def stage_names(meter: ThreadMeter) -> Sequence[str]:
    return [stage for stage in STAGES if meter.calls.get(stage)]
