"""The Atom feeds of alerts, as a feed reader fetches them: which alerts each lists, that
feedparser reads them without complaint, that hostile feed text stays text, and that a
token is needed, in the Authorization header or, for readers that cannot send one, in
the URL."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import feedparser
import pytest

from tests.store.builders import new_article, new_match, new_story
from tests.store.conftest import empty
from tests.support.helpers import ManualClock
from tests.support.web import Served, add_team, serve
from watcher.config.settings import Settings
from watcher.store import Store

RULES = """\
rules:
  - id: siege
    title: Siege of a city
    query: siege
    severity: high
    tags: [syria, aleppo]
  - id: strike
    title: Air strike
    query: strike
    severity: medium
    tags: [iraq]
  - id: quiet
    title: A rule that never fired
    query: nothing
    tags: [dormant]
"""
HOSTILE = "<script>alert(1)</script> & ]]> \x07bell"


@pytest.fixture(params=["sqlite", "postgresql"])
def feed_store(request: pytest.FixtureRequest, tmp_path: Path, clock: ManualClock
               ) -> Iterator[Store]:
    """A team and five alerts-to-be: two of rule siege, one of strike, one of siege held
    back by its context, one of siege old news; and a hostile one of strike (newest)."""
    url = f"sqlite:///{tmp_path / 'feeds.db'}"
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres_url")
        empty(url)
    with Store.open(url) as store:
        add_team(store, clock.now())
        _fill(store, clock)
        yield store
    if request.param == "postgresql":
        empty(url)


def _fill(store: Store, clock: ManualClock) -> None:
    def stored(article_id: str, rule: str, **changes: object) -> None:
        new = new_article(article_id, title=changes.pop("title", None))  # type: ignore[arg-type]
        made = new_match(new, rule, channels=())
        old_news = changes.pop("old_news", None)
        made = replace(made, match=replace(made.match, **changes), old_news=old_news)
        clock.advance(60)
        store.ingest(new, [made], new_story, clock.now())

    stored("first-siege", "siege")
    stored("held-siege", "siege", held=("historical",))
    stored("strike", "strike")
    stored("old-siege", "siege", old_news="baseline")
    stored("second-siege", "siege")
    stored("hostile", "strike", title=HOSTILE, snippet=f"a [strike] {HOSTILE}")
    with store.writing() as connection:  # the feed's own link, as a hostile feed could give
        connection.exec_driver_sql(
            "UPDATE articles SET url = 'javascript:alert(1)' WHERE external_id = 'hostile'")


@pytest.fixture
def feed_served(feed_store: Store, clock: ManualClock, tmp_path: Path) -> Iterator[Served]:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "watch.yaml").write_text(RULES)
    with serve(feed_store, Settings(rules=str(rules)), clock) as served:
        yield served


def read(served: Served, query: str = "") -> feedparser.FeedParserDict:
    with served.client(served.token("vic")) as client:
        answer = client.get(f"/feeds/alerts.atom{query}")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/atom+xml")
    parsed = feedparser.parse(answer.content)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    return parsed


def articles_of(parsed: feedparser.FeedParserDict) -> list[str]:
    return [next(link.href for link in entry.links if link.rel == "related").rsplit("/", 1)[1]
            if any(link.rel == "related" for link in entry.links) else "(no link)"
            for entry in parsed.entries]


def test_the_feed_lists_alerts_newest_first_without_held_back_or_old_news(
    feed_served: Served,
) -> None:
    parsed = read(feed_served)
    assert articles_of(parsed) == ["(no link)", "second-siege", "strike", "first-siege"]
    entry = parsed.entries[1]
    assert entry.title == "Rule siege: Title of second-siege"
    assert entry.id.startswith("urn:watcher:match:")
    assert entry.link == f"{feed_served.url}/stories/{_story_of(feed_served, 'second-siege')}"
    assert entry.summary == "… a [siege] on …"
    assert entry.author == "seeds"
    assert {(tag.term, tag.scheme) for tag in entry.tags} == {
        ("high", "urn:watcher:severity"), ("siege", "urn:watcher:rule"),
        ("syria", "urn:watcher:tag"), ("aleppo", "urn:watcher:tag")}
    assert entry.updated_parsed is not None
    # The feed's own link is the URL read, a reader's token never in it.
    assert parsed.feed.links[0].rel == "self"


def test_an_entrys_id_stays_the_same_from_one_fetch_to_the_next(feed_served: Served) -> None:
    first = [entry.id for entry in read(feed_served).entries]
    feed_served.clock.advance(3600)
    assert [entry.id for entry in read(feed_served).entries] == first
    assert len(set(first)) == len(first)


def test_a_rules_feed_and_a_tags_feed_list_only_their_alerts(feed_served: Served) -> None:
    assert articles_of(read(feed_served, "?rule=siege")) == ["second-siege", "first-siege"]
    assert articles_of(read(feed_served, "?tag=iraq")) == ["(no link)", "strike"]
    assert articles_of(read(feed_served, "?tag=aleppo")) == ["second-siege", "first-siege"]
    assert articles_of(read(feed_served, "?tag=dormant")) == []
    assert articles_of(read(feed_served, "?rule=strike&tag=aleppo")) == []
    parsed = read(feed_served, "?tag=iraq")
    assert parsed.feed.title == "watcher alerts tag iraq"
    assert parsed.feed.id == "urn:watcher:alerts:tag:iraq"


def test_a_tag_no_rule_has_is_404_not_an_empty_feed(feed_served: Served) -> None:
    with feed_served.client(feed_served.token("vic")) as client:
        answer = client.get("/feeds/alerts.atom?tag=aleppo-typo")
    assert answer.status_code == 404
    assert answer.json() == {"error": "no rule has the tag 'aleppo-typo'"}


def test_hostile_feed_text_comes_back_as_text_and_a_script_link_is_no_link(
    feed_served: Served,
) -> None:
    with feed_served.client(feed_served.token("vic")) as client:
        raw = client.get("/feeds/alerts.atom").text
    assert "<script>" not in raw and "\x07" not in raw and "javascript:" not in raw
    entry = read(feed_served).entries[0]
    assert entry.title == "Rule strike: <script>alert(1)</script> & ]]> bell"
    assert entry.title_detail.type == "text/plain"
    assert entry.summary == "a [strike] <script>alert(1)</script> & ]]> bell"
    assert entry.summary_detail.type == "text/plain"
    assert [link.rel for link in entry.links] == ["alternate"]  # the story's page only


def test_a_token_works_in_the_header_and_in_the_url_a_wrong_or_missing_one_is_401(
    feed_served: Served,
) -> None:
    token = feed_served.token("vic")
    with feed_served.client(token) as client:
        assert client.get("/feeds/alerts.atom").status_code == 200
    with feed_served.client() as client:
        by_url = client.get("/feeds/alerts.atom", params={"token": token, "rule": "siege"})
        assert by_url.status_code == 200
        self_link = feedparser.parse(by_url.content).feed.links[0].href
        assert token not in self_link and self_link.endswith("/feeds/alerts.atom?rule=siege")
        for refused in ({"token": "wt_wrong"}, {"token": ""}, {}):
            answer = client.get("/feeds/alerts.atom", params=refused)
            assert answer.status_code == 401 and answer.headers["www-authenticate"] == "Bearer"
            assert answer.json()["error"] == "not signed in: send Authorization: Bearer TOKEN " \
                                             "(or add ?token=TOKEN to the feed's URL)"
        # The URL's token is for feeds only: the API still wants the header.
        assert client.get("/api/sources", params={"token": token}).status_code == 401
    with feed_served.client("wt_wrong") as client:
        assert client.get("/feeds/alerts.atom").status_code == 401


def test_the_feed_is_bounded_to_the_newest_fifty(feed_store: Store, clock: ManualClock,
                                                 tmp_path: Path) -> None:
    for number in range(55):
        new = new_article(f"many-{number}")
        clock.advance(1)
        feed_store.ingest(new, [new_match(new, "strike", channels=())], new_story, clock.now())
    with serve(feed_store, Settings(rules=str(tmp_path / "none")), clock) as served:
        parsed = read(served)
    assert len(parsed.entries) == 50
    assert articles_of(parsed)[0] == "many-54" and articles_of(parsed)[-1] == "many-5"
    assert parsed.entries[0].tags[-1].term == "strike"  # no rules loaded: no tags, still valid


def _story_of(served: Served, article_id: str) -> int:
    return next(a.story for a in served.store.articles() if a.id == article_id)


def test_the_newest_entry_dates_the_feed(feed_served: Served) -> None:
    parsed = read(feed_served)
    assert parsed.feed.updated_parsed == parsed.entries[0].updated_parsed
