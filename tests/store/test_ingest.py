"""Ingest: one article with its keys, story, matches and deliveries, all in one transaction.

Every test runs on SQLite and on a real PostgreSQL (`any_store`, tests/store/conftest.py).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from tests.store.builders import NOW, at, new_article, new_match, new_story, oldest_story
from tests.store.sql import backend, count, rows
from watcher.errors import StoreError
from watcher.identity import Identity
from watcher.ingest.pipeline import pick_story
from watcher.ingest.stories import story_signature
from watcher.model import Article, ContextLabel, Severity, Span
from watcher.store import NewArticle, Store, StoryCandidate
from watcher.store.ingest import STORY_CANDIDATES


def test_ingest_stores_article_keys_bands_matches_and_deliveries(
    any_store: Store, any_db_url: str
) -> None:
    new = new_article("a1")
    found = [new_match(new, "siege", channels=("ops", "chat")), new_match(new, "strike")]
    result = any_store.ingest(new, found, new_story, NOW)
    assert result.stored
    assert result.story_id is not None
    assert result.new_matches == tuple(m.match for m in found)
    assert [count(any_db_url, t) for t in ("articles", "article_keys", "story_bands")] == [1, 2, 4]
    assert rows(any_db_url, "SELECT name FROM sources") == [("seeds",)]
    assert rows(any_db_url, "SELECT title FROM stories") == [("Title of a1",)]
    assert rows(any_db_url, "SELECT rule_id, first_in_story FROM matches ORDER BY id") == [
        ("siege", 1), ("strike", 1),
    ]
    assert rows(any_db_url, "SELECT channel, status, attempts FROM deliveries ORDER BY id") == [
        ("ops", "pending", 0), ("chat", "pending", 0), ("ops", "pending", 0),
    ]


def test_known_keys_are_reported_before_and_refused_at_ingest(
    any_store: Store, any_db_url: str
) -> None:
    first = new_article("a1")
    assert not any_store.is_known(first.identity.keys)
    any_store.ingest(first, [new_match(first)], new_story, NOW)
    assert any_store.is_known(first.identity.keys)
    assert any_store.is_known(["hash:nothing-like-it", first.identity.keys[1]])
    assert not any_store.is_known([])

    again = new_article("a1", source="other")  # a new guid key, the same content hash
    result = any_store.ingest(again, [new_match(again)], new_story, NOW)
    assert (result.stored, result.story_id, result.new_matches) == (False, None, ())
    assert [count(any_db_url, t) for t in ("articles", "matches", "deliveries")] == [1, 1, 1]
    assert count(any_db_url, "sources") == 1


def test_a_copy_joining_a_story_is_stored_without_new_alerts(
    any_store: Store, any_db_url: str
) -> None:
    first = new_article("a1", source="outlet-a", story_band=7)
    copy = new_article("a2", source="outlet-b", story_band=7)
    seen: list[StoryCandidate] = []

    def pick(candidates: list[StoryCandidate]) -> int | None:
        seen.extend(candidates)
        return candidates[0].story_id

    story = any_store.ingest(first, [new_match(first)], new_story, NOW).story_id
    result = any_store.ingest(copy, [new_match(copy), new_match(copy, "strike")], pick, NOW)
    assert seen == [StoryCandidate(story_id=story, signature=first.signature)]
    assert result.stored and result.story_id == story
    assert [m.rule_id for m in result.new_matches] == ["strike"]
    assert rows(any_db_url, "SELECT rule_id, first_in_story FROM matches ORDER BY id") == [
        ("siege", 1), ("siege", 0), ("strike", 1),
    ]
    assert count(any_db_url, "deliveries") == 2  # siege for a1, strike for a2
    assert any_store.story_outlets(story) == ["outlet-a", "outlet-b"]


def test_articles_without_a_shared_band_are_not_candidates(any_store: Store) -> None:
    def must_not_be_called(candidates: list[StoryCandidate]) -> int | None:
        raise AssertionError(f"called with {candidates}")

    one = any_store.ingest(new_article("a1"), [], new_story, NOW).story_id
    two = any_store.ingest(new_article("a2"), [], must_not_be_called, NOW).story_id
    assert one != two


def test_pick_story_may_start_a_new_story_despite_candidates(any_store: Store) -> None:
    one = any_store.ingest(new_article("a1", story_band=3), [], new_story, NOW).story_id
    two = any_store.ingest(new_article("a2", story_band=3), [], new_story, NOW).story_id
    three = any_store.ingest(new_article("a3", story_band=3), [], oldest_story, NOW).story_id
    assert one != two and three == one


def test_a_story_that_is_not_a_candidate_is_a_bug(any_store: Store, any_db_url: str) -> None:
    any_store.ingest(new_article("a1", story_band=3), [], new_story, NOW)
    with pytest.raises(ValueError, match="not a candidate"):
        any_store.ingest(new_article("a2", story_band=3), [], lambda _: 999, NOW)
    assert count(any_db_url, "articles") == 1


def test_a_failing_match_insert_stores_nothing(any_store: Store, any_db_url: str) -> None:
    new = new_article("a1")
    twice = [new_match(new), new_match(new)]  # the same rule twice breaks unique(rule, article)
    with pytest.raises(StoreError) as caught:
        any_store.ingest(new, twice, new_story, NOW)
    # Each database words the broken constraint its own way: SQLite names the columns,
    # PostgreSQL the constraint (tables.py's naming convention).
    expected = {"sqlite": "UNIQUE constraint failed", "postgresql": "uq_matches_rule_id_article_id"}
    assert expected[backend(any_db_url)] in str(caught.value)
    for table in ("sources", "stories", "articles", "article_keys", "matches", "deliveries"):
        assert count(any_db_url, table) == 0, table
    assert not any_store.is_known(new.identity.keys)


def test_duplicate_channels_and_keys_are_stored_once(any_store: Store, any_db_url: str) -> None:
    new = new_article("a1")
    new = replace(new, identity=replace(new.identity, keys=new.identity.keys * 2))
    any_store.ingest(new, [new_match(new, channels=("ops", "ops"))], new_story, NOW)
    assert (count(any_db_url, "article_keys"), count(any_db_url, "deliveries")) == (2, 1)


def test_times_come_back_aware_utc(any_store: Store) -> None:
    beirut = timezone(timedelta(hours=3))
    published = datetime(2026, 11, 24, 15, 30, tzinfo=beirut)
    fetched = datetime(2026, 11, 24, 13, 0)  # naive: taken as UTC, like the sources do
    new = new_article("a1", published=published, fetched=fetched)
    any_store.ingest(new, [new_match(new)], new_story, NOW)
    (stored,) = any_store.articles()
    assert stored.published == published and stored.published.tzinfo is UTC
    assert stored.fetched == fetched.replace(tzinfo=UTC) and stored.fetched.tzinfo is UTC
    (match,) = any_store.matches()
    assert match.matched_at == NOW and match.matched_at.tzinfo is UTC


def test_a_stored_match_reads_back_as_the_match(any_store: Store) -> None:
    new = new_article("a1", title="Siege of the old city")
    found = new_match(new, "siege", severity=Severity.CRITICAL)
    any_store.ingest(new, [found], new_story, NOW)
    (stored,) = any_store.matches()
    assert stored.match == found.match
    assert stored.match.spans == (Span(0, 4, "title"), Span(5, 9, "body"))
    assert (stored.article_id, stored.notified) == ("a1", ())


def test_known_keys_answers_for_a_whole_batch(any_store: Store) -> None:
    stored = new_article("a1")
    any_store.ingest(stored, [], new_story, at(0))
    other = new_article("a2")
    asked = [*stored.identity.keys, *other.identity.keys, *stored.identity.keys]
    assert any_store.known_keys(asked) == set(stored.identity.keys)
    assert any_store.known_keys([]) == set()
    many = [f"hash:{n}" for n in range(1200)]  # past one query's worth of parameters
    assert any_store.known_keys([*many, stored.identity.keys[0]]) == {stored.identity.keys[0]}


FLOOD = 300  # near-identical items (6 times the bound), as a feed of "Item N about things"
FAMILIES = {  # two stories' texts, each item adding its own number
    "market": "Shelling hit the old market in Aleppo on Tuesday morning, residents said, "
              "and rescue teams searched the rubble of shops near the citadel until dark.",
    "convoy": "A convoy of twenty trucks carrying flour and fuel crossed into Idlib province "
              "through the Bab al-Hawa border crossing after a week of delays at checkpoints.",
}


def flood_item(number: int) -> NewArticle:
    """Item `number` of the flood: a family's text under 'Item N about things', with its
    real MinHash signature and bands (watcher/identity.py), as the pipeline stores it."""
    family = sorted(FAMILIES)[number % len(FAMILIES)]
    title, body = f"Item {number} about things", f"{FAMILIES[family]} Item {number}."
    signature = story_signature(title, body)
    article = Article(id=f"{family}-{number}", title=title, body=body, source="flood",
                      guid=f"{family}-{number}")
    identity = Identity((f"guid:flood:{family}-{number}",), None, f"{number}")
    return NewArticle(article=article, identity=identity, signature=signature.values,
                      bands=signature.bands, fetched=NOW)


def test_a_flood_of_near_identical_items_compares_each_with_a_bounded_number(
    any_store: Store, any_db_url: str
) -> None:
    """Every stored item shares bands with every later one of its family: the story search
    must not read them all (1,000 such items took 13 s, 161 s into a store of 13,500).
    Each ingest sees at most STORY_CANDIDATES, and the two stories still form."""
    examined: list[int] = []

    def pick(candidates: Sequence[StoryCandidate], signature: bytes) -> int | None:
        examined.append(len(candidates))
        return pick_story(candidates, signature)

    for number in range(FLOOD):
        new = flood_item(number)
        assert any_store.ingest(new, [], lambda c, s=new.signature: pick(c, s), NOW).stored
    assert max(examined) == STORY_CANDIDATES
    stories = rows(any_db_url, "SELECT DISTINCT story_id, substr(external_id, 1, 6) "
                   "FROM articles ORDER BY 1")
    assert [family for _, family in stories] == ["convoy", "market"]


def test_past_the_bound_the_candidates_are_those_sharing_the_most_bands(any_store: Store) -> None:
    """An old article sharing three bands is kept over newer ones sharing one; among those
    sharing one, the newest."""
    def sharing(article_id: str, *bands: int) -> NewArticle:
        new = new_article(article_id)
        return replace(new, bands=(*bands, *new.bands[len(bands):]))

    close = any_store.ingest(sharing("close", 5, 6, 7), [], new_story, NOW).story_id
    far = [any_store.ingest(sharing(f"far-{n}", 5), [], new_story, NOW).story_id
           for n in range(STORY_CANDIDATES + 10)]
    seen: list[StoryCandidate] = []

    def pick(candidates: Sequence[StoryCandidate]) -> int | None:
        seen.extend(candidates)
        return None

    any_store.ingest(sharing("probe", 5, 6, 7), [], pick, NOW)
    assert [c.story_id for c in seen] == [close, *far[-(STORY_CANDIDATES - 1):]]


def test_a_held_back_match_is_stored_with_its_reason_and_never_alerted(
    any_store: Store, any_db_url: str
) -> None:
    """A match whose context labels its rule excludes (issue 17) is kept, with the labels
    and cue words, but queues no delivery and is not new; a later copy of the story that
    reports the event plainly is the first of the rule in the story, and alerts."""
    recalled = new_article("a1", story_band=7)
    held = new_match(recalled, "siege", channels=("ops",))
    labels = (ContextLabel("historical", ("in 2014",)), ContextLabel("ended", ("lifted",)))
    held = replace(held, match=replace(held.match, context=labels, held=("historical",)))
    result = any_store.ingest(recalled, [held], new_story, NOW)
    assert result.new_matches == ()
    assert count(any_db_url, "deliveries") == 0
    [(context, reason, first)] = rows(
        any_db_url, "SELECT context, held, first_in_story FROM matches"
    )
    stored = json.loads(context) if isinstance(context, str) else context
    assert (stored, reason, first) == (
        [["historical", ["in 2014"]], ["ended", ["lifted"]]], "historical", 0
    )

    plain = new_article("a2", story_band=7)
    result = any_store.ingest(plain, [new_match(plain, "siege")], oldest_story, NOW)
    assert result.story_id == 1 and len(result.new_matches) == 1
    assert rows(any_db_url, "SELECT channel FROM deliveries") == [("ops",)]
    assert rows(any_db_url, "SELECT held, first_in_story FROM matches ORDER BY id") == [
        ("historical", 0), (None, 1)
    ]
