"""Reading back: articles and matches newest first, with filters and delivered channels.

Every test runs on SQLite and on a real PostgreSQL (`any_store`, tests/store/conftest.py).
"""

from __future__ import annotations

import pytest

from tests.store.builders import (
    ALEPPO,
    ALEPPO_GOVERNORATE,
    DAMASCUS_MIDAN,
    MANBIJ,
    SHEIKH_MAQSOUD,
    SYRIA,
    at,
    new_article,
    new_match,
    new_story,
    oldest_story,
)
from tests.store.sql import execute
from watcher.store import Store


@pytest.fixture
def filled(any_store: Store) -> Store:
    """Three articles, a minute apart; a3 is a copy of a1's story; two rules."""
    a1 = new_article("a1", source="outlet-a", story_band=1, fetched=at(1))
    a2 = new_article("a2", source="outlet-b", fetched=at(2))
    a3 = new_article("a3", source="outlet-c", story_band=1, fetched=at(3))
    any_store.ingest(a1, [new_match(a1, "siege", channels=("ops", "chat"))], new_story, at(1))
    any_store.ingest(a2, [new_match(a2, "strike"), new_match(a2, "siege")], new_story, at(2))
    any_store.ingest(a3, [new_match(a3, "siege")], oldest_story, at(3))
    return any_store


def test_articles_newest_first_with_limit(filled: Store) -> None:
    listed = filled.articles()
    assert [a.id for a in listed] == ["a3", "a2", "a1"]
    assert [a.source for a in listed] == ["outlet-c", "outlet-b", "outlet-a"]
    assert listed[0].story == listed[2].story != listed[1].story
    assert (listed[0].url, listed[0].title) == ("https://example.org/a3", "Title of a3")
    assert listed[0].published is None and listed[0].fetched == at(3)
    assert [a.id for a in filled.articles(limit=2)] == ["a3", "a2"]


def test_articles_fetched_at_the_same_moment_list_the_later_stored_first(any_store: Store) -> None:
    for name in ("a1", "a2", "a3"):
        any_store.ingest(new_article(name, fetched=at(0)), [], new_story, at(0))
    assert [a.id for a in any_store.articles()] == ["a3", "a2", "a1"]


def test_texts_give_back_the_articles_as_matched_with_their_stored_rules(filled: Store) -> None:
    """Issue 17 (backtest, explain): the stored article as ingest matched it, oldest first,
    with the rules of its stored matches; by window, newest N, or id."""
    texts = filled.texts()
    assert [t.article for t in texts] == [new_article(n, source=s).article for n, s in (
        ("a1", "outlet-a"), ("a2", "outlet-b"), ("a3", "outlet-c"))]
    assert [t.matched for t in texts] == [
        (("siege", "v1"),), (("siege", "v1"), ("strike", "v1")), (("siege", "v1"),)]
    assert [t.fetched for t in texts] == [at(1), at(2), at(3)]
    assert [t.article.id for t in filled.texts(since=at(2))] == ["a2", "a3"]
    assert [t.article.id for t in filled.texts(limit=1)] == ["a3"]
    assert [t.article.id for t in filled.texts(ids=["a1", "none"])] == ["a1"]
    pages = filled.text_pages(limit=3, page=2)  # a page at a time, in the same order
    assert [[t.article.id for t in p] for p in pages] == [["a1", "a2"], ["a3"]]
    assert [[t.article.id for t in p] for p in filled.text_pages(limit=2, page=1)] == [
        ["a2"], ["a3"]]


def test_text_pages_of_articles_stored_at_one_moment_go_on_by_the_order_stored(
    any_store: Store,
) -> None:
    for name in ("a1", "a2", "a3"):  # one replay stores a batch at one moment
        any_store.ingest(new_article(name, fetched=at(0)), [], new_story, at(0))
    pages = any_store.text_pages(page=2)
    assert [[t.article.id for t in p] for p in pages] == [["a1", "a2"], ["a3"]]
    assert [t.article.id for t in any_store.texts(limit=2)] == ["a2", "a3"]


def test_matches_newest_first(filled: Store) -> None:
    listed = filled.matches()
    assert [(m.match.rule_id, m.article_id) for m in listed] == [
        ("siege", "a3"), ("siege", "a2"), ("strike", "a2"), ("siege", "a1"),
    ]
    assert [m.matched_at for m in listed] == [at(3), at(2), at(2), at(1)]


def test_matches_filtered_by_rule_since_and_limit(filled: Store) -> None:
    assert [m.article_id for m in filled.matches(rule="siege")] == ["a3", "a2", "a1"]
    assert [m.article_id for m in filled.matches(rule="strike")] == ["a2"]
    assert filled.matches(rule="nothing") == []
    assert [m.article_id for m in filled.matches(since=at(2))] == ["a3", "a2", "a2"]
    assert [m.article_id for m in filled.matches(rule="siege", since=at(2), limit=1)] == ["a3"]


@pytest.fixture
def located(any_store: Store) -> Store:
    """Matches in Sheikh Maqsoud (Aleppo city), in Manbij and Sheikh Maqsoud, in Damascus's
    Midan, and one located nowhere."""
    for n, places in enumerate(
        [(SHEIKH_MAQSOUD,), (MANBIJ, SHEIKH_MAQSOUD), (DAMASCUS_MIDAN,), ()], start=1
    ):
        new = new_article(f"a{n}", fetched=at(n))
        any_store.ingest(new, [new_match(new, places=places)], new_story, at(n))
    return any_store


def test_a_matchs_places_are_stored_and_read_back(located: Store) -> None:
    by_article = {m.article_id: m.match.places for m in located.matches()}
    assert by_article == {
        "a1": (SHEIKH_MAQSOUD,), "a2": (MANBIJ, SHEIKH_MAQSOUD), "a3": (DAMASCUS_MIDAN,),
        "a4": (),
    }
    assert DAMASCUS_MIDAN.longitude is None  # a missing coordinate stays missing


def test_matches_filtered_by_a_place_and_everything_inside_it(located: Store) -> None:
    def at_place(place_id: str) -> list[str]:
        return [m.article_id for m in located.matches(place=place_id)]

    assert at_place(ALEPPO_GOVERNORATE.id) == ["a2", "a1"]  # Manbij and Sheikh Maqsoud
    assert at_place(ALEPPO.id) == ["a2", "a1"]  # Sheikh Maqsoud is in the city
    assert at_place(MANBIJ.id) == ["a2"]
    assert at_place(SYRIA.id) == ["a3", "a2", "a1"]  # each match once, though a2 has two
    assert at_place("geonames:2643743") == []  # London
    assert [m.article_id for m in located.matches(place=ALEPPO.id, limit=1)] == ["a2"]


def test_notified_lists_channels_that_confirmed(filled: Store, any_db_url: str) -> None:
    execute(
        any_db_url,
        "UPDATE deliveries SET status = 'sent' WHERE channel IN ('ops', 'chat')",
        "UPDATE deliveries SET status = 'dead' WHERE match_id = "
        "(SELECT id FROM matches WHERE rule_id = 'strike')",
    )
    notified = {(m.match.rule_id, m.article_id): m.notified for m in filled.matches()}
    assert notified == {
        ("siege", "a1"): ("chat", "ops"),
        ("strike", "a2"): (),
        ("siege", "a2"): ("ops",),
        ("siege", "a3"): (),  # a copy in a1's story: no delivery of its own
    }


def test_story_outlets_in_the_order_they_carried_it(filled: Store) -> None:
    story = filled.articles()[0].story
    assert filled.story_outlets(story) == ["outlet-a", "outlet-c"]
    assert filled.story_outlets(12345) == []
