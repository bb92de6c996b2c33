"""The story page (`/stories/{id}`) and its JSON (`/api/stories/{id}`): every outlet's copy,
each match's snippet with the matched words marked and why its rule fired, and the alerts
sent per channel.

The triage, silence and comment controls are other modules' partials, which story.html
includes when they exist.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from markupsafe import Markup

from watcher.notify.render import places_text
from watcher.store.story_view import StoryCopy, StoryMatch, StoryView, StoryViews
from watcher.web.auth import Viewer
from watcher.web.context import web_of
from watcher.web.explaining import MAX_EXPLAINED, Asked, Why, explainer_of, not_explained
from watcher.web.ids import StoryId
from watcher.web.pages import render
from watcher.web.snippets import LINK_REL, marked_snippet, web_href
from watcher.web.story_models import StoryOut, story_out

router = APIRouter()


@dataclass(frozen=True)
class ShownCopy:
    copy: StoryCopy
    href: str | None  # None: not a web link, shown as text only


@dataclass(frozen=True)
class ShownMatch:
    match: StoryMatch
    snippet: Markup  # escaped, with <mark>s
    places: str
    why: Why


@router.get("/stories/{story_id}", response_class=HTMLResponse, include_in_schema=False)
def story_page(request: Request, story_id: StoryId, actor: Viewer) -> Response:
    story = StoryViews(web_of(request).store).story(story_id)
    if story is None:
        return render(request, "story_not_found.html", status_code=404, story_id=story_id)
    whys = _whys(request, story)
    return render(
        request, "story.html", story=story, rules=list(story.rules), link_rel=LINK_REL,
        outlets=len({copy.source for copy in story.copies}),
        copies=[ShownCopy(copy, web_href(copy.url)) for copy in story.copies],
        matches=[ShownMatch(m, marked_snippet(m.snippet), places_text(m.places), whys[m.row])
                 for m in story.matches],
    )


@router.get("/api/stories/{story_id}", response_model=StoryOut,
            responses={404: {"description": "No such story"}})
def story_api(
    request: Request, story_id: StoryId, actor: Viewer, explain: bool = True
) -> Response:
    """One story: its copies, matches (with why each rule fired, unless `explain=false`)
    and deliveries per channel."""
    story = StoryViews(web_of(request).store).story(story_id)
    if story is None:
        return JSONResponse({"error": f"no story {story_id}"}, status_code=404)
    shown = story_out(story, _whys(request, story) if explain else None)
    return JSONResponse(shown.model_dump(mode="json"))


def _whys(request: Request, story: StoryView) -> dict[int, Why]:
    """Why each match's rule fired, by match row: the first MAX_EXPLAINED explained."""
    first, rest = story.matches[:MAX_EXPLAINED], story.matches[MAX_EXPLAINED:]
    texts = StoryViews(web_of(request).store).texts(list({m.article_row for m in first}))
    asked = [Asked(m.rule_id, texts[m.article_row], m.query) for m in first]
    found = explainer_of(request).explain(asked)
    whys = {m.row: why for m, why in zip(first, found, strict=True)}
    whys.update((m.row, not_explained(m.rule_id, m.article_id)) for m in rest)
    return whys
