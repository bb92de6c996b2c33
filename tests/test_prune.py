"""`watcher db prune` and the daemon's daily prune: what past the retention window is removed,
what the command prints, and that the readers (`watcher articles`, `matches`, the workspace's
inbox and story pages) keep working on what is left. The store's rules are in
tests/store/test_retention.py."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from tests.store.builders import NOW, new_article, new_match, new_story, oldest_story
from tests.store.sql import rows
from tests.support.helpers import ManualClock
from tests.support.web import add_team, serve
from watcher.cli.main import cli
from watcher.config.settings import load_settings
from watcher.daemon.metrics import Metrics
from watcher.daemon.poller import Poller
from watcher.daemon.service import FIRST_PRUNE_AFTER_SECONDS, PRUNE_EVERY_SECONDS, Daemon
from watcher.engine.matcher import Matcher
from watcher.ingest.pipeline import Pipeline
from watcher.sources.fetch import Fetcher
from watcher.store import Store
from watcher.store.db import open_engine
from watcher.store.retention import PRUNE_BATCH

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def filled(workdir: Path) -> Iterator[tuple[str, dict[str, int]]]:
    """A SQLite store (the working directory's default, watcher.db) holding a story with
    an old copy and a new one, an old story alone and a new one; every alert sent."""
    url = f"sqlite:///{workdir / 'watcher.db'}"
    (workdir / "watcher.yaml").write_text("{}\n")
    stories: dict[str, int] = {}
    with Store.open(url) as store:
        for name, age, band in (("old-copy", 200, 7), ("new-copy", 1, 7), ("old-alone", 200, None),
                                ("new-alone", 1, None)):
            new = new_article(name, story_band=band, fetched=NOW - timedelta(days=age))
            picker = oldest_story if band is not None and name.startswith("new") else new_story
            stories[name] = store.ingest(new, [new_match(new)], picker, new.fetched).story_id
        due = store.claim_due_deliveries(NOW, owner="t", lease=timedelta(minutes=5), limit=10,
                                         channels=["ops"])
        store.mark_sent([delivery.id for delivery in due], NOW, owner="t")
    yield url, stories


def _cli(*args: str, clock: ManualClock | None = None):
    return CliRunner().invoke(cli, list(args), obj=(clock or ManualClock(NOW)).now,
                              catch_exceptions=False)


def _external_ids(url: str) -> list[str]:
    return [row[0] for row in rows(url, "SELECT external_id FROM articles ORDER BY id")]


def test_db_prune_removes_what_is_past_the_window_and_says_what_per_table(filled):
    url, _ = filled
    result = _cli("db", "prune", "--older-than", "180d")
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "removed what was fetched before 2026-05-28T12:00:00Z (older than 180d): "
        "match_places 0, deliveries 2, matches 2, article_keys 4, story_bands 8, articles 2, "
        "story_comments 0, story_states 0, stories 1\n"
        "kept 0 older articles: 0 with a pending alert, 0 in stories under triage, 0 holding "
        "the newest ids\n")
    assert _external_ids(url) == ["new-copy", "new-alone"]


def test_a_dry_run_prints_the_same_counts_as_json_and_removes_nothing(filled):
    url, _ = filled
    result = _cli("db", "prune", "--older-than", "180d", "--dry-run", "--format", "jsonl")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "older_than": "180d", "before": "2026-05-28T12:00:00Z", "dry_run": True,
        "removed": {"match_places": 0, "deliveries": 2, "matches": 2, "article_keys": 4,
                    "story_bands": 8, "articles": 2, "story_comments": 0, "story_states": 0,
                    "stories": 1},
        "kept": {"pending_alert": 0, "open_triage": 0, "newest_row": 0},
    }
    assert len(_external_ids(url)) == 4


def test_db_prune_takes_the_window_from_the_retention_setting(filled, workdir):
    url, _ = filled
    (workdir / "watcher.yaml").write_text("retention: 30d\n")
    result = _cli("db", "prune")
    assert result.exit_code == 0, result.output
    assert "older than 30d" in result.stdout
    assert _external_ids(url) == ["new-copy", "new-alone"]


@pytest.mark.parametrize(("args", "says"), [
    ((), "no retention window: pass --older-than AGE (such as 180d) or set retention: in "
         "watcher.yaml"),
    (("--older-than", "1h"), "must be a duration of at least 7d, such as 180d"),
    (("--older-than", "off"), "must be a duration of at least 7d, such as 180d"),
])  # fmt: skip
def test_db_prune_without_a_window_of_a_week_or_more_is_one_usage_line(filled, args, says):
    url, _ = filled
    result = _cli("db", "prune", *args)
    assert result.exit_code == 2
    assert says in result.stderr
    assert len(_external_ids(url)) == 4


def test_readers_keep_working_after_a_prune(filled):
    url, stories = filled
    assert _cli("db", "prune", "--older-than", "180d").exit_code == 0
    listed = _cli("articles", "--format", "jsonl")
    assert [json.loads(line)["id"] for line in listed.stdout.splitlines()] == [
        "new-alone", "new-copy"]
    matched = _cli("matches", "--format", "jsonl")
    assert [json.loads(line)["article"] for line in matched.stdout.splitlines()] == [
        "new-alone", "new-copy"]
    clock = ManualClock(NOW)
    with Store.open(url) as store:
        add_team(store, clock.now())
        with serve(store, clock=clock) as served, served.client(served.token("vic")) as client:
            inbox = client.get("/api/stories")
            story = client.get(f"/api/stories/{stories['new-copy']}")
            page = client.get(f"/stories/{stories['new-copy']}")
            gone = client.get(f"/api/stories/{stories['old-alone']}")
    assert inbox.status_code == story.status_code == page.status_code == 200
    assert {s["id"] for s in inbox.json()["stories"]} == {stories["new-copy"],
                                                          stories["new-alone"]}
    assert [copy["id"] for copy in story.json()["copies"]] == ["new-copy"]
    assert gone.status_code == 404


def _daemon(workdir: Path, store: Store, fetcher: Fetcher, env: dict[str, str]) -> Daemon:
    rules = workdir / "rules"
    rules.mkdir(exist_ok=True)
    (rules / "r.yaml").write_text("rules:\n  - id: one\n    title: One\n    query: siege\n")
    settings = load_settings(None, {"rules": str(rules)}, env)
    now = ManualClock(NOW).now
    metrics = Metrics(queue_depth=lambda: 0, last_successes=dict, now=now)
    pipeline = Pipeline(matcher=Matcher.from_path(rules), store=store, now=now)
    poller = Poller(store=store, fetcher=fetcher, pipeline=pipeline, now=now)
    return Daemon(settings=settings, poller=poller, metrics=metrics, now=now,
                  stopping=threading.Event())


def test_the_daemon_prunes_daily_with_retention_set_and_never_without(filled, workdir):
    url, _ = filled
    with Store.open(url) as store, Fetcher(now=ManualClock(NOW).now) as fetcher:
        without = _daemon(workdir, store, fetcher, {})
        assert "prune" not in {job["id"] for job in without._jobs()}
        without.prune()
        assert len(_external_ids(url)) == 4

        daemon = _daemon(workdir, store, fetcher, {"WATCHER_RETENTION": "180d"})
        (job,) = [job for job in daemon._jobs() if job["id"] == "prune"]
        assert job["trigger"].interval == timedelta(seconds=PRUNE_EVERY_SECONDS)
        assert job["next_run_time"] == NOW + timedelta(seconds=FIRST_PRUNE_AFTER_SECONDS)
        daemon.prune()
        assert _external_ids(url) == ["new-copy", "new-alone"]


def test_a_signal_stops_the_daemons_prune_after_the_batch_in_hand(workdir):
    url = f"sqlite:///{workdir / 'watcher.db'}"
    engine = open_engine(url)
    with Store(engine) as store, Fetcher(now=ManualClock(NOW).now) as fetcher:
        store.upgrade()
        for number in range(PRUNE_BATCH + 2):  # two batches' worth, and the newest row
            new = new_article(f"old-{number}", fetched=NOW - timedelta(days=200 - number // 500))
            store.ingest(new, [], new_story, new.fetched)
        daemon = _daemon(workdir, store, fetcher, {"WATCHER_RETENTION": "180d"})
        # SIGTERM arrives while the first batch commits
        sa.event.listen(engine, "commit", lambda _connection: daemon.stopping.set())
        daemon.prune()  # stops after that batch: nothing raised
        assert len(_external_ids(url)) == 2  # the second batch was never started
        daemon.prune()  # stopping: it does not start
        assert len(_external_ids(url)) == 2
