"""The inbox at `/` and `GET /api/stories`, served for real on loopback over SQLite: what
the filters keep, the next-page link, hostile text, the htmx list, and in a browser the
rule filter swapping the list in place with a URL to share. (The store's queries run on
PostgreSQL too: tests/store/test_inbox.py.)"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from click.testing import CliRunner
from playwright.sync_api import Page, expect

from tests.store.builders import MANBIJ, SHEIKH_MAQSOUD, at, new_article, new_match, new_story
from tests.support.helpers import ManualClock
from tests.support.web import Served, add_team, serve
from tests.web.conftest import sign_in
from watcher.cli.main import cli
from watcher.config.settings import Settings
from watcher.model import Severity
from watcher.store import Store

ROOT = Path(__file__).resolve().parents[2]
RULES = """
rules:
  - id: aleppo-siege
    title: Siege of Aleppo's districts
    query: siege NEAR/5 Aleppo
    severity: high
    tags: [aleppo, siege]
  - id: manbij-clashes
    title: Clashes around Manbij
    query: clashes NEAR/5 Manbij
    severity: medium
    tags: [northeast]
  - id: talks
    title: Talks
    query: talks
    severity: low
    tags: [diplomacy]
"""


def add_story(store: Store, article_id: str, minute: int, rule: str,
              severity: Severity = Severity.HIGH, **options: Any) -> int:
    body = options.pop("body", f"Report {article_id} on {rule}.")
    new = new_article(article_id, body=body, title=options.pop("title", None),
                      source=options.pop("source", "seeds"))
    result = store.ingest(new, [new_match(new, rule, severity=severity, **options)],
                          new_story, at(minute))
    assert result.story_id is not None
    return result.story_id


@pytest.fixture
def newsroom(team_store: Store, tmp_path: Path, clock: ManualClock) -> Iterator[Served]:
    """Three stories of three rules (and one held back), over rules with tags."""
    (tmp_path / "rules.yaml").write_text(RULES, encoding="utf-8")
    add_story(team_store, "s1", 1, "aleppo-siege", places=(SHEIKH_MAQSOUD,),
              title="Siege tightens on Sheikh Maqsoud", labels=("historical",))
    add_story(team_store, "m1", 2, "manbij-clashes", Severity.MEDIUM, places=(MANBIJ,),
              source="wire", title="Clashes near Manbij",
              body="Fighters exchanged fire at the Tishreen dam.")
    add_story(team_store, "t1", 3, "talks", Severity.LOW, title="Talks in Geneva")
    add_story(team_store, "h1", 4, "aleppo-siege", title="Fans besiege a stadium",
              held=("hypothetical",))
    with serve(team_store, Settings(rules=str(tmp_path / "rules.yaml")), clock) as served:
        yield served


def titles(html: str) -> list[str]:
    """The story titles the list links to, in order."""
    return re.findall(r'<a href="/stories/\d+">([^<]*)</a>', html)


def test_the_page_lists_stories_newest_first_and_each_filter_narrows_it(
    newsroom: Served
) -> None:
    with newsroom.client(newsroom.token("vic")) as client:
        def shown(**params: str) -> list[str]:
            answer = client.get("/", params=params)
            assert answer.status_code == 200, answer.text
            return titles(answer.text)

        assert shown() == ["Talks in Geneva", "Clashes near Manbij",
                           "Siege tightens on Sheikh Maqsoud"]
        assert shown(rule="aleppo-siege") == ["Siege tightens on Sheikh Maqsoud"]
        assert shown(rule="aleppo-siege", held="1") == ["Fans besiege a stadium",
                                                        "Siege tightens on Sheikh Maqsoud"]
        assert shown(tag="northeast") == ["Clashes near Manbij"]
        assert shown(tag="siege", rule="talks") == []
        assert shown(severity="medium") == ["Clashes near Manbij",
                                            "Siege tightens on Sheikh Maqsoud"]
        assert shown(source="wire") == ["Clashes near Manbij"]
        assert shown(place="Aleppo Governorate") == ["Clashes near Manbij",
                                                     "Siege tightens on Sheikh Maqsoud"]
        assert shown(status="open", since="2026-11-24T12:02:00") == ["Talks in Geneva",
                                                                     "Clashes near Manbij"]
        assert shown(q="Tishreen") == ["Clashes near Manbij"]
        assert shown(status="closed") == []


def test_the_form_shows_the_rules_tags_and_sources_and_keeps_what_was_chosen(
    newsroom: Served
) -> None:
    with newsroom.client(newsroom.token("vic")) as client:
        page = client.get("/", params={"rule": "talks", "q": "Geneva", "held": "1"}).text
    assert '<option value="talks" selected>Talks (talks)</option>' in page
    assert "<option>northeast</option>" in page and "<option>wire</option>" in page
    assert 'name="q" type="search" value="Geneva"' in page
    assert 'id="f-held" name="held" type="checkbox" value="1" checked' in page
    for field in ("f-q", "f-rule", "f-tag", "f-severity", "f-source", "f-place", "f-status",
                  "f-since", "f-until", "f-held"):
        assert f'<label for="{field}">' in page  # every input is labelled
    assert '<form method="post" action="/stories/triage"' in page
    assert re.search(r'<input type="checkbox" name="story_id" value="\d+" id="pick-(\d+)">'
                     r'<label for="pick-\1"', page)


def test_a_filter_that_means_nothing_says_why(newsroom: Served) -> None:
    with newsroom.client(newsroom.token("vic")) as client:
        for params, says in (({"severity": "dire"}, "unknown severity 'dire'"),
                             ({"place": "Xanadu Springs"}, "no place named 'Xanadu Springs'"),
                             ({"since": "last week"}, "since: 'last week' is neither"),
                             ({"before": "nonsense"}, "bad page cursor")):
            page = client.get("/", params=params)
            assert page.status_code == 400 and says in html.unescape(page.text)
            assert titles(page.text) == []
            api = client.get("/api/stories", params=params)
            assert api.status_code == 400 and says in api.json()["error"]


@pytest.mark.parametrize("typed", ['"', "OR", "*", "NEAR(", "-", "((", "Tishreen)", '"a" AND'])
def test_hostile_search_input_is_answered(newsroom: Served, typed: str) -> None:
    with newsroom.client(newsroom.token("vic")) as client:
        assert client.get("/", params={"q": typed}).status_code == 200
        assert client.get("/api/stories", params={"q": typed}).status_code == 200


def test_feed_text_is_escaped_on_the_page(team_store: Store, served: Served) -> None:
    add_story(team_store, "x1", 1, "siege", title='<script>alert(1)</script><b onclick="x">')
    with served.client(served.token("vic")) as client:
        page = client.get("/").text
    assert "<script>alert" not in page and "<b onclick" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;b onclick=&#34;x&#34;&gt;" in page


def test_the_next_page_link_keeps_the_filters_and_pages_without_gaps(
    team_store: Store, served: Served
) -> None:
    made = [add_story(team_store, f"p{n}", n // 3, "siege") for n in range(120)]
    add_story(team_store, "other", 50, "talks")
    seen: list[int] = []
    url: str | None = "/?rule=siege"
    with served.client(served.token("vic")) as client:
        while url is not None:
            page = client.get(url).text
            seen += [int(i) for i in re.findall(r'<a href="/stories/(\d+)">', page)]
            found = re.search(r'<a href="([^"]+)"[^>]*rel="next">Next page</a>', page)
            url = found[1].replace("&amp;", "&") if found else None
            if url:
                assert parse_qs(urlsplit(url).query)["rule"] == ["siege"]
    assert seen == sorted(made, reverse=True)


def test_an_htmx_request_gets_the_list_alone_and_the_same_url_the_whole_page(
    newsroom: Served
) -> None:
    with newsroom.client(newsroom.token("vic")) as client:
        fragment = client.get("/?rule=talks", headers={"HX-Request": "true"})
        whole = client.get("/?rule=talks")
    assert titles(fragment.text) == titles(whole.text) == ["Talks in Geneva"]
    assert "<html" not in fragment.text and "<h1>Inbox</h1>" in whole.text
    assert fragment.headers["vary"] == whole.headers["vary"] == "HX-Request"
    with newsroom.client(newsroom.token("vic")) as client:
        wrong = client.get("/?place=Xanadu", headers={"HX-Request": "true"})
    assert wrong.status_code == 200  # htmx swaps in no 4xx answer: the list says why
    assert "no place named" in wrong.text and 'role="alert"' in wrong.text


def test_api_stories_gives_each_story_with_its_rules_places_and_status(
    newsroom: Served
) -> None:
    with newsroom.client(newsroom.token("vic")) as client:
        answer = client.get("/api/stories", params={"limit": 2})
        rest = client.get("/api/stories", params={"before": answer.json()["next"]})
        schema = client.get("/api/openapi.json").json()
    assert answer.status_code == 200
    first, second = answer.json()["stories"]
    assert first["title"] == "Talks in Geneva"
    assert second == {
        "id": second["id"], "title": "Clashes near Manbij",
        "first_seen": "2026-11-24T12:02:00Z", "first_outlet": "wire",
        "first_outlet_at": "2026-11-24T12:00:00Z", "outlets": 1, "articles": 1,
        "rules": [{"id": "manbij-clashes", "title": "Rule manbij-clashes",
                   "severity": "medium"}],
        "labels": [], "places": [{"id": MANBIJ.id, "name": "Manbij", "kind": "town",
                                  "latitude": MANBIJ.latitude, "longitude": MANBIJ.longitude}],
        "status": "open", "assignee": None, "url": f"/stories/{second['id']}",
    }
    assert [s["title"] for s in rest.json()["stories"]] == ["Siege tightens on Sheikh Maqsoud"]
    assert rest.json()["next"] is None
    assert rest.json()["stories"][0]["labels"] == ["historical"]
    described = schema["paths"]["/api/stories"]["get"]
    assert {p["name"] for p in described["parameters"]} >= {
        "rule", "tag", "severity", "source", "place", "status", "since", "until", "q", "held",
        "before", "limit"}
    assert set(schema["components"]["schemas"]["InboxStoryOut"]["required"]) >= {
        "id", "title", "first_seen", "outlets", "rules", "status"}


def test_the_browser_filters_by_rule_in_place_with_a_url_to_share(
    newsroom: Served, page: Page
) -> None:
    sign_in(page, newsroom, "ana")
    stories = page.get_by_role("table").get_by_role("link")
    expect(stories).to_have_count(3)
    page.get_by_label("Rule").select_option("manbij-clashes")  # htmx: the list, no page load
    expect(stories).to_have_text(["Clashes near Manbij"])
    expect(page).to_have_url(re.compile(r"[?&]rule=manbij-clashes(&|$)"))
    page.reload()  # the pushed URL is the whole page, filtered
    expect(page.get_by_label("Rule")).to_have_value("manbij-clashes")
    expect(stories).to_have_text(["Clashes near Manbij"])
    page.get_by_label("Select story").first.check()  # each story's box has its label
    expect(page.get_by_role("checkbox", checked=True)).to_have_count(1)


def test_the_seeds_replayed_by_the_real_pipeline_are_in_the_inbox(
    tmp_path: Path, clock: ManualClock
) -> None:
    """`watcher replay` of the seeds with the shipped rules, then the API: each story with
    the rules that fired on it (the most severe first), placed, found by place and word."""
    url = f"sqlite:///{tmp_path / 'replayed.db'}"
    replayed = CliRunner().invoke(cli, ["--db", url, "replay", "--no-notify", "--rules",
                                        str(ROOT / "rules"), "--format", "jsonl",
                                        str(ROOT / "seeds")], catch_exceptions=False)
    assert replayed.exit_code == 0, replayed.stderr
    printed = [json.loads(line) for line in replayed.stdout.splitlines()]
    with Store.open(url) as store:
        add_team(store, clock.now())
        with serve(store, Settings(rules=str(ROOT / "rules")), clock) as served, \
                served.client(served.token("vic")) as client:
            def titles_of(**params: str) -> list[str]:
                answer = client.get("/api/stories", params=params)
                return [story["title"] for story in answer.json()["stories"]]

            stories = {s["title"]: s for s in client.get("/api/stories").json()["stories"]}
            in_governorate = titles_of(place="Aleppo Governorate")
            searched = titles_of(q="Qamishlo")
    for match in printed:
        assert match["rule"] in {rule["id"] for rule in stories[match["title"]]["rules"]}
    evacuate = stories["Syrian military tells civilians to evacuate contested area east of "
                       "Aleppo amid rising tensions"]
    assert (evacuate["rules"][0]["id"], evacuate["rules"][0]["severity"]) == (
        "aleppo-evacuation-order", "critical")
    assert "Aleppo" in {place["name"] for place in evacuate["places"]}
    assert "Russia Mediates to End Siege on Kurdish Neighborhoods in Aleppo" in in_governorate
    assert "New Round of Negotiations on Syria to Kick Off in Astana" not in in_governorate
    assert searched == ["Syrian Kurdish-led forces withdraw from government zones in Qamishlo"]


def test_api_stories_on_postgresql_filters_and_searches_alike(
    pg_url: str, clock: ManualClock
) -> None:
    with Store.open(pg_url) as store:
        add_team(store, clock.now())
        siege = add_story(store, "s1", 1, "siege", places=(SHEIKH_MAQSOUD,),
                          body="The siege of Sheikh Maqsoud tightened overnight.")
        clashes = add_story(store, "m1", 2, "clashes", Severity.MEDIUM, places=(MANBIJ,),
                            body="Clashes were reported near the Tishreen dam.")
        with serve(store, clock=clock) as served, served.client(served.token("vic")) as client:
            def ids(**params: str) -> list[int]:
                answer = client.get("/api/stories", params=params)
                assert answer.status_code == 200, answer.text
                return [story["id"] for story in answer.json()["stories"]]

            assert ids() == [clashes, siege]
            assert ids(q="tightening sieges") == [siege]  # English stemming
            assert ids(q='"Tishreen dam"') == [clashes]  # a web search's phrase
            assert ids(q="siege -Maqsoud") == []
            assert ids(place="Aleppo Governorate", severity="high") == [siege]
            assert ids(source="seeds", rule="clashes") == [clashes]
            assert ids(source="seeds\x00") == [clashes, siege]  # no NUL reaches PostgreSQL
            for typed in ('"', "OR", "*", "NEAR(", "-", "((", "\x00", "siege\x00"):
                assert set(ids(q=typed)) <= {clashes, siege}  # NEAR( finds "near"
