"""Presenting the feeds benchmark: its target, the passes, where their time goes; a plain
table for the terminal and the "## Feeds" section of RESULTS.md.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from bench.feeds_corpus import REWRITE_EVERY
from bench.feeds_results import FeedsResults, PollPass
from bench.meter import LOCK_WAIT, Totals
from bench.sections import head
from bench.tables import Column, markdown, plain
from bench.targets import TARGET_COLUMNS, Target

FEEDS_HEADING = "## Feeds"
RATIO_LIMIT = 0.10  # the issue: a pass of 304s costs under 10% of the first pass
MIB = 2**20
PASS_NAMES = ("first", "304", "reference")
# What each metered call is; a stage missing here shows by its own name.
STAGE_LABELS = {
    "fetcher.fetch": "`Fetcher.fetch`",
    "matcher.match_many": "`Matcher.match_many`",
    f"matcher.{LOCK_WAIT}": "waiting for the matcher (its calls take turns)",
    "store.claim_poll": "`Store.claim_poll` (write transaction)",
    "store.known_keys": "`Store.known_keys` (read transaction, one per batch)",
    "store.ingest": "`Store.ingest` (write transaction)",
    "store.record_poll": "`Store.record_poll` (write transaction)",
}
# (label, prefix): the split, each group the metered calls whose stage starts so
GROUPS = (
    ("network: `Fetcher.fetch` (HTTP to the local server, its time included)", "fetcher."),
    ("analysis + matching: `Matcher.match_many`, and waiting for it", "matcher."),
    ("storage: every `Store` call (`claim_poll`, `known_keys`, `ingest`, `record_poll`)",
     "store."),
)
OTHER = ("other: parsing, dedupe (identity keys, story signatures), daemon, poller and "
         "pipeline glue, logging, metrics (the rest)")
# Measured once while choosing REWRITE_EVERY, not by every run (it takes longer than the
# whole feeds part should): every item a rewrite, so nearly every item a new article.
ALL_DISTINCT_RUN = (
    "Measured once (2026-11-23, same machine, not repeated by this run) with every item an "
    "outlet rewrite (`REWRITE_EVERY = 1`, 24,665 distinct texts): the first pass stored "
    "24,635 articles in 281 s (1.8 feeds/s, 88 items/s; `Store.ingest` 166 s of CPU, "
    "6.7 ms per article; `story_signature` 37 s; `match_many` 22 s) and the feeds part "
    "took 287 s, over its budget of about 4 minutes; the 304 pass after it took 1.6 s."
)


@dataclass(frozen=True)
class Part:
    """A row: its label, and its totals in a pass."""

    label: str
    totals: Callable[[PollPass], Totals]


# A column repeated for each pass: its title, its value for a row in a pass, its format.
Cell = tuple[str, Callable[[Part, PollPass], Any], str]


def feeds_target(r: FeedsResults) -> Target:
    return Target("`run --once`, every feed 304 / first pass, wall time", r.ratio, "x", "<",
                  RATIO_LIMIT, shown=f"{r.ratio:.3f} x ({r.ratio:.1%})")


def passes(r: FeedsResults) -> list[PollPass]:
    return [r.first, r.second, r.reference]


def pass_columns(r: FeedsResults) -> tuple[Column, ...]:
    feeds, items = r.feeds.feeds, r.feeds.items
    return (
        Column("pass", "label"),
        Column("wall s", "wall", ".2f"),
        Column("feeds/s", lambda p: feeds / p.wall, ",.1f"),
        Column("items/s", lambda p: items / p.wall, ",.0f"),
        Column("outcomes", lambda p: ", ".join(f"{count} {name}" for name, count
                                                in sorted(p.outcomes.items()))),
        Column("new articles", "new_articles", ","),
        Column("new matches", "new_matches", ","),
        Column("HTTP 200 / 304", lambda p: f"{p.server.get('ok', 0)} / "
               f"{p.server.get('not_modified', 0)}"),
        Column("MiB received", lambda p: p.server.get("body_bytes", 0) / MIB, ".1f"),
        Column("summed poll s", "polls", ".1f"),
        Column("process CPU s", "process_cpu", ".1f"),
        Column("server CPU s", "server_cpu", ".2f"),
    )


def _metered(p: PollPass, prefix: str = "") -> Totals:
    return p.stages.total(p.stages.names(prefix))


def group_rows() -> list[Part]:
    """The split of a pass: each group of metered calls, the rest, the whole pass."""
    rows = [Part(label, lambda p, prefix=prefix: _metered(p, prefix)) for label, prefix in GROUPS]
    rows.append(Part(OTHER, lambda p: Totals(wall=p.polls - _metered(p).wall,
                                             cpu=p.process_cpu - _metered(p).cpu)))
    rows.append(Part("**whole pass** (thread: summed poll time; CPU: the process)",
                     lambda p: Totals(wall=p.polls, cpu=p.process_cpu)))
    return rows


def columns_by_pass(r: FeedsResults, first: str, cells: Sequence[Cell]) -> list[Column]:
    """The row's label, then the same cells for each pass (the first titled by its pass)."""
    columns = [Column(first, "label")]
    for name, p in zip(PASS_NAMES, passes(r), strict=True):
        for number, (title, value, spec) in enumerate(cells):
            columns.append(Column(f"{name}: {title}" if number == 0 else title,
                                  lambda row, p=p, value=value: value(row, p), spec))
    return columns


def split_columns(r: FeedsResults) -> list[Column]:
    return columns_by_pass(r, "part", (
        ("thread s", lambda row, p: row.totals(p).wall, ".1f"),
        ("share", lambda row, p: row.totals(p).wall / p.polls, ".0%"),
        ("CPU s", lambda row, p: row.totals(p).cpu, ".2f"),
        ("share", lambda row, p: row.totals(p).cpu / p.process_cpu, ".0%"),
    ))


def stage_rows(r: FeedsResults) -> list[Part]:
    """Every metered call, by stage, in STAGE_LABELS' order and then by name."""
    seen = {name for p in passes(r) for name in p.stages.names()}
    names = [s for s in STAGE_LABELS if s in seen] + sorted(seen - set(STAGE_LABELS))
    return [Part(STAGE_LABELS.get(name, f"`{name}`"), lambda p, name=name: p.stages[name])
            for name in names]


def stage_columns(r: FeedsResults) -> list[Column]:
    return columns_by_pass(r, "function", (
        ("calls", lambda row, p: row.totals(p).calls, ","),
        ("thread s", lambda row, p: row.totals(p).wall, ".1f"),
        ("CPU s", _cpu, ".2f"),
        ("CPU ms/call", _cpu_per_call, ".2f"),
    ))


def _cpu(row: Part, p: PollPass) -> float | None:
    """No CPU shown for waiting."""
    return None if row.label == STAGE_LABELS[f"matcher.{LOCK_WAIT}"] else row.totals(p).cpu


def _cpu_per_call(row: Part, p: PollPass) -> float | None:
    cpu, calls = _cpu(row, p), row.totals(p).calls
    return cpu / calls * 1e3 if cpu is not None and calls else None


def parse_calls(p: PollPass) -> int:
    """Feeds parsed: every one the server sent whole."""
    return p.server.get("ok", 0)


def apart_rows(r: FeedsResults) -> list[Part]:
    """The module functions the passes called, at their cost measured apart."""
    a, items = r.apart, _items(r)
    return [
        Part("`parse_feed` (feedparser, entry HTML to text; once per feed sent)",
             lambda p: a.parse_feed.per_call(parse_calls(p))),
        Part("`identity_keys` (canonical URL, content hash; once per entry read)",
             lambda p: a.identity_keys.per_call(parse_calls(p) * items)),
        Part("`story_signature` (MinHash; once per article sent to `Store.ingest`)",
             lambda p: a.story_signature.per_call(p.stages["store.ingest"].calls)),
    ]


def apart_columns(r: FeedsResults) -> list[Column]:
    return columns_by_pass(r, "function", (
        ("calls", lambda row, p: row.totals(p).calls, ","),
        ("CPU s", lambda row, p: row.totals(p).cpu, ".2f"),
        ("share of the process's", lambda row, p: row.totals(p).cpu / p.process_cpu, ".0%"),
    ))


def _items(r: FeedsResults) -> int:
    """Items per feed."""
    return r.feeds.items // r.feeds.feeds


def marginal_cpu(r: FeedsResults) -> float:
    """CPU seconds the first pass spent per new article in work only new articles cost."""
    p = r.first
    signatures = apart_rows(r)[2].totals(p).cpu
    spent = p.stages["matcher.match_many"].cpu + p.stages["store.ingest"].cpu + signatures
    return spent / max(p.new_articles, 1)


def projected_all_distinct(r: FeedsResults) -> float:
    """First-pass seconds if all 25,000 items were distinct, at the measured CPU cost per
    new article and the measured use of the CPU (the pass is CPU-bound)."""
    extra = (r.feeds.items - r.first.new_articles) * marginal_cpu(r)
    return r.first.wall + extra / (r.first.process_cpu / r.first.wall)


def problems(r: FeedsResults) -> list[str]:
    """What would make the numbers meaningless: failed polls, a pass that was not what its
    label says, articles stored by a later pass."""
    found = [f"{p.label}: {error}" for p in passes(r) for error in p.errors]
    feeds = r.feeds.feeds
    if r.first.outcomes.get("ok", 0) != feeds:
        found.append(f"first pass: {dict(r.first.outcomes)}, not {feeds} ok")
    if r.second.outcomes.get("not_modified", 0) != feeds or r.second.server.get("ok", 0):
        found.append(f"304 pass: {dict(r.second.outcomes)}, server {r.second.server}")
    if r.reference.server.get("ok", 0) != feeds or r.reference.new_articles:
        found.append(f"reference pass: server {r.reference.server}, "
                     f"{r.reference.new_articles} new articles")
    if r.stored_after.articles != r.stored.articles:
        found.append(f"stored {r.stored.articles} articles after the first pass, "
                     f"{r.stored_after.articles} after the last")
    return found


# -- terminal -----------------------------------------------------------------------------


def render_feeds_table(r: FeedsResults) -> str:
    lines = [
        f"Feeds: `watcher run --once` over {r.feeds.feeds} local feeds of {_items(r)} items "
        f"({r.concurrency} polls at a time), {r.stored.articles:,} articles stored",
        "",
        *plain(pass_columns(r), passes(r)),
        "",
        *plain(split_columns(r)[:5], group_rows()),
        "",
        *plain(TARGET_COLUMNS, [feeds_target(r)]),
    ]
    lines += [f"PROBLEM: {problem}" for problem in problems(r)]
    return "\n".join(lines)


# -- RESULTS.md ---------------------------------------------------------------------------


def render_feeds_markdown(r: FeedsResults) -> str:
    lines = [
        *head(FEEDS_HEADING, "feeds", "feeds", r.machine,
              f"feeds part: {r.total_seconds:.0f} s (set-up {r.setup_seconds:.1f} s: feeds "
              "rendered, server started, rules compiled)"),
        "### Feeds target",
        "",
        *markdown(TARGET_COLUMNS, [feeds_target(r)]),
        "",
        *_target_notes(r),
        "",
        "### Three passes of `watcher run --once`",
        "",
        f"{r.feeds.feeds} RSS 2.0 feeds of {_items(r)} items ({r.feeds.items:,} items, "
        f"{r.feeds.total_bytes / MIB:.1f} MiB uncompressed, served gzipped) from a server in "
        f"another process on 127.0.0.1; {r.rules} shipped rules; `Daemon.poll_all_once()`, "
        f"{r.concurrency} polls at a time. Each pass is one `watcher run --once` after "
        "start-up, on one SQLite file: the first finds the store empty, the second gets a "
        "304 for every feed, the reference pass gets every feed again (the server ignores "
        "If-None-Match) with nothing new in it. items/s: the feeds' items over the pass's "
        "wall time, read or not.",
        "",
        *markdown(pass_columns(r), passes(r)),
        "",
        *_stored_notes(r),
        "",
        "### Where a pass's time goes",
        "",
        "Thread s: wall seconds inside each part, summed over the polling threads; its share "
        "is of the summed poll time (each poll from start to outcome). CPU s: the threads' "
        "own CPU time in each part (`time.thread_time`); its share is of the process's CPU "
        "time during the pass. Thread time minus CPU time is waiting: for the server, for "
        "SQLite's write lock, for the matcher's lock, for the GIL.",
        "",
        *markdown(split_columns(r), group_rows()),
        "",
        "By metered call:",
        "",
        *markdown(stage_columns(r), stage_rows(r)),
        "",
        "What `other` holds that the daemon reaches through module functions, so that no "
        "wrapper times it in the pass: each measured apart after the passes, in this "
        "process and one thread, over the same feed documents and their entries (best of "
        "several passes), its CPU cost per call times the calls each pass made:",
        "",
        *markdown(apart_columns(r), apart_rows(r)),
        "",
        *_cost_notes(r),
        "",
        *_method(r),
    ]
    problems_found = problems(r)
    if problems_found:
        lines[lines.index("### Feeds target") : lines.index("### Feeds target")] = [
            "**Problems in this run (the numbers below may not mean what they say):**", "",
            *(f"- {problem}" for problem in problems_found), "",
        ]
    return "\n".join(lines) + "\n"


def _target_notes(r: FeedsResults) -> list[str]:
    second, reference, feeds = r.second, r.reference, r.feeds.feeds
    per_feed = second.wall / feeds * 1e3
    cpu_per_feed = second.process_cpu / feeds * 1e3
    return [
        f"The 304 pass costs {per_feed:.1f} ms of wall time per feed ({cpu_per_feed:.1f} ms "
        f"of CPU: the process used {second.process_cpu / second.wall:.2f} cores): "
        "`claim_poll`, the conditional GET and `record_poll`, two write transactions "
        f"and one request per feed. Against the reference pass (same feeds, nothing new, "
        f"but no 304s) it costs {second.wall / reference.wall:.1%}: the ratio is not only "
        "small because the first pass stored articles. On loopback a request costs "
        "about a millisecond; over a real network each adds its round trips, "
        f"{r.concurrency} at a time, to both passes.",
    ]


def _stored_notes(r: FeedsResults) -> list[str]:
    s, rewrites = r.stored, r.feeds.rewrites
    a = r.stored_after
    same = "unchanged" if (a.articles, a.stories, a.matches, a.deliveries) == (
        s.articles, s.stories, s.matches, s.deliveries) else (
        f"{a.articles:,} articles, {a.stories:,} stories, {a.matches:,} matches")
    analysed = r.first.stages["matcher.match_many"].items
    lost = r.first.stages["store.ingest"].calls - r.first.new_articles
    return [
        f"Stored by the first pass: {s.articles:,} distinct articles out of "
        f"{r.feeds.items:,} items ({r.feeds.distinct_texts:,} distinct title + body texts: "
        f"FA-KES's distinct wire texts and {rewrites:,} outlet rewrites), in "
        f"{s.stories:,} stories, with {s.matches:,} matches and {s.deliveries:,} pending "
        f"deliveries; {s.file_bytes / MIB:.0f} MiB of SQLite. After the later passes: "
        f"{same}. The first pass analysed {analysed:,} articles for {r.first.new_articles:,} "
        f"new ones: {lost:,} were not yet stored when their feed checked them, and were "
        "stored by another thread's feed carrying the same text before `Store.ingest` "
        "(which then refused them: analysed and matched for nothing).",
    ]


def _cost_notes(r: FeedsResults) -> list[str]:
    first = r.first
    cores = first.process_cpu / first.wall
    ingest, known = first.stages["store.ingest"], first.stages["store.known_keys"]
    marginal = marginal_cpu(r) * 1e3
    known_ms = known.cpu / max(known.calls, 1) * 1e3
    parse = r.apart.parse_feed.cpu / max(r.apart.parse_feed.calls, 1) * 1e3
    return [
        f"- The first pass is CPU-bound on one core: the process used {cores:.2f} cores "
        f"of CPU over {first.wall:.0f} s (the feed server {first.server_cpu:.1f} s), as "
        "the GIL allows; the network is "
        f"{first.stages['fetcher.fetch'].wall / first.polls:.0%} of thread time. Thread time "
        f"is mostly waiting: `Store.ingest` alone holds {ingest.wall - ingest.cpu:.0f} "
        f"thread-seconds of waiting ({ingest.wall:.0f} s in it, {ingest.cpu:.1f} s of CPU), "
        "the threads queueing for SQLite's write lock (`BEGIN IMMEDIATE`, "
        "each waiter sleeping in SQLite's busy handler) and for the GIL (a thread that "
        "let go of it for SQLite or a socket waits for a busy thread to hand it back). "
        "Waiting costs no CPU, so the pass takes about as long as its CPU work: cutting "
        "CPU is what makes it faster, and the machine's second core sits idle.",
        f"- Parsing costs {parse:.0f} ms of CPU per feed of {_items(r)} items (measured "
        f"apart); `Store.known_keys` {known_ms:.2f} ms per call, one read transaction for "
        f"each of the {known.calls:,} batches of a feed's entries (most of them duplicates).",
        f"- A new article costs {marginal:.1f} ms of CPU beyond an already-known one "
        f"(`match_many` + `story_signature` + `Store.ingest`, per article stored). At that "
        f"cost, a first pass storing all {r.feeds.items:,} items as distinct articles would "
        f"take about {projected_all_distinct(r):.0f} s (a projection from this run). "
        f"{ALL_DISTINCT_RUN} Hence the overlap of 1 rewrite in {REWRITE_EVERY} items.",
    ]


def _method(r: FeedsResults) -> list[str]:
    return [
        "### Method (feeds)",
        "",
        f"- Feeds (`bench/feeds_corpus.py`): feed i is outlet i, carrying a window of {_items(r)} "
        f"consecutive FA-KES articles ({r.corpus_articles} articles; the windows start at "
        "evenly spaced offsets, so each article is in 31 or 32 feeds, and feeds polled one "
        "after another carry different windows). Every item has its outlet's own link and "
        "permalink guid, so identity by guid or URL never merges two feeds' copies: only "
        "the content hash does. Most items are the wire text as sent, so duplicates of the "
        f"first copy stored; one item in {REWRITE_EVERY} carries the outlet's own headline "
        "(`<title> | Outlet NNN`) over the wire body: a new article in the same story. "
        "Descriptions hold the whole body as escaped HTML (`<p>...</p>`), as full-text feeds "
        "send it; pubDates 17 minutes apart.",
        "- Server (`bench/feeds_server.py`, its own process): `http.server` with HTTP/1.1 "
        "keep-alive, a thread per connection, bodies gzipped once at start, a strong ETag "
        "and a Last-Modified per feed; 304 when If-None-Match names the ETag. Its request "
        "counts (table above) confirm each pass got the answers it is named after.",
        "- Wiring as `watcher run --once` (`watcher/cli/run.py`): settings loaded from a "
        f"generated watcher.yaml ({r.feeds.feeds} sources, one default channel so matches queue "
        "deliveries), `Matcher.from_path` on the shipped rules, then per pass `Store.open` "
        "on the same SQLite file, a new `Fetcher`, `Metrics`, `Daemon` and `Poller`; only "
        "`poll_all_once()` is timed (start-up is not: "
        f"{r.first.open_seconds:.2f} s to open and migrate the store for the first pass). "
        "The daemon's log lines are formatted as `watcher run` configures them and written "
        "to /dev/null.",
        "- Timing (`bench/meter.py`; nothing in watcher/ is patched): the `Daemon` and "
        "`Poller` are given the store, the matcher and the fetcher wrapped, so that each "
        "call of theirs adds its `perf_counter` and `thread_time` to its stage; the "
        "wrapped matcher takes its calls in turns under a lock of its own (the matcher "
        "does under its own lock anyway) and times the wait for it. None of these calls "
        "nest, so their sums add up; the rest of a poll is `other`. `parse_feed`, "
        "`identity_keys` and `story_signature` are module functions the poller and the "
        "pipeline call by name, so nothing wraps them: they stay in `other`, and are "
        "measured apart after the passes (one thread, the same documents and entries, "
        "best of several passes): a pass's share of them is their cost per call times "
        "its calls (feeds sent whole, entries read, articles sent to `Store.ingest`).",
        "- One run, no repeats: each pass changes the store (the first) or is measured "
        "once; the machine is shared, so compare ratios from one run.",
    ]
