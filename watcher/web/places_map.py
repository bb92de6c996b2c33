"""The map: stories placed at their matches' places (the gazetteer's coordinates) over
bundled Natural Earth country shapes, clustered; no tile server, nothing from elsewhere.

The page lists the same stories without JavaScript; with it, Leaflet draws them and the
list beside the map follows the map's view (zoom in or click a cluster to narrow it).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel

from watcher.errors import WorkspaceError
from watcher.store.inbox import Inbox
from watcher.store.located import MAX_STORIES, Located, LocatedStory
from watcher.web.auth import Viewer
from watcher.web.context import web_of
from watcher.web.inbox import filter_choices
from watcher.web.pages import render
from watcher.web.story_filters import FilterForm, story_filter

router = APIRouter()


class PointProperties(BaseModel):
    story_id: int
    title: str
    first_seen: str
    severity: str
    status: str
    rules: list[str]
    place: str
    place_kind: str
    url: str


class Point(BaseModel):
    type: str = "Feature"
    geometry: dict[str, Any]
    properties: PointProperties


class Points(BaseModel):
    type: str = "FeatureCollection"
    features: list[Point]
    cut: bool  # more stories than MAX_STORIES: the newest are shown


@router.get("/map", response_class=HTMLResponse, include_in_schema=False)
def map_page(request: Request, actor: Viewer) -> HTMLResponse:
    """The inbox's filters (partials/filters.html) choose the stories; the page GETs
    itself with them, and the map's script asks /api/map with the same query."""
    form = FilterForm.of(request.query_params)
    try:
        located, error = _located(request, form), None
    except WorkspaceError as problem:
        located, error = [], str(problem)
    return render(request, "map.html", 400 if error else 200, stories=located[:MAX_STORIES],
                  form=form, error=error, cut=len(located) > MAX_STORIES,
                  **filter_choices(request))


@router.get("/api/map", response_model=Points, tags=["map"])
def map_points(request: Request, actor: Viewer) -> Points:
    """Each located story once per place it lies at, as GeoJSON points (longitude,
    latitude), newest stories first; the query takes the filters of GET /api/stories."""
    located = _located(request, FilterForm.of(request.query_params))
    return Points(features=[point for story in located[:MAX_STORIES]
                            for point in _points(story)], cut=len(located) > MAX_STORIES)


def _located(request: Request, form: FilterForm) -> list[LocatedStory]:
    """The newest located stories the filters keep, with their places, one more than the
    map draws (so it can say it cut); WorkspaceError for a filter that means nothing."""
    store = web_of(request).store
    story_ids = Inbox(store).located_story_ids(story_filter(request, form), MAX_STORIES + 1)
    return Located(store).stories(story_ids, limit=MAX_STORIES + 1)


def _points(story: LocatedStory) -> list[Point]:
    return [
        Point(
            geometry={"type": "Point", "coordinates": [place.longitude, place.latitude]},
            properties=PointProperties(
                story_id=story.id, title=story.title, first_seen=story.first_seen.isoformat(),
                severity=str(story.severity), status=story.status, rules=list(story.rules),
                place=place.name, place_kind=place.kind, url=f"/stories/{story.id}",
            ),
        )
        for place in story.places
    ]
