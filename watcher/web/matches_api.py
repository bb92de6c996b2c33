"""`GET /api/matches`: stored matches, newest first, each in the public JSON shape that
`watcher matches --format jsonl` prints (watcher/ingest/shapes.py), with the same filters."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from watcher.engine.place_names import place_id
from watcher.errors import WorkspaceError
from watcher.ingest.shapes import stored_match_json
from watcher.web.auth import Viewer
from watcher.web.context import web_of
from watcher.when import parse_since

router = APIRouter()
MAX_MATCHES = 500


class MatchesOut(BaseModel):
    matches: list[dict[str, Any]]  # interfaces.md's stored match lines, as `watcher matches`


@router.get("/api/matches", response_model=MatchesOut, tags=["matches"],
            responses={400: {"description": "a bad since or a place that names none or many"}})
def list_matches(
    request: Request, actor: Viewer,
    rule: Annotated[str | None, Query(max_length=200)] = None,
    since: Annotated[str | None, Query(max_length=40)] = None,
    place: Annotated[str | None, Query(max_length=200)] = None,
    held: bool = False,
    limit: Annotated[int, Query(ge=1, le=MAX_MATCHES)] = 50,
) -> MatchesOut:
    """Stored matches, newest first, as `watcher matches --format jsonl` prints them: only
    `rule`'s, those stored `since` (an ISO time or an age: 24h, 7d), those located at
    `place` or inside it; held-back ones only with `held`."""
    web = web_of(request)
    try:
        since_time = None if since is None else parse_since(since, web.now())
        area = None if place is None else place_id(place)
    except ValueError as error:
        raise WorkspaceError(str(error)) from None
    found = web.store.matches(rule=rule, since=since_time, limit=limit, held=held, place=area)
    return MatchesOut(matches=[stored_match_json(stored) for stored in found])
