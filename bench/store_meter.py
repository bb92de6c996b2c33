"""Timing the pipeline's stages from outside: stand-ins for its matcher and store that time
each call, and SQLAlchemy events that time SQLite's own part of every store call.

Nothing in watcher/ is patched: Pipeline takes its matcher and store as arguments.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from typing import Any, TypeVar
from unittest import mock

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bench.store_results import StageTimes
from watcher.engine.matcher import Matcher
from watcher.ingest import pipeline as pipeline_module
from watcher.model import Article, Match
from watcher.store import IngestResult, Store

OUTSIDE = "outside"  # SQL run while no stage is open (e.g. store.matches() after a pass)
# Functions Pipeline calls by its module's names: (stage, function name).
PURE_STAGES = (("identity_keys", "identify"), ("story_signature", "story_signature"))
R = TypeVar("R")


class StageMeter:
    """Seconds per stage, and per stage the seconds SQLite spent executing and committing."""

    def __init__(self) -> None:
        self.seconds: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()
        self.sql: Counter[str] = Counter()
        self.commit: Counter[str] = Counter()
        self.statements: Counter[str] = Counter()
        self.last_statement: dict[str, tuple[str, Any]] = {}
        self._stage = OUTSIDE
        self._sql_started = 0.0
        self._commit_started: float | None = None

    def reset(self) -> None:
        for counter in (self.seconds, self.calls, self.sql, self.commit, self.statements):
            counter.clear()

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        outer, self._stage = self._stage, name
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] += time.perf_counter() - start
            self.calls[name] += 1
            self._stage = outer

    def timing(self, name: str, function: Callable[..., R]) -> Callable[..., R]:
        def timed_call(*args: Any, **kwargs: Any) -> R:
            with self.stage(name):
                return function(*args, **kwargs)

        return timed_call

    @contextmanager
    def timing_pure_stages(self) -> Iterator[None]:
        """Time the dedupe functions Pipeline calls through its module's names, for the
        duration of the block (they are pure: wrapping them changes nothing else)."""
        with ExitStack() as stack:
            for stage, name in PURE_STAGES:
                wrapped = self.timing(stage, getattr(pipeline_module, name))
                stack.enter_context(mock.patch.object(pipeline_module, name, wrapped))
            yield

    def watch(self, engine: Engine) -> None:
        """Time cursor.execute, and COMMIT up to the connection's return to the pool."""
        sa.event.listen(engine, "before_cursor_execute", self._before_execute)
        sa.event.listen(engine, "after_cursor_execute", self._after_execute)
        sa.event.listen(engine, "commit", self._before_commit)
        sa.event.listen(engine, "checkin", self._checked_in)

    def stage_times(self, total: float) -> StageTimes:
        return StageTimes(
            total=total,
            identity_keys=self.seconds["identity_keys"],
            is_known=self.seconds["is_known"],
            is_known_sql=self.sql["is_known"],
            is_known_commit=self.commit["is_known"],
            match=self.seconds["match"],
            signature=self.seconds["story_signature"],
            ingest=self.seconds["ingest"],
            ingest_sql=self.sql["ingest"],
            ingest_commit=self.commit["ingest"],
            statements=self.statements["is_known"] + self.statements["ingest"],
            calls=dict(self.calls),
        )

    def _before_execute(self, conn: Any, cursor: Any, statement: str, parameters: Any,
                        context: Any, executemany: bool) -> None:
        self._sql_started = time.perf_counter()

    def _after_execute(self, conn: Any, cursor: Any, statement: str, parameters: Any,
                       context: Any, executemany: bool) -> None:
        self.sql[self._stage] += time.perf_counter() - self._sql_started
        self.statements[self._stage] += 1
        self.last_statement[self._stage] = (statement, parameters)

    def _before_commit(self, conn: Any) -> None:
        self._commit_started = time.perf_counter()

    def _checked_in(self, dbapi_connection: Any, record: Any) -> None:
        if self._commit_started is not None:
            self.commit[self._stage] += time.perf_counter() - self._commit_started
            self._commit_started = None


class TimedMatcher:
    """The matcher as Pipeline uses it (`rules`, `match`, `match_many`), timing each call."""

    def __init__(self, matcher: Matcher, meter: StageMeter) -> None:
        self.rules = matcher.rules
        self._matcher = matcher
        self._meter = meter

    def match(self, article: Article) -> list[Match]:
        with self._meter.stage("match"):
            return self._matcher.match(article)

    def match_many(self, articles: Sequence[Article]) -> list[list[Match]]:
        with self._meter.stage("match"):
            return self._matcher.match_many(articles)

    def __getattr__(self, name: str) -> Any:  # anything else the pipeline may come to use
        return getattr(self._matcher, name)


class TimedStore:
    """The store as Pipeline uses it (`is_known`, `ingest`), timing each call."""

    def __init__(self, store: Store, meter: StageMeter) -> None:
        self._store = store
        self._meter = meter

    def is_known(self, keys: Sequence[str]) -> bool:
        with self._meter.stage("is_known"):
            return self._store.is_known(keys)

    def ingest(self, *args: Any, **kwargs: Any) -> IngestResult:
        with self._meter.stage("ingest"):
            return self._store.ingest(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:  # anything else the pipeline may come to use
        return getattr(self._store, name)
