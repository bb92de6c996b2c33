"""Silences in the workspace: the page (create and expire in a real browser), the form
refusals, a story's "silence for 4h" forms, and the JSON API, over a real server on
loopback and a real database, on the server's manual clock."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import httpx
from fastapi import Request
from fastapi.responses import HTMLResponse
from playwright.sync_api import Page, expect

from tests.support.web import PASSWORD, Served
from tests.web.conftest import sign_in
from watcher.store.audit import Audit
from watcher.store.silences import Silences
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
        assert client.get("/api/silences").json()["silences"] == []
        assert client.post("/api/silences/9/expire").json() == {"error": "no silence 9"}


def test_a_duration_or_start_out_of_bounds_is_a_400_with_one_line(served: Served) -> None:
    """Bounded before any date is reckoned: no typed number overflows the dates."""
    rule = {"rule": "r"}
    with served.client(served.token("ana")) as client:
        for body, says in [
            ({"duration": "999999999999d"}, "a silence lasts at most 90 days"),
            ({"duration": "90d1s"}, "a silence lasts at most 90 days"),
            ({"starts_at": "9999-12-31T00:00:00", "duration": "2d"},
             "a silence starts at most 90 days from now"),
            ({"starts_at": "2026-05-30T12:00:01Z", "duration": "1h"},  # 90 days and 1s on
             "a silence starts at most 90 days from now"),
            ({"starts_at": "9999-12-31T00:00:00", "ends_at": "9999-12-31T01:00:00"},
             "a silence starts at most 90 days from now"),
            ({"ends_at": "9999-12-31T23:59:59-05:00"},
             "9999-12-31T23:59:59-05:00 is out of the range of dates"),
        ]:
            answer = client.post("/api/silences", json={"matchers": rule, "comment": "why",
                                                        **body})
            assert (answer.status_code, answer.json()) == (400, {"error": says}), body
        story = client.post("/api/silences", json={"matchers": {"story": 2**31},
                                                    "duration": "4h", "comment": "why"})
        assert story.status_code == 400
        assert story.json()["error"].startswith("bad story 2147483648: ")
        furthest = client.post("/api/silences", json={
            "matchers": rule, "starts_at": "2026-05-30T12:00:00Z", "duration": "90d",
            "comment": "the furthest"})
        assert (furthest.status_code, furthest.json()["ends_at"]) == (201, "2026-08-28T12:00:00Z")
    with session(served, "ana") as (client, csrf):
        for typed, says in [({"duration": "999999999999d"}, "a silence lasts at most 90 days"),
                            ({"until": "9999-12-31T23:59"}, "a silence lasts at most 90 days")]:
            answer = client.post("/silences", data={"csrf_token": csrf, "rule": "r",
                                                    "comment": "why", **typed})
            assert answer.status_code == 400, typed
            assert f'<p class="error" role="alert">{says}</p>' in answer.text, typed


def test_many_active_silences_hide_no_pending_or_expired_one(served: Served) -> None:
    """Each status is listed on its own: 201 active ones leave the pending and expired ones
    on the page and in the API, and a group cut short says how many it leaves out."""
    silences = Silences(served.store)
    now = served.clock.now()
    silences.add({"rule": "old"}, ends_at=now + timedelta(hours=1), comment="over",
                 author="ana", now=now)
    served.clock.advance(2 * 3600)
    now = served.clock.now()
    silences.add({"rule": "later"}, starts_at=now + timedelta(days=1),
                 ends_at=now + timedelta(days=2), comment="later", author="ana", now=now)
    for number in range(1, 202):
        silences.add({"story": number}, ends_at=now + timedelta(hours=4), comment="noise",
                     author="ana", now=now)
    with served.client(served.token("vic")) as client:
        everything = client.get("/api/silences").json()
        pending = client.get("/api/silences", params={"status": "pending"}).json()
        expired = client.get("/api/silences", params={"status": "expired"}).json()
        active = client.get("/api/silences", params={"status": "active", "limit": 200}).json()
        page = client.get("/silences").text
    statuses = [s["status"] for s in everything["silences"]]
    assert statuses == ["active"] * 100 + ["pending", "expired"]
    assert everything["more"] == {"active": 101, "pending": 0, "expired": 0}
    assert [(s["id"], s["matchers"]) for s in pending["silences"]] == [(2, {"rule": "later"})]
    assert pending["more"] == {"pending": 0}
    assert [(s["id"], s["matchers"]) for s in expired["silences"]] == [(1, {"rule": "old"})]
    assert (len(active["silences"]), active["more"]) == (200, {"active": 1})
    sections = dict(re.findall(r'<section aria-labelledby="silences-(\w+)">(.*?)</section>',
                               page, re.S))
    assert len(re.findall(r'<tr id="silence-', sections["active"])) == 200
    assert "1 more not shown: the page lists the first 200." in sections["active"]
    assert 'id="silence-2"' in sections["pending"] and "more not shown" not in sections["pending"]
    assert 'id="silence-1"' in sections["expired"] and "more not shown" not in sections["expired"]


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
