"""How much each part of the benchmark measures: the full run (`make bench`, the sizes
RESULTS.md reports) and `--quick`, small sizes that run every part end to end in seconds
(for the test that keeps the benchmark working; its numbers mean nothing)."""

from __future__ import annotations

from dataclasses import dataclass

from bench.measure import FULL_REPEATS, ONCE, Repeats


@dataclass(frozen=True)
class Sizes:
    corpus_articles: int | None  # FA-KES articles used; None: all 804
    rule_counts: tuple[int, ...]  # generated rule sets of the matching part
    regex_counts: tuple[int, ...]  # regex baseline sizes always measured
    regex_optional: tuple[int, ...]  # measured only if projected under BUDGET_SECONDS
    regex_target_rules: int  # the speed-up over regexes is judged at this many rules
    store_rules: int  # the first generated rules, replayed into the store
    engine_passes: int  # engine-alone passes beside each replay (best of)
    replay_passes: int  # replay passes per rule set (best of)
    fill_articles: int  # articles in the large store of the lookups
    fill_batch: int  # articles per write transaction while filling it
    lookup_passes: int  # timed lookup passes per store, after a warm-up pass
    feeds: int  # local feeds of the feeds part
    items: int  # items per feed
    rate_deliveries: int  # queued alerts sent per delivery-rate run
    worker_feeds: int  # local feeds of the workers part
    worker_items: int
    worker_counts: tuple[int, ...]  # `watcher run` workers on PostgreSQL
    worker_on_sqlite: bool  # one worker on SQLite too, beside them
    worker_passes: int  # passes over every workers run, alternating (best of)
    worker_baseline: str | None  # this revision's code too (None: not run)
    repeats: Repeats  # passes per timing (best of)
    freeze: bool  # gc.freeze() once loaded: a timed pass's collection skips spaCy's objects
    gazetteer_runs: int = 5  # fresh processes that load the gazetteer (median)
    gazetteer_against_passes: int = 10  # passes per tree against the baseline (best of)
    web_articles: int = 100_000  # stored articles under the workspace's inbox
    web_requests: int = 40  # timed requests per inbox request measured
    startup_runs: int = 10  # fresh `watcher` processes per command of the start-up part
    retention_articles: int = 20_000  # articles filled, the older half pruned per batch size
    retention_passes: int = 3  # prunes per batch size (best of)
    polling_feeds: int = 2_000  # loopback feeds of the polling part
    polling_items: int = 25  # items per feed
    polling_concurrency: tuple[int, ...] = (8, 32, 64)  # fetch.concurrency; 8 the baseline
    polling_latency_ms: int = 100  # the server's delay before each answer, in the later passes
    polling_parse_concurrency: int = 32  # where parsing in threads and processes are compared
    polling_parse_workers: int = 1  # parse processes (the machine's other core)
    polling_rounds: int = 2  # turns of threads / processes
    lucene: bool = True  # run the Lucene harness (a JVM) beside watcher in the lucene part
    worker_baseline_counts: tuple[int, ...] = (1, 4)  # workers of the baseline's code


FULL = Sizes(
    corpus_articles=None,
    rule_counts=(10, 100, 1_000, 10_000),
    regex_counts=(10, 100, 1_000),
    regex_optional=(10_000,),
    regex_target_rules=1_000,  # design.md's performance model
    store_rules=1_000,
    engine_passes=5,  # about 0.5 s each: the ratio's denominator, so the best of more
    replay_passes=2,  # each about 10 s here; the verdicts are far from the line either way
    fill_articles=100_000,
    fill_batch=25_000,
    lookup_passes=3,
    feeds=500,
    items=50,
    rate_deliveries=300,  # SMTP at one send at a time is the slow one
    worker_feeds=100,
    worker_items=50,
    worker_counts=(1, 2, 4),
    worker_on_sqlite=True,
    worker_passes=3,
    worker_baseline="29fbb36",  # every poll analyses what it does not find stored
    repeats=FULL_REPEATS,
    freeze=False,  # as in production: every collection walks every object
)

QUICK = Sizes(
    corpus_articles=48,
    rule_counts=(10, 40),
    regex_counts=(10, 40),
    regex_optional=(),
    regex_target_rules=40,
    store_rules=20,
    engine_passes=1,
    replay_passes=1,
    fill_articles=400,
    fill_batch=200,
    lookup_passes=1,
    feeds=6,
    items=8,
    rate_deliveries=4,
    worker_feeds=4,
    worker_items=6,
    worker_counts=(1,),
    worker_on_sqlite=False,  # each `watcher run` takes seconds to start
    worker_passes=1,
    worker_baseline=None,  # a shallow clone may not hold it
    repeats=ONCE,
    freeze=True,  # each timed pass starts with gc.collect(): 0.1 s each with spaCy loaded
    gazetteer_runs=1,
    gazetteer_against_passes=1,
    web_articles=1_500,
    web_requests=2,
    startup_runs=1,
    retention_articles=400,
    retention_passes=1,
    polling_feeds=12,
    polling_items=5,
    polling_concurrency=(8, 16),
    polling_latency_ms=5,
    polling_parse_concurrency=16,
    polling_rounds=1,
    lucene=False,  # `make test` runs --quick and must not need a JDK
)
