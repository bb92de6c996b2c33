"""The outbox sender in process, with a clock the test moves: digests, retries, channels
with several URLs, removed channels, parallel sends, stopping, a store that cannot record
a send, and the identity every attempt of a message carries. Real webhooks and SMTP on
loopback, real SQLite and PostgreSQL."""

from __future__ import annotations

import http.client
import logging
import random
import re
import sqlite3
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from apprise.plugins.discord import NotifyDiscord

from tests.store.builders import NOW, new_article, new_match, new_story
from tests.support.postgres import postgres_server
from tests.support.smtp_server import SmtpServer
from tests.support.webhook import RecordingServer, WebhookServer
from watcher.daemon.health import HealthServer
from watcher.daemon.metrics import Metrics
from watcher.daemon.probes import DatabaseCheck, all_of
from watcher.model import Severity
from watcher.notify.channels import CHAT_DIGEST_PARTS, Channel
from watcher.notify.digest import next_digest
from watcher.notify.outbox import Destination, Outbox, RetryPolicy
from watcher.notify.render import Renderer
from watcher.store import Store

RENDERER = Renderer()


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(f"sqlite:///{tmp_path / 'watcher.db'}") as opened:
        yield opened


@pytest.fixture
def hooks() -> Iterator[tuple[WebhookServer, WebhookServer]]:
    with WebhookServer() as first, WebhookServer() as second:
        yield first, second


def outbox(store: Store, clock: Clock, channels: dict[str, Destination], **options) -> Outbox:
    return Outbox(store=store, destinations=channels, renderer=RENDERER, now=clock,
                  policy=options.pop("policy", RetryPolicy(5, 60, 600)),
                  rng=random.Random(7), **options)


def to(name: str, *urls: str, digest: int | str | None = None) -> dict[str, Destination]:
    return {name: Destination(Channel.from_urls(name, urls), digest)}


def queue(store: Store, count: int, *, channel: str = "ops", due: datetime | None = None,
          rule: str = "siege") -> None:
    for number in range(count):
        new = new_article(f"{rule}-{number}")
        store.ingest(new, [new_match(new, rule, channels=(channel,), due=due)], new_story, NOW)


def test_a_digest_waits_for_its_boundary_then_is_one_message(store, hooks):
    hook, _ = hooks
    clock = Clock()
    boundary = next_digest(3600, NOW)
    queue(store, 3, channel="digest", due=boundary)
    queue(store, 2, channel="digest", due=boundary, rule="strike")
    sender = outbox(store, clock, to("digest", hook.url(), digest=3600))
    assert sender.send_due().sent == 0
    clock.now = boundary
    assert sender.send_due().sent == 5
    (message,) = hook.wait_for(1)
    assert "5 alerts" in message["title"] and "2 rules" in message["title"]
    assert message["message"].index("Rule siege") < message["message"].index("Rule strike")
    assert sender.send_due().sent == 0
    assert len(hook.bodies) == 1


def test_a_url_that_took_the_alert_does_not_get_it_again_on_retry(store, hooks):
    good, flaky = hooks
    clock = Clock()
    flaky.answer(500)
    queue(store, 1)
    sender = outbox(store, clock, to("ops", good.url(), flaky.url()))
    report = sender.send_due()
    assert (report.sent, report.retrying) == (0, 1)
    assert "500" in report.errors[0]
    flaky.answer(200)
    clock.now += timedelta(seconds=60)  # the first retry waits 30-60 s
    assert sender.send_due().sent == 1
    assert (len(good.bodies), len(flaky.bodies)) == (1, 2)
    (sent,) = store.deliveries()
    assert (sent.status, sent.attempts) == ("sent", 2)


def test_retries_back_off_and_the_last_failure_is_dead(store, hooks):
    hook, _ = hooks
    clock = Clock()
    hook.answer(503)
    queue(store, 1)
    sender = outbox(store, clock, to("ops", hook.url()), policy=RetryPolicy(3, 10, 15))
    waits = []
    for _ in range(3):
        report = sender.send_due()
        assert report.retrying + report.dead == 1
        pending = store.deliveries()[0]
        waits.append(pending.next_attempt - clock.now)
        assert sender.send_due().sent + sender.send_due().retrying == 0  # not due yet
        clock.now = pending.next_attempt
    (dead,) = store.deliveries(status="dead")
    assert dead.attempts == 3 and "503" in (dead.last_error or "")
    assert timedelta(seconds=5) <= waits[0] <= timedelta(seconds=10)
    assert timedelta(seconds=7.5) <= waits[1] <= timedelta(seconds=15)  # doubled, capped
    assert len(hook.bodies) == 3


def test_retry_policy_doubles_with_jitter_up_to_the_cap():
    policy, rng = RetryPolicy(max_attempts=6, first_delay=60, max_delay=300), random.Random(1)
    for attempts, cap in [(1, 60), (2, 120), (3, 240), (4, 300), (5, 300)]:
        for _ in range(50):
            retry_at = policy.retry_at(attempts, NOW, rng)
            assert retry_at is not None
            assert timedelta(seconds=cap / 2) <= retry_at - NOW <= timedelta(seconds=cap)
    assert policy.retry_at(6, NOW, rng) is None


def test_a_channel_this_sender_does_not_know_is_left_to_one_that_does(store, hooks):
    """A rollout adding channel `new`, or a command run with a partial config."""
    hook, _ = hooks
    queue(store, 1, channel="new")
    assert outbox(store, Clock(), to("ops", hook.url())).send_due().sent == 0
    (waiting,) = store.deliveries()
    assert (waiting.status, waiting.attempts) == ("pending", 0)
    assert outbox(store, Clock(), to("new", hook.url())).send_due().sent == 1


def test_a_crash_while_sending_counts_as_a_failed_attempt(store, hooks):
    hook, _ = hooks

    class BrokenRenderer(Renderer):
        """Renders its start-up samples, then fails as a bug in a template filter would."""

        broken = False

        def render_alert(self, alert, fmt):
            if self.broken:
                raise RuntimeError("a bug")
            return super().render_alert(alert, fmt)

    renderer = BrokenRenderer()
    renderer.broken = True
    queue(store, 1)
    sender = Outbox(store=store, destinations=to("ops", hook.url()), renderer=renderer,
                    now=Clock(), policy=RetryPolicy(1, 60, 60))
    assert sender.send_due().dead == 1
    (dead,) = store.deliveries(status="dead")
    assert dead.last_error == "internal error: RuntimeError"


def test_a_digests_fresh_alerts_do_not_die_with_old_ones(store, hooks):
    hook, _ = hooks
    clock = Clock()
    hook.answer(500)
    queue(store, 1, channel="digest")
    sender = outbox(store, clock, to("digest", hook.url(), digest=3600),
                    policy=RetryPolicy(2, 10, 10))
    sender.flush()  # the old alert's first attempt
    queue(store, 1, channel="digest", rule="strike")  # a fresh one
    report = sender.flush()  # one digest of both: the old one's last attempt
    assert (report.dead, report.retrying) == (1, 1)
    assert [d.rule_id for d in store.deliveries(status="pending")] == ["strike"]


def test_parallel_sends_deliver_each_alert_once(store, hooks):
    hook, _ = hooks
    queue(store, 40)
    report = outbox(store, Clock(), to("ops", hook.url()), concurrency=8).send_due()
    assert report.sent == 40
    bodies = hook.wait_for(40)
    assert len(bodies) == 40
    assert len({body["title"] + body["message"] for body in bodies}) == 40


def test_two_senders_at_once_deliver_each_alert_once(store, hooks):
    hook, _ = hooks
    queue(store, 30)
    senders = [outbox(store, Clock(), to("ops", hook.url()), concurrency=4) for _ in range(2)]
    reports = []
    threads = [threading.Thread(target=lambda s=s: reports.append(s.send_due()))
               for s in senders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(report.sent for report in reports) == 30
    assert len(hook.wait_for(30)) == 30


def test_a_stopping_sender_gives_its_claims_back(store, hooks):
    hook, _ = hooks
    queue(store, 3)
    stopping = threading.Event()
    stopping.set()
    sender = outbox(store, Clock(), to("ops", hook.url()), stopping=stopping)
    assert sender.send_due().sent == 0
    assert hook.bodies == []
    other = outbox(store, Clock(), to("ops", hook.url()))
    assert other.send_due().sent == 3  # no lease to wait out


# -- a send the store cannot record (issue 15 #6) ------------------------------------------


class Pauses:
    """The sender's pause between attempts to record an outcome: says it is pausing, runs
    `meanwhile` (the test's part: look at the sender, mend the store), returns at once."""

    def __init__(self, meanwhile: Callable[[], None]) -> None:
        self.meanwhile = meanwhile
        self.seconds: list[float] = []

    def __call__(self, seconds: float) -> bool:
        self.seconds.append(seconds)
        self.meanwhile()
        return False


def probe(store: Store, sender: Outbox) -> tuple[int, str]:
    """GET /healthz of an endpoint with the daemon's store checks (watcher/cli/run.py)."""
    checks = all_of(DatabaseCheck(store.ping), sender.recording_health)
    metrics = Metrics(queue_depth=lambda: 0, last_successes=dict, now=Clock())
    with HealthServer("127.0.0.1", 0, metrics=metrics, healthy=checks) as server:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        try:
            connection.request("GET", "/healthz")
            answer = connection.getresponse()
            return answer.status, answer.read().decode()
        finally:
            connection.close()


def send_in_thread(sender: Outbox) -> tuple[threading.Thread, list]:
    reports: list = []
    thread = threading.Thread(target=lambda: reports.append(sender.send_due()))
    thread.start()
    return thread, reports


def test_a_send_the_store_cannot_record_is_recorded_later_and_never_sent_again(
    tmp_path: Path, hooks
) -> None:
    """Another process holds SQLite's write lock past the busy timeout just as the webhook
    takes the alert: the sender keeps the outcome, says so (what /healthz shows), writes it
    again after a pause instead of sending again, and only then sends the next alert."""
    hook, _ = hooks
    db = tmp_path / "watcher.db"
    clock, health = Clock(), []
    with Store.open(f"sqlite:///{db}", busy_timeout=0.2) as store:
        queue(store, 2)
        other = sqlite3.connect(db, isolation_level=None, check_same_thread=False)

        def look_then_let_go() -> None:
            health.append(probe(store, sender))
            health.append(len(hook.bodies))
            other.rollback()

        pauses = Pauses(look_then_let_go)
        sender = outbox(store, clock, to("ops", hook.url()), concurrency=1, timeout=30,
                        pause=pauses)
        hook.hold()
        thread, reports = send_in_thread(sender)
        hook.wait_for(1)
        other.execute("BEGIN IMMEDIATE")  # the first send's record waits 0.2 s, then fails
        hook.release()
        thread.join(30)
        other.close()
        assert [report.sent for report in reports] == [2]
        assert [(d.status, d.attempts) for d in store.deliveries()] == [("sent", 1)] * 2
        clock.now += timedelta(minutes=30)  # well past the lease: nothing left to send
        assert outbox(store, clock, to("ops", hook.url())).send_due().sent == 0
        assert len(hook.bodies) == 2
        assert len({body["title"] for body in hook.bodies}) == 2
        assert pauses.seconds == [0.5]
        status, reason = health[0]  # the database answers reads, yet /healthz is 503
        assert status == 503
        assert reason.startswith("store: cannot record deliveries: 1 outcome(s) not yet recorded: ")
        assert "locked by another process" in reason and reason.count("\n") == 1
        for part in (str(db), str(tmp_path), "watcher.db", "sqlite:", "database sqlite"):
            assert part not in reason  # anyone who reaches /healthz reads it
        assert health[1] == 1  # the second alert waited for the first one's record
        assert probe(store, sender) == (200, "ok\n")


class Logged(logging.Handler):
    """Sets `event` once the sender logs a line containing `text` (what an operator sees)."""

    def __init__(self, text: str) -> None:
        super().__init__(logging.INFO)
        self.text, self.event = text, threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if self.text in record.getMessage():
            self.event.set()


def test_healthz_stays_503_until_every_refused_outcome_is_recorded(
    tmp_path: Path, hooks, caplog
) -> None:
    """Two sends whose records the store refused: once one of them is recorded, the other
    still waits in memory, so /healthz must not read healthy yet."""
    hook, _ = hooks
    db = tmp_path / "watcher.db"
    caplog.set_level(logging.INFO, logger="watcher.outbox")
    one_recorded = Logged("event=sent channel=ops deliveries=1")
    logging.getLogger("watcher.outbox").addHandler(one_recorded)
    health: list[tuple[int, str]] = []
    arrivals = iter(["first", "second"])

    def held() -> None:
        if next(arrivals) == "second":  # both outcomes held now: let this one be written
            health.append(probe(store, sender))
            other.rollback()
        else:  # wait until the other one is recorded, look, then be written
            assert one_recorded.event.wait(30)
            health.append(probe(store, sender))

    try:
        with Store.open(f"sqlite:///{db}", busy_timeout=0.2) as store:
            queue(store, 2)
            other = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
            sender = outbox(store, Clock(), to("ops", hook.url()), concurrency=2, timeout=30,
                            pause=Pauses(held))
            hook.hold()
            thread, reports = send_in_thread(sender)
            hook.wait_for(2)
            other.execute("BEGIN IMMEDIATE")  # both records wait 0.2 s, then fail
            hook.release()
            thread.join(30)
            other.close()
            assert [report.sent for report in reports] == [2]
            assert [status for status, _ in health] == [503, 503]
            assert "2 outcome(s) not yet recorded" in health[0][1]
            assert "1 outcome(s) not yet recorded" in health[1][1]
            assert probe(store, sender) == (200, "ok\n")
    finally:
        logging.getLogger("watcher.outbox").removeHandler(one_recorded)


def test_a_send_recorded_across_a_postgresql_restart_arrives_once(hooks) -> None:
    """PostgreSQL stopped while the webhook takes the alert, started again during the
    sender's pause: the record is written then, and nothing is sent twice."""
    hook, _ = hooks
    clock = Clock()
    with postgres_server() as postgres, Store.open(postgres.url) as store:
        queue(store, 3)
        pauses = Pauses(postgres.resume)
        sender = outbox(store, clock, to("ops", hook.url()), concurrency=1, timeout=30,
                        pause=pauses)
        hook.hold(after=1)
        thread, reports = send_in_thread(sender)
        hook.wait_for(2)
        postgres.stop()
        hook.release()
        thread.join(60)
        assert [report.sent for report in reports] == [3]
        assert [d.status for d in store.deliveries()] == ["sent"] * 3
        clock.now += timedelta(minutes=30)
        assert outbox(store, clock, to("ops", hook.url())).send_due().sent == 0
        assert len(pauses.seconds) == 1
    assert len(hook.bodies) == 3
    assert len({body["title"] for body in hook.bodies}) == 3


def test_a_sender_stopped_while_the_store_refuses_gives_the_outcome_up_and_says_so(
    tmp_path: Path, hooks, caplog
) -> None:
    """A stop ends the wait for the store: the alert was sent, its record is lost, and
    the error says so (it is sent again once its lease runs out)."""
    hook, _ = hooks
    db = tmp_path / "watcher.db"
    with Store.open(f"sqlite:///{db}", busy_timeout=0.2) as store:
        queue(store, 1)
        stopping = threading.Event()
        sender = outbox(store, Clock(), to("ops", hook.url()), timeout=30, stopping=stopping,
                        pause=Pauses(stopping.set))
        other = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
        hook.hold()
        thread, reports = send_in_thread(sender)
        hook.wait_for(1)
        other.execute("BEGIN IMMEDIATE")  # held until the sender gave up
        hook.release()
        thread.join(30)
        other.close()
    (report,) = reports
    assert report.sent == 0
    assert report.errors[0].startswith("ops: sent, but not recorded (sent again later): database ")
    assert "event=outcome_not_recorded channel=ops deliveries=1 outcome=sent" in caplog.text
    assert len(hook.bodies) == 1


# -- one identity for every attempt of a message (issue 15 #7) -----------------------------


def test_every_attempt_of_a_webhook_alert_carries_the_same_id_and_idempotency_key(
    store, hooks
) -> None:
    hook, _ = hooks
    clock = Clock()
    queue(store, 2)
    hook.answer(500)
    sender = outbox(store, clock, to("ops", hook.url()))
    assert sender.send_due().retrying == 2
    hook.answer(200)
    clock.now += timedelta(minutes=5)
    assert sender.send_due().sent == 2
    ids = [body["id"] for body in hook.bodies]
    assert [headers["idempotency-key"] for headers in hook.headers] == ids
    assert sorted(Counter(ids).values()) == [2, 2]  # two alerts, two attempts each
    assert all(i.startswith("watcher-delivery-") for i in ids)
    first, second = (body for body in hook.bodies[:2])
    assert {b["title"] for b in hook.bodies if b["id"] == first["id"]} == {first["title"]}
    assert first["id"] != second["id"]


def test_every_attempt_of_a_mail_carries_the_same_message_id(store) -> None:
    clock = Clock()
    queue(store, 2)
    with SmtpServer("alerts", "pw") as smtp:
        url = (f"mailto://alerts:pw@127.0.0.1:{smtp.port}"
               "?to=ops@example.org&from=watcher@example.org")
        smtp.refuse(2)
        sender = outbox(store, clock, to("ops", url), timeout=30)
        assert sender.send_due().retrying == 2
        clock.now += timedelta(minutes=5)
        assert sender.send_due().sent == 2
        refused = {mail.subject: mail.message_id for mail in smtp.refused}
        sent = {mail.subject: mail.message_id for mail in smtp.messages}
    assert refused == sent and len(sent) == 2
    assert len(set(sent.values())) == 2
    assert all(value.startswith("<watcher-delivery-") and value.endswith("@127.0.0.1>")
               for value in sent.values())


def test_a_digest_is_named_by_the_alerts_it_carries(store, hooks) -> None:
    hook, _ = hooks
    queue(store, 2, channel="digest")
    hook.answer(500)
    sender = outbox(store, Clock(), to("digest", hook.url(), digest=3600))
    sender.flush()
    hook.answer(200)
    sender.flush()
    first, second = hook.bodies
    assert first["id"] == second["id"] and first["id"].startswith("watcher-digest-")


def test_an_article_with_a_6_mb_title_makes_a_mail_a_1_mb_server_takes(store):
    title = "Shelling near Kharkiv " * 300_000  # 6.6 MB, under the 10 MiB feed limit
    new = new_article("huge", title=title)
    store.ingest(new, [new_match(new)], new_story, NOW)
    with SmtpServer("alice", "pw", size_limit=1_000_000) as smtp:
        url = (f"mailto://alice:pw@127.0.0.1:{smtp.port}"
               "?to=ops@example.org&from=watcher@example.org")
        report = outbox(store, Clock(), to("ops", url)).send_due()
        assert (report.sent, report.errors) == (1, [])
        [mail] = smtp.wait_for(1)
    assert mail.subject.startswith("[HIGH] Rule siege: Shelling near") and len(mail.subject) <= 78
    assert mail.html is not None and len(mail.html) < 10_000
    shown = mail.html.split('<a href="https://example.org/huge">')[1].split("</a>")[0]
    assert shown.endswith(" near…") and len(shown) <= 300  # the title, cut at a word
    assert title.startswith(shown.removesuffix("…"))


def test_a_digest_burst_on_discord_lists_every_alert_once_across_messages(
    store, monkeypatch
):
    """300 alerts are far more than one Discord digest lists (five 2,000-character posts):
    every one of them reaches the channel in the same drain, each exactly once, in several
    digest messages of at most five posts each; none is recorded sent without being shown."""
    boundary = next_digest(3600, NOW)
    queue(store, 300, channel="digest", due=boundary)
    with RecordingServer() as discord:
        monkeypatch.setattr(NotifyDiscord, "notify_url", f"{discord.base}/api/webhooks")
        clock = Clock()
        clock.now = boundary
        url = "discord://4174216298/JHMHI8qBe7bk2ZwO5U711o3dV_js"
        assert outbox(store, clock, to("digest", url, digest=3600)).send_due().sent == 300
        posts = [posted.json()["content"] for posted in discord.received]
    assert all(len(post) <= 2000 for post in posts)
    messages = digest_messages(posts)
    assert len(messages) > 1 and all(len(parts) <= CHAT_DIGEST_PARTS for parts in messages)
    shown = [int(n) for n in re.findall(r"Title of siege\\-(\d+)\]", "".join(posts))]
    assert sorted(shown) == list(range(300))  # each alert in exactly one message
    assert "watcher digest: 300 alerts" in messages[0][0]
    assert all("Continued in the next message" in parts[-1] for parts in messages[:-1])
    assert "Continued" not in messages[-1][-1]
    assert [d.status for d in store.deliveries()] == ["sent"] * 300


def digest_messages(posts: list[str]) -> list[list[str]]:
    """Discord posts grouped into the digest messages they are parts of (`[1/N]` …)."""
    messages: list[list[str]] = []
    for post in posts:
        part = re.search(r"\[(\d+)/\d+\]", post.split("\n", 1)[0])
        if part is None or part.group(1) == "1":
            messages.append([])
        messages[-1].append(post)
    return messages


def test_a_digest_alert_is_recorded_sent_only_once_a_message_showed_it(store, hooks):
    """A webhook that takes two digest messages and fails the third: the alerts the first
    two listed are sent (the first's as soon as it returned), the others retried later
    (none recorded sent unseen), and the retry brings each of them exactly once."""
    hook, _ = hooks
    clock = Clock()
    boundary = next_digest(3600, NOW)
    clock.now = boundary
    queue(store, 30, channel="digest", due=boundary)
    (target,) = Channel.from_urls("digest", [hook.url()]).targets
    small = Channel("digest", (replace(target, max_body=1_000),))  # a few alerts a message
    sender = outbox(store, clock, {"digest": Destination(small, 3600)}, timeout=30)
    hook.hold(after=1)
    thread, reports = send_in_thread(sender)
    first, second = hook.wait_for(2)  # the second message is in flight
    assert sent_articles(store) == listed_in(first["message"])
    hook.answer(500)  # to the third message
    hook.release()
    thread.join(30)
    shown = sorted(listed_in(first["message"]) + listed_in(second["message"]))
    assert 0 < len(shown) < 30
    (report,) = reports
    assert (report.sent, report.retrying) == (len(shown), 30 - len(shown))
    assert sent_articles(store) == shown
    hook.answer(200)
    clock.now += timedelta(hours=2)  # past every retry's backoff
    assert sender.send_due().sent == 30 - len(shown)
    arrived = [n for body in hook.accepted for n in listed_in(body["message"])]
    assert sorted(arrived) == list(range(30))  # every alert once, across the messages
    assert len({body["id"] for body in hook.accepted}) == len(hook.accepted)


def test_a_digest_to_two_urls_of_different_sizes_shows_every_alert_once_on_each(
    store, hooks
):
    """One URL lists a few alerts a message, the other all of them: each URL gets every
    alert exactly once, and an alert is sent once both have shown it."""
    small_hook, large_hook = hooks
    boundary = next_digest(3600, NOW)
    clock = Clock()
    clock.now = boundary
    queue(store, 30, channel="digest", due=boundary)
    small, large = Channel.from_urls("digest", [small_hook.url(), large_hook.url()]).targets
    channel = Channel("digest", (replace(small, max_body=1_000), large))
    sender = outbox(store, clock, {"digest": Destination(channel, 3600)})
    assert sender.send_due().sent == 30
    for hook in hooks:
        arrived = [n for body in hook.accepted for n in listed_in(body["message"])]
        assert sorted(arrived) == list(range(30))
    assert len(large_hook.accepted) == 1 < len(small_hook.accepted)
    assert sent_articles(store) == list(range(30))


def listed_in(body: str) -> list[int]:
    return sorted(int(n) for n in re.findall(r"Title of siege-(\d+)\n", body))


def sent_articles(store: Store) -> list[int]:
    sent = store.deliveries(status="sent")
    return sorted(int(d.article_id.rsplit("-", 1)[1]) for d in sent)


# -- one message per article per channel (issue 17) -----------------------------------------


def queue_rules(store: Store, article: str, *severities: Severity,
                channels: tuple[str, ...] = ("ops",)) -> None:
    """One article that a rule of each severity matched (rule `r0`, `r1`, … in that order)."""
    new = new_article(article)
    store.ingest(new, [new_match(new, f"r{number}", channels=channels, severity=severity)
                       for number, severity in enumerate(severities)], new_story, NOW)


def test_an_articles_rules_reach_each_channel_in_one_message(store, hooks):
    """Two articles, three rules each, and a sender claiming four at a time: two
    messages, each listing its three rules most severe first."""
    hook, _ = hooks
    for article in ("a1", "a2"):
        queue_rules(store, article, Severity.LOW, Severity.CRITICAL, Severity.HIGH)
    report = outbox(store, Clock(), to("ops", hook.url()), concurrency=1).send_due()
    assert (report.sent, report.retrying) == (6, 0)
    assert len(hook.bodies) == 2
    for body in hook.bodies:
        assert re.fullmatch(r"\[CRITICAL\] 3 rules: Title of a\d", body["title"])
        text = body["message"]
        assert text.index("Rule r1") < text.index("Rule r2") < text.index("Rule r0")
        assert body["id"].startswith("watcher-alerts-")
    assert {d.status for d in store.deliveries()} == {"sent"}


def test_every_attempt_of_an_articles_message_is_the_same_message(store, hooks):
    """A channel with two URLs, one failing at first: the retry goes only to that one,
    listing the same rules under the same id; every delivery is recorded sent once."""
    good, flaky = hooks
    clock = Clock()
    queue_rules(store, "a1", Severity.HIGH, Severity.MEDIUM)
    flaky.answer(500)
    sender = outbox(store, clock, to("ops", good.url(), flaky.url()))
    assert sender.send_due().retrying == 2
    flaky.answer(200)
    clock.now += timedelta(seconds=60)
    assert sender.send_due().sent == 2
    assert (len(good.bodies), len(flaky.bodies)) == (1, 2)
    assert len({body["id"] for body in good.bodies + flaky.bodies}) == 1
    assert len({body["message"] for body in good.bodies + flaky.bodies}) == 1
    assert [(d.status, d.attempts) for d in store.deliveries()] == [("sent", 2)] * 2


def test_a_digest_channel_still_lists_an_articles_rules_as_alerts_by_rule(store, hooks):
    hook, _ = hooks
    queue_rules(store, "a1", Severity.LOW, Severity.CRITICAL, Severity.HIGH,
                channels=("digest",))
    assert outbox(store, Clock(), to("digest", hook.url(), digest=3600)).flush().sent == 3
    (body,) = hook.bodies
    assert "3 alerts, 3 rules" in body["title"]
    assert body["id"].startswith("watcher-digest-")


def test_the_notification_type_follows_the_severity(store, hooks):
    """apprise's type (a webhook's `type`, a chat's colour or icon): a critical alert is a
    `failure`, a high one a `warning`, the rest `info`; a grouped message or a digest
    takes its highest severity."""
    hook, digest_hook = hooks
    for number, severity in enumerate(Severity):
        queue_rules(store, f"single-{number}", severity)
    queue_rules(store, "grouped", Severity.LOW, Severity.HIGH)
    queue_rules(store, "digested", Severity.CRITICAL, Severity.INFO, channels=("digest",))
    channels = to("ops", hook.url()) | to("digest", digest_hook.url(), digest=3600)
    assert outbox(store, Clock(), channels).flush().sent == 9
    types = {body["title"].partition("]")[0]: body["type"] for body in hook.bodies}
    assert types == {"[CRITICAL": "failure", "[HIGH": "warning", "[MEDIUM": "info",
                     "[LOW": "info", "[INFO": "info"}
    assert [b["type"] for b in hook.bodies if " 2 rules: " in b["title"]] == ["warning"]
    assert [body["type"] for body in digest_hook.bodies] == ["failure"]


def test_every_attempt_of_a_watcher_webhook_document_is_the_same_document(store, hooks):
    hook, _ = hooks
    clock = Clock()
    queue(store, 1, channel="siem")
    hook.answer(500)
    sender = outbox(store, clock, to("siem", f"watcher://127.0.0.1:{hook.port}/w"))
    report = sender.send_due()
    assert report.retrying == 1 and "the webhook answered 500" in report.errors[0]
    hook.answer(200)
    clock.now += timedelta(minutes=5)
    assert sender.send_due().sent == 1
    first, second = hook.bodies
    assert first == second and first["id"].startswith("watcher-delivery-")
    assert [h["idempotency-key"] for h in hook.headers] == [first["id"]] * 2
    assert (first["kind"], first["severity"], first["snippet"]) == (
        "alert", "high", "… a [siege] on …")
    assert first["spans"] == [[0, 4, "title"], [5, 9, "body"]]


def test_an_article_that_200_rules_matched_is_a_few_discord_posts(store, monkeypatch):
    """Over a chat's bound (five 2,000-character posts) the grouped message lists every
    rule by severity and title, only the first with its snippet and query: a few posts,
    not dozens (test_render.py checks that every rule is listed)."""
    queue_rules(store, "a1", *([Severity.HIGH] * 200))  # 14,000 characters in full
    with RecordingServer() as discord:
        monkeypatch.setattr(NotifyDiscord, "notify_url", f"{discord.base}/api/webhooks")
        url = "discord://4174216298/JHMHI8qBe7bk2ZwO5U711o3dV_js"
        assert outbox(store, Clock(), to("ops", url)).send_due().sent == 200
        posts = [posted.json()["content"] for posted in discord.received]
    assert len(digest_messages(posts)) == 1 and 1 < len(posts) <= CHAT_DIGEST_PARTS
    assert "200 rules: Title of a1 [1/" in posts[0]
    assert "".join(posts).count("Rule query") == 1
