"""Silences in the workspace: the page (create and expire in a real browser), the form
refusals, a story's "silence for 4h" forms, and the JSON API, over a real server on
loopback and a real database, on the server's manual clock."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from fastapi import Request
from fastapi.responses import HTMLResponse
from playwright.sync_api import Page, expect

from tests.support.web import PASSWORD, Served
from tests.web.conftest import sign_in
from watcher.store.audit import Audit
from watcher.web.auth import signed_in
from watcher.web.context import TEMPLATES


@contextmanager
def session(served: Served, name: str) -> Iterator[tuple[httpx.Client, str]]:
    """A client signed in as `name` through the form, and its session's CSRF token."""
    with served.client() as client:
        form = client.get("/signin")
        token = re.search(r'name="signin_token" value="([^"]+)"', form.text)[1]
        client.post("/signin", data={"name": name, "password": PASSWORD, "signin_token": token})
        page = client.get("/silences")
        yield client, re.search(r'name="csrf_token" value="([^"]+)"', page.text)[1]


def test_an_analyst_creates_a_silence_sees_it_active_and_expires_it(
    served: Served, page: Page
) -> None:
    sign_in(page, served, "ana", "/silences")
    page.get_by_label("Rule").fill("aleppo-blast")
    page.get_by_label("Place").fill("Aleppo Governorate")
    page.get_by_label("Comment (why)").fill("the offensive: the desk covers it")
    page.get_by_role("button", name="Create silence").click()
    active = page.locator("section", has=page.get_by_role("heading", name="Active"))
    row = active.locator("#silence-1")
    expect(row).to_contain_text("aleppo-blast")
    expect(row).to_contain_text("Aleppo Governorate")
    expect(row).to_contain_text("2026-03-01 16:00 UTC")
    expect(row).to_contain_text("(4h left)")
    expect(row).to_contain_text("ana")
    expect(row).to_contain_text("the offensive: the desk covers it")
    served.clock.advance(30 * 60)
    page.get_by_role("button", name="Expire silence 1").click()
    expired = page.locator("section", has=page.get_by_role("heading", name=re.compile("Expired")))
    expect(expired.locator("#silence-1")).to_contain_text("expired by ana")
    expect(active).to_contain_text("None.")


def test_a_form_that_cannot_be_a_silence_is_shown_again_with_one_line(served: Served) -> None:
    with session(served, "ana") as (client, csrf):
        answer = client.post("/silences", data={
            "csrf_token": csrf, "duration": "4h", "comment": "keep <b>this</b>"})
        assert answer.status_code == 400
        assert ('<p class="error" role="alert">a silence needs at least one matcher: rule, '
                "tag, source, place, story</p>") in answer.text
        assert "keep &lt;b&gt;this&lt;/b&gt;</textarea>" in answer.text  # kept, escaped
        answer = client.post("/silences", data={
            "csrf_token": csrf, "rule": "r", "duration": "4h", "until": "2026-03-01T18:30",
            "comment": "the end time wins"})
        assert answer.status_code == 303
        assert answer.headers["location"] == "/silences#silence-1"
        listed = client.get("/api/silences").json()["silences"]
        assert [s["ends_at"] for s in listed] == ["2026-03-01T18:30:00Z"]
        assert client.post("/silences", data={"rule": "r", "duration": "4h",
                                               "comment": "no token"}).status_code == 403


def test_a_viewer_reads_silences_but_cannot_make_or_end_one(served: Served) -> None:
    analyst = served.client(served.token("ana"))
    viewer = served.client(served.token("vic"))
    with analyst, viewer:
        made = analyst.post("/api/silences", json={
            "matchers": {"rule": "siege"}, "duration": "1h", "comment": "noise"})
        assert made.status_code == 201
        assert viewer.get("/api/silences").json()["silences"][0]["id"] == made.json()["id"]
        refused = viewer.post("/api/silences", json={
            "matchers": {"rule": "siege"}, "duration": "1h", "comment": "noise"})
        assert refused.status_code == 403
        assert refused.json() == {"error": "vic is viewer; this needs analyst"}
        assert viewer.post(f"/api/silences/{made.json()['id']}/expire").status_code == 403
    with session(served, "vic") as (client, csrf):
        page = client.get("/silences").text
        assert "siege" in page
        assert 'action="/silences"' not in page and "Expire silence" not in page
        assert client.post("/silences/1/expire", data={"csrf_token": csrf}).status_code == 403


def test_the_api_makes_a_silence_by_the_caller_lists_it_and_expires_it(served: Served) -> None:
    with served.client(served.token("ana")) as client:
        made = client.post("/api/silences", json={
            "matchers": {"rule": "aleppo-blast", "place": "Aleppo Governorate", "story": 12},
            "duration": "4h", "comment": "the offensive", "created_by": "ada"})
        assert made.status_code == 201, made.text
        assert made.json() == {
            "id": 1, "matchers": {"rule": "aleppo-blast", "place": "admin1:SY.09", "story": 12},
            "starts_at": "2026-03-01T12:00:00Z", "ends_at": "2026-03-01T16:00:00Z",
            "comment": "the offensive", "created_by": "ana", "created": "2026-03-01T12:00:00Z",
            "expired_by": None, "status": "active"}
        later = client.post("/api/silences", json={
            "matchers": {"source": "wire"}, "starts_at": "2026-03-02T00:00:00+03:00",
            "ends_at": "2026-03-02T06:00:00+03:00", "comment": "maintenance"}).json()
        assert (later["starts_at"], later["status"]) == ("2026-03-01T21:00:00Z", "pending")
        statuses = [(s["id"], s["status"]) for s in client.get("/api/silences").json()["silences"]]
        assert statuses == [(1, "active"), (2, "pending")]
        served.clock.advance(60)
        ended = client.post("/api/silences/1/expire").json()
        assert (ended["status"], ended["ends_at"], ended["expired_by"]) == (
            "expired", "2026-03-01T12:01:00Z", "ana")
        assert client.get("/api/silences", params={"status": "expired"}).json()[
            "silences"][0]["id"] == 1
        assert client.post("/api/silences/1/expire").json() == {
            "error": "silence 1 already ended at 2026-03-01T12:01:00Z"}
    actions = [(e.actor, e.action, e.target) for e in Audit(served.store).entries()
               if e.action.startswith("silence.")]
    assert actions == [("ana", "silence.expire", "silence:1"),
                       ("ana", "silence.create", "silence:2"),
                       ("ana", "silence.create", "silence:1")]


def test_an_api_silence_that_cannot_be_is_a_400_with_one_line(served: Served) -> None:
    with served.client(served.token("ana")) as client:
        for body, says in [
            ({"matchers": {"rule": "r"}, "duration": "4h"},
             "a silence needs a comment: say why it is silenced"),
            ({"duration": "4h", "comment": "why"},
             "a silence needs at least one matcher: rule, tag, source, place, story"),
            ({"matchers": {"rule": "r"}, "duration": "4h", "ends_at": "2026-03-01T13:00:00Z",
              "comment": "why"}, "give a silence a duration (4h) or an end time, one of them"),
            ({"matchers": {"rule": "r"}, "ends_at": "2026-03-01T11:00:00Z", "comment": "why"},
             "that end is in the past: a silence must end after now"),
            ({"matchers": {"place": "Midan"}, "duration": "4h", "comment": "why"},
             "place: 'Midan' names 2 places: Midan (neighbourhood; Aleppo, Mount Simeon "
             "District, Aleppo Governorate, Syria) watcher:aleppo-midan; Midan (neighbourhood; "
             "Damascus, Damascus Governorate, Syria) watcher:damascus-midan; give the one you "
             "mean by its id"),
            ({"matchers": {"rule": "r"}, "duration": "4h", "comment": "x" * 1001},
             "the comment is 1001 characters; at most 1000"),
        ]:
            answer = client.post("/api/silences", json=body)
            assert (answer.status_code, answer.json()) == (400, {"error": says}), body
        assert client.get("/api/silences").json() == {"silences": []}
        assert client.post("/api/silences/9/expire").json() == {"error": "no silence 9"}


def test_a_storys_forms_silence_one_of_its_rules_for_4h_and_come_back(served: Served) -> None:
    """The partial a story page includes, with `story` and `rules`, as a page of its own."""
    def story_page(request: Request) -> HTMLResponse:
        partial = TEMPLATES.env.from_string('{% include "partials/silence_story.html" %}')
        return HTMLResponse(partial.render(request=request, actor=signed_in(request),
                                           story={"id": 12}, rules=["siege", "strike"]))

    served.app.add_api_route("/partial/stories/12", story_page)
    with session(served, "ana") as (client, _):
        page = client.get("/partial/stories/12").text
        forms = re.findall(r'<form method="post" action="/silences".*?</form>', page, re.S)
        assert len(forms) == 3
        for form, what in zip(forms, ["rule siege", "rule strike", "this story"], strict=True):
            field = re.search(r'<label for="([^"]+)">Why silence ' + what + r"\?</label>", form)
            assert f'<input id="{field[1]}" name="comment" required' in form
            assert f"Silence {what} for 4h</button>" in form
        fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', forms[1]))
        assert (fields["rule"], fields["duration"], fields["next"]) == ("strike", "4h",
                                                                        "/partial/stories/12")
        answer = client.post("/silences", data={**fields, "comment": "covered"})
        assert answer.headers["location"] == "/partial/stories/12#silence-1"
        (silence,) = client.get("/api/silences").json()["silences"]
        assert (silence["matchers"], silence["ends_at"]) == ({"rule": "strike"},
                                                             "2026-03-01T16:00:00Z")
        offsite = client.post("/silences", data={**fields, "comment": "x",
                                                  "next": "//evil.example/"})
        assert offsite.headers["location"] == "/silences#silence-2"  # never another site
    with served.client(served.token("vic")) as viewer:
        assert "<form" not in viewer.get("/partial/stories/12").text  # analysts only
