"""The map: the seeds' located stories as points at their places' coordinates, drawn by
Leaflet over the bundled country shapes, the list beside it following the map's view."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.store.builders import MANBIJ, at, new_article, new_match, new_story
from tests.support.web import Served
from tests.web.conftest import sign_in
from watcher.store.located import Located
from watcher.web import places_map


def test_each_located_story_is_a_point_at_its_places_coordinates(seeded: Served) -> None:
    located = Located(seeded.store).stories()
    assert located, "the seeds have located matches"
    with seeded.client(seeded.token("vic")) as client:
        collection = client.get("/api/map").json()
    assert collection["type"] == "FeatureCollection" and collection["cut"] is False
    expected = {(story.id, place.name, place.longitude, place.latitude)
                for story in located for place in story.places}
    got = {(f["properties"]["story_id"], f["properties"]["place"],
            *f["geometry"]["coordinates"]) for f in collection["features"]}
    assert got == expected
    aleppo = [f for f in collection["features"] if f["properties"]["place"] == "Aleppo"]
    assert aleppo and all(36.9 < f["geometry"]["coordinates"][0] < 37.4 for f in aleppo)


def test_the_map_lists_its_stories_without_javascript(seeded: Served) -> None:
    with seeded.client(seeded.token("vic")) as client:
        page = client.get("/map").text
    for story in Located(seeded.store).stories():
        assert f'href="/stories/{story.id}"' in page


def test_the_map_draws_the_countries_and_clusters_the_stories(seeded: Served, page: Page) -> None:
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    sign_in(page, seeded, "vic", "/map")
    stories = len(Located(seeded.store).stories())
    expect(page.locator("#map")).to_have_attribute("data-ready", str(
        sum(len(s.places) for s in Located(seeded.store).stories())))
    expect(page.locator("#map path").first).to_be_attached()  # the Natural Earth shapes
    assert page.locator("#map path").count() > 100
    expect(page.locator(".marker-cluster, .leaflet-marker-icon").first).to_be_visible()
    expect(page.locator("#map-count")).to_have_text(f"({stories} in view)")
    page.locator("#map").scroll_into_view_if_needed()
    box = page.locator("#map").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    for _ in range(4):  # dragged up four times: the Arabian desert, no story in view
        page.mouse.move(x, y + 150)
        page.mouse.down()
        page.mouse.move(x, y - 150, steps=5)
        page.mouse.up()
    expect(page.locator("#map-count")).to_have_text("(0 in view)")
    expect(page.locator("#map-stories li")).to_have_count(0)
    assert problems == []


def test_the_inboxs_filters_choose_what_the_map_shows(seeded: Served) -> None:
    with seeded.client(seeded.token("vic")) as client:
        everything = client.get("/api/map").json()["features"]
        sieges = client.get("/api/map", params={"rule": "aleppo-kurdish-siege"}).json()
        page = client.get("/map", params={"rule": "aleppo-kurdish-siege"}).text
        nonsense = client.get("/api/map", params={"severity": "apocalyptic"})
        bad_page = client.get("/map", params={"severity": "apocalyptic"})
    rules = {rule for f in everything for rule in f["properties"]["rules"]}
    assert len(rules) > 1
    assert sieges["features"] and all(
        "aleppo-kurdish-siege" in f["properties"]["rules"] for f in sieges["features"])
    assert {f["properties"]["story_id"] for f in sieges["features"]} < {
        f["properties"]["story_id"] for f in everything}
    assert 'data-points="/api/map?rule=aleppo-kurdish-siege"' in page
    assert '<option value="aleppo-kurdish-siege" selected>' in page
    assert nonsense.status_code == 400 and "apocalyptic" in nonsense.json()["error"]
    assert bad_page.status_code == 400 and "apocalyptic" in bad_page.text


def test_newer_stories_without_places_do_not_push_a_located_one_off_the_map(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = served.store
    located = new_article("located", story_band=1)
    store.ingest(located, [new_match(located, places=(MANBIJ,))], new_story, at(0))
    for minute in range(1, 6):  # newer, no place: the inbox's newest, never the map's
        plain = new_article(f"plain-{minute}", story_band=100 + minute)
        store.ingest(plain, [new_match(plain)], new_story, at(minute))
    monkeypatch.setattr(places_map, "MAX_STORIES", 3)
    with served.client(served.token("vic")) as client:
        points = client.get("/api/map").json()
    assert [f["properties"]["place"] for f in points["features"]] == ["Manbij"]
    assert points["cut"] is False
    for minute in range(6, 10):  # four more located ones: one more than the map draws
        more = new_article(f"more-{minute}", story_band=200 + minute)
        store.ingest(more, [new_match(more, places=(MANBIJ,))], new_story, at(minute))
    with served.client(served.token("vic")) as client:
        points = client.get("/api/map").json()
        page = client.get("/map").text
    assert len(points["features"]) == 3 and points["cut"] is True
    assert "Only the newest 3 located stories are shown." in page
