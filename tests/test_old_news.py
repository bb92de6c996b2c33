"""No flood of old news (issue 17): a source's first poll is its baseline, and articles
published longer ago than max_age are stored and matched but not alerted, the reason shown
by `watcher matches`. `watcher run --once` polls a real feed server on 127.0.0.1 and sends
to a real SMTP server and webhook receiver there, on a clock the test moves."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.support.alerting import PASSWORD, THREE_RULES
from tests.support.helpers import ManualClock
from tests.support.http_server import Reply, ScriptedServer
from tests.support.smtp_server import SmtpServer
from tests.support.webhook import WebhookServer
from watcher.cli.main import cli
from watcher.store import Store

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
DISTRICTS = ("Sheikh Maqsoud", "Salaheddin", "Bustan al-Qasr", "Hanano", "Sukkari")


@pytest.fixture()
def feeds() -> Iterator[ScriptedServer]:
    with ScriptedServer() as server:
        yield server


def entry(guid: str, title: str, text: str, published: datetime | None) -> str:
    date = f"<pubDate>{format_datetime(published, usegmt=True)}</pubDate>" if published else ""
    return (f'<item><guid isPermaLink="false">{guid}</guid><title>{title}</title>'
            f"<link>http://127.0.0.1/a/{guid}</link>{date}<description>{text}</description>"
            "</item>")


def feed(*entries: str) -> Reply:
    return Reply(200, ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
                       f"<title>Wire</title>{''.join(entries)}</channel></rss>").encode())


def backlog(count: int) -> list[str]:
    """`count` old entries, from 2015 to 2017, that the three rules all match."""
    return [
        entry(f"old-{i}", f"Bomb blast in {DISTRICTS[i % 5]}, Aleppo ({2015 + i % 3})",
              f"A bomb hit the {DISTRICTS[i % 5]} district of Aleppo; {i + 2} people were "
              f"killed in Aleppo, report number {i}.", datetime(2015 + i % 3, 1 + i % 12, 3,
                                                               tzinfo=UTC))
        for i in range(count)
    ]


def fresh(guid: str, published: datetime | None) -> str:
    return entry(guid, "Bomb blast in Aleppo today",
                 "A car bomb hit the old city of Aleppo this morning; nine people were killed "
                 "in Aleppo, medics said.", published)


def configure(workdir: Path, url: str, smtp: SmtpServer, hook: WebhookServer,
              source_extra: str = "", extra: str = "") -> None:
    rules = workdir / "three.yaml"
    rules.write_text(THREE_RULES, encoding="utf-8")
    mail = (f"mailto://alerts:{PASSWORD}@127.0.0.1:{smtp.port}"
            "?to=ops@example.org&from=watcher@example.org")
    (workdir / "watcher.yaml").write_text(
        f"db: sqlite:///{workdir / 'watcher.db'}\nrules: {rules}\n"
        f"sources:\n  - name: wire\n    url: {url}\n{source_extra}"
        f"channels:\n  mail:\n    urls: ['{mail}']\n    default: true\n"
        f"  hook:\n    urls: ['{hook.url('/now')}']\n    default: true\n{extra}",
        encoding="utf-8")


def watcher(clock: ManualClock, *args: str) -> Result:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False, obj=clock.now)
    assert result.exit_code == 0, result.output
    return result


def stored_matches(clock: ManualClock) -> list[dict]:
    result = watcher(clock, "matches", "--format", "jsonl", "--limit", "1000")
    return [json.loads(line) for line in result.stdout.splitlines()]


def sent(clock: ManualClock) -> list[dict]:
    result = watcher(clock, "deliveries", "--format", "jsonl", "--limit", "1000")
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_a_new_sources_backlog_sends_nothing_then_a_new_entry_alerts_once_per_channel(
    workdir, feeds, smtp, hook
):
    clock = ManualClock(START)
    old = backlog(20)
    feeds.route("/feed", feed(*old))
    configure(workdir, feeds.url("/feed"), smtp, hook)
    watcher(clock, "run", "--once")
    articles = watcher(clock, "articles", "--format", "jsonl", "--limit", "100").stdout
    assert len(articles.splitlines()) == 20
    found = stored_matches(clock)
    assert len(found) == 60  # three rules on each of the 20
    assert {m["old_news"] for m in found} == {"baseline"}
    assert sent(clock) == [] and smtp.messages == [] and hook.bodies == []
    text = watcher(clock, "matches", "--limit", "1").stdout
    assert "not alerted: baseline (the source's first poll)" in text

    clock.advance(3600)
    feeds.route("/feed", feed(fresh("new-1", clock.now() - timedelta(minutes=5)), *old))
    watcher(clock, "run", "--once")
    news = [m for m in stored_matches(clock) if m["article"] == "new-1"]
    assert sorted(m["rule"] for m in news) == ["aleppo-blast", "aleppo-casualties",
                                               "aleppo-mention"]
    assert {m["old_news"] for m in news} == {None}
    (mail,) = smtp.wait_for(1)
    (post,) = hook.wait_for(1)  # the run has ended: nothing more is on its way
    assert mail.subject == post["title"] == "[CRITICAL] 3 rules: Bomb blast in Aleppo today"
    assert len(smtp.messages) == len(hook.bodies) == 1
    assert {(d["article"], d["status"]) for d in sent(clock)} == {("new-1", "sent")}


def test_an_entry_published_days_ago_is_stored_and_matched_but_not_alerted(
    workdir, feeds, smtp, hook
):
    """An entry of a later poll published 5 days ago (max_age 3d by default) is old news;
    one without a published time is not: nothing says it is old."""
    clock = ManualClock(START)
    feeds.route("/feed", feed(*backlog(1)))
    configure(workdir, feeds.url("/feed"), smtp, hook)
    watcher(clock, "run", "--once")  # the baseline
    clock.advance(3600)
    feeds.route("/feed", feed(fresh("late", clock.now() - timedelta(days=5)),
                              entry("undated", "Shelling in Aleppo",
                                    "Shelling killed two people in Aleppo.", None)))
    watcher(clock, "run", "--once")
    late = [m for m in stored_matches(clock) if m["article"] == "late"]
    assert len(late) == 3 and {m["old_news"] for m in late} == {"too old"}
    assert {m["notified"] == [] for m in late} == {True}
    assert "not alerted: too old" in watcher(clock, "matches", "--rule", "aleppo-blast").stdout
    assert {d["article"] for d in sent(clock)} == {"undated"}
    (mail,) = smtp.wait_for(1)
    assert "Shelling in Aleppo" in mail.subject and len(hook.bodies) == 1


def test_max_age_of_a_source_replaces_the_top_level_one_and_0_turns_it_off(
    workdir, feeds, smtp, hook
):
    clock = ManualClock(START)
    feeds.route("/feed", feed(fresh("week-old", START - timedelta(days=7))))
    configure(workdir, feeds.url("/feed"), smtp, hook,
              source_extra="    first_poll: alert\n    max_age: 0\n", extra="max_age: 1h\n")
    watcher(clock, "run", "--once")
    assert {m["old_news"] for m in stored_matches(clock)} == {None}
    assert {d["article"] for d in sent(clock)} == {"week-old"}
    assert len(smtp.wait_for(1)) == 1


def test_first_poll_alert_alerts_the_first_polls_entries(workdir, feeds, smtp, hook):
    clock = ManualClock(START)
    feeds.route("/feed", feed(fresh("n-1", START - timedelta(hours=2)), *backlog(2)))
    configure(workdir, feeds.url("/feed"), smtp, hook, source_extra="    first_poll: alert\n")
    watcher(clock, "run", "--once")
    reasons = {m["article"]: m["old_news"] for m in stored_matches(clock)}
    assert reasons == {"n-1": None, "old-0": "too old", "old-1": "too old"}
    assert {d["article"] for d in sent(clock)} == {"n-1"}
    (mail,) = smtp.wait_for(1)
    assert mail.subject == "[CRITICAL] 3 rules: Bomb blast in Aleppo today"


def test_an_existing_database_upgraded_keeps_alerting_its_sources(workdir, feeds, smtp, hook):
    """A source polled before the upgrade had its first poll then: the migration records
    it as its baseline, so its next entries alert."""
    clock = ManualClock(START)
    url = feeds.url("/feed")
    db = workdir / "watcher.db"
    with Store.open(f"sqlite:///{db}", migrate_to_head=False) as store:
        store.upgrade("0006")
    with sqlite3.connect(db) as connection:
        connection.execute(
            "INSERT INTO sources (name, url, config_url, last_poll, last_success, new_items, "
            "error_count) VALUES ('wire', ?, ?, '2026-03-01 11:00:00', '2026-03-01 11:00:00', "
            "4, 0)", (url, url))
    connection.close()
    feeds.route("/feed", feed(fresh("n-1", START - timedelta(minutes=10))))
    configure(workdir, url, smtp, hook)
    watcher(clock, "run", "--once")
    assert {m["old_news"] for m in stored_matches(clock)} == {None}
    assert {d["article"] for d in sent(clock)} == {"n-1"}
    (mail,) = smtp.wait_for(1)
    assert mail.subject == "[CRITICAL] 3 rules: Bomb blast in Aleppo today"


def test_a_changed_source_url_is_a_new_feed_whose_first_poll_is_a_baseline(
    workdir, feeds, smtp, hook
):
    clock = ManualClock(START)
    feeds.route("/feed", feed(*backlog(1)))
    feeds.route("/other", feed(fresh("other-1", START - timedelta(minutes=10))))
    configure(workdir, feeds.url("/feed"), smtp, hook)
    watcher(clock, "run", "--once")
    clock.advance(3600)
    configure(workdir, feeds.url("/other"), smtp, hook)
    watcher(clock, "run", "--once")
    assert {m["old_news"] for m in stored_matches(clock)} == {"baseline"}
    assert sent(clock) == []


def test_replay_ignores_max_age_unless_asked(workdir, smtp, hook):
    """Replay is no source's poll (no baseline) and its seeds are old by nature: it alerts
    them as if just arrived, unless --max-age says how old is too old."""
    clock = ManualClock(START)
    configure(workdir, "http://127.0.0.1:9/feed", smtp, hook)
    old = {"id": "s-1", "title": "Bomb blast in Aleppo", "published": "2016-05-01T10:00:00Z",
           "text": "A bomb hit Aleppo on Monday; six people were killed in Aleppo."}
    older = {**old, "id": "s-2", "title": "Car bomb in Aleppo",
             "text": "A car bomb exploded near the citadel of Aleppo; four were killed in Aleppo."}
    limited = CliRunner().invoke(cli, ["replay", "--no-notify", "--format", "jsonl",
                                       "--max-age", "3d", "-"], input=json.dumps(older) + "\n",
                                 catch_exceptions=False, obj=clock.now)
    assert limited.exit_code == 0, limited.output
    assert limited.stdout == ""
    assert {m["old_news"] for m in stored_matches(clock)} == {"too old"}
    replayed = CliRunner().invoke(cli, ["replay", "--no-notify", "--format", "jsonl", "-"],
                                  input=json.dumps(old) + "\n", catch_exceptions=False,
                                  obj=clock.now)
    assert replayed.exit_code == 0, replayed.output
    assert len(replayed.stdout.splitlines()) == 3
