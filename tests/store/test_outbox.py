"""The delivery outbox in the store: claims under a lease, outcomes, cooldowns, listing.

Every test runs on SQLite and on a real PostgreSQL (`any_store`, tests/store/conftest.py).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import timedelta

from tests.store.builders import NOW, new_article, new_match, new_story, oldest_story
from tests.support.processes import exited_worker_name, on_another_host
from watcher.model import ContextLabel, Severity
from watcher.store import DeliveryHold, Store
from watcher.store.owners import DeadOwners, worker_name

LEASE = timedelta(minutes=10)


CHANNELS = ("ops", "chat", "digest")  # every channel these tests queue for


def claim(store: Store, owner: str = "a", *, after: timedelta = timedelta(0),
          channels: tuple[str, ...] = CHANNELS):
    return store.claim_due_deliveries(NOW + after, owner=owner, lease=LEASE, limit=100,
                                      channels=channels)


def test_a_claim_carries_what_the_alert_shows(any_store: Store) -> None:
    first = new_article("a1", source="enab", story_band=7)
    copy = new_article("a2", source="asharq", story_band=7)
    any_store.ingest(first, [new_match(first, "siege", channels=("ops", "chat"))],
                     new_story, NOW)
    any_store.ingest(copy, [new_match(copy, "siege")], oldest_story, NOW)
    due = claim(any_store)
    assert [(d.channel, d.alert.rule_id, d.attempts, d.done_targets) for d in due] == [
        ("ops", "siege", 0, ()), ("chat", "siege", 0, ()),
    ]
    alert = due[0].alert
    assert (alert.rule_title, alert.query, alert.severity) == (
        "Rule siege", "siege NEAR/5 Aleppo", Severity.HIGH)
    assert (alert.article_title, alert.source, alert.url) == (
        "Title of a1", "enab", "https://example.org/a1")
    assert alert.snippet == "… a [siege] on …"
    assert alert.other_outlets == ("asharq",)  # the copy queued nothing but is counted


def test_a_claimed_alert_carries_its_matchs_context_labels(any_store: Store) -> None:
    """Issue 17: a sent match's context labels and cue words reach the alert."""
    new = new_article("a1")
    found = new_match(new, "siege")
    labels = (ContextLabel("hypothetical", ("could",)),)
    any_store.ingest(new, [replace(found, match=replace(found.match, context=labels))],
                     new_story, NOW)
    [due] = claim(any_store)
    assert due.alert.context == labels


def test_a_lease_keeps_other_senders_off_until_it_runs_out(any_store: Store) -> None:
    new = new_article("a1")
    any_store.ingest(new, [new_match(new)], new_story, NOW)
    assert len(claim(any_store, "a")) == 1
    assert claim(any_store, "b") == []
    assert claim(any_store, "b", after=LEASE - timedelta(seconds=1)) == []
    assert len(claim(any_store, "b", after=LEASE)) == 1  # sender a died: b takes over


def test_released_deliveries_are_claimable_at_once(any_store: Store) -> None:
    new = new_article("a1")
    any_store.ingest(new, [new_match(new)], new_story, NOW)
    held = claim(any_store, "a")
    any_store.release_deliveries([d.id for d in held], "b")  # not b's: stays leased
    assert claim(any_store, "b") == []
    any_store.release_deliveries([d.id for d in held], "a")
    assert [d.id for d in claim(any_store, "b")] == [d.id for d in held]


def test_sent_deliveries_show_as_notified_and_are_not_claimed_again(any_store: Store) -> None:
    new = new_article("a1")
    any_store.ingest(new, [new_match(new, channels=("ops", "chat"))], new_story, NOW)
    due = claim(any_store)
    any_store.mark_sent([due[0].id], NOW, owner="a")
    any_store.release_deliveries([due[1].id], "a")
    assert [d.channel for d in claim(any_store, "b", after=LEASE)] == ["chat"]
    assert any_store.matches()[0].notified == ("ops",)
    listed = any_store.deliveries(status="sent")
    assert [(d.channel, d.attempts, d.sent_at) for d in listed] == [("ops", 1, NOW)]


def test_a_failure_waits_for_its_retry_time_and_then_goes_dead(any_store: Store) -> None:
    new = new_article("a1")
    any_store.ingest(new, [new_match(new)], new_story, NOW)
    (due,) = claim(any_store)
    any_store.mark_failed([due.id], "HTTP 500", NOW + timedelta(minutes=5), owner="a")
    assert claim(any_store, after=timedelta(minutes=4)) == []
    (again,) = claim(any_store, after=timedelta(minutes=5))
    assert again.attempts == 1
    any_store.mark_failed([again.id], "HTTP 503", None, owner="a")
    any_store.make_pending_due(NOW + timedelta(days=1))
    assert claim(any_store, after=timedelta(days=1)) == []
    (dead,) = any_store.deliveries(status="dead")
    assert (dead.attempts, dead.last_error) == (2, "HTTP 503")
    assert any_store.delivery_counts() == {"dead": 1}


def test_flush_makes_what_is_not_due_yet_due_now(any_store: Store) -> None:
    new = new_article("a1")
    later = NOW + timedelta(hours=1)  # a digest channel's next boundary
    any_store.ingest(new, [new_match(new, due=later)], new_story, NOW)
    assert claim(any_store) == []
    any_store.make_pending_due(NOW)
    assert len(claim(any_store)) == 1


def test_a_claim_can_take_some_channels_only(any_store: Store) -> None:
    new = new_article("a1")
    any_store.ingest(new, [new_match(new, channels=("ops", "digest"))], new_story, NOW)
    assert [d.channel for d in claim(any_store, channels=("ops",))] == ["ops"]
    assert [d.channel for d in claim(any_store, channels=("digest",))] == ["digest"]


def test_targets_already_sent_to_are_remembered(any_store: Store) -> None:
    new = new_article("a1")
    any_store.ingest(new, [new_match(new)], new_story, NOW)
    (due,) = claim(any_store)
    any_store.add_done_target(due.id, "k1", owner="a")
    any_store.add_done_target(due.id, "k1", owner="a")
    any_store.add_done_target(due.id, "k2", owner="b")  # not b's: ignored
    any_store.mark_failed([due.id], "second URL down", NOW, owner="a")
    assert claim(any_store)[0].done_targets == ("k1",)


def test_cooldown_queues_no_alert_for_a_new_story_within_it(any_store: Store) -> None:
    hour = timedelta(hours=1)
    for number, when in enumerate([NOW, NOW + 59 * hour / 60, NOW + 61 * hour / 60]):
        new = new_article(f"a{number}")
        result = any_store.ingest(new, [new_match(new, cooldown=hour)], new_story, when)
        assert result.new_matches  # still a new match in its story: printed and stored
    assert [d.article_id for d in any_store.deliveries()] == ["a2", "a0"]


def test_listing_is_newest_first_and_filters_by_status(any_store: Store) -> None:
    for number in range(3):
        new = new_article(f"a{number}")
        any_store.ingest(new, [new_match(new)], new_story, NOW + timedelta(seconds=number))
    assert [d.article_id for d in any_store.deliveries()] == ["a2", "a1", "a0"]
    assert [d.article_id for d in any_store.deliveries(limit=1)] == ["a2"]
    assert any_store.deliveries(status="dead") == []
    assert any_store.delivery_counts() == {"pending": 3}


def test_a_sender_whose_lease_ran_out_cannot_undo_the_new_holders_result(
    any_store: Store,
) -> None:
    new = new_article("a1")
    any_store.ingest(new, [new_match(new)], new_story, NOW)
    (held,) = claim(any_store, "a")
    (taken,) = claim(any_store, "b", after=LEASE)  # a stalled past its lease
    any_store.mark_sent([taken.id], NOW + LEASE, owner="b")
    any_store.mark_failed([held.id], "late failure", None, owner="a")
    any_store.mark_sent([held.id], NOW + LEASE, owner="a")
    (stored,) = any_store.deliveries()
    assert (stored.status, stored.attempts, stored.last_error) == ("sent", 1, None)


def queued(store: Store, count: int) -> None:
    for number in range(count):
        new = new_article(f"a{number}")
        store.ingest(new, [new_match(new)], new_story, NOW)


def claim_as(store: Store, owner: str, *, limit: int, after: timedelta = timedelta(0),
             dead_owners: DeadOwners | None = None):
    return store.claim_due_deliveries(NOW + after, owner=owner, lease=LEASE, limit=limit,
                                      channels=CHANNELS, is_dead=dead_owners)


def test_only_a_sender_that_died_on_this_host_loses_its_deliveries_at_once(
    any_store: Store,
) -> None:
    """A live sender's claims are never taken; one on another host cannot be checked, so
    its lease must run out."""
    queued(any_store, 3)
    dead = exited_worker_name()
    for holder in (dead, worker_name(), on_another_host(dead)):  # one delivery each, oldest first
        claim_as(any_store, holder, limit=1)
    dead_owners = DeadOwners(logging.getLogger("test"))
    taken = claim_as(any_store, "b", limit=100, dead_owners=dead_owners)
    assert [d.alert.article_title for d in taken] == ["Title of a0"]
    assert claim_as(any_store, "c", limit=100, after=LEASE - timedelta(seconds=1),
                    dead_owners=dead_owners) == []


def test_holds_say_whose_live_leases_keep_deliveries_and_until_when(any_store: Store) -> None:
    queued(any_store, 3)
    minute = timedelta(minutes=1)
    claim_as(any_store, "a", limit=2)
    claim_as(any_store, "b", limit=1, after=minute)
    assert any_store.delivery_holds(NOW, except_owner="b") == [
        DeliveryHold("a", 2, NOW + LEASE)]
    assert any_store.delivery_holds(NOW + minute, except_owner="c") == [
        DeliveryHold("a", 2, NOW + LEASE), DeliveryHold("b", 1, NOW + minute + LEASE)]
    assert any_store.delivery_holds(NOW + LEASE, except_owner="c") == [
        DeliveryHold("b", 1, NOW + minute + LEASE)]  # a's lease ran out


def test_dropping_a_channel_kills_its_pending_deliveries_but_not_one_being_sent(
    any_store: Store,
) -> None:
    for name in ("a1", "a2", "a3"):
        new = new_article(name)
        any_store.ingest(new, [new_match(new, channels=("ops", "chat"))], new_story, NOW)
    [sending] = any_store.claim_due_deliveries(NOW, owner="a", lease=LEASE, limit=1,
                                               channels=("ops",))
    assert any_store.drop_pending("ops", NOW, "dropped") == 2  # the third is being sent
    by_status = {(d.channel, d.status) for d in any_store.deliveries()}
    assert by_status == {("ops", "dead"), ("ops", "pending"), ("chat", "pending")}
    assert any_store.pending_by_channel() == {"ops": 1, "chat": 3}
    assert any_store.drop_pending("ops", NOW + LEASE, "dropped") == 1  # its lease ran out


def test_a_claim_takes_the_rest_of_an_articles_deliveries_that_its_limit_cut_off(
    any_store: Store,
) -> None:
    """An article's deliveries to one channel go in one message: a claim's limit never
    splits them, though it leaves those of other articles, channels, senders or times."""
    first, second = new_article("a1"), new_article("a2")
    later = NOW + timedelta(hours=1)
    any_store.ingest(first, [new_match(first, rule, channels=("ops", "chat"))
                             for rule in ("siege", "strike", "blast")]
                     + [new_match(first, "curfew", due=later)], new_story, NOW)
    any_store.ingest(second, [new_match(second, "siege")], new_story, NOW)
    due = any_store.claim_due_deliveries(NOW, owner="a", lease=LEASE, limit=1,
                                         channels=("ops",))
    assert [(d.alert.rule_id, d.channel) for d in due] == [
        ("siege", "ops"), ("strike", "ops"), ("blast", "ops")]
    assert len({d.article for d in due}) == 1
    again = any_store.claim_due_deliveries(NOW, owner="b", lease=LEASE, limit=1,
                                           channels=("ops", "chat"))
    assert [(d.alert.rule_id, d.channel) for d in again] == [
        ("siege", "chat"), ("strike", "chat"), ("blast", "chat")]
