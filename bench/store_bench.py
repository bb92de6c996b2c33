"""The storage benchmark: FA-KES replayed through the pipeline into SQLite against the engine
alone, and the pre-write searches on an empty store against a 100,000-article one.

Called by bench/run.py after the matching benchmark (or alone: `--only store`).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from bench.corpus import Corpus
from bench.measure import machine, progress
from bench.store_fill import fill_store
from bench.store_lookup import measure_lookups
from bench.store_replay import measure_replay, profile_replay
from bench.store_results import StoreResults
from watcher.engine.matcher import Matcher
from watcher.identity import identity_keys
from watcher.ingest.stories import story_signature
from watcher.rules.ast import Rule, RuleSet
from watcher.rules.load import load_rules
from watcher.store import Store
from watcher.text.analysis import Analyzer

SHIPPED_RULES = Path(__file__).resolve().parent.parent / "rules"
GENERATED_RULES = 1_000  # the first of the matching benchmark's generated rules


def measure_store(
    corpus: Corpus, analyzer: Analyzer, generated_rules: Sequence[Rule]
) -> StoreResults:
    """Every storage measurement, in temporary SQLite files removed afterwards."""
    started = time.perf_counter()
    info = machine()
    articles = corpus.articles
    shipped = Matcher(load_rules(SHIPPED_RULES), analyzer)
    generated = Matcher(RuleSet(tuple(generated_rules)), analyzer)
    with tempfile.TemporaryDirectory(prefix="watcher-bench-") as name:
        directory = Path(name)
        replays = [
            measure_replay(f"shipped rules/ ({len(shipped.rules.rules)})", shipped, articles,
                           directory),
            measure_replay(f"{len(generated_rules):,} generated", generated, articles,
                           directory),
        ]
        libraries, functions, profiled = profile_replay(
            shipped, articles, directory / "profiled.db"
        )
        signatures = [story_signature(a.title, a.body) for a in articles]
        empty_path, full_path = directory / "empty.db", directory / "full.db"
        fill = fill_store(full_path, articles, [s.values for s in signatures])
        progress(f"store of {fill.articles:,} articles filled in {fill.seconds:.1f} s")
        Store.open(f"sqlite:///{empty_path}").close()
        lookups, plans = measure_lookups(
            [(empty_path, 0), (full_path, fill.articles)],
            [identity_keys(a) for a in articles],
            [s.bands for s in signatures],
        )
    return StoreResults(
        machine=info,
        articles=len(articles),
        replays=replays,
        profile_libraries=libraries,
        profile=functions,
        profile_label=replays[0].label,
        profile_seconds=profiled,
        fill=fill,
        empty=lookups[0],
        full=lookups[1],
        query_plan=plans,
        total_seconds=time.perf_counter() - started,
    )
