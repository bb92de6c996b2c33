"""The story page and `GET /api/stories/{id}`: every outlet's copy, snippets with the matched
words marked (and feed text kept as text), why each rule fired, deliveries per channel.

The store is filled by the real ingest pipeline with a rule of the test's own, three copies
of one Reuters brief (one from a hostile feed), and deliveries moved on by the outbox's own
store calls.
"""

from __future__ import annotations

import functools
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.store.builders import new_article, new_match, oldest_story
from tests.support.helpers import ManualClock
from tests.support.web import Served, add_team, serve
from tests.web.conftest import sign_in
from watcher.config.settings import ChannelSettings, Settings
from watcher.engine.matcher import Matcher
from watcher.ingest.pipeline import Pipeline
from watcher.model import Article
from watcher.rules.ast import RuleSet
from watcher.rules.load import load_rules
from watcher.store import Store
from watcher.store.story_view import MAX_COPIES, MAX_MATCHES, StoryViews
from watcher.web.explaining import MAX_EXPLAINED

RULES = """
rules:
  - id: aleppo-blast
    title: Blasts in Aleppo
    query: (blast OR bomb) NEAR/10 ~Aleppo
    severity: high
    exclude: [hypothetical]
"""
BRIEF = ("A bomb blast killed six people and injured 32 in the Salah al-Din district of Aleppo, "
         "Syrian state television reported on Wednesday without giving further details. "
         "Salah al-Din is located west of Aleppo's Old City in a district that was part of the "
         "last rebel enclave there until it was taken over by the Syrian army in December.")
HOSTILE = "<script>alert(1)</script>"
COPIES = (
    Article(id="nna-1", title="Aleppo bomb blast kills six", body=BRIEF + " --Reuters",
            url="https://nna.example/aleppo-blast", source="nna"),
    Article(id="ahram-1", title="Aleppo bomb blast kills six, state TV says", body=BRIEF,
            url="http://ahram.example/story?id=1&x=2", source="ahram"),
    Article(id="evil-1", title=f"Aleppo bomb blast kills six {HOSTILE}",
            body=BRIEF.replace("A bomb blast", f"{HOSTILE} A bomb blast"),
            url="javascript:alert(document.cookie)", source="evil"),
)
WARNING = Article(id="warn-1", title="Officials warn of attacks",
                  body="Officials warned that a bomb blast could strike Aleppo if talks fail.",
                  source="nna")
CHANNELS = {name: ChannelSettings(urls=(f"json://127.0.0.1:9/{name}",), default=True)
            for name in ("chat", "mail", "ops")}
OWNER = "test-sender"


@dataclass(frozen=True)
class Story:
    served: Served
    id: int
    warning: int  # the story of WARNING, whose match is held back


@functools.cache
def matcher() -> Matcher:
    """RULES compiled once for the module's fills (each page compiles its own)."""
    return Matcher.from_rules(load_rules_text(RULES))


def load_rules_text(text: str) -> RuleSet:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "rules.yaml"
        path.write_text(text, encoding="utf-8")
        return load_rules(path)


def fill(store: Store, settings: Settings, clock: ManualClock) -> tuple[int, int]:
    """The three copies ingested as one story, WARNING as another; the copies' ops alert
    sent, chat's dead, mail's left pending. Returns the two stories' ids."""
    pipeline = Pipeline(matcher=matcher(), store=store, channels=CHANNELS, now=clock.now)
    *outcomes, warning = pipeline.ingest_many((*COPIES, WARNING))
    stories = {outcome.story for outcome in outcomes}
    assert [o.status for o in outcomes] == ["new"] * 3 and len(stories) == 1, outcomes
    assert warning.story is not None and warning.story not in stories
    clock.advance(60)
    lease = timedelta(minutes=5)
    ops = store.claim_due_deliveries(clock.now(), owner=OWNER, lease=lease, limit=10,
                                     channels=["ops"])
    store.mark_sent([d.id for d in ops], clock.now(), owner=OWNER)
    chat = store.claim_due_deliveries(clock.now(), owner=OWNER, lease=lease, limit=10,
                                      channels=["chat"])
    store.mark_failed([d.id for d in chat], "HTTP 500 <b>from chat</b>", None, owner=OWNER)
    assert len(ops) == len(chat) == 1
    (story,) = stories
    assert story is not None
    return story, warning.story


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES, encoding="utf-8")
    return Settings(rules=str(rules), channels=CHANNELS)


@pytest.fixture
def story(team_store: Store, settings: Settings, clock: ManualClock) -> Iterator[Story]:
    with serve(team_store, settings, clock) as served:
        yield Story(served, *fill(team_store, settings, clock))


def page_of(story: Story, path: str | None = None) -> str:
    with story.served.client(story.served.token("vic")) as client:
        answer = client.get(path or f"/stories/{story.id}")
    assert answer.status_code == 200, answer.text
    return answer.text


def test_every_outlets_copy_is_listed_and_only_web_urls_are_links(story: Story) -> None:
    html = page_of(story)
    copies = html[html.index('id="copies-heading"'):html.index('id="matches-heading"')]
    for source in ("nna", "ahram", "evil"):
        assert f"<strong>{source}</strong>" in copies
    assert "3 outlets" in html
    assert ('<a href="https://nna.example/aleppo-blast" rel="noopener noreferrer nofollow">'
            "Aleppo bomb blast kills six</a>") in copies
    assert 'href="http://ahram.example/story?id=1&amp;x=2"' in copies
    assert "javascript:" not in html  # not a link, and not even shown
    assert "(no web link)" in copies


def test_matched_words_are_marked_and_feed_markup_stays_text(story: Story) -> None:
    html = page_of(story)
    snippets = re.findall(r'<blockquote class="snippet">(.*?)</blockquote>', html, re.DOTALL)
    assert len(snippets) == 3  # the rule fired on every copy
    for snippet in snippets:
        assert "<mark>bomb</mark>" in snippet or "<mark>blast</mark>" in snippet
        assert "<mark>Aleppo</mark>" in snippet
    assert any("&lt;script&gt;alert(1)&lt;/script&gt;" in s for s in snippets)
    assert "<script>alert" not in html
    assert "Aleppo bomb blast kills six &lt;script&gt;" in html  # the hostile title: text


def test_the_explanation_names_the_near_clause_that_held(story: Story) -> None:
    html = page_of(story)
    assert "With the rules as they are now: <strong>matches</strong>" in html
    assert re.search(r"NEAR/10: (bomb|blast) \.\.\. Aleppo: \d+ words? apart, NEAR/10 allows 10",
                     html), html
    assert 'class="holds"' in html and "~Aleppo: Aleppo" in html


def test_the_right_side_of_not_in_is_marked_as_working_against_the_match(
    team_store: Store, tmp_path: Path, clock: ManualClock
) -> None:
    """Explained with the rule as it is now: `blast` left out where it is in "bomb blast"."""
    rules = tmp_path / "now.yaml"
    rules.write_text(RULES.replace("(blast OR bomb)", '(blast NOT IN "bomb blast" OR bomb)'),
                     encoding="utf-8")
    settings = Settings(rules=str(rules), channels=CHANNELS)
    with serve(team_store, settings, clock) as served:
        story = Story(served, *fill(team_store, settings, clock))
        html = page_of(story)
        with served.client(served.token("vic")) as client:
            lines = client.get(f"/api/stories/{story.id}").json()["matches"][0]["why"]["lines"]
    assert re.search(r'<li [^>]*class="excludes"><span class="clause-mark" aria-hidden="true">'
                     r'−</span><span class="visually-hidden">occurs, leaving out what it covers: '
                     r'</span>&#34;bomb blast&#34;: bomb blast</li>', html), html
    assert [line["text"] for line in lines if line["excludes"]] == ['"bomb blast": bomb blast']


def test_a_held_back_match_shows_its_context_labels_and_why_it_was_held(story: Story) -> None:
    html = page_of(story, f"/stories/{story.warning}")
    assert "<strong>Held back</strong> (stored, not alerted): hypothetical" in html
    assert ('<span class="label">hypothetical</span> (“warned that”, “could”)') in html
    assert "With the rules as they are now: <strong>matches, held back</strong>" in html
    assert 'held back: hypothetical (&#34;warned that&#34;, &#34;could&#34;)' in html
    assert "No alert of this story was queued" in html
    assert "<mark>bomb</mark> <mark>blast</mark> could strike <mark>Aleppo</mark>" in html


def test_deliveries_appear_per_channel_with_their_status(story: Story) -> None:
    html = page_of(story)
    table = html[html.index('<table class="deliveries">'):html.index("</table>")]
    rows = re.findall(r'<th scope="row">(\w+)</th><td class="status-\w+"[^>]*>(\w+)</td>', table)
    assert rows == [("chat", "dead"), ("mail", "pending"), ("ops", "sent")]
    assert "HTTP 500 &lt;b&gt;from chat&lt;/b&gt;" in table


def test_a_story_that_does_not_exist_is_a_404_page_and_404_json(story: Story) -> None:
    with story.served.client(story.served.token("vic")) as client:
        page = client.get("/stories/9999")
        api = client.get("/api/stories/9999")
    assert page.status_code == 404 and "There is no story 9999" in page.text
    assert api.status_code == 404 and api.json() == {"error": "no story 9999"}


def test_a_removed_rule_is_named_not_explained(story: Story, settings: Settings) -> None:
    Path(settings.rules).write_text(RULES.replace("aleppo-blast", "aleppo-bombs"),
                                    encoding="utf-8")
    html = page_of(story)
    assert "the rule aleppo-blast is no longer in the rules under" in html
    assert "NEAR/10 allows" not in html


def test_a_story_of_many_copies_shows_the_first_and_counts_them_all(
    team_store: Store, settings: Settings, clock: ManualClock
) -> None:
    many = MAX_COPIES + 5
    for n in range(many):  # one story: every copy shares a band with the first
        new = new_article(f"copy-{n:03}", source=f"outlet-{n % 7}", story_band=7)
        team_store.ingest(new, [new_match(new, "gone-rule")], oldest_story, clock.now())
    (story,) = {copy.story for copy in team_store.articles()}
    view = StoryViews(team_store).story(story)
    assert view is not None
    assert (len(view.copies), view.copies_total) == (MAX_COPIES, many)
    assert (len(view.matches), view.matches_total) == (MAX_MATCHES, many)
    assert view.copies[0].id == "copy-000" and view.deliveries_total == 1
    with serve(team_store, settings, clock) as served:
        html = page_of(Story(served, story, story), f"/stories/{story}")
    assert f"The first {MAX_COPIES} of {many} copies are shown." in html
    assert f"The first {MAX_MATCHES} of {many} matches are shown." in html
    assert html.count("the rule gone-rule is no longer in the rules under") == MAX_EXPLAINED
    assert html.count("not explained here: only the first") == MAX_MATCHES - MAX_EXPLAINED


def test_a_rule_changed_since_says_so_and_broken_rules_are_reported(
    story: Story, settings: Settings
) -> None:
    rules = Path(settings.rules)
    rules.write_text(RULES.replace("NEAR/10", "NEAR/3"), encoding="utf-8")
    html = page_of(story)
    assert ("The rule has changed since this match: explained with its query now, "
            "<code>(blast OR bomb) NEAR/3 ~Aleppo</code>") in html
    assert "NEAR/3 allows 3" in html
    rules.write_text("rules: [", encoding="utf-8")
    html = page_of(story)
    assert html.count(f"the rules under {rules} do not load:") == 3
    assert "NEAR/3 allows" not in html


@pytest.fixture(params=["sqlite", "postgresql"])
def any_story(request: pytest.FixtureRequest, tmp_path: Path, settings: Settings,
              clock: ManualClock) -> Iterator[Story]:
    url = (f"sqlite:///{tmp_path / 'api.db'}" if request.param == "sqlite"
           else request.getfixturevalue("pg_url"))
    with Store.open(url) as store:
        add_team(store, clock.now())
        with serve(store, settings, clock) as served:
            yield Story(served, *fill(store, settings, clock))


def test_the_api_answers_the_story_as_the_page_shows_it(any_story: Story) -> None:
    with any_story.served.client(any_story.served.token("vic")) as client:
        answer = client.get(f"/api/stories/{any_story.id}")
        quick = client.get(f"/api/stories/{any_story.id}", params={"explain": "false"})
        schema = client.get("/api/openapi.json").json()
    assert answer.status_code == 200
    story = answer.json()
    assert (story["id"], story["title"], story["status"], story["assignee"]) == (
        any_story.id, "Aleppo bomb blast kills six", "open", None)
    assert story["outlets"] == ["nna", "ahram", "evil"] and story["rules"] == ["aleppo-blast"]
    assert [c["url"] for c in story["copies"]][2] == "javascript:alert(document.cookie)"
    assert story["copies_total"] == story["matches_total"] == 3
    first = story["matches"][0]
    assert (first["rule"], first["article"], first["severity"]) == ("aleppo-blast", "nna-1",
                                                                    "high")
    assert {p["text"] for p in first["pieces"] if p["marked"]} >= {"Aleppo"}
    assert "".join(p["text"] for p in first["pieces"]) in (COPIES[0].title, COPIES[0].body)
    assert first["why"]["verdict"] == "matches" and first["why"]["note"] is None
    near = next(line for line in first["why"]["lines"] if line["text"].startswith("NEAR/10"))
    assert near["holds"] is True and near["depth"] == 1
    assert [(d["channel"], d["status"], d["attempts"]) for d in story["deliveries"]] == [
        ("chat", "dead", 1), ("mail", "pending", 0), ("ops", "sent", 1)]
    assert all(m["why"] is None for m in quick.json()["matches"])
    described = schema["paths"]["/api/stories/{story_id}"]["get"]
    assert described["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/StoryOut"}
    assert "why" in schema["components"]["schemas"]["MatchOut"]["properties"]


def test_signed_out_the_story_asks_for_sign_in(story: Story) -> None:
    with story.served.client() as client:
        assert client.get(f"/api/stories/{story.id}").status_code == 401
        assert client.get(f"/stories/{story.id}").headers["location"] == (
            f"/signin?next=/stories/{story.id}")


def test_in_the_browser_a_story_shows_its_marks_and_why_it_fired(
    story: Story, page: Page
) -> None:
    sign_in(page, story.served, "vic", f"/stories/{story.id}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Aleppo bomb blast kills six")
    expect(page.locator("blockquote.snippet mark").first).to_be_visible()
    why = page.get_by_role("region", name="Why aleppo-blast fired").first
    expect(why.get_by_text(re.compile(r"NEAR/10 allows 10"))).to_be_visible()
    expect(why).to_contain_text("With the rules as they are now: matches")
    link = page.get_by_role("link", name="Aleppo bomb blast kills six", exact=True)
    expect(link).to_have_attribute("rel", "noopener noreferrer nofollow")
    expect(page.get_by_role("cell", name="dead")).to_be_visible()
