"""Several `watcher run` workers on one real PostgreSQL, polling feeds served on loopback and
alerting a local webhook: nothing polled twice per interval, stored twice or sent twice,
and a worker killed mid-poll on this host is taken over at once."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from tests.store.sql import rows
from tests.support.http_server import Reply, ScriptedServer
from tests.support.processes import WatcherProcess, start_watcher, stop_watchers
from tests.support.webhook import WebhookServer

WORDS = (
    "convoy", "checkpoint", "ministry", "council", "bridge", "harvest", "market", "school",
    "clinic", "river", "tribe", "border", "camp", "truck", "fuel", "bakery", "court", "mosque",
    "radio", "station", "village", "hill", "road", "garrison", "airport", "factory", "tunnel",
    "bread", "water", "cable", "prison", "office",
)
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


def feed_body(feed: int, items: int) -> bytes:
    rng = random.Random(feed)
    entries = "".join(item(feed, number, rng) for number in range(items))
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


def stored_and_sent(db: str, total: int) -> bool:
    """Every item stored as an article and its alert sent."""
    return (scalar(db, "SELECT count(*) FROM articles") == total
            and scalar(db, "SELECT count(*) FROM deliveries WHERE status = 'sent'") == total)


def scalar(db: str, query: str) -> int:
    return int(rows(db, query)[0][0] or 0)


@pytest.mark.parametrize("worker_count", [2, 4])
def test_workers_share_feeds_and_alerts_without_double_work(pg_url, tmp_path, worker_count):
    feeds_count, items = 200, 2
    with ScriptedServer() as feeds, WebhookServer() as hook:
        for n in range(feeds_count):
            feeds.route(f"/feed/{n}", Reply(200, feed_body(n, items)))
        configure(tmp_path, pg_url, feeds, feeds_count, hook.url())
        workers = [start_worker(tmp_path) for _ in range(worker_count)]
        try:
            total = feeds_count * items
            hook.wait_for_accepted(total, timeout=150)  # every item stored and alerted
        finally:
            logs = stop_watchers(workers)
        assert stored_and_sent(pg_url, total)  # each send recorded before its worker stopped
        requests = [r.path for r in feeds.requests]
        accepted = hook.accepted
    assert all(worker.returncode == 0 for worker in workers), logs
    assert sorted(requests) == sorted(f"/feed/{n}" for n in range(feeds_count))  # once each
    assert len(accepted) == total
    assert len({body["title"] + body["message"] for body in accepted}) == total
    assert scalar(pg_url, "SELECT count(*) FROM deliveries") == total
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
