"""One text in two polls at once is analysed once (watcher/store/claims.py): two poll threads
of one worker (one store) on SQLite and PostgreSQL, and two workers (two stores) on one real
PostgreSQL. The first poll is held inside its analysis, its article claimed; the second
poll of the same text must wait for that claim and then find the article stored, not
analyse it again; and an article whose claiming poll fails is still analysed and stored
by the poll that waited for it, never dropped.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.support.helpers import PATIENCE
from watcher.engine.matcher import Matcher
from watcher.ingest.pipeline import ANALYSIS_CHUNK, Outcome, Pipeline
from watcher.model import Article, Match
from watcher.store import Store
from watcher.store.claims import CLAIM_WAIT_SECONDS

MOMENT = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
RULES = "rules:\n  - id: siege\n    title: Sieges\n    query: siege\n    severity: high\n"


class HeldMatcher:
    """A real matcher whose analysis stops until `go` is set when `held` (its poll is then
    mid-analysis, its articles claimed), and fails afterwards when `fails`; it records the
    articles it was given and sets `moved` as it starts."""

    def __init__(self, matcher: Matcher, moved: threading.Event, *, held: bool = False,
                 fails: bool = False) -> None:
        self.matcher, self.rules = matcher, matcher.rules
        self.moved, self.held, self.fails = moved, held, fails
        self.go = threading.Event()
        self.analysed: list[str] = []

    def match_many(self, articles: Sequence[Article]) -> list[list[Match]]:
        self.analysed += [article.id for article in articles]
        self.moved.set()
        if self.held:
            self.go.wait(PATIENCE)
        if self.fails:
            raise RuntimeError("the analysis failed")
        return self.matcher.match_many(articles)


class WatchedStore(Store):
    """The store, saying when a poll starts waiting for another poll's claims."""

    moved: threading.Event

    def wait_for_claims(self, keys: Sequence[str], until: Callable[[], bool],
                        at_most: float = CLAIM_WAIT_SECONDS) -> None:
        self.moved.set()
        super().wait_for_claims(keys, until, at_most)


def outlet_copy(outlet: str) -> Article:
    """One wire text as an outlet carries it: its own guid and link, the same words (so
    the copies share only their content hash)."""
    return Article(id=f"{outlet}-1", title="Siege of the old city",
                   body="Forces imposed a siege on the old city on Monday.",
                   url=f"https://{outlet}.example/1", source=outlet, guid=f"{outlet}-1")


@pytest.fixture
def matcher(tmp_path: Path) -> Matcher:
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES, encoding="utf-8")
    return Matcher.from_path(rules)


@pytest.fixture(params=["sqlite, two threads", "postgresql, two threads",
                        "postgresql, two workers"])
def two_stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Store, Store]]:
    """The stores of two polls: one store for two threads of a worker, or one each for
    two workers on one database."""
    if request.param.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'watcher.db'}"
    else:
        url = request.getfixturevalue("pg_url")
    with WatchedStore.open(url) as first:
        if request.param.endswith("threads"):
            yield first, first
            return
        with WatchedStore.open(url) as second:
            yield first, second


def own_article(number: int) -> Article:
    """An article of the second outlet's alone (no other poll carries it)."""
    return Article(id=f"outlet-b-own-{number}", title=f"Convoy {number} reached the camp",
                   body=f"Aid convoy number {number} reached the camp on Monday.",
                   url=f"https://outlet-b.example/own/{number}", source="outlet-b",
                   guid=f"own-{number}")


def both_polls(
    stores: tuple[Store, Store], first: HeldMatcher, second: HeldMatcher,
    second_also: Sequence[Article] = (),
) -> tuple[list[Outcome] | BaseException, list[Outcome]]:
    """The first poll held inside its analysis until the second (the shared text, then
    `second_also`) has either analysed the text too or started waiting for the first's
    claim; then both run to the end. The first's outcomes, or its failure, and the
    second's outcomes."""
    polls = [Pipeline(matcher=m, store=s, now=lambda: MOMENT)  # type: ignore[arg-type]
             for m, s in zip((first, second), stores, strict=True)]
    stores[0].moved = threading.Event()  # type: ignore[attr-defined]
    stores[1].moved = second.moved  # type: ignore[attr-defined]  (one store: the second's)
    with ThreadPoolExecutor(2) as pool:
        held = pool.submit(lambda: list(polls[0].ingest_many([outlet_copy("outlet-a")])))
        assert first.moved.wait(PATIENCE)  # analysing: its article claimed
        first.moved.clear()
        other = pool.submit(lambda: list(polls[1].ingest_many(
            [outlet_copy("outlet-b"), *second_also])))
        assert stores[1].moved.wait(PATIENCE)  # analysing the text, or waiting for the claim
        first.go.set()
        outcome = held.exception(PATIENCE) or held.result()
        return outcome, other.result(PATIENCE)


def test_a_text_two_polls_carry_at_once_is_analysed_once(
    two_stores: tuple[Store, Store], matcher: Matcher,
) -> None:
    first = HeldMatcher(matcher, threading.Event(), held=True)
    second = HeldMatcher(matcher, threading.Event())
    first_outcomes, second_outcomes = both_polls(two_stores, first, second)
    assert second.analysed == []  # it waited for the claim and found the article stored
    assert isinstance(first_outcomes, list)
    assert [o.status for o in first_outcomes] == ["new"]
    assert [o.status for o in second_outcomes] == ["duplicate"]
    assert [m.rule_id for m in first_outcomes[0].new_matches] == ["siege"]
    assert first.analysed == ["outlet-a-1"]


def test_an_article_whose_claiming_poll_fails_is_stored_by_the_poll_that_waited(
    two_stores: tuple[Store, Store], matcher: Matcher,
) -> None:
    first = HeldMatcher(matcher, threading.Event(), held=True, fails=True)
    second = HeldMatcher(matcher, threading.Event())
    first_outcome, second_outcomes = both_polls(two_stores, first, second)
    assert isinstance(first_outcome, RuntimeError)  # its claim ended with its poll
    assert [o.status for o in second_outcomes] == ["new"]
    assert second.analysed == ["outlet-b-1"]
    assert [m.rule_id for m in second_outcomes[0].new_matches] == ["siege"]
    with two_stores[1].reading() as connection:
        assert connection.exec_driver_sql("SELECT external_id FROM articles").all() == [
            ("outlet-b-1",)]


def test_a_poll_does_the_rest_of_its_batch_before_waiting_for_a_claim(
    two_stores: tuple[Store, Store], matcher: Matcher,
) -> None:
    """The shared text opens a batch longer than one analysis chunk: the poll analyses and
    stores its own articles, the next chunk's too, and only then waits for the claim, so
    the copy's outcome (a duplicate, not analysed) comes last."""
    own = [own_article(number) for number in range(ANALYSIS_CHUNK + 3)]
    first = HeldMatcher(matcher, threading.Event(), held=True)
    second = HeldMatcher(matcher, threading.Event())
    _, second_outcomes = both_polls(two_stores, first, second, own)
    assert [(o.article.id, o.status) for o in second_outcomes] == [
        *((article.id, "new") for article in own), ("outlet-b-1", "duplicate")]
    assert second.analysed == [article.id for article in own]
