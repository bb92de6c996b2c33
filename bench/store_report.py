"""Presenting the storage benchmark: its targets, the replay and its stages, the lookups on a
large store; a plain table for the terminal and the "## Store" section of RESULTS.md.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from bench.meter import Readings, Totals
from bench.sections import head
from bench.store_fill import FILL_CACHE_KIB, FILL_SOURCES
from bench.store_results import ReplayRun, StoreResults
from bench.tables import Column, markdown, plain
from bench.targets import TARGET_COLUMNS, Target

STORE_HEADING = "## Store"
REPLAY_LIMIT = 1.3  # the issue: storage and dedupe add at most 30% to the engine's time
LOOKUP_LIMIT = 1.5  # the issue: searches on 100,000 articles within 1.5x of an empty store
MIB = 2**20
# What each metered call of the replay does; a stage missing here shows by its name alone.
STAGE_NOTES = {
    "store.known_keys": "a read transaction per batch",
    "matcher.match_many": "analysis + engine",
    "store.ingest": "a write transaction each",
}
STAGE_ORDER = ("store.known_keys", "matcher.match_many", "store.ingest")


def replay_columns(articles: int) -> tuple[Column, ...]:
    return (
        Column("rules", "label"),
        Column("engine alone s", lambda run: run.engine.best, ".2f"),
        Column("art./s", lambda run: articles / run.engine.best, ",.0f"),
        Column("replay s", lambda run: run.replay.best, ".2f"),
        Column("art./s", lambda run: articles / run.replay.best, ",.0f"),
        Column("replay / engine", lambda run: f"{run.ratio:.1f}x"),
        Column("engine one by one s", lambda run: run.engine_single.best, ".2f"),
        Column("replay / that", lambda run: f"{run.replay.best / run.engine_single.best:.1f}x"),
        Column("stored", lambda run: run.counts.new, ","),
        Column("duplicates", lambda run: run.counts.duplicate, ","),
        Column("stories", lambda run: run.counts.stories, ","),
        Column("matches", lambda run: run.counts.stored_matches, ","),
        Column("alerts queued", lambda run: run.counts.new_matches, ","),
    )


def lookup_columns(articles: int) -> tuple[Column, ...]:
    per = 1e6 / articles
    return (
        Column("store", lambda x: f"{x.store_articles:,} articles" if x.store_articles
               else "empty"),
        Column("is_known µs/art.", lambda x: x.is_known.best * per, ",.0f"),
        Column("story search µs/art.", lambda x: x.candidates.best * per, ",.0f"),
        Column("both µs/art.", lambda x: x.seconds * per, ",.0f"),
        Column("SQLite part µs/art.", lambda x: x.sql_seconds * per, ",.0f"),
        Column("candidates found", "candidates_found", ","),
    )


LIBRARY_COLUMNS = (
    Column("library", "function"),
    Column("calls", "calls", ","),
    Column("own s", "own_seconds", ".2f"),
    Column("share", "share", ".0%"),
)
FUNCTION_COLUMNS = (
    Column("function", lambda p: f"`{p.function}`"),
    Column("calls", "calls", ","),
    Column("cumulative s", "cumulative_seconds", ".2f"),
    Column("share", "share", ".0%"),
)


def store_targets(r: StoreResults) -> list[Target]:
    replays = [
        Target(f"replay end to end / engine alone, {run.label}", run.ratio, "x", "<=",
               REPLAY_LIMIT)
        for run in r.replays
    ]
    lookup = Target(
        f"is_known + story search per article, {r.full.store_articles:,} articles / empty",
        r.full.seconds / r.empty.seconds, "x", "<=", LOOKUP_LIMIT,
    )
    return [*replays, lookup]


@dataclass(frozen=True)
class StageRow:
    """A row of the stage table: its label, and its seconds in a replay run."""

    label: str
    seconds: Callable[[ReplayRun], float]
    shared: bool = True  # a part of the pass: its share is shown


def stage_rows(r: StoreResults) -> list[StageRow]:
    """Every metered stage (with SQLite's part of a store call below it), the rest of the
    pipeline and what the dedupe functions in it cost measured apart, the whole pass."""
    rows: list[StageRow] = []
    for stage in _stage_names(r):
        calls = r.replays[0].stages[stage].calls
        note = f"{STAGE_NOTES[stage]}; " if stage in STAGE_NOTES else ""
        label = f"`{stage}` ({note}{calls:,} calls)"
        rows.append(StageRow(label, lambda run, s=stage: run.stages[s].wall))
        if stage.startswith("store."):
            rows += _sql_rows(stage)
    rows += [
        StageRow("rest of `Pipeline.ingest_many` (checks, identity keys, story signatures, "
                 "records, rule versions)", _rest),
        StageRow(f"  of which `identity_keys`, measured apart ({_calls(r, _key_calls)} calls)",
                 lambda run: r.identity_keys.per_call(_key_calls(run)).wall),
        StageRow("  of which `story_signature` (MinHash, 256 permutations), measured apart "
                 f"({_calls(r, _signature_calls)} calls)",
                 lambda run: r.signatures.per_call(_signature_calls(run)).wall),
        StageRow("**whole replay pass**", lambda run: run.total),
        StageRow("for reference: `matcher.match_many` alone (warm, best pass)",
                 lambda run: run.engine.best, shared=False),
    ]
    return rows


def _stage_names(r: StoreResults) -> list[str]:
    seen = {name for run in r.replays for name in run.stages.names() if "." in name}
    return [s for s in STAGE_ORDER if s in seen] + sorted(seen - set(STAGE_ORDER))


def _sql_rows(stage: str) -> list[StageRow]:
    def part(run: ReplayRun) -> Totals:
        return run.stages[stage]

    return [
        StageRow("  of which SQLite executing statements", lambda run: part(run).sql),
        StageRow("  of which COMMIT (with WAL checkpoints)", lambda run: part(run).commit),
        StageRow("  of which SQLAlchemy, pooling and the store's own Python (the rest)",
                 lambda run: part(run).wall - part(run).sql - part(run).commit),
    ]


def _rest(run: ReplayRun) -> float:
    """Pipeline time outside the metered calls."""
    return run.total - sum(run.stages[name].wall for name in run.stages.names()
                           if "." in name)


def _key_calls(run: ReplayRun) -> int:
    """identity_keys runs once per article checked: every one not refused."""
    return run.counts.new + run.counts.duplicate


def _signature_calls(run: ReplayRun) -> int:
    """story_signature runs once per article sent to the store: a `Store.ingest` call, or an
    item of a `Store.ingest_batch` call (its items, as the meter counts them)."""
    return run.stages["store.ingest"].calls + run.stages["store.ingest_batch"].items


def _calls(r: StoreResults, count: Callable[[ReplayRun], int]) -> str:
    return " / ".join(f"{count(run):,}" for run in r.replays)


def stage_columns(r: StoreResults) -> list[Column]:
    columns = [Column("stage", "label")]
    for run in r.replays:
        columns += [
            Column(f"{run.label}: s", lambda row, run=run: row.seconds(run), ".3f"),
            Column("ms/art.", lambda row, run=run: row.seconds(run) / r.articles * 1e3, ".2f"),
            Column("share", lambda row, run=run: row.seconds(run) / run.total if row.shared
                   else None, ".0%"),
        ]
    return columns


# -- terminal -----------------------------------------------------------------------------


def render_store_table(r: StoreResults) -> str:
    return "\n".join([
        f"Store: FA-KES replayed into SQLite ({r.articles} articles), best of "
        f"{r.sizes.replay_passes} passes; lookups best of {r.sizes.lookup_passes}",
        "",
        *plain(replay_columns(r.articles), r.replays),
        "",
        *plain(lookup_columns(r.articles), [r.empty, r.full]),
        "",
        f"fill of {r.fill.articles:,} articles: {r.fill.seconds:.1f} s",
        "",
        *plain(TARGET_COLUMNS, store_targets(r)),
    ])


# -- RESULTS.md ---------------------------------------------------------------------------


def render_store_markdown(r: StoreResults) -> str:
    lines = [
        *head(STORE_HEADING, "storage", "store", r.machine,
              f"storage part: {r.total_seconds:.0f} s"),
        "### Store targets",
        "",
        *markdown(TARGET_COLUMNS, store_targets(r)),
        "",
        *_target_notes(r),
        "",
        "### Replay of FA-KES into SQLite",
        "",
        f"Replay: `Pipeline.ingest_many` over the {r.articles} articles in batches of "
        f"{r.replays[0].batch}, as `watcher replay` calls it, best of {r.sizes.replay_passes} "
        "passes, "
        "each into a new SQLite file. Engine alone: `matcher.match_many` over the same "
        "batches (the analysis + engine work the pipeline does), best of "
        f"{r.sizes.engine_passes} warm passes, same "
        "rules, same process; `engine one by one` is `matcher.match(article)` per article "
        "(`Pipeline.ingest(article)` analyses one at a time: its replay costs about the "
        "difference more). `alerts queued` are the matches new in their story (one pending "
        "delivery each, one default channel).",
        "",
        *markdown(replay_columns(r.articles), r.replays),
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
    statements = ", ".join(
        f"{run.label}: {_statements(run.stages) / max(run.counts.new, 1):.1f}"
        for run in r.replays
    )
    return [
        "### Where a replay's time goes",
        "",
        "The fastest replay pass of each rule set, timed from outside (`bench/meter.py`): "
        "the pipeline is given its matcher and store wrapped so that each call is timed, "
        "and SQLAlchemy events time SQLite's part of every store call (`cursor.execute`, "
        "and COMMIT up to the connection's return to the pool). `identity_keys` and "
        "`story_signature` are module functions the pipeline calls, so nothing wraps them: "
        "they are in the rest of the pipeline's time, and their cost is measured apart in "
        "the same process, over the same articles (best of several passes, per call), times "
        "the calls the pass made. ms/art. divides by all "
        f"{r.articles} articles (duplicates stop after `known_keys`). SQL statements per "
        f"stored article, BEGIN included: {statements}.",
        "",
        *markdown(stage_columns(r), stage_rows(r)),
        *_in_pipeline_note(r),
    ]


def _statements(stages: Readings) -> int:
    return sum(stages[name].statements for name in stages.names("store."))


def _in_pipeline_note(r: StoreResults) -> list[str]:
    ratios = [run.stages["matcher.match_many"].wall / run.engine.best for run in r.replays]
    shown = ", ".join(f"{x:.2f}x for {run.label}" for run, x in zip(r.replays, ratios, strict=True))
    why = (
        ": between two batches the store's work evicts the analyser's tables from the CPU "
        "caches" if min(ratios) > 1.25 else ""
    )
    return ["", f"`match_many` inside the pipeline / alone: {shown}{why}."]


def _profile(r: StoreResults) -> list[str]:
    return [
        "### Where a replay's time goes, by library (cProfile)",
        "",
        f"One replay pass with {r.profile_label} under cProfile ({r.profile_seconds:.1f} s "
        "profiled; profiling inflates Python-heavy code most). Own time grouped by where "
        "the function lives:",
        "",
        *markdown(LIBRARY_COLUMNS, r.profile_libraries),
        "",
        "watcher's functions (and SQLite's C calls) by cumulative time, share of the "
        "profiled pass:",
        "",
        *markdown(FUNCTION_COLUMNS, r.profile),
    ]


def _lookups(r: StoreResults) -> list[str]:
    f = r.fill
    return [
        "### Lookups on a large store",
        "",
        f"The searches `store.ingest` makes before writing, for the {r.articles} FA-KES "
        "articles' keys and bands (none stored in either store), best of "
        f"{r.sizes.lookup_passes} passes after a warm-up, passes alternating between the two "
        "stores. "
        "`is_known`: one `Store.is_known(keys)` call per article (its own read transaction, "
        "as the pipeline calls it). Story search: one `story_candidates(connection, bands)` "
        "call per article inside one open transaction, as `store.ingest` calls it. The "
        "SQLite part is `cursor.execute` time in the fastest passes.",
        "",
        *markdown(lookup_columns(r.articles), [r.empty, r.full]),
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
        f"the real tables, {r.sizes.fill_batch:,} articles per write transaction, through a "
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
