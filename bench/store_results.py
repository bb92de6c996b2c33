"""The storage benchmark's measured values: replay passes, stage times, fill and lookups.

Plain frozen records shared by store_bench.py (measuring) and store_report.py (presenting).
"""

from __future__ import annotations

from dataclasses import dataclass

from bench.measure import Machine, Passes
from bench.meter import Readings, Totals
from bench.profiling import ProfileLine
from bench.sizes import Sizes


@dataclass(frozen=True)
class ReplayCounts:
    new: int
    duplicate: int
    stories: int
    stored_matches: int
    new_matches: int  # first of their rule in their story: a pending delivery each


@dataclass(frozen=True)
class ReplayRun:
    """One rule set: the engine alone and the full pipeline over the same articles, both in
    batches as `watcher replay` reads them."""

    label: str
    rules: int
    batch: int
    engine: Passes  # matcher.match_many (analysis + engine) per batch, warm
    engine_single: Passes  # matcher.match one article at a time, warm
    replay: Passes  # Pipeline.ingest_many per batch into a fresh SQLite file, one per pass
    stages: Readings  # of the fastest replay pass, by bench.meter
    counts: ReplayCounts
    open_seconds: float  # Store.open on a fresh file (creates the schema); not in `replay`

    @property
    def ratio(self) -> float:
        return self.replay.best / self.engine.best

    @property
    def total(self) -> float:
        """The fastest replay pass, whose stages are shown."""
        return self.replay.best


@dataclass(frozen=True)
class Fill:
    """The large store: what was bulk-inserted and how long it took."""

    articles: int
    keys: int
    bands: int
    seconds: float
    file_bytes: int


@dataclass(frozen=True)
class Lookup:
    """The two searches an ingest makes before writing, timed on one store.

    `is_known` is one Store.is_known call per article (its own read transaction, as the
    pipeline calls it); `candidates` one story_candidates call per article inside one open
    transaction, as store.ingest calls it. `*_sql` is SQLite's part of the fastest pass.
    """

    store_articles: int
    is_known: Passes
    candidates: Passes
    is_known_sql: float
    candidates_sql: float
    candidates_found: int

    @property
    def seconds(self) -> float:
        return self.is_known.best + self.candidates.best

    @property
    def sql_seconds(self) -> float:
        return self.is_known_sql + self.candidates_sql


@dataclass(frozen=True)
class StoreResults:
    machine: Machine
    articles: int
    replays: list[ReplayRun]
    profile_libraries: list[ProfileLine]  # own time grouped by library
    profile: list[ProfileLine]  # watcher's functions and SQLite's calls, by cumulative time
    profile_label: str
    profile_seconds: float  # the profiled pass, with the profiler's overhead
    fill: Fill
    empty: Lookup
    full: Lookup
    query_plan: list[str]
    identity_keys: Totals  # identity_keys over every article, measured apart
    signatures: Totals  # story_signature over every article, measured apart
    total_seconds: float
    sizes: Sizes
