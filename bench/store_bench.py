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
from bench.meter import Meter, Totals, apart
from bench.paths import SHIPPED_RULES
from bench.rulegen import build_vocabulary, generate_rules, parse_rules
from bench.sizes import Sizes
from bench.store_fill import fill_store
from bench.store_lookup import measure_lookups
from bench.store_replay import measure_replay, profile_replay
from bench.store_results import StoreResults
from watcher.engine.matcher import Matcher
from watcher.identity import identity_keys
from watcher.ingest.stories import StorySignature, story_signature
from watcher.model import Article
from watcher.rules.ast import RuleSet
from watcher.rules.load import load_rules
from watcher.store import Store
from watcher.text.analysis import Analyzer


def measure_store(corpus: Corpus, analyzer: Analyzer, sizes: Sizes, scratch: Path) -> StoreResults:
    """Every storage measurement, in SQLite files under `scratch`, removed afterwards. The
    generated rules are the first of the matching part's (same generator, same seed)."""
    started = time.perf_counter()
    info = machine()
    vocabulary = build_vocabulary(corpus.field_texts(), corpus.locations)
    generated_rules = parse_rules(generate_rules(vocabulary, sizes.store_rules))
    articles = corpus.articles
    shipped = Matcher(load_rules(SHIPPED_RULES), analyzer)
    generated = Matcher(RuleSet(tuple(generated_rules)), analyzer)
    with tempfile.TemporaryDirectory(prefix="store-", dir=scratch) as name:
        directory = Path(name)
        replays = [
            measure_replay(f"shipped rules/ ({len(shipped.rules.rules)})", shipped, articles,
                           directory, sizes),
            measure_replay(f"{len(generated_rules):,} generated", generated, articles,
                           directory, sizes),
        ]
        libraries, functions, profiled = profile_replay(
            shipped, articles, directory / "profiled.db"
        )
        keys, signatures_apart, signatures = measure_dedupe_apart(articles, sizes)
        empty_path, full_path = directory / "empty.db", directory / "full.db"
        fill = fill_store(full_path, articles, [s.values for s in signatures],
                          sizes.fill_articles, sizes.fill_batch)
        progress(f"store of {fill.articles:,} articles filled in {fill.seconds:.1f} s")
        Store.open(f"sqlite:///{empty_path}").close()
        lookups, plans = measure_lookups(
            [(empty_path, 0), (full_path, fill.articles)],
            [identity_keys(a) for a in articles],
            [s.bands for s in signatures],
            sizes.lookup_passes,
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
        identity_keys=keys,
        signatures=signatures_apart,
        total_seconds=time.perf_counter() - started,
        sizes=sizes,
    )


def measure_dedupe_apart(
    articles: Sequence[Article], sizes: Sizes
) -> tuple[Totals, Totals, list[StorySignature]]:
    """The pipeline's dedupe functions, which it calls by module name (so the meter cannot
    wrap them), timed on their own over the same articles, best of several passes."""
    progress("identity_keys and story_signature over the corpus, apart")
    meter = Meter()
    keys = apart(meter, "identity_keys", identity_keys, articles, sizes.repeats)
    signatures = apart(meter, "story_signature", lambda a: story_signature(a.title, a.body),
                       articles, sizes.repeats)
    return keys, signatures, [story_signature(a.title, a.body) for a in articles]
