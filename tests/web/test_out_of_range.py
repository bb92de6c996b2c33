"""Numbers out of range and requests the schema refuses are answered 400 (404 for a story
that cannot exist) with one line, never 500: ids beyond the store's (32-bit) ones in every
address, form and page cursor, and FastAPI's validation errors, which the workspace answers
as its other refusals, `{"error": "field: why"}` (a page saying why in a browser).

The largest id reaches the database, on SQLite and PostgreSQL; one beyond it never does."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.helpers import ManualClock
from tests.support.web import Served, add_team, serve
from tests.web.test_triage import session
from watcher.store import Store

LARGEST = 2**31 - 1  # the store's largest id: INTEGER columns, 32-bit on PostgreSQL
TOO_BIG = 2**31
BEYOND = f"story_id: Input should be less than or equal to {LARGEST}"


@pytest.fixture(params=["sqlite", "postgresql"])
def any_served(request: pytest.FixtureRequest, tmp_path: Path, clock: ManualClock
               ) -> Iterator[Served]:
    """The workspace over an empty team store, on SQLite and on an emptied PostgreSQL."""
    url = f"sqlite:///{tmp_path / 'web.db'}"
    if request.param == "postgresql":
        url = request.getfixturevalue("pg_url")
    with Store.open(url) as store:
        add_team(store, clock.now())
        with serve(store, clock=clock) as served:
            yield served


def refusal(page: str) -> str:
    """The one line a page shows as its error."""
    return html.unescape(re.search(r'<p class="error" role="alert">([^<]*)</p>', page)[1])


def test_the_largest_id_is_looked_up_and_one_beyond_is_refused_before(
    any_served: Served
) -> None:
    with any_served.client(any_served.token("ana")) as client:
        for path in (f"/api/stories/{LARGEST}", f"/api/stories/{LARGEST}/triage"):
            answer = client.get(path)
            assert (answer.status_code, answer.json()) == (
                404, {"error": f"no story {LARGEST}"}), path
        changed = client.post(f"/api/stories/{LARGEST}/triage", json={"action": "close"})
        assert (changed.status_code, changed.json()) == (
            400, {"error": f"no story {LARGEST}: nothing was changed"})
        expired = client.post(f"/api/silences/{LARGEST}/expire")
        assert (expired.status_code, expired.json()) == (400, {"error": f"no silence {LARGEST}"})
        assert client.get("/api/audit", params={"before": LARGEST}).status_code == 200
        largest = client.get("/api/stories", params={"before": f"20260301T120000.000000_{LARGEST}"})
        assert (largest.status_code, largest.json()["stories"]) == (200, [])

        for method, path, body, says in [
            ("GET", f"/api/stories/{TOO_BIG}", None, BEYOND),
            ("GET", f"/api/stories/{10**20}", None, BEYOND),
            ("GET", f"/api/stories/{TOO_BIG}/triage", None, BEYOND),
            ("POST", f"/api/stories/{TOO_BIG}/triage", {"action": "close"}, BEYOND),
            ("POST", f"/api/stories/{TOO_BIG}/comments", {"body": "hi"}, BEYOND),
            ("POST", "/api/triage", {"action": "close", "story_ids": [1, TOO_BIG]},
             f"story_ids.1: Input should be less than or equal to {LARGEST}"),
            ("POST", f"/api/silences/{TOO_BIG}/expire", None,
             f"silence_id: Input should be less than or equal to {LARGEST}"),
            ("GET", f"/api/audit?before={TOO_BIG}", None,
             f"before: Input should be less than or equal to {LARGEST}"),
            ("GET", f"/api/stories?before=20260301T120000.000000_{TOO_BIG}", None,
             "bad page cursor '20260301T120000.000000_2147483648': follow the next-page "
             "link"),
            ("GET", f"/api/stories?before=20260301T120000.000000_{10**20}", None,
             "bad page cursor '20260301T120000.000000_10000000000000000': follow the next-page "
             "link"),
        ]:
            answer = client.request(method, path, json=body)
            assert (answer.status_code, answer.json()) == (400, {"error": says}), path


def test_pages_and_forms_refuse_an_id_beyond_the_stores_on_the_page(served: Served) -> None:
    with session(served, "ana") as (client, csrf):
        for path in (f"/stories/{TOO_BIG}", f"/stories/{TOO_BIG}/triage",
                     f"/audit?before={TOO_BIG}"):
            page = client.get(path)
            assert page.status_code == 400, path
            assert refusal(page.text).endswith(
                f"Input should be less than or equal to {LARGEST}"), path
        bulk = client.post("/stories/triage", data={
            "csrf_token": csrf, "action": "close", "story_id": ["1", str(10**20)]})
        assert bulk.status_code == 400
        assert refusal(bulk.text) == f"no story {10**20}: nothing was changed"
        expire = client.post(f"/silences/{TOO_BIG}/expire", data={"csrf_token": csrf})
        assert expire.status_code == 400
        assert refusal(expire.text) == (
            f"silence_id: Input should be less than or equal to {LARGEST}")
        inbox = client.get("/", params={"before": f"20260301T120000.000000_{TOO_BIG}"})
        assert inbox.status_code == 400
        assert "bad page cursor" in refusal(inbox.text)


def test_a_request_the_schema_refuses_is_a_400_with_one_line_naming_the_field(
    served: Served
) -> None:
    with served.client(served.token("ana")) as client:
        for method, path, body, says in [
            ("POST", "/api/triage", {"action": "explode", "story_ids": [1]},
             "action: Input should be 'acknowledge', 'assign', 'close' or 'reopen'"),
            ("POST", "/api/triage", {"action": "close"}, "story_ids: Field required"),
            ("POST", "/api/silences", {"matchers": {"rule": "r", "colour": "red"},
                                       "duration": "4h", "comment": "why"},
             "matchers.colour: Extra inputs are not permitted"),
            ("GET", "/api/silences?limit=0", None,
             "limit: Input should be greater than or equal to 1"),
            ("GET", "/api/stories/twelve", None,
             "story_id: Input should be a valid integer, unable to parse string as an integer"),
        ]:
            answer = client.request(method, path, json=body)
            assert (answer.status_code, answer.json()) == (400, {"error": says}), (path, body)
        broken = client.post("/api/triage", content=b'{"action": ',
                             headers={"content-type": "application/json"})
        assert (broken.status_code, broken.json()) == (400, {"error": "body: JSON decode error"})
    with session(served, "vic") as (client, _):
        page = client.get("/stories/twelve")
        assert page.status_code == 400 and "<h1>Not done</h1>" in page.text
        assert refusal(page.text) == (
            "story_id: Input should be a valid integer, unable to parse string as an integer")
