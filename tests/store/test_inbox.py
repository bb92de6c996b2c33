"""The inbox's queries (watcher/store/inbox.py) and full-text search (migration 0010), on
SQLite and on a real PostgreSQL: what each filter keeps, pages without duplicates or gaps,
and searches that survive whatever a user types."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.store.builders import (
    ALEPPO_GOVERNORATE,
    DAMASCUS_MIDAN,
    MANBIJ,
    SHEIKH_MAQSOUD,
    at,
    new_article,
    new_match,
    new_story,
    oldest_story,
)
from tests.store.sql import execute
from watcher.errors import WorkspaceError
from watcher.model import Severity
from watcher.store import NewArticle, NewMatch, Store
from watcher.store.accounts import Accounts
from watcher.store.inbox import Inbox, StoryFilter

HOSTILE = ['"', "OR", "*", "NEAR(", "-", "(((", ")", "siege OR", 'AND "', "title:x", "^",
           "NOT", "a*b", "'; DROP TABLE articles; --", "\\", "NEAR(a b, 2)", "\x00", "{x}"]


def article(article_id: str, body: str, **options: Any) -> NewArticle:
    return new_article(article_id, body=body, **options)


def fired(new: NewArticle, rule: str = "siege", severity: Severity = Severity.HIGH,
          **options: Any) -> NewMatch:
    return new_match(new, rule, severity=severity, **options)


def ingest(store: Store, new: NewArticle, found: list[NewMatch], minute: int,
           *, join: bool = False) -> int:
    result = store.ingest(new, found, oldest_story if join else new_story, at(minute))
    assert result.story_id is not None
    return result.story_id


def ids(store: Store, wanted: StoryFilter | None = None, limit: int = 50) -> list[int]:
    return [story.id for story in Inbox(store).stories(wanted or StoryFilter(), limit).stories]


def one_story(store: Store, article_id: str, body: str, minute: int, rule: str,
              severity: Severity = Severity.HIGH, *, source: str = "seeds",
              **match: Any) -> int:
    new = article(article_id, body, source=source)
    return ingest(store, new, [fired(new, rule, severity, **match)], minute)


@pytest.fixture
def newsroom(any_store: Store) -> dict[str, int]:
    """Five stories, newest last, each standing out by one thing a filter looks at."""
    stories = {
        "siege": one_story(any_store, "s1", "The siege of Sheikh Maqsoud tightened.", 1,
                           "siege", places=(SHEIKH_MAQSOUD,), labels=("historical",)),
        "manbij": one_story(any_store, "m1", "Shelling near Manbij overnight.", 2, "clashes",
                            Severity.MEDIUM, source="wire", places=(MANBIJ,)),
        "midan": one_story(any_store, "d1", "Checkpoints in Midan, Damascus.", 3,
                           "checkpoints", Severity.LOW, places=(DAMASCUS_MIDAN,)),
        "held": one_story(any_store, "h1", "A football match besieged by fans.", 4, "siege",
                          held=("hypothetical",)),
        "critical": one_story(any_store, "c1", "Evacuation order for the old city.", 5,
                              "evacuation", Severity.CRITICAL),
    }
    ingest(any_store, article("n1", "Weather: sunny over the coast."), [], 6)  # no match
    return stories


def test_newest_first_only_stories_with_matches_and_held_back_ones_only_when_asked(
    any_store: Store, newsroom: dict[str, int]
) -> None:
    shown = [newsroom[k] for k in ("critical", "midan", "manbij", "siege")]
    assert ids(any_store) == shown
    assert ids(any_store, StoryFilter(held=True)) == [newsroom["critical"], newsroom["held"],
                                                      *shown[1:]]


@pytest.mark.parametrize(("wanted", "expected"), [
    (StoryFilter(rules=("siege",)), ["siege"]),
    (StoryFilter(rules=("siege",), held=True), ["held", "siege"]),
    (StoryFilter(rules=()), []),  # a tag no rule has
    (StoryFilter(severity=Severity.HIGH), ["critical", "siege"]),
    (StoryFilter(severity=Severity.LOW), ["critical", "midan", "manbij", "siege"]),
    (StoryFilter(source="wire"), ["manbij"]),
    (StoryFilter(source="nobody"), []),
    (StoryFilter(place=ALEPPO_GOVERNORATE.id), ["manbij", "siege"]),  # its towns too
    (StoryFilter(place=MANBIJ.id), ["manbij"]),
    (StoryFilter(rules=("siege",), severity=Severity.CRITICAL), []),  # one match must be both
    (StoryFilter(q="Manbij"), ["manbij"]),
    (StoryFilter(q="tightened siege"), ["siege"]),  # every word, in any order
    (StoryFilter(q="besieged"), []),  # only in a held-back story
    (StoryFilter(since=at(3)), ["critical", "midan"]),
    (StoryFilter(until=at(3)), ["manbij", "siege"]),
])
def test_each_filter_narrows_the_list(
    any_store: Store, newsroom: dict[str, int], wanted: StoryFilter, expected: list[str]
) -> None:
    assert ids(any_store, wanted) == [newsroom[name] for name in expected]


def test_the_status_filter_reads_the_triage_state_and_no_state_is_open(
    any_store: Store, any_db_url: str, newsroom: dict[str, int]
) -> None:
    accounts = Accounts(any_store)
    ana = accounts.add_user("ana", "analyst", "a long password", at(0))
    execute(any_db_url,
            "INSERT INTO story_states (story_id, status, assignee_id, updated) VALUES "
            f"({newsroom['siege']}, 'acknowledged', {ana.id}, '2026-11-24 12:00:00'), "
            f"({newsroom['midan']}, 'closed', NULL, '2026-11-24 12:00:00'), "
            f"({newsroom['manbij']}, 'open', NULL, '2026-11-24 12:00:00')")
    assert ids(any_store, StoryFilter(status="open")) == [newsroom["critical"],
                                                          newsroom["manbij"]]
    assert ids(any_store, StoryFilter(status="closed")) == [newsroom["midan"]]
    (siege,) = Inbox(any_store).stories(StoryFilter(status="acknowledged")).stories
    assert (siege.id, siege.status, siege.assignee) == (newsroom["siege"], "acknowledged", "ana")


def test_a_story_shows_its_outlets_rules_labels_and_places(any_store: Store) -> None:
    first = article("a1", "Siege and shelling in Sheikh Maqsoud.", source="wire",
                    story_band=7, fetched=at(1))
    story = ingest(any_store, first, [
        fired(first, "siege", Severity.MEDIUM, places=(SHEIKH_MAQSOUD,), labels=("ended",)),
        fired(first, "shelling", Severity.CRITICAL),
    ], 1)
    for n, source in enumerate(("daily", "wire", "radio"), start=2):
        copy = article(f"a{n}", f"Siege in Sheikh Maqsoud ({source}).", source=source,
                       story_band=7)
        assert ingest(any_store, copy, [fired(copy, "siege", Severity.HIGH, places=(MANBIJ,),
                                               labels=("historical",))], n, join=True) == story
    (shown,) = Inbox(any_store).stories(StoryFilter()).stories
    assert (shown.first_outlet, shown.outlets, shown.articles) == ("wire", 3, 4)
    assert shown.first_outlet_at == at(1)
    assert [(r.id, r.severity) for r in shown.rules] == [
        ("shelling", Severity.CRITICAL), ("siege", Severity.HIGH)]  # a rule at its highest
    assert shown.labels == ("ended", "historical")
    assert [p.name for p in shown.places] == ["Sheikh Maqsoud", "Manbij"]
    assert shown.places[1].latitude == pytest.approx(36.528, abs=0.01)
    assert (shown.status, shown.assignee) == ("open", None)


def test_pages_have_no_duplicates_and_no_gaps_even_among_stories_seen_at_once(
    any_store: Store
) -> None:
    expected = []
    for n in range(23):
        new = article(f"p{n}", f"Report number {n}.")
        expected.append(ingest(any_store, new, [fired(new)], n // 4))  # fours share a moment
    seen: list[int] = []
    cursor = None
    for _ in range(10):
        page = Inbox(any_store).stories(StoryFilter(), limit=5, before=cursor)
        seen.extend(story.id for story in page.stories)
        cursor = page.next
        if cursor is None:
            break
    assert seen == sorted(expected, reverse=True)  # same moment: the later story first
    assert len(set(seen)) == 23


def test_a_bad_cursor_is_a_workspace_error(any_store: Store) -> None:
    with pytest.raises(WorkspaceError, match="bad page cursor"):
        Inbox(any_store).stories(StoryFilter(), before="not-a-cursor")


def test_search_finds_a_word_of_any_article_of_the_story_and_its_other_forms(
    any_store: Store
) -> None:
    first = article("f1", "Clashes were reported.", story_band=3)
    story = ingest(any_store, first, [fired(first)], 1)
    second = article("f2", "Residents said the bombardment of Tal Rifaat went on.",
                     story_band=3)
    assert ingest(any_store, second, [], 2, join=True) == story  # the copy matched no rule
    assert ids(any_store, StoryFilter(q="bombardment")) == [story]
    assert ids(any_store, StoryFilter(q="Rifaat TAL")) == [story]
    assert ids(any_store, StoryFilter(q="clash")) == [story]  # stemmed, in English
    assert ids(any_store, StoryFilter(q="ceasefire")) == []


@pytest.mark.parametrize("typed", HOSTILE)
def test_whatever_a_user_types_into_search_is_no_error(
    any_store: Store, newsroom: dict[str, int], typed: str
) -> None:
    """Never an error (SQLite: quoted words; PostgreSQL: a web search, whose OR and -word
    are operators there, so what is found may differ, but nothing fails)."""
    for text in (typed, f"{typed} Manbij {typed}", typed * 50):
        assert set(ids(any_store, StoryFilter(q=text))) <= set(newsroom.values())


@pytest.mark.parametrize("typed", ['"Manbij', "Manbij*", "-Manbij-", "(Manbij", "NEAR(Manbij"])
def test_a_word_wrapped_in_query_syntax_is_still_found(
    any_store: Store, newsroom: dict[str, int], typed: str
) -> None:
    if typed.startswith("-") and any_store.dialect == "postgresql":
        typed = typed[1:]  # a web search's -word means "without it"
    assert ids(any_store, StoryFilter(q=typed)) == [newsroom["manbij"]]


def test_search_covers_articles_stored_before_the_migration(
    any_store: Store
) -> None:
    any_store.downgrade("0009")
    new = article("old", "An airstrike on Saraqib before the upgrade.")
    story = ingest(any_store, new, [fired(new)], 1)
    any_store.upgrade()
    assert ids(any_store, StoryFilter(q="Saraqib")) == [story]
    later = article("new", "Another airstrike, on Ariha.")
    ingest(any_store, later, [fired(later)], 2)
    assert ids(any_store, StoryFilter(q="airstrike")) == [story + 1, story]


def test_the_page_reads_at_most_the_limit_and_says_where_to_go_on(
    any_store: Store
) -> None:
    for n in range(3):
        new = article(f"l{n}", f"Report {n}.")
        ingest(any_store, new, [fired(new)], n)
    first = Inbox(any_store).stories(StoryFilter(), limit=2)
    assert len(first.stories) == 2 and first.next is not None
    last = Inbox(any_store).stories(StoryFilter(), limit=2, before=first.next)
    assert len(last.stories) == 1 and last.next is None
    assert first.stories[-1].first_seen - last.stories[0].first_seen == timedelta(minutes=1)


def test_a_common_word_and_a_rare_one_are_found_alike(any_store: Store) -> None:
    """SQLite searches a word in more than a tenth of the articles story by story, a rarer
    one by its articles first (search.py): both give every story, newest first, paged."""
    made = []
    for n in range(30):
        new = article(f"w{n}", f"Shelling reported, bulletin {n}" + (" Kobani" if n % 10 == 3
                                                                        else ""))
        made.append(ingest(any_store, new, [fired(new)], n))
    common = ids(any_store, StoryFilter(q="bulletin shelling"), limit=100)
    assert common == sorted(made, reverse=True)
    assert ids(any_store, StoryFilter(q="kobani")) == [made[23], made[13], made[3]]
    first = Inbox(any_store).stories(StoryFilter(q="kobani"), limit=2)
    rest = Inbox(any_store).stories(StoryFilter(q="kobani"), limit=2, before=first.next)
    assert [s.id for s in (*first.stories, *rest.stories)] == [made[23], made[13], made[3]]
