"""The searches an ingest makes before writing (identity keys, story candidates), timed with
the real Store methods on an empty store and on a large one, in alternating passes.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from bench.measure import Passes, progress, timed
from bench.meter import Meter
from bench.store_results import Lookup
from watcher.store import Store
from watcher.store.db import open_engine, read_transaction
from watcher.store.ingest import story_candidates


class _Probe:
    """One store, searched for the same keys and bands pass after pass."""

    def __init__(self, path: Path, store_articles: int) -> None:
        self.engine = open_engine(f"sqlite:///{path}")
        self.meter = Meter()
        self.meter.watch(self.engine)
        self.store = Store(self.engine)
        self.store_articles = store_articles
        self.known: list[tuple[float, float]] = []  # (seconds, SQLite seconds) per pass
        self.candidates: list[tuple[float, float]] = []
        self.found = 0

    def one_pass(self, keys: Sequence[tuple[str, ...]], bands: Sequence[tuple[int, ...]]) -> None:
        self.meter.reset()
        with self.meter.stage("is_known"):
            seconds, hits = timed(lambda: sum(self.store.is_known(k) for k in keys))
        if hits:
            raise RuntimeError(f"{hits} looked-up articles are already in the store")
        self.known.append((seconds, self.meter.readings()["is_known"].sql))
        with self.meter.stage("candidates"):
            seconds, self.found = timed(lambda: self._search(bands))
        self.candidates.append((seconds, self.meter.readings()["candidates"].sql))

    def _search(self, bands: Sequence[tuple[int, ...]]) -> int:
        """As store.ingest searches: inside a transaction that is already open."""
        with read_transaction(self.engine) as connection:
            return sum(len(story_candidates(connection, b)) for b in bands)

    def result(self) -> Lookup:
        known, candidates = self.known[1:], self.candidates[1:]  # the first pass warms up
        return Lookup(
            store_articles=self.store_articles,
            is_known=Passes(tuple(s for s, _ in known)),
            candidates=Passes(tuple(s for s, _ in candidates)),
            is_known_sql=min(known)[1],
            candidates_sql=min(candidates)[1],
            candidates_found=self.found,
        )

    def query_plans(self) -> list[str]:
        """SQLite's plan for the last is_known and story-candidate statements."""
        lines = []
        with self.engine.connect() as connection:
            for stage in ("is_known", "candidates"):
                statement, parameters = self.meter.last_statement[stage]
                plan = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
                lines += [f"{stage}: {row[-1]}" for row in plan]
        return lines

    def close(self) -> None:
        self.store.close()


def measure_lookups(
    stores: Sequence[tuple[Path, int]],
    keys: Sequence[tuple[str, ...]],
    bands: Sequence[tuple[int, ...]],
    passes: int,
) -> tuple[list[Lookup], list[str]]:
    """Lookups per store, passes alternating between stores so machine noise hits each
    alike; and the query plans on the last (largest) store."""
    probes = [_Probe(path, size) for path, size in stores]
    try:
        for number in range(passes + 1):
            for probe in probes:
                probe.one_pass(keys, bands)
                seconds = probe.known[-1][0] + probe.candidates[-1][0]
                label = "warm-up" if number == 0 else f"pass {number}"
                progress(f"  lookups, {probe.store_articles:,}-article store, {label}: "
                         f"{seconds:.2f} s")
        return [probe.result() for probe in probes], probes[-1].query_plans()
    finally:
        for probe in probes:
            probe.close()
