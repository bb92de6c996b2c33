"""Several `watcher run` workers on one real PostgreSQL, polling feeds served on loopback and
alerting a local webhook: nothing polled twice per interval, stored twice or sent twice,
copies of one story in several feeds grouped and alerted as a serial run does, and a
worker killed mid-poll on this host is taken over at once."""

from __future__ import annotations

import random
from collections import defaultdict
from pathlib import Path

import pytest

from tests.store.sql import rows
from tests.support.http_server import Reply, ScriptedServer
from tests.support.processes import (
    WatcherProcess,
    start_watcher,
    stop_watchers,
    wait_for_lines,
)
from tests.support.webhook import WebhookServer

WORDS = (
    "convoy", "checkpoint", "ministry", "council", "bridge", "harvest", "market", "school",
    "clinic", "river", "tribe", "border", "camp", "truck", "fuel", "bakery", "court", "mosque",
    "radio", "station", "village", "hill", "road", "garrison", "airport", "factory", "tunnel",
    "bread", "water", "cable", "prison", "office",
)
FEEDS, ITEMS, COPIES = 200, 2, 4  # the shared-feeds tests: each wire story in 4 feeds
STORIES = FEEDS * (ITEMS - 1) + FEEDS // COPIES
RULES = """
rules:
  - id: siege
    title: Sieges anywhere
    query: siege
    severity: high
"""


def item(feed: int, number: int, rng: random.Random) -> str:
    """One RSS item whose text no other item shares (each is its own story)."""
    words = " ".join(rng.choice(WORDS) for _ in range(40))
    return (f"<item><guid isPermaLink='false'>f{feed}-i{number}</guid>"
            f"<title>Siege report {feed}-{number}</title>"
            f"<link>http://127.0.0.1/a/{feed}/{number}</link>"
            f"<description>Forces imposed a siege on district {feed}-{number}. {words}."
            "</description></item>")


def wire_copy(feed: int, number: int, wire: int) -> str:
    """An outlet's copy of wire story `wire`: the wire's text under the outlet's dateline,
    an article of its own (its own guid, link and text) in the wire story's story."""
    rng = random.Random(f"wire-{wire}")
    words = " ".join(rng.choice(WORDS) for _ in range(40))
    return (f"<item><guid isPermaLink='false'>f{feed}-i{number}</guid>"
            f"<title>Siege report from the wire {wire}</title>"
            f"<link>http://127.0.0.1/a/{feed}/{number}</link>"
            f"<description>Outlet {feed} -- Forces imposed a siege on wire district {wire}. "
            f"{words}.</description></item>")


def feed_body(feed: int, items: int, *, syndicated: bool = False) -> bytes:
    """`items` items of stories of their own; when `syndicated`, the last is a copy of the
    wire story that COPIES neighbouring feeds carry."""
    rng = random.Random(feed)
    own = items - 1 if syndicated else items
    entries = "".join(item(feed, number, rng) for number in range(own))
    if syndicated:
        entries += wire_copy(feed, items - 1, feed // COPIES)
    return (f"<?xml version='1.0'?><rss version='2.0'><channel><title>Feed {feed}</title>"
            f"<link>http://127.0.0.1/</link>{entries}</channel></rss>").encode()


def configure(directory: Path, db: str, feeds: ScriptedServer, count: int, hook: str,
              *, lease: str = "30s") -> None:
    """Workers polling `count` feeds every 2 minutes and alerting `hook`; `lease` for
    both polls and deliveries."""
    (directory / "rules.yaml").write_text(RULES, encoding="utf-8")
    sources = "".join(f"  - name: feed-{n}\n    url: {feeds.url(f'/feed/{n}')}\n    every: 2m\n"
                      "    first_poll: alert\n" for n in range(count))
    (directory / "watcher.yaml").write_text(
        f"db: {db}\nrules: {directory / 'rules.yaml'}\nsources:\n{sources}"
        f"poll_lease: {lease}\n"
        f"channels:\n  hook:\n    urls: ['{hook}']\n    default: true\n"
        "notify:\n  every: 1s\n  retry_delay: 1s\n  max_retry_delay: 2s\n  max_attempts: 1000\n"
        f"  lease: {lease}\n", encoding="utf-8")


def start_worker(directory: Path) -> WatcherProcess:
    return start_watcher("--config", str(directory / "watcher.yaml"), "run", cwd=directory)


def stored_and_sent(db: str, articles: int, alerts: int | None = None) -> bool:
    """Every item stored as an article and every alert sent (by default one per article)."""
    alerts = articles if alerts is None else alerts
    return (scalar(db, "SELECT count(*) FROM articles") == articles
            and scalar(db, "SELECT count(*) FROM deliveries WHERE status = 'sent'") == alerts)


def scalar(db: str, query: str) -> int:
    return int(rows(db, query)[0][0] or 0)


Stories = list[tuple[str, ...]]
Alerts = list[tuple[str, tuple[str, ...], str]]


def stories_and_alerts(db: str) -> tuple[Stories, Alerts]:
    """Each story as the guids of its articles, and each queued alert as its rule, its
    story and its channel: what a run stored, whatever order the articles came in."""
    members: dict[int, list[str]] = defaultdict(list)
    for story, guid in rows(db, "SELECT story_id, external_id FROM articles"):
        members[story].append(guid)
    alerts = rows(db, "SELECT m.rule_id, m.story_id, d.channel FROM deliveries d "
                      "JOIN matches m ON m.id = d.match_id")
    return (sorted(tuple(sorted(guids)) for guids in members.values()),
            sorted((rule, tuple(sorted(members[story])), channel)
                   for rule, story, channel in alerts))


def serve_feeds(feeds: ScriptedServer) -> None:
    for n in range(FEEDS):
        feeds.route(f"/feed/{n}", Reply(200, feed_body(n, ITEMS, syndicated=True)))


@pytest.fixture(scope="module")
def serial_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Stories, Alerts]:
    """The same feeds stored one article at a time: `watcher run --once` on SQLite, whose
    ingests take turns (BEGIN IMMEDIATE), as PostgreSQL's did under one global lock."""
    directory = tmp_path_factory.mktemp("serial")
    db = f"sqlite:///{directory / 'watcher.db'}"
    with ScriptedServer() as feeds, WebhookServer() as hook:
        serve_feeds(feeds)
        configure(directory, db, feeds, FEEDS, hook.url())
        run = start_watcher("--config", str(directory / "watcher.yaml"), "run", "--once",
                            cwd=directory)
        _, log = run.communicate(timeout=600)
    assert run.returncode == 0, log
    stories, alerts = stories_and_alerts(db)
    assert len(stories) == len(alerts) == STORIES  # the copies grouped, one alert each
    return stories, alerts


@pytest.mark.parametrize("worker_count", [2, 4])
def test_workers_share_feeds_and_alerts_without_double_work(
    pg_url: str, tmp_path: Path, worker_count: int, serial_run: tuple[Stories, Alerts],
) -> None:
    """Each wire story reaches several workers at once: its copies still make one story
    with one alert, the same stories and alerts as the serial run."""
    with ScriptedServer() as feeds, WebhookServer() as hook:
        serve_feeds(feeds)
        configure(tmp_path, pg_url, feeds, FEEDS, hook.url())
        workers = [start_worker(tmp_path) for _ in range(worker_count)]
        try:
            wait_for_lines([worker.errors for worker in workers],  # each feed polled
                           " outcome=ok ", FEEDS, timeout=150)
            hook.wait_for_accepted(STORIES, timeout=150)  # every story alerted
        finally:
            logs = stop_watchers(workers)
        assert stored_and_sent(pg_url, FEEDS * ITEMS, STORIES)  # sends recorded before stops
        requests = [r.path for r in feeds.requests]
        accepted = hook.accepted
    assert all(worker.returncode == 0 for worker in workers), logs
    assert sorted(requests) == sorted(f"/feed/{n}" for n in range(FEEDS))  # once each
    assert len(accepted) == STORIES
    assert len({body["title"] + body["message"] for body in accepted}) == STORIES
    assert stories_and_alerts(pg_url) == serial_run
    polled_by = sum("event=poll source=" in log and "outcome=ok" in log for log in logs)
    assert polled_by >= 2  # the work was shared, not done by one worker alone


def test_a_worker_killed_on_this_host_is_taken_over_at_once(pg_url, tmp_path):
    """Its claims name this host and its pid, which is gone: the next worker takes its
    poll and alerts over without waiting out their 10-minute leases (a worker on another
    host cannot be checked, so there the lease runs out: tests/store/)."""
    feeds_count, items = 20, 2
    with ScriptedServer() as feeds, WebhookServer() as hook:
        for n in range(1, feeds_count):
            feeds.route(f"/feed/{n}", Reply(200, feed_body(n, items)))
        stalled = Reply(200, feed_body(0, items), chunk_size=16, pause=5.0)  # holds its poll
        feeds.route("/feed/0", stalled, Reply(200, feed_body(0, items)))
        hook.answer(500)  # the first worker's alerts stay pending
        configure(tmp_path, pg_url, feeds, feeds_count, hook.url(), lease="10m")
        first = start_worker(tmp_path)
        try:  # mid-poll of feed-0 (its claim is written before it asks), the others stored
            feeds.wait_for_requests("/feed/0", 1)
            first.errors.wait_for(f" outcome=ok new_articles={items} ", count=feeds_count - 1)
            assert scalar(pg_url, "SELECT count(*) FROM sources WHERE name = 'feed-0' "
                                  "AND poll_owner IS NOT NULL") == 1
            assert scalar(pg_url, "SELECT count(*) FROM articles") == (feeds_count - 1) * items
        finally:
            first.kill()  # SIGKILL: no cleanup, its claims stay in the database
            first.communicate()
        hook.answer(200)
        second = start_worker(tmp_path)
        try:
            total = feeds_count * items
            # the stalled feed taken over and every alert sent
            hook.wait_for_accepted(total, timeout=120)
        finally:
            logs = stop_watchers([second])
        assert stored_and_sent(pg_url, total)  # each send recorded before the worker stopped
        requests = [r.path for r in feeds.requests]
        accepted = hook.accepted
    assert second.returncode == 0, logs
    assert requests.count("/feed/0") == 2  # the killed worker's poll, then the takeover
    assert all(requests.count(f"/feed/{n}") == 1 for n in range(1, feeds_count))
    assert len(accepted) == total == len({b["title"] + b["message"] for b in accepted})
    assert f"reason='process {first.pid} is gone'" in logs[0]
