"""Presenting the storage benchmark: its targets, the replay and its stages, the lookups on a
large store; a plain table for the terminal and the "## Store" section of RESULTS.md.
"""

from __future__ import annotations

from collections import Counter

from bench.report import Target, _markdown, _plain
from bench.store_fill import FILL_BATCH, FILL_CACHE_KIB, FILL_SOURCES
from bench.store_lookup import LOOKUP_PASSES
from bench.store_replay import ENGINE_PASSES, REPLAY_PASSES
from bench.store_results import Lookup, ReplayRun, StoreResults

STORE_HEADING = "## Store"
REPLAY_LIMIT = 1.3  # the issue: storage and dedupe add at most 30% to the engine's time
LOOKUP_LIMIT = 1.5  # the issue: searches on 100,000 articles within 1.5x of an empty store
MIB = 2**20
TARGET_COLUMNS = ("target", "measured", "goal", "verdict")
REPLAY_COLUMNS = (
    "rules", "engine alone s", "art./s", "replay s", "art./s", "replay / engine",
    "engine one by one s", "replay / that", "stored", "duplicates", "stories", "matches",
    "alerts queued",
)
LOOKUP_COLUMNS = (
    "store", "is_known µs/art.", "story search µs/art.", "both µs/art.", "SQLite part µs/art.",
    "candidates found",
)


def _at_most(value: float, limit: float) -> bool:
    return value <= limit


def store_targets(r: StoreResults) -> list[Target]:
    replays = [
        Target(f"replay end to end / engine alone, {run.label}", run.ratio, "x",
               REPLAY_LIMIT, _at_most, f"<= {REPLAY_LIMIT}x")
        for run in r.replays
    ]
    lookup = Target(
        f"is_known + story search per article, {r.full.store_articles:,} articles / empty",
        r.full.seconds / r.empty.seconds, "x", LOOKUP_LIMIT, _at_most, f"<= {LOOKUP_LIMIT}x",
    )
    return [*replays, lookup]


def target_rows(r: StoreResults) -> list[tuple[str, ...]]:
    return [(t.check, f"{t.measured:,.2f} {t.unit}", t.limit_text, t.verdict)
            for t in store_targets(r)]


def replay_rows(r: StoreResults) -> list[tuple[str, ...]]:
    def row(run: ReplayRun) -> tuple[str, ...]:
        c = run.counts
        return (
            run.label, f"{run.engine.best:.2f}", f"{r.articles / run.engine.best:,.0f}",
            f"{run.replay.best:.2f}", f"{r.articles / run.replay.best:,.0f}", f"{run.ratio:.1f}x",
            f"{run.engine_single.best:.2f}", f"{run.replay.best / run.engine_single.best:.1f}x",
            f"{c.new:,}", f"{c.duplicate:,}", f"{c.stories:,}", f"{c.stored_matches:,}",
            f"{c.new_matches:,}",
        )

    return [row(run) for run in r.replays]


def stage_rows(r: StoreResults) -> list[tuple[str, ...]]:
    """One row per stage; per rule set: seconds, ms per article, share of the pass."""
    calls = r.replays[0].stages.calls
    names = [
        (f"`identify` (guid, canonical URL, content hash; "
         f"{calls.get('identity_keys', 0):,} calls)", lambda s: s.identity_keys),
        (f"`store.is_known` (a read transaction each; {calls.get('is_known', 0):,} calls)",
         lambda s: s.is_known),
        ("  of which SQLite executing statements", lambda s: s.is_known_sql),
        ("  of which COMMIT", lambda s: s.is_known_commit),
        ("  of which SQLAlchemy and pooling (the rest)",
         lambda s: s.is_known - s.is_known_sql - s.is_known_commit),
        (f"`matcher.match_many` (analysis + engine; {calls.get('match', 0):,} batches)",
         lambda s: s.match),
        (f"`story_signature` (MinHash, 256 permutations; "
         f"{calls.get('story_signature', 0):,} calls)", lambda s: s.signature),
        (f"`store.ingest` (a write transaction each; {calls.get('ingest', 0):,} calls)",
         lambda s: s.ingest),
        ("  of which SQLite executing statements", lambda s: s.ingest_sql),
        ("  of which COMMIT (with WAL checkpoints)", lambda s: s.ingest_commit),
        ("  of which SQLAlchemy, pooling and `pick_story` (the rest)",
         lambda s: s.ingest - s.ingest_sql - s.ingest_commit),
        ("rest of `Pipeline.ingest_many` (checks, records, rule versions)", lambda s: s.rest),
        ("**whole replay pass**", lambda s: s.total),
    ]
    rows = []
    for label, pick in names:
        cells = [label]
        for run in r.replays:
            seconds = pick(run.stages)
            cells += [f"{seconds:.3f}", f"{seconds / r.articles * 1e3:.2f}",
                      f"{seconds / run.stages.total:.0%}"]
        rows.append(tuple(cells))
    alone = ["for reference: `matcher.match_many` alone (warm, best pass)"]
    for run in r.replays:
        alone += [f"{run.engine.best:.3f}", f"{run.engine.best / r.articles * 1e3:.2f}", ""]
    rows.append(tuple(alone))
    return rows


def lookup_rows(r: StoreResults) -> list[tuple[str, ...]]:
    def row(label: str, x: Lookup) -> tuple[str, ...]:
        per = 1e6 / r.articles
        return (
            label, f"{x.is_known.best * per:,.0f}", f"{x.candidates.best * per:,.0f}",
            f"{x.seconds * per:,.0f}", f"{x.sql_seconds * per:,.0f}", f"{x.candidates_found:,}",
        )

    return [row("empty", r.empty), row(f"{r.full.store_articles:,} articles", r.full)]


# -- terminal -----------------------------------------------------------------------------


def render_store_table(r: StoreResults) -> str:
    return "\n".join([
        f"Store: FA-KES replayed into SQLite ({r.articles} articles), best of "
        f"{REPLAY_PASSES} passes; lookups best of {LOOKUP_PASSES}",
        "",
        *_plain(REPLAY_COLUMNS, replay_rows(r)),
        "",
        *_plain(LOOKUP_COLUMNS, lookup_rows(r)),
        "",
        f"fill of {r.fill.articles:,} articles: {r.fill.seconds:.1f} s",
        "",
        *_plain(TARGET_COLUMNS, target_rows(r)),
    ])


# -- RESULTS.md ---------------------------------------------------------------------------


def render_store_markdown(r: StoreResults) -> str:
    lines = [
        STORE_HEADING,
        "",
        "Written by the storage part of `make bench` (alone: `python -m bench.run --only "
        "store`, which rewrites only this section).",
        "",
        *(f"- {line}" for line in r.machine.describe()),
        f"- storage part: {r.total_seconds:.0f} s",
        "",
        "### Store targets",
        "",
        *_markdown(TARGET_COLUMNS, target_rows(r)),
        "",
        *_target_notes(r),
        "",
        "### Replay of FA-KES into SQLite",
        "",
        f"Replay: `Pipeline.ingest_many` over the {r.articles} articles in batches of "
        f"{r.replays[0].batch}, as `watcher replay` calls it, best of {REPLAY_PASSES} passes, "
        "each into a new SQLite file. Engine alone: `matcher.match_many` over the same "
        "batches (the analysis + engine work the pipeline does), best of "
        f"{ENGINE_PASSES} warm passes, same "
        "rules, same process; `engine one by one` is `matcher.match(article)` per article "
        "(`Pipeline.ingest(article)` analyses one at a time: its replay costs about the "
        "difference more). `alerts queued` are the matches new in their story (one pending "
        "delivery each, one default channel).",
        "",
        *_markdown(REPLAY_COLUMNS, replay_rows(r)),
        "",
        *_overhead_notes(r),
        "",
        *_stages(r),
        "",
        *_profile(r),
        "",
        *_lookups(r),
        "",
        *_method(r),
    ]
    return "\n".join(lines) + "\n"


def _target_notes(r: StoreResults) -> list[str]:
    full, empty = r.full, r.empty
    per = 1e6 / r.articles
    return [
        "A lookup's cost is mostly fixed Python work in SQLAlchemy (building, caching and "
        "running the statement; a transaction per `is_known`), which does not grow with the "
        f"store: of {empty.seconds * per:,.0f} µs per article on the empty store, SQLite's "
        f"part is {empty.sql_seconds * per:,.0f} µs. That part does grow: "
        f"{full.sql_seconds * per:,.0f} µs on {full.store_articles:,} articles "
        f"({full.sql_seconds / empty.sql_seconds:.1f}x; story search alone "
        f"{full.candidates_sql / empty.candidates_sql:.1f}x, `is_known` "
        f"{full.is_known_sql / empty.is_known_sql:.1f}x). No target, but it is the part "
        "left once the Python overhead is cut.",
    ]


def _overhead_notes(r: StoreResults) -> list[str]:
    """What the ratio depends on: a fixed cost per article added to the engine's own."""
    added = [(run, run.replay.best - run.engine.best) for run in r.replays]
    parts = "; ".join(
        f"{run.label}: {extra:.1f} s ({extra / r.articles * 1e3:.1f} ms per article), so the "
        f"ratio would reach {REPLAY_LIMIT}x only with an engine taking "
        f"{extra / (REPLAY_LIMIT - 1):.0f} s per pass "
        f"({extra / (REPLAY_LIMIT - 1) / r.articles * 1e3:.0f} ms per article)"
        for run, extra in added
    )
    return [
        "Storage and dedupe add about the same time per pass whatever the rules (replay "
        f"minus engine alone): {parts}. The ratio is the engine's own cost set against that "
        "fixed cost; here the engine alone (batched) costs "
        + " and ".join(f"{run.engine.best:.2f} s ({run.label})" for run in r.replays)
        + ", mostly the analysis both share.",
    ]


def _stages(r: StoreResults) -> list[str]:
    header = ["stage"]
    for run in r.replays:
        header += [f"{run.label}: s", "ms/art.", "share"]
    statements = ", ".join(
        f"{run.label}: {run.stages.statements / run.counts.new:.1f}" for run in r.replays
    )
    return [
        "### Where a replay's time goes",
        "",
        "The fastest replay pass of each rule set, timed from outside: the pipeline gets "
        "stand-ins for its matcher and store that time each call, `identify` and "
        "`story_signature` are wrapped where `watcher.ingest.pipeline` calls them, and SQLAlchemy "
        "events time SQLite's part of every store call (`cursor.execute`, and COMMIT up to "
        "the connection's return to the pool). ms/art. divides by all "
        f"{r.articles} articles (duplicates stop after `is_known`). SQL statements per "
        f"stored article, BEGIN included: {statements}.",
        "",
        *_markdown(header, stage_rows(r)),
        *_repeated_keys_note(r),
        *_in_pipeline_note(r),
    ]


def _repeated_keys_note(r: StoreResults) -> list[str]:
    run = r.replays[0]
    calls = run.stages.calls.get("identity_keys", 0)
    if calls <= r.articles:
        return []
    twice = calls == r.articles + run.stages.calls.get("ingest", 0)
    why = " (once to look each article up, again for each one sent to the store)" if twice else ""
    return [
        "",
        f"`identify` runs {calls:,} times for {r.articles} articles{why}; it hashes "
        "the whole normalised text each time.",
    ]


def _in_pipeline_note(r: StoreResults) -> list[str]:
    ratios = [run.stages.match / run.engine.best for run in r.replays]
    shown = ", ".join(f"{x:.2f}x for {run.label}" for run, x in zip(r.replays, ratios, strict=True))
    why = (
        ": between two batches the store's work evicts the analyser's tables from the CPU "
        "caches" if min(ratios) > 1.25 else ""
    )
    return ["", f"`match_many` inside the pipeline / alone: {shown}{why}."]


def _profile(r: StoreResults) -> list[str]:
    libraries = [
        (p.function, f"{p.calls:,}", f"{p.own_seconds:.2f}", f"{p.share:.0%}")
        for p in r.profile_libraries
    ]
    functions = [
        (f"`{p.function}`", f"{p.calls:,}", f"{p.cumulative_seconds:.2f}", f"{p.share:.0%}")
        for p in r.profile
    ]
    return [
        "### Where a replay's time goes, by library (cProfile)",
        "",
        f"One replay pass with {r.profile_label} under cProfile ({r.profile_seconds:.1f} s "
        "profiled; profiling inflates Python-heavy code most). Own time grouped by where "
        "the function lives:",
        "",
        *_markdown(("library", "calls", "own s", "share"), libraries),
        "",
        "watcher's functions (and SQLite's C calls) by cumulative time, share of the "
        "profiled pass:",
        "",
        *_markdown(("function", "calls", "cumulative s", "share"), functions),
    ]


def _lookups(r: StoreResults) -> list[str]:
    f = r.fill
    return [
        "### Lookups on a large store",
        "",
        f"The searches `store.ingest` makes before writing, for the {r.articles} FA-KES "
        "articles' keys and bands (none stored in either store), best of "
        f"{LOOKUP_PASSES} passes after a warm-up, passes alternating between the two stores. "
        "`is_known`: one `Store.is_known(keys)` call per article (its own read transaction, "
        "as the pipeline calls it). Story search: one `story_candidates(connection, bands)` "
        "call per article inside one open transaction, as `store.ingest` calls it. The "
        "SQLite part is `cursor.execute` time in the fastest passes.",
        "",
        *_markdown(LOOKUP_COLUMNS, lookup_rows(r)),
        "",
        f"Fill: {f.articles:,} articles, {f.keys:,} identity keys and {f.bands:,} band rows "
        f"in {f.seconds:.1f} s ({f.articles / f.seconds:,.0f} articles/s); the file is "
        f"{f.file_bytes / MIB:,.0f} MiB.",
        "",
        "SQLite's plan on the large store (`EXPLAIN QUERY PLAN` of the last statements):",
        "",
        *(f"    {line}" for line in _collapse(r.query_plan)),
    ]


def _collapse(plan: list[str]) -> list[str]:
    """Plan lines in order, each once with its count (the OR's 32 band searches are alike);
    the OR's `INDEX n` branch markers left out."""
    counts = Counter(plan)
    shown: list[str] = []
    for line in plan:
        if not line.split(": ", 1)[-1].startswith("INDEX ") and line not in shown:
            shown.append(line)
    return [f"{line}  (x{counts[line]})" if counts[line] > 1 else line for line in shown]


def _method(r: StoreResults) -> list[str]:
    return [
        "### Method (store)",
        "",
        "- Replay: each pass creates a new SQLite file with `Store.open` (the schema by the "
        f"Alembic migrations; {r.replays[0].open_seconds:.2f} s, not counted), then calls "
        "`Pipeline.ingest_many` batch by batch, timed with `time.perf_counter` after "
        "`gc.collect()`. SQLite as configured by `watcher/store/db.py` (WAL, "
        "`synchronous=NORMAL`, `BEGIN IMMEDIATE` for writes), the real clock, one default "
        "channel. The generated rules are the first 1,000 of the matching benchmark's "
        "(`bench/rulegen.py`, same seed).",
        "- Large store: the schema by `Store.open`, then SQLAlchemy Core bulk INSERTs into "
        f"the real tables, {FILL_BATCH:,} articles per write transaction, through a "
        f"separate engine with a {FILL_CACHE_KIB // 1024} MiB page cache (the measured "
        "connections keep SQLite's default 2 MiB). Each transaction inserts, in this order, "
        "one story per article (executemany), the articles (executemany; title, body and "
        "1 KiB signature of a FA-KES article, cycled, so rows have their real size; one of "
        f"{FILL_SOURCES} sources), three identity keys per article as a feed article has "
        "(`guid:`, `url:`, `hash:` with a hash distinct per row; INSERT ... SELECT from the "
        "articles) and 32 band rows per article (INSERT ... SELECT), all in article order. "
        "No analysis or matching: nothing but rows, with every index in place as the "
        "migrations create them.",
        "- Band hashes in the large store are uniform random signed 64-bit values "
        "(SQLite's `random()`), not perturbed FA-KES signatures: each band hash is a "
        "blake2b digest, so the bands of articles unrelated to the one looked up are "
        "independent uniform values, exactly this distribution; and the looked-up "
        "articles then find the same candidates (none) in both stores, so the comparison "
        "measures store size, not how many copies of a story were planted. Copies of a "
        "story would add candidates (1 KiB signature each) in any store; unrelated pages "
        "sharing heavy boilerplate (estimated Jaccard up to 0.33, per `ingest/stories.py`) share "
        "a band with probability 1 - (1 - 0.33^3)^32 = 0.69, so on a real store the "
        "candidate lists of such a site grow with the number of its stored pages: that "
        "cost is not measured here.",
        "- Machine noise: the machine is shared; ratios are from one process and passes "
        "close in time, lookups alternate between the stores pass by pass.",
    ]
