"""Replaying FA-KES through the pipeline into fresh SQLite files, against the engine alone;
where a replay's time goes, by stage (bench.meter: the pipeline's matcher and store metered)
and by library (cProfile).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.measure import Passes, best_of, progress, timed
from bench.meter import Meter, Readings
from bench.profiling import ProfileLine, Stats, function_name, own_total, profiled
from bench.sizes import Sizes
from bench.store_results import ReplayCounts, ReplayRun
from watcher.engine.matcher import Matcher
from watcher.ingest.pipeline import Outcome, Pipeline
from watcher.model import Article, Match, Severity
from watcher.store import Store
from watcher.store.db import open_engine

BATCH = 32  # articles per ingest_many call, as `watcher replay` reads them (cli/common.py BATCH)
PROFILE_TOP = 14
ALERT_CHANNEL = "ops"


@dataclass(frozen=True)
class _Channel:
    """One default channel taking every severity, so every new match queues a delivery."""

    default: bool = True
    min_severity: Severity = Severity.INFO
    digest: int | str | None = None


@dataclass(frozen=True)
class _Pass:
    seconds: float
    stages: Readings
    counts: ReplayCounts
    open_seconds: float


def measure_replay(
    label: str, matcher: Matcher, articles: Sequence[Article], directory: Path, sizes: Sizes
) -> ReplayRun:
    count = len(matcher.rules.rules)
    progress(f"store replay, {label}: engine alone (first + {sizes.engine_passes} warm "
             "passes, batched and one by one)")
    match_batches(matcher, articles)  # first pass with these rules: learns word types
    engine = best_of(lambda: match_batches(matcher, articles), sizes.engine_passes)
    engine_single = best_of(lambda: [matcher.match(a) for a in articles], sizes.engine_passes)
    passes = []
    for number in range(sizes.replay_passes):
        done = _replay_once(matcher, articles, directory / f"replay-{count}-{number}.db")
        progress(f"  replay pass {number + 1}: {done.seconds:.2f} s "
                 f"(engine alone {engine.best:.2f} s)")
        passes.append(done)
    fastest = min(passes, key=lambda p: p.seconds)
    return ReplayRun(
        label=label,
        rules=count,
        batch=BATCH,
        engine=engine,
        engine_single=engine_single,
        replay=Passes(tuple(p.seconds for p in passes)),
        stages=fastest.stages,
        counts=fastest.counts,
        open_seconds=min(p.open_seconds for p in passes),
    )


def batches(articles: Sequence[Article]) -> list[Sequence[Article]]:
    """The corpus in the batches `watcher replay` reads."""
    return [articles[start:start + BATCH] for start in range(0, len(articles), BATCH)]


def match_batches(matcher: Matcher, articles: Sequence[Article]) -> list[list[Match]]:
    """The engine alone, as the pipeline calls it: analysis + engine per batch."""
    return [found for batch in batches(articles) for found in matcher.match_many(batch)]


def replay_batches(pipeline: Pipeline, articles: Sequence[Article]) -> list[Outcome]:
    """What `watcher replay` does with the articles, minus reading and printing."""
    return [outcome for batch in batches(articles) for outcome in pipeline.ingest_many(batch)]


def new_pipeline(matcher: Matcher, store: Store) -> Pipeline:
    return Pipeline(
        matcher=matcher, store=store, channels={ALERT_CHANNEL: _Channel()},
        now=lambda: datetime.now(UTC),
    )


def _replay_once(matcher: Matcher, articles: Sequence[Article], path: Path) -> _Pass:
    """One pass into a new file; the schema is created (and timed) before the pass."""
    url = f"sqlite:///{path}"
    open_seconds, created = timed(lambda: Store.open(url))
    created.close()
    meter = Meter()
    engine = open_engine(url)
    meter.watch(engine)
    with Store(engine) as store:
        pipeline = new_pipeline(meter.wrap(matcher, "matcher"), meter.wrap(store, "store"))
        seconds, outcomes = timed(lambda: replay_batches(pipeline, articles))
        stages = meter.readings()
        counts = _counts(outcomes, stored_matches=len(store.matches()))
    return _Pass(seconds, stages, counts, open_seconds)


def _counts(outcomes: list[Outcome], stored_matches: int) -> ReplayCounts:
    new = [o for o in outcomes if o.status == "new"]
    return ReplayCounts(
        new=len(new),
        duplicate=sum(1 for o in outcomes if o.status == "duplicate"),
        stories=len({o.story for o in new}),
        stored_matches=stored_matches,
        new_matches=sum(len(o.new_matches) for o in new),
    )


# -- cProfile -----------------------------------------------------------------------------

_LIBRARIES = (
    ("/sqlalchemy/", "SQLAlchemy"),
    ("sqlite3", "sqlite3 (SQLite itself)"),
    ("/datasketch/", "datasketch"),
    ("/numpy/", "NumPy"),
    ("numpy", "NumPy"),
    ("/spacy/", "spaCy"),
    ("spacy", "spaCy"),
    ("/courlan/", "courlan"),
    ("/watcher/", "watcher"),
)


def profile_replay(
    matcher: Matcher, articles: Sequence[Article], path: Path
) -> tuple[list[ProfileLine], list[ProfileLine], float]:
    """One replay pass under cProfile: own time by library, and watcher's functions (and
    SQLite's calls) by cumulative time. Returns (libraries, functions, profiled seconds)."""
    progress("store replay under cProfile (shipped rules)")
    with Store.open(f"sqlite:///{path}") as store:
        pipeline = new_pipeline(matcher, store)
        seconds, stats = profiled(lambda: replay_batches(pipeline, articles))
    total = own_total(stats)
    return _by_library(stats, total), _our_functions(stats, total), seconds


def _library(key: tuple[str, int, str]) -> str:
    path, _, name = key
    where = name if path == "~" else path
    return next((label for marker, label in _LIBRARIES if marker in where),
                "Python (stdlib, builtins)")


def _by_library(stats: Stats, total: float) -> list[ProfileLine]:
    own: dict[str, float] = {}
    calls: dict[str, int] = {}
    for key, (_, count, seconds, _, _) in stats.items():
        library = _library(key)
        own[library] = own.get(library, 0.0) + seconds
        calls[library] = calls.get(library, 0) + count
    ranked = sorted(own, key=own.__getitem__, reverse=True)
    return [ProfileLine(name, calls[name], own[name], own[name], own[name] / total)
            for name in ranked]


def _our_functions(stats: Stats, total: float) -> list[ProfileLine]:
    rows = [
        (key, value) for key, value in stats.items()
        if "/watcher/" in key[0] or "sqlite3" in key[2]
    ]
    rows.sort(key=lambda item: item[1][3], reverse=True)
    return [
        ProfileLine(function_name(key), calls, own, cumulative, cumulative / total)
        for key, (_, calls, own, cumulative, _) in rows[:PROFILE_TOP]
    ]
