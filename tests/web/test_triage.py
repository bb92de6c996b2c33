"""Triage and the audit log: what one person does to a story everyone sees, bulk changes
are all or nothing, viewers change nothing, and every change is in the audit log.

The store's functions run on SQLite and PostgreSQL (`any_team_store`); the pages and the API on
the workspace served on loopback over SQLite; one test drives Chromium.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from fastapi import Request
from fastapi.responses import HTMLResponse
from playwright.sync_api import Browser, Page, expect

from tests.store.builders import NOW, new_article, new_match, new_story
from tests.support.web import PASSWORD, Served, add_team
from tests.web.conftest import sign_in
from watcher.errors import WorkspaceError
from watcher.store import Store
from watcher.store.accounts import Accounts
from watcher.store.audit import Audit
from watcher.store.triage import Triage
from watcher.web.auth import Viewer
from watcher.web.context import TEMPLATES


@pytest.fixture(params=["sqlite", "postgresql"])
def any_team_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """The team's store on a SQLite file and on the test session's emptied PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'triage.db'}"
    else:
        url = request.getfixturevalue("pg_url")
    with Store.open(url) as store:
        add_team(store, NOW)
        yield store


def add_stories(store: Store, *titles: str) -> list[int]:
    """One story per title, each from one article with one match, as ingest stores them."""
    ids = []
    for number, title in enumerate(titles):
        new = new_article(f"a{number}", title=title)
        result = store.ingest(new, [new_match(new)], new_story, NOW)
        assert result.story_id is not None
        ids.append(result.story_id)
    return ids


@contextmanager
def session(served: Served, name: str) -> Iterator[tuple[httpx.Client, str]]:
    """A client signed in through the form, as a browser is, with its session's CSRF token."""
    with served.client() as client:
        form = client.get("/signin").text
        token = re.search(r'name="signin_token" value="([^"]+)"', form)[1]
        signed = client.post("/signin", data={"name": name, "password": PASSWORD,
                                              "signin_token": token})
        assert signed.status_code == 303
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/audit").text)[1]
        yield client, csrf


def shared_state(served: Served, story_id: int) -> dict:
    """The story's state as the viewer sees it through the API."""
    with served.client(served.token("vic")) as client:
        answer = client.get(f"/api/stories/{story_id}/triage")
    assert answer.status_code == 200
    return answer.json()


def story_entries(served: Served) -> list[dict]:
    with served.client(served.token("vic")) as client:
        entries = client.get("/api/audit", params={"limit": 200}).json()["entries"]
    return [entry for entry in entries if entry["target"].startswith("story:")]


# --- the store, on SQLite and PostgreSQL --------------------------------------------------


def test_each_action_changes_the_shared_state_and_is_audited(any_team_store: Store) -> None:
    ana, ada = Accounts(any_team_store).user("ana"), Accounts(any_team_store).user("ada")
    assert ana is not None and ada is not None
    (story,) = add_stories(any_team_store, "Shelling near Aleppo")
    triage = Triage(any_team_store)
    fresh = triage.state(story)
    assert fresh is not None
    assert (fresh.status, fresh.assignee, fresh.updated, fresh.comments) == ("open", None, None, ())

    triage.acknowledge([story], ana, NOW)
    triage.assign([story], "ada", ana, NOW)
    triage.comment([story], "  Checking with the Aleppo desk.  ", ada, NOW)
    triage.close([story], ada, NOW)
    state = triage.state(story)
    assert state is not None
    assert (state.status, state.assignee, state.updated_by) == ("closed", "ada", "ada")
    assert [(c.author, c.body) for c in state.comments] == [("ada",
                                                             "Checking with the Aleppo desk.")]
    triage.reopen([story], ana, NOW)
    triage.assign([story], None, ana, NOW)
    state = triage.state(story)
    assert state is not None and (state.status, state.assignee) == ("open", None)

    entries = Audit(any_team_store).entries(target=f"story:{story}")
    assert [(e.actor, e.action, e.before, e.after) for e in reversed(entries)] == [
        ("ana", "story.acknowledge", {"status": "open", "assignee": None},
         {"status": "acknowledged", "assignee": None}),
        ("ana", "story.assign", {"status": "acknowledged", "assignee": None},
         {"status": "acknowledged", "assignee": "ada"}),
        ("ada", "story.comment", None,
         {"comment": state.comments[0].id, "body": "Checking with the Aleppo desk."}),
        ("ada", "story.close", {"status": "acknowledged", "assignee": "ada"},
         {"status": "closed", "assignee": "ada"}),
        ("ana", "story.reopen", {"status": "closed", "assignee": "ada"},
         {"status": "open", "assignee": "ada"}),
        ("ana", "story.assign", {"status": "open", "assignee": "ada"},
         {"status": "open", "assignee": None}),
    ]
    users_added = Audit(any_team_store).entries(actor="cli")
    assert [(e.action, e.target, e.after) for e in reversed(users_added)] == [
        ("user.add", "user:ada", {"role": "admin"}), ("user.add", "user:ana", {"role": "analyst"}),
        ("user.add", "user:vic", {"role": "viewer"}),
    ]


def test_a_bulk_change_is_all_or_nothing(any_team_store: Store) -> None:
    ana = Accounts(any_team_store).user("ana")
    assert ana is not None
    first, second = add_stories(any_team_store, "One", "Two")
    triage = Triage(any_team_store)
    with pytest.raises(WorkspaceError, match=r"^no story 999: nothing was changed$"):
        triage.close([first, 999, second], ana, NOW)
    with pytest.raises(WorkspaceError, match=r"^no user 'bob': nothing was changed$"):
        triage.assign([first, second], "bob", ana, NOW)
    with pytest.raises(WorkspaceError, match="vic is a viewer and cannot triage"):
        triage.assign([first, second], "vic", ana, NOW)
    with pytest.raises(WorkspaceError, match="no story 999"):
        triage.comment([first, 999], "seen", ana, NOW)
    assert {s.status for s in triage.states([first, second]).values()} == {"open"}
    assert triage.state(first).comments == ()  # type: ignore[union-attr]
    assert Audit(any_team_store).entries(actor="ana") == []

    after = triage.acknowledge([first, second], ana, NOW)
    assert [(s.story_id, s.status) for s in after] == [(first, "acknowledged"),
                                                      (second, "acknowledged")]
    assert len(Audit(any_team_store).entries(actor="ana")) == 2  # one entry per story


# --- pages, forms and the API ---------------------------------------------------------------


def test_what_an_analyst_does_every_user_sees(served: Served) -> None:
    first, second = add_stories(served.store, "Clashes in Manbij", "Strike on Idlib")
    with session(served, "ana") as (ana, csrf):
        for fields in ({"action": "acknowledge"}, {"action": "assign", "assignee": "ada"}):
            answer = ana.post(f"/stories/{first}/triage", data={**fields, "csrf_token": csrf})
            assert answer.status_code == 303
            assert answer.headers["location"] == f"/stories/{first}/triage"
        answer = ana.post(f"/stories/{first}/comments",
                          data={"body": "Ada follows this one.", "csrf_token": csrf})
        assert answer.status_code == 303
    served.clock.advance(60)
    with served.client(served.token("ana")) as api:
        answer = api.post(f"/api/stories/{second}/triage", json={"action": "close"})
    assert answer.status_code == 200 and answer.json()["status"] == "closed"

    seen = shared_state(served, first)
    assert (seen["status"], seen["assignee"], seen["updated_by"]) == ("acknowledged", "ada", "ana")
    assert [(c["author"], c["body"]) for c in seen["comments"]] == [("ana",
                                                                     "Ada follows this one.")]
    assert shared_state(served, second)["status"] == "closed"
    assert shared_state(served, second)["updated"] == "2026-03-01T12:01:00Z"
    with session(served, "ada") as (ada, _):
        page = ada.get(f"/stories/{first}/triage").text
    assert '<span class="status status-acknowledged">acknowledged</span>' in page
    assert '<dd class="assignee">ada</dd>' in page and "Ada follows this one." in page


def test_the_bulk_form_changes_every_story_and_goes_back(served: Served) -> None:
    first, second, third = add_stories(served.store, "One", "Two", "Three")
    with session(served, "ana") as (ana, csrf):
        answer = ana.post("/stories/triage", headers={"Referer": f"{served.url}/?status=open"},
                          data={"story_id": [str(first), str(second)], "action": "close",
                                "csrf_token": csrf})
        assert answer.status_code == 303 and answer.headers["location"] == "/?status=open"
        answer = ana.post("/stories/triage", headers={"Referer": "https://evil.example/x"},
                          data={"story_id": [str(third)], "action": "assign", "assignee": "ana",
                                "csrf_token": csrf})
        assert answer.status_code == 303 and answer.headers["location"] == "/"
        answer = ana.post("/stories/triage", headers={"HX-Request": "true"},
                          data={"story_id": [str(first)], "action": "reopen",
                                "csrf_token": csrf})
        assert answer.status_code == 200 and answer.headers["hx-refresh"] == "true"
    assert [shared_state(served, s)["status"] for s in (first, second, third)] == [
        "open", "closed", "open"]
    assert shared_state(served, third)["assignee"] == "ana"


def test_a_bulk_change_with_one_unknown_story_changes_nothing(served: Served) -> None:
    first, second = add_stories(served.store, "One", "Two")
    with session(served, "ana") as (ana, csrf):
        answer = ana.post("/stories/triage", data={
            "story_id": [str(first), "999", str(second)], "action": "acknowledge",
            "csrf_token": csrf})
        assert answer.status_code == 400
        assert "no story 999: nothing was changed" in answer.text
        answer = ana.post("/stories/triage", headers={"HX-Request": "true"}, data={
            "story_id": [str(first), "999"], "action": "close", "csrf_token": csrf})
        assert answer.status_code == 400 and answer.headers["hx-retarget"] == "#bulk-result"
        assert answer.text.strip() == (
            '<span class="error">no story 999: nothing was changed</span>')
    with served.client(served.token("ana")) as api:
        answer = api.post("/api/triage", json={"story_ids": [first, second, 999],
                                               "action": "close"})
        assert answer.status_code == 400
        assert answer.json() == {"error": "no story 999: nothing was changed"}
        answer = api.post("/api/triage", json={"story_ids": [first, second],
                                               "action": "assign", "assignee": "nobody"})
        assert answer.json() == {"error": "no user 'nobody': nothing was changed"}
    assert [shared_state(served, s)["status"] for s in (first, second)] == ["open", "open"]
    assert story_entries(served) == []


def test_a_viewer_is_refused_every_change(served: Served) -> None:
    (story,) = add_stories(served.store, "One")
    with session(served, "vic") as (vic, csrf):
        refused = [
            vic.post(f"/stories/{story}/triage", data={"action": "close", "csrf_token": csrf}),
            vic.post(f"/stories/{story}/comments", data={"body": "x", "csrf_token": csrf}),
            vic.post("/stories/triage", data={"story_id": [str(story)], "action": "close",
                                              "csrf_token": csrf}),
        ]
        page = vic.get(f"/stories/{story}/triage").text
    with served.client(served.token("vic")) as api:
        refused += [
            api.post(f"/api/stories/{story}/triage", json={"action": "close"}),
            api.post("/api/triage", json={"story_ids": [story], "action": "acknowledge"}),
            api.post(f"/api/stories/{story}/comments", json={"body": "x"}),
        ]
    assert [answer.status_code for answer in refused] == [403] * 6
    assert refused[3].json() == {"error": "vic is viewer; this needs analyst"}
    assert "<button" not in page.split('id="triage-', 1)[1]  # reads, no buttons
    seen = shared_state(served, story)
    assert (seen["status"], seen["comments"]) == ("open", [])
    assert story_entries(served) == []


def test_every_action_is_in_the_audit_log_with_who_before_and_after(served: Served) -> None:
    first, second = add_stories(served.store, "One", "Two")
    with served.client(served.token("ana")) as api:
        for change in ({"action": "acknowledge"}, {"action": "assign", "assignee": "ana"},
                       {"action": "close"}, {"action": "reopen"}):
            assert api.post(f"/api/stories/{first}/triage", json=change).status_code == 200
        answer = api.post(f"/api/stories/{first}/comments", json={"body": "<b>done</b>"})
        assert answer.status_code == 201 and answer.json()["author"] == "ana"
    with served.client(served.token("ada")) as api:
        assert api.post("/api/triage", json={"story_ids": [first, second],
                                             "action": "close"}).status_code == 200
    with served.client(served.token("vic")) as api:
        entries, address = [], f"/api/audit?target=story:{first}&limit=2"
        while address:  # two at a time, following `next`
            page = api.get(address).json()
            entries += page["entries"]
            address = page["next"]
        by_ada = api.get("/api/audit", params={"actor": "ada"}).json()["entries"]
    assert [(e["actor"], e["action"], e["before"], e["after"]) for e in entries] == [
        ("ada", "story.close", {"status": "open", "assignee": "ana"},
         {"status": "closed", "assignee": "ana"}),
        ("ana", "story.comment", None, {"comment": 1, "body": "<b>done</b>"}),
        ("ana", "story.reopen", {"status": "closed", "assignee": "ana"},
         {"status": "open", "assignee": "ana"}),
        ("ana", "story.close", {"status": "acknowledged", "assignee": "ana"},
         {"status": "closed", "assignee": "ana"}),
        ("ana", "story.assign", {"status": "acknowledged", "assignee": None},
         {"status": "acknowledged", "assignee": "ana"}),
        ("ana", "story.acknowledge", {"status": "open", "assignee": None},
         {"status": "acknowledged", "assignee": None}),
    ]
    assert entries[0]["at"] == "2026-03-01T12:00:00Z"
    assert [(e["action"], e["target"]) for e in by_ada] == [
        ("story.close", f"story:{second}"), ("story.close", f"story:{first}")]


ACTION_CELL = r'<td data-label="Action">([\w.]+)</td>'


def test_the_audit_page_shows_entries_newest_first_a_page_at_a_time(served: Served) -> None:
    (story,) = add_stories(served.store, "One")
    with served.client(served.token("ana")) as api:
        api.post(f"/api/stories/{story}/triage", json={"action": "acknowledge"})
        api.post(f"/api/stories/{story}/comments",
                 json={"body": '<script>alert("x")</script>'})
    with session(served, "vic") as (vic, _):
        page = vic.get("/audit", params={"limit": 2}).text
        older = re.search(r'<a href="([^"]+)" rel="next">Older entries</a>', page)[1]
        rest = vic.get(older.replace("&amp;", "&")).text
        only_ana = vic.get("/audit", params={"actor": "ana", "target": ""}).text
    rows = re.findall(ACTION_CELL, page)
    assert rows == ["story.comment", "story.acknowledge"]
    assert re.findall(ACTION_CELL, rest) == ["token.add", "user.add"]  # ana's token, then vic
    assert re.search(r'href="/audit\?before=\d+&amp;limit=2" rel="next"', rest)  # one more
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    assert "<script>alert" not in page
    assert "status: open, assignee: nobody" in page
    assert re.findall(ACTION_CELL, only_ana) == [
        "story.comment", "story.acknowledge"]


def test_a_triage_form_without_the_csrf_token_is_refused(served: Served) -> None:
    (story,) = add_stories(served.store, "One")
    with session(served, "ana") as (ana, csrf):
        missing = ana.post(f"/stories/{story}/triage", data={"action": "close"})
        elsewhere = ana.post(f"/stories/{story}/triage",
                             headers={"Origin": "https://evil.example"},
                             data={"action": "close", "csrf_token": csrf})
        api = ana.post(f"/api/stories/{story}/triage", json={"action": "close"})
    assert [missing.status_code, elsewhere.status_code, api.status_code] == [403, 403, 403]
    assert shared_state(served, story)["status"] == "open"


def test_a_comment_has_one_to_five_thousand_characters(served: Served) -> None:
    (story,) = add_stories(served.store, "One")
    with session(served, "ana") as (ana, csrf):
        for body in ("   ", "x" * 5001):
            answer = ana.post(f"/stories/{story}/comments",
                              data={"body": body, "csrf_token": csrf})
            assert answer.status_code == 400
            assert "a comment has 1 to 5000 characters" in answer.text
        swapped = ana.post(f"/stories/{story}/comments", headers={"HX-Request": "true"},
                           data={"body": "", "csrf_token": csrf})
    assert swapped.status_code == 400 and "<html" not in swapped.text  # the fragment alone
    assert re.search(r'<p class="error" role="alert">a comment has 1 to 5000', swapped.text)
    assert shared_state(served, story)["comments"] == []


def test_the_api_is_described_in_openapi(served: Served) -> None:
    with served.client(served.token("vic")) as client:
        paths = client.get("/api/openapi.json").json()["paths"]
    assert {"/api/stories/{story_id}/triage", "/api/triage", "/api/stories/{story_id}/comments",
            "/api/audit"} <= set(paths)
    assert set(paths["/api/stories/{story_id}/triage"]) == {"get", "post"}


def test_an_analyst_triages_in_the_browser_and_a_viewer_sees_it(
    served: Served, page: Page, browser: Browser
) -> None:
    (story,) = add_stories(served.store, "Shelling <b>near</b> Aleppo")
    address = f"/stories/{story}/triage"
    sign_in(page, served, "ana", address)
    expect(page.get_by_role("heading", level=1)).to_have_text("Shelling <b>near</b> Aleppo")
    triage = page.locator(f"#triage-{story}")
    page.evaluate("window.stillThisPage = true")  # gone if a click loaded a new page
    page.get_by_role("button", name="Acknowledge").click()
    expect(triage.locator(".status")).to_have_text("acknowledged")
    page.get_by_label("Assign to").select_option("ana")
    page.get_by_role("button", name="Assign", exact=True).click()
    expect(triage.locator(".assignee")).to_have_text("ana")
    page.get_by_label("Comment").fill("On it: calling the Aleppo desk.")
    page.get_by_role("button", name="Add comment").click()
    expect(triage.locator(".comment-body")).to_have_text("On it: calling the Aleppo desk.")
    assert page.evaluate("window.stillThisPage") is True  # htmx swapped each answer in

    context = browser.new_context()
    try:
        viewer = context.new_page()
        sign_in(viewer, served, "vic", address)
        seen = viewer.locator(f"#triage-{story}")
        expect(seen.locator(".status")).to_have_text("acknowledged")
        expect(seen.locator(".assignee")).to_have_text("ana")
        expect(seen.locator(".comment-body")).to_have_text("On it: calling the Aleppo desk.")
        expect(seen.get_by_role("button")).to_have_count(0)
        expect(seen.get_by_label("Comment")).to_have_count(0)
    finally:
        context.close()


# What an inbox page does with the partials (the inbox itself is another part's page).
INBOX = """{% extends "base.html" %}{% block main %}
<h1>Test inbox</h1>
<form method="post" action="/stories/triage">
  {% for id in ids %}
  <input type="checkbox" id="pick-{{ id }}" name="story_id" value="{{ id }}">
  <label for="pick-{{ id }}">Story {{ id }}</label>
  {% endfor %}
  {% include "partials/bulk_actions.html" %}
</form>
{% with story = {"id": ids[0]} %}{% include "partials/triage.html" %}{% endwith %}
{% endblock %}"""


def test_the_inbox_partials_triage_in_bulk_and_load_a_storys_state(
    served: Served, page: Page
) -> None:
    ids = add_stories(served.store, "One", "Two", "Three")

    def inbox(request: Request, actor: Viewer) -> HTMLResponse:
        return HTMLResponse(TEMPLATES.env.from_string(INBOX).render(
            request=request, actor=actor, ids=ids))

    served.app.add_api_route("/test-inbox", inbox, methods=["GET"])
    with session(served, "vic") as (vic, _):
        assert "Chosen stories" not in vic.get("/test-inbox").text  # no buttons for viewers
    sign_in(page, served, "ana", "/test-inbox")
    first = page.locator(f"#triage-{ids[0]}")
    expect(first.locator(".status")).to_have_text("open")  # the fragment, loaded by htmx
    page.get_by_label(f"Story {ids[0]}").check()
    page.get_by_label(f"Story {ids[1]}").check()
    bulk = page.get_by_role("group", name="Chosen stories")
    bulk.get_by_label("Assign to").select_option("ada")
    bulk.get_by_role("button", name="Assign", exact=True).click()
    expect(first.locator(".assignee")).to_have_text("ada")  # back on the inbox, reloaded
    expect(page).to_have_url(f"{served.url}/test-inbox")
    assert [shared_state(served, i)["assignee"] for i in ids] == ["ada", "ada", None]
