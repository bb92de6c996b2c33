"""The store's write path alone: FA-KES's `Store.ingest` calls replayed into fresh SQLite files.

The calls are captured once from a real replay (the shipped rules, one default channel), so
their NewArticle and NewMatch values are precomputed: a pass times `Store.ingest` and nothing
else (no analysis, matching or MinHash). Statements are counted with SQLAlchemy's
`before_cursor_execute` event: BEGIN IMMEDIATE counts, COMMIT does not (it is the
driver's `commit()`), an executemany is one.

    python -m bench.store_write [--passes N] [--articles N] [--against REV]

`--against REV` measures the code at git revision REV (exported with `git archive` into a
scratch directory; this file runs over it) and the working tree in two processes, each
capturing its own calls, with their passes alternating one by one, so both see the same
machine; the ratio is of the best passes.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench.corpus import load_corpus
from bench.measure import Machine, machine, progress
from bench.paths import ROOT, SHIPPED_RULES
from bench.sections import head
from bench.sizes import Sizes
from bench.store_replay import new_pipeline, replay_batches
from bench.tables import Column, markdown, plain
from watcher.engine.matcher import Matcher
from watcher.store import Store
from watcher.store.db import open_engine
from watcher.store.records import IngestResult, NewArticle, NewMatch, StoryPicker

WRITE_HEADING = "## Store write path"
BASELINE = "324bde0"  # the write path as issue 20 found it
WRITE_PASSES = 7


@dataclass(frozen=True)
class IngestCall:
    new: NewArticle
    matches: tuple[NewMatch, ...]
    pick_story: StoryPicker
    now: datetime


class _Capturing:
    """A Store that records every `ingest` call it forwards."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.calls: list[IngestCall] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def ingest(self, new: NewArticle, matches: Sequence[NewMatch], pick_story: StoryPicker,
               now: datetime) -> IngestResult:
        self.calls.append(IngestCall(new, tuple(matches), pick_story, now))
        return self._store.ingest(new, matches, pick_story, now)


def capture_calls(directory: Path, limit: int | None = None) -> list[IngestCall]:
    """The `Store.ingest` calls of one replay of FA-KES with the shipped rules."""
    articles = load_corpus(limit).articles
    matcher = Matcher.from_path(SHIPPED_RULES)
    with Store.open(f"sqlite:///{directory / 'capture.db'}") as store:
        capturing = _Capturing(store)
        replay_batches(new_pipeline(matcher, capturing), articles)  # type: ignore[arg-type]
    return capturing.calls


@dataclass(frozen=True)
class WritePass:
    seconds: float
    stored: int
    statements: int
    sql_seconds: float  # SQLite executing statements
    commit_seconds: float  # COMMIT, with WAL checkpoints
    digest: str  # of what was stored: stories, matches first in them, deliveries queued

    @property
    def per_second(self) -> float:
        return self.stored / self.seconds

    @property
    def statements_per_article(self) -> float:
        return self.statements / self.stored


def write_pass(calls: Sequence[IngestCall], path: Path) -> WritePass:
    """The calls replayed into a new SQLite file (schema created before, not timed); SQLite's
    part timed as bench/meter.py does: cursor.execute, and COMMIT up to the connection's
    return to the pool."""
    url = f"sqlite:///{path}"
    Store.open(url).close()
    engine = open_engine(url)
    clock = {"statements": 0, "sql": 0.0, "commit": 0.0, "started": 0.0, "committing": 0.0}

    def before(*_: Any) -> None:
        clock["statements"] += 1
        clock["started"] = time.perf_counter()

    def after(*_: Any) -> None:
        clock["sql"] += time.perf_counter() - clock["started"]

    def committing(*_: Any) -> None:
        clock["committing"] = time.perf_counter()

    def checked_in(*_: Any) -> None:
        if clock["committing"]:
            clock["commit"] += time.perf_counter() - clock["committing"]
            clock["committing"] = 0.0

    for name, listener in (("before_cursor_execute", before), ("after_cursor_execute", after),
                           ("commit", committing), ("checkin", checked_in)):
        sa.event.listen(engine, name, listener)
    with Store(engine) as store:
        gc.collect()
        started = time.perf_counter()
        results = [store.ingest(c.new, c.matches, c.pick_story, c.now) for c in calls]
        seconds = time.perf_counter() - started
        stored = sum(1 for r in results if r.stored)
        return WritePass(seconds, stored, int(clock["statements"]), clock["sql"],
                         clock["commit"], _digest(engine))


_STORED = (
    "SELECT a.external_id, a.story_id, m.rule_id, m.first_in_story, "
    "(SELECT count(*) FROM deliveries d WHERE d.match_id = m.id) "
    "FROM articles a LEFT JOIN matches m ON m.article_id = a.id ORDER BY a.id, m.rule_id"
)


def _digest(engine: sa.Engine) -> str:
    """What a pass stored, in a few hex digits: passes of two versions compare by it."""
    with engine.connect() as connection:
        stored = [tuple(row) for row in connection.exec_driver_sql(_STORED)]
    return hashlib.blake2b(repr(stored).encode(), digest_size=6).hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=5)
    parser.add_argument("--articles", type=int, default=None)
    parser.add_argument("--against", metavar="REV", help="compare with the code at REV")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.serve:
        serve(options.articles)
    elif options.against:
        print_comparison(compare(options.against, options.passes, options.articles))
    else:
        alone(options.passes, options.articles)


def alone(passes: int, articles: int | None) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch)
        calls = capture_calls(directory, articles)
        done = [write_pass(calls, directory / f"write-{n}.db") for n in range(passes)]
    print(f"{_stamp()}: {len(calls)} ingest calls; {_shown(done)}")


def serve(articles: int | None) -> None:
    """Capture, then one pass per line read from stdin, its result a JSON line."""
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch)
        calls = capture_calls(directory, articles)
        print(json.dumps({"calls": len(calls)}), flush=True)
        for number, _ in enumerate(sys.stdin):
            done = write_pass(calls, directory / f"write-{number}.db")
            print(json.dumps(done.__dict__), flush=True)


@dataclass(frozen=True)
class WriteComparison:
    machine: Machine
    revision: str  # the baseline's, as `git describe` names it
    before_issue: bool  # the baseline is BASELINE
    calls: int
    passes: dict[str, list[WritePass]]  # "baseline" and "this tree", in the order run

    def best(self, label: str) -> WritePass:
        return min(self.passes[label], key=lambda p: p.seconds)

    @property
    def ratio(self) -> float:
        return self.best("baseline").seconds / self.best("this tree").seconds

    @property
    def same(self) -> bool:
        return len({p.digest for done in self.passes.values() for p in done}) == 1


def compare(revision: str, passes: int, articles: int | None) -> WriteComparison:
    """The working tree against `revision`, their passes alternating (module docstring)."""
    # Imported here: the worker runs this file over the baseline's bench/, which may lack it.
    from bench.revisions import describe_revision, export_revision

    info = machine()
    with tempfile.TemporaryDirectory() as scratch:
        baseline = export_revision(revision, Path(scratch))
        workers = {label: _worker(root, articles)
                   for label, root in (("baseline", baseline), ("this tree", ROOT))}
        results: dict[str, list[WritePass]] = {label: [] for label in workers}
        calls = workers["this tree"][1]
        for _ in range(passes):
            for label, (worker, _calls) in workers.items():
                assert worker.stdin is not None and worker.stdout is not None
                worker.stdin.write("go\n")
                worker.stdin.flush()
                results[label].append(WritePass(**json.loads(worker.stdout.readline())))
        for worker, _ in workers.values():
            assert worker.stdin is not None
            worker.stdin.close()
            worker.wait()
    name = describe_revision(revision)
    return WriteComparison(info, name, name == describe_revision(BASELINE), calls, results)


def print_comparison(done: WriteComparison) -> None:
    print(f"{_stamp()}, baseline {done.revision}:")
    for label, passes in done.passes.items():
        print(f"  {label}: {_shown(passes)}")
    print(f"  this tree / baseline, articles/s of the best passes: {done.ratio:.2f}x")
    print(f"  stored the same in every pass: {'yes' if done.same else 'NO'}")


def measure_write(sizes: Sizes) -> WriteComparison:
    """The part `make bench` runs: this tree against BASELINE (against HEAD with --quick,
    which measures nothing and must run in a shallow clone too)."""
    full = sizes.corpus_articles is None
    passes, revision = (WRITE_PASSES, BASELINE) if full else (1, "HEAD")
    progress(f"store write path: {passes} passes each, this tree and {revision}, alternating")
    return compare(revision, passes, sizes.corpus_articles)


def render_write_table(done: WriteComparison) -> str:
    return "\n".join(plain(_COLUMNS, _rows(done)))


def render_write_markdown(done: WriteComparison) -> str:
    before, after = done.best("baseline"), done.best("this tree")
    lines = head(WRITE_HEADING, "store write path", "storewrite", done.machine,
                 f"baseline: git {done.revision}"
                 + (" (the write path before issue 20)" if done.before_issue else ""))
    lines += [
        f"FA-KES's {done.calls} `Store.ingest` calls (captured from a replay with the shipped "
        "rules and one default channel, so analysis, matching and MinHash are done before) "
        "replayed into a new SQLite file per pass; only `Store.ingest` is timed. The "
        "baseline is the code at its revision (`git archive`) in a process of its own, the "
        "working tree in another; their passes alternate, so both see the same machine "
        "(`python -m bench.store_write --against REV`). Statements: SQLAlchemy's "
        "`before_cursor_execute` events per stored article, BEGIN IMMEDIATE included, "
        "COMMIT not (one per article in both).",
        "",
        *markdown(_COLUMNS, _rows(done)),
        "",
        f"This tree / baseline: **{done.ratio:.2f}x** the articles/s "
        f"({after.per_second:,.0f} against {before.per_second:,.0f}), "
        f"{after.statements_per_article:.2f} statements per stored article against "
        f"{before.statements_per_article:.2f}. Stored the same in every pass (articles, "
        "their stories, which matches are first in them, deliveries queued): "
        f"{'yes' if done.same else '**NO**'}.",
        "",
        "Of the best pass: SQLite executing statements (cursor.execute), COMMIT up to the "
        "connection's return to the pool (one per article, with WAL checkpoints), and the "
        "rest: SQLAlchemy's per-statement work, the pool, the store's own Python. "
        f"This tree: {_split(after)}; baseline: {_split(before)}. Commits per batch with a "
        "savepoint per article (issue 20, item 1) are the next cut.",
        "",
    ]
    return "\n".join(lines)


def _split(done: WritePass) -> str:
    rest = done.seconds - done.sql_seconds - done.commit_seconds
    parts = (("SQLite", done.sql_seconds), ("COMMIT", done.commit_seconds), ("rest", rest))
    return ", ".join(f"{name} {share / done.seconds:.0%}" for name, share in parts)


_COLUMNS = [
    Column("code", lambda r: r[0]),
    Column("best s", lambda r: f"{r[1].seconds:.3f}"),
    Column("articles/s", lambda r: f"{r[1].per_second:,.0f}"),
    Column("statements / article", lambda r: f"{r[1].statements_per_article:.2f}"),
    Column("SQLite executing s", lambda r: f"{r[1].sql_seconds:.3f}"),
    Column("COMMIT s", lambda r: f"{r[1].commit_seconds:.3f}"),
    Column("rest s", lambda r: f"{r[1].seconds - r[1].sql_seconds - r[1].commit_seconds:.3f}"),
    Column("stored", lambda r: f"{r[1].stored:,}"),
    Column("passes s", lambda r: ", ".join(f"{p.seconds:.2f}" for p in r[2])),
]


def _rows(done: WriteComparison) -> list[tuple[str, WritePass, list[WritePass]]]:
    return [(label, done.best(label), passes) for label, passes in done.passes.items()]


def _worker(root: Path, articles: int | None) -> tuple[subprocess.Popen[str], int]:
    command = [sys.executable, str(Path(__file__).resolve()), "--serve"]
    if articles:
        command += ["--articles", str(articles)]
    worker = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True, env={**os.environ, "PYTHONPATH": str(root)})
    assert worker.stdout is not None
    ready = json.loads(worker.stdout.readline())  # captured: ready for passes
    return worker, int(ready["calls"])


def _stamp() -> str:
    from bench.revisions import describe_revision  # see compare

    return f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, git {describe_revision(None)}"


def _shown(passes: Sequence[WritePass]) -> str:
    best = min(passes, key=lambda p: p.seconds)
    return (f"{best.stored} stored; best of {len(passes)}: {best.seconds:.3f} s, "
            f"{best.per_second:.0f} articles/s, {best.statements_per_article:.2f} statements "
            f"per stored article (passes: {', '.join(f'{p.seconds:.3f}' for p in passes)}); "
            f"stored: {best.digest}")


if __name__ == "__main__":
    main()
