"""The benchmark's one meter: named stages timed from outside the code under test.

Nothing in watcher/ is patched. The objects the code under test is given (the matcher, the
store, the fetcher: Pipeline, Poller and Daemon take them as arguments) are handed over
wrapped in `Metered`, which times every public method call as the stage `name.method`;
SQLAlchemy events on the store's engine add SQLite's part (statements executed, COMMIT) to
whichever stage the calling thread is in. Work a caller does through module functions
(`identity_keys`, `story_signature`, `parse_feed`) cannot be wrapped: it stays in its
caller's time, and `apart` measures it on its own, in the same process, on the same inputs.

Each stage sums calls, wall seconds (`perf_counter`), the thread's own CPU seconds
(`thread_time`: wall minus CPU is waiting for locks, I/O or the GIL) and items (the length
of a call's first argument when it is a list or tuple: articles, keys). Thread-safe: the
feeds benchmark polls from several threads at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields, replace
from typing import Any, TypeVar

import sqlalchemy as sa

from bench.measure import Repeats, best_of_many

OUTSIDE = "outside"  # SQL run while no stage is open
LOCK_WAIT = "lock_wait"  # `name.lock_wait`: waiting to call a serial Metered object
R = TypeVar("R")


@dataclass
class Totals:
    """One stage's sums. sql/commit/statements: SQLite's part, from SQLAlchemy events."""

    calls: int = 0
    wall: float = 0.0
    cpu: float = 0.0
    items: int = 0
    sql: float = 0.0
    commit: float = 0.0
    statements: int = 0

    def minus(self, other: Totals) -> Totals:
        return Totals(**{f.name: getattr(self, f.name) - getattr(other, f.name)
                         for f in fields(self)})

    def plus(self, other: Totals) -> Totals:
        return Totals(**{f.name: getattr(self, f.name) + getattr(other, f.name)
                         for f in fields(self)})

    def per_call(self, calls: int) -> Totals:
        """These sums scaled to `calls` calls at this stage's cost per call (a stage
        measured apart, estimated for the calls a pass made)."""
        share = calls / self.calls if self.calls else 0.0
        return Totals(calls, self.wall * share, self.cpu * share, round(self.items * share))


@dataclass(frozen=True)
class Readings:
    """A snapshot of every stage's totals; a stage never entered reads as zeros."""

    stages: dict[str, Totals] = field(default_factory=dict)

    def __getitem__(self, stage: str) -> Totals:
        return self.stages.get(stage, Totals())

    def total(self, stages: Iterable[str]) -> Totals:
        summed = Totals()
        for stage in stages:
            summed = summed.plus(self[stage])
        return summed

    def since(self, before: Readings) -> Readings:
        """What happened between `before` and this snapshot."""
        return Readings({name: totals.minus(before[name]) for name, totals in self.stages.items()})

    def names(self, prefix: str = "") -> list[str]:
        return sorted(name for name, t in self.stages.items() if t.calls and
                      name.startswith(prefix))


class Meter:
    """Stages timed in any thread; see the module's docstring."""

    def __init__(self) -> None:
        self._stages: dict[str, Totals] = {}
        self._lock = threading.Lock()
        self._local = threading.local()  # per thread: open stages, SQL and COMMIT start
        self.last_statement: dict[str, tuple[str, Any]] = {}  # per stage, for query plans

    def readings(self) -> Readings:
        with self._lock:
            return Readings({name: replace(t) for name, t in self._stages.items()})

    def reset(self) -> None:
        with self._lock:
            self._stages.clear()

    def add(self, stage: str, totals: Totals) -> None:
        with self._lock:
            self._stages[stage] = self._stages.get(stage, Totals()).plus(totals)

    @contextmanager
    def stage(self, name: str, items: int = 0) -> Iterator[None]:
        """Time the block as one call of `name`; SQL run inside it counts for `name`."""
        open_stages = self._open_stages()
        open_stages.append(name)
        wall, cpu = time.perf_counter(), time.thread_time()
        try:
            yield
        finally:
            open_stages.pop()
            self.add(name, Totals(1, time.perf_counter() - wall, time.thread_time() - cpu, items))

    def timing(self, name: str, function: Callable[..., R],
               serial: threading.Lock | None = None) -> Callable[..., R]:
        """`function`, each call timed as stage `name` (after waiting for `serial`, if
        given, which is timed as `name`'s object's lock_wait)."""
        waiting = name.rsplit(".", 1)[0] + "." + LOCK_WAIT

        def timed_call(*args: Any, **kwargs: Any) -> R:
            with self._waiting_for(serial, waiting), self.stage(name, _items(args)):
                return function(*args, **kwargs)

        return timed_call

    def wrap(self, target: Any, name: str, *, serial: bool = False) -> Any:
        """`target` with each public method call timed (see Metered)."""
        return Metered(target, self, name, threading.Lock() if serial else None)

    def watch(self, engine: sa.Engine) -> None:
        """Time cursor.execute, and COMMIT up to the connection's return to the pool."""
        sa.event.listen(engine, "before_cursor_execute", self._before_execute)
        sa.event.listen(engine, "after_cursor_execute", self._after_execute)
        sa.event.listen(engine, "commit", self._before_commit)
        sa.event.listen(engine, "checkin", self._checked_in)

    def _open_stages(self) -> list[str]:
        if not hasattr(self._local, "stages"):
            self._local.stages = []
        stages: list[str] = self._local.stages
        return stages

    def _current(self) -> str:
        stages = self._open_stages()
        return stages[-1] if stages else OUTSIDE

    @contextmanager
    def _waiting_for(self, lock: threading.Lock | None, stage: str) -> Iterator[None]:
        if lock is None:
            yield
            return
        start = time.perf_counter()
        with lock:
            self.add(stage, Totals(1, time.perf_counter() - start))
            yield

    def _before_execute(self, conn: Any, cursor: Any, statement: str, parameters: Any,
                        context: Any, executemany: bool) -> None:
        self._local.sql_started = time.perf_counter()

    def _after_execute(self, conn: Any, cursor: Any, statement: str, parameters: Any,
                       context: Any, executemany: bool) -> None:
        stage = self._current()
        seconds = time.perf_counter() - self._local.sql_started
        self.add(stage, Totals(sql=seconds, statements=1))
        self.last_statement[stage] = (statement, parameters)

    def _before_commit(self, conn: Any) -> None:
        self._local.commit_started = time.perf_counter()

    def _checked_in(self, dbapi_connection: Any, record: Any) -> None:
        started = getattr(self._local, "commit_started", None)
        if started is not None:
            self.add(self._current(), Totals(commit=time.perf_counter() - started))
            self._local.commit_started = None


class Metered:
    """Stands in for `target` where the code under test is given it: each call of a public
    method is timed as stage `name.method`; attributes pass through. `serial`: calls take
    this lock first and its wait is timed (for an object that serialises its calls under
    its own lock anyway, the matcher: the wait moves where it can be seen)."""

    def __init__(self, target: Any, meter: Meter, name: str,
                 serial: threading.Lock | None = None) -> None:
        self._target = target
        self._meter = meter
        self._name = name
        self._serial = serial

    def __getattr__(self, attribute: str) -> Any:
        value = getattr(self._target, attribute)
        if attribute.startswith("_") or not callable(value):
            return value
        return self._meter.timing(f"{self._name}.{attribute}", value, self._serial)


def apart(meter: Meter, stage: str, function: Callable[[Any], object], inputs: Iterable[Any],
          repeats: Repeats) -> Totals:
    """`function` over each input, on its own in this thread, best of several passes:
    the cost of work the code under test does through a module function."""
    inputs = list(inputs)
    passes: list[Totals] = []

    def one_pass() -> None:
        before = meter.readings()[stage]
        for value in inputs:
            with meter.stage(stage):
                function(value)
        passes.append(meter.readings()[stage].minus(before))

    best_of_many(one_pass, repeats)
    return min(passes, key=lambda totals: totals.wall)


def _items(args: tuple[Any, ...]) -> int:
    first = args[0] if args else None
    return len(first) if isinstance(first, list | tuple) else 0
