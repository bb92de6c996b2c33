"""The sources and health page and its API: every configured feed's state as `watcher
sources` shows it, a broken one marked in words, and each channel's deliveries by status."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.store.builders import new_article, new_match, new_story
from tests.store.conftest import empty
from tests.support.helpers import ManualClock
from tests.support.web import Served, add_team, serve
from tests.web.conftest import sign_in
from watcher.config.settings import Settings
from watcher.store import PollRecord, Store

SECRET = "s3cr3tkey12345"
SETTINGS = Settings.model_validate({
    "sources": [
        {"name": "alpha", "url": f"https://feeds.example.org/rss?apikey={SECRET}"},
        {"name": "beta", "url": "https://beta.example.org/atom", "every": "10m"},
        {"name": "gamma", "url": "https://gamma.example.org/feed"},
        {"name": "delta", "url": "https://delta.example.org/feed"},
    ],
    "channels": {"ops": {"urls": ["json://localhost/hook"]},
                 "quiet": {"urls": ["json://localhost/other"]}},
})
FAILURE = f"https://feeds.example.org/rss?apikey={SECRET}: HTTP 500 <script>x</script>"


@pytest.fixture(params=["sqlite", "postgresql"])
def health_store(request: pytest.FixtureRequest, tmp_path: Path, clock: ManualClock
                 ) -> Iterator[Store]:
    url = f"sqlite:///{tmp_path / 'health.db'}"
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres_url")
        empty(url)
    with Store.open(url) as store:
        add_team(store, clock.now())
        _poll(store, clock)
        _deliver(store, clock)
        yield store
    if request.param == "postgresql":
        empty(url)


def _poll(store: Store, clock: ManualClock) -> None:
    """alpha failed its last two polls, beta is fine, gamma is gone; delta never polled."""
    for source in SETTINGS.sources[:3]:
        store.prepare_source(source.name, source.url)
    store.record_poll("alpha", PollRecord(clock.now(), new_items=3))
    store.record_poll("beta", PollRecord(clock.now(), new_items=2))
    clock.advance(600)
    store.record_poll("alpha", PollRecord(clock.now(), error="timed out"))
    store.record_poll("beta", PollRecord(clock.now(), warning="an entry without a date"))
    store.record_poll("gamma", PollRecord(clock.now(), error="HTTP 410",
                                          disabled_reason="the feed is gone (HTTP 410)"))
    clock.advance(60)
    store.record_poll("alpha", PollRecord(clock.now(), error=FAILURE,
                                          next_poll_after=clock.now() + timedelta(minutes=5)))


def _deliver(store: Store, clock: ManualClock) -> None:
    """ops: one dead, one silenced, two pending; mail (no longer configured): one sent."""
    for number, channels in enumerate([("ops", "mail"), ("ops",), ("ops",), ("ops",)]):
        new = new_article(f"a{number}")
        store.ingest(new, [new_match(new, channels=channels)], new_story, clock.now())
        clock.advance(1)
    lease = timedelta(minutes=1)
    (sent,) = store.claim_due_deliveries(clock.now(), owner="t", lease=lease, limit=1,
                                         channels=["mail"])
    store.mark_sent([sent.id], clock.now(), owner="t")
    (dead,) = store.claim_due_deliveries(clock.now(), owner="t", lease=lease, limit=1,
                                         channels=["ops"])
    store.mark_failed([dead.id], "refused", None, owner="t")
    with store.writing() as connection:  # what an active silence records (silences.py)
        connection.exec_driver_sql(
            "UPDATE deliveries SET status = 'silenced' WHERE id = "
            "(SELECT max(id) FROM deliveries WHERE channel = 'ops')")
    clock.advance(120)


@pytest.fixture
def health_served(health_store: Store, clock: ManualClock) -> Iterator[Served]:
    with serve(health_store, SETTINGS, clock) as served:
        yield served


def test_the_api_gives_every_configured_source_in_order_with_its_state(
    health_served: Served,
) -> None:
    with health_served.client(health_served.token("vic")) as client:
        sources = client.get("/api/sources").json()["sources"]
    assert [(s["name"], s["status"], s["broken"], s["errors"]) for s in sources] == [
        ("alpha", "failing", True, 2), ("beta", "ok", False, 0),
        ("gamma", "disabled", True, 1), ("delta", "not polled yet", False, 0)]
    alpha = sources[0]
    assert alpha["url"] == "https://feeds.example.org/rss?apikey=****"
    assert alpha["last_error"] == "https://feeds.example.org/rss?apikey=****: HTTP 500 " \
                                  "<script>x</script>"
    assert alpha["last_poll"] == "2026-03-01T12:11:00Z"
    assert alpha["last_success"] == "2026-03-01T12:00:00Z"
    assert alpha["next_poll_after"] == "2026-03-01T12:16:00Z"
    assert alpha["new_items"] == 3 and alpha["every"] == 900
    assert sources[1]["warning"] == "an entry without a date" and sources[1]["every"] == 600
    assert sources[2]["disabled"] == "the feed is gone (HTTP 410)"


def test_the_api_gives_each_channels_deliveries_by_status(health_served: Served) -> None:
    with health_served.client(health_served.token("vic")) as client:
        channels = client.get("/api/channels").json()["channels"]
    assert channels == [
        {"name": "mail", "configured": False, "pending": 0, "sent": 1, "dead": 0,
         "silenced": 0, "oldest_pending": None},
        {"name": "ops", "configured": True, "pending": 2, "sent": 0, "dead": 1,
         "silenced": 1, "oldest_pending": "2026-03-01T12:11:01Z"},
        {"name": "quiet", "configured": True, "pending": 0, "sent": 0, "dead": 0,
         "silenced": 0, "oldest_pending": None},
    ]


def test_the_page_shows_a_failing_sources_last_error_and_the_channel_counts(
    health_served: Served,
) -> None:
    with health_served.client(health_served.token("vic")) as client:
        page = client.get("/sources").text
    assert SECRET not in page and "<script>x" not in page
    alpha = _row(page, "alpha")
    assert '<span class="badge status-failing">failing</span>' in alpha
    assert "Last error:</span> https://feeds.example.org/rss?apikey=****: HTTP 500 " \
           "&lt;script&gt;x&lt;/script&gt;" in alpha
    assert ('not before <time datetime="2026-03-01T12:16:00Z">2026-03-01 12:16:00</time> '
            "(in 2m)") in alpha
    assert '<span class="badge status-disabled">disabled</span>' in _row(page, "gamma")
    assert "Disabled:</span> the feed is gone (HTTP 410)" in _row(page, "gamma")
    assert '<span class="badge status-ok">ok</span>' in _row(page, "beta")
    assert "2 need attention" in page
    ops = re.sub(r"\s+", " ", _row(page, "ops"))
    assert "dead alerts" in ops
    assert [int(n) for n in re.findall(r"(?:Pending|Sent|Dead|Silenced): </span>(\d+)", ops)] \
        == [2, 0, 1, 1]


@pytest.mark.parametrize("health_store", ["sqlite"], indirect=True)  # one browser test
def test_a_viewer_sees_the_failing_source_marked_in_the_browser(
    health_served: Served, page: Page
) -> None:
    page.set_viewport_size({"width": 360, "height": 800})
    sign_in(page, health_served, "vic", "/sources")
    alpha = page.get_by_role("row").filter(has_text="alpha")
    expect(alpha.get_by_text("failing", exact=True)).to_be_visible()
    expect(alpha.get_by_text("HTTP 500 <script>x</script>")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="beta").get_by_text("ok", exact=True)
           ).to_be_visible()
    expect(page.get_by_role("link", name="Sources")).to_have_attribute("aria-current", "page")


def _row(page: str, name: str) -> str:
    """The table row whose header cell starts with `name`."""
    found = re.search(
        rf'<tr class="[^"]*">\s*<th scope="row">(?:<span class="source-name">)?{name}\b.*?</tr>',
        page, re.S)
    assert found, f"no row for {name}"
    return found.group()
