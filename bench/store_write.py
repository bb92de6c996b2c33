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
from bench.paths import ROOT, SHIPPED_RULES
from bench.store_replay import new_pipeline, replay_batches
from watcher.engine.matcher import Matcher
from watcher.store import Store
from watcher.store.db import open_engine
from watcher.store.records import IngestResult, NewArticle, NewMatch, StoryPicker


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
    digest: str  # of what was stored: stories, matches first in them, deliveries queued

    @property
    def per_second(self) -> float:
        return self.stored / self.seconds

    @property
    def statements_per_article(self) -> float:
        return self.statements / self.stored


def write_pass(calls: Sequence[IngestCall], path: Path) -> WritePass:
    """The calls replayed into a new SQLite file (schema created before, not timed)."""
    url = f"sqlite:///{path}"
    Store.open(url).close()
    engine = open_engine(url)
    count = [0]

    def counted(*_: Any) -> None:
        count[0] += 1

    sa.event.listen(engine, "before_cursor_execute", counted)
    with Store(engine) as store:
        gc.collect()
        started = time.perf_counter()
        results = [store.ingest(c.new, c.matches, c.pick_story, c.now) for c in calls]
        seconds = time.perf_counter() - started
    return WritePass(seconds, sum(1 for r in results if r.stored), count[0], _digest(engine))


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
        compare(options.against, options.passes, options.articles)
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


def compare(revision: str, passes: int, articles: int | None) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        baseline = Path(scratch) / "baseline"
        baseline.mkdir()
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", revision],
                                 capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(baseline)], input=archive, check=True)
        workers = {label: _worker(root, articles)
                   for label, root in (("baseline", baseline), ("this tree", ROOT))}
        results: dict[str, list[WritePass]] = {label: [] for label in workers}
        for _ in range(passes):
            for label, worker in workers.items():
                assert worker.stdin is not None and worker.stdout is not None
                worker.stdin.write("go\n")
                worker.stdin.flush()
                results[label].append(WritePass(**json.loads(worker.stdout.readline())))
        for worker in workers.values():
            assert worker.stdin is not None
            worker.stdin.close()
            worker.wait()
    print(f"{_stamp()}, baseline {_version(revision)}:")
    for label, done in results.items():
        print(f"  {label}: {_shown(done)}")
    before, after = (min(p.seconds for p in done) for done in results.values())
    print(f"  this tree / baseline, articles/s of the best passes: {before / after:.2f}x")
    digests = {p.digest for done in results.values() for p in done}
    print(f"  stored the same in every pass: {'yes' if len(digests) == 1 else 'NO'} "
          f"({', '.join(sorted(digests))})")


def _worker(root: Path, articles: int | None) -> subprocess.Popen[str]:
    command = [sys.executable, str(Path(__file__).resolve()), "--serve"]
    if articles:
        command += ["--articles", str(articles)]
    worker = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True, env={**os.environ, "PYTHONPATH": str(root)})
    assert worker.stdout is not None
    json.loads(worker.stdout.readline())  # captured: ready for passes
    return worker


def _stamp() -> str:
    return f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, git {_version('HEAD')}"


def _version(revision: str) -> str:
    command = ["git", "-C", str(ROOT), "describe", "--always"]
    command += ["--dirty"] if revision == "HEAD" else [revision]
    return subprocess.run(command, capture_output=True, text=True, check=False).stdout.strip()


def _shown(passes: Sequence[WritePass]) -> str:
    best = min(passes, key=lambda p: p.seconds)
    return (f"{best.stored} stored; best of {len(passes)}: {best.seconds:.3f} s, "
            f"{best.per_second:.0f} articles/s, {best.statements_per_article:.2f} statements "
            f"per stored article (passes: {', '.join(f'{p.seconds:.3f}' for p in passes)}); "
            f"stored: {best.digest}")


if __name__ == "__main__":
    main()
