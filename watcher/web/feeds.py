"""Atom feeds of alerts for feed readers: all alerts, one rule's, or those of the rules
with a tag (docs/web.md, Feeds). Everything in an entry comes from feeds, so it is
written as escaped text by watcher/web/atom.py, and only http(s) links become links."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from fastapi.security import APIKeyQuery
from pydantic import BaseModel

from watcher.store.alert_feed import AlertFeed, FeedAlert
from watcher.web import atom
from watcher.web.auth import FEED_TOKEN_PARAMETER, Viewer
from watcher.web.context import web_of
from watcher.web.rulebook import RulesUnavailable, rulebook_of, tagged
from watcher.web.snippets import web_href

FEED_SIZE = 50  # the newest alerts; a reader keeps what it has already seen
SCHEMES = {"severity": "urn:watcher:severity", "rule": "urn:watcher:rule",
           "tag": "urn:watcher:tag"}

router = APIRouter()
# Describes ?token= in /api/openapi.json; watcher/web/auth.py is what checks it.
FEED_TOKEN = APIKeyQuery(
    name=FEED_TOKEN_PARAMETER, auto_error=False,
    description="An API token in the feed's URL, for feed readers that cannot send "
                "`Authorization: Bearer` (feeds only; docs/web.md says what it exposes)")


class AtomResponse(Response):
    media_type = atom.MEDIA_TYPE


class Problem(BaseModel):
    """Why a request was not answered."""

    error: str


def _problem_doc(description: str) -> dict[str, Any]:
    """An error answer in the OpenAPI document: JSON, whatever the route's own type."""
    schema = Problem.model_json_schema()
    return {"description": description, "content": {"application/json": {"schema": schema}}}


@router.get(
    "/feeds/alerts.atom", response_class=AtomResponse, summary="Atom feed of alerts",
    responses={200: {"description": "An Atom 1.0 feed of the newest alerts"},
               401: _problem_doc("No token, or a wrong one"),
               404: _problem_doc("No rule has the tag"),
               503: _problem_doc("The rules (for a tag) do not load")},
)
def alerts_feed(
    request: Request,
    actor: Viewer,
    rule: Annotated[str | None, Query(description="Only this rule's alerts (its id).",
                                      max_length=200)] = None,
    tag: Annotated[str | None, Query(description="Only the alerts of the rules with this tag.",
                                     max_length=200)] = None,
    token: Annotated[str | None, Depends(FEED_TOKEN)] = None,
) -> Response:
    """The newest 50 alerts (matches neither held back by their context nor old news),
    newest first, one entry per match: its id stays the same, its link is the story's page
    here and the article's own link is `related`; the summary is the snippet as text, with
    the matched words in [brackets]; categories give severity, rule and the rule's tags.
    Both `rule` and `tag` given: the alerts of that rule if it has the tag."""
    web = web_of(request)
    rule_ids = {rule} if rule else None
    tags: dict[str, tuple[str, ...]] = {}
    try:
        rules = rulebook_of(request).rules()
    except RulesUnavailable as error:
        if tag:
            first = error.lines[0]
            return _problem(503, f"the rules do not load, so no tag is known: {first}")
    else:
        tags = {loaded.id: loaded.tags for loaded in rules.rules}
        if tag:
            with_tag = tagged(rules, tag)
            if not with_tag:
                return _problem(404, f"no rule has the tag {tag!r}")
            rule_ids = with_tag if rule_ids is None else rule_ids & with_tag
    alerts = AlertFeed(web.store).recent(rule_ids, FEED_SIZE)
    base = str(request.base_url)
    feed = atom.Feed(
        id=_feed_id(rule, tag),
        title=" ".join(["watcher alerts", *([f"rule {rule}"] if rule else []),
                        *([f"tag {tag}"] if tag else [])]),
        updated=alerts[0].matched_at if alerts else web.now(),
        author="watcher",
        links=[atom.Link(str(request.url.remove_query_params(FEED_TOKEN_PARAMETER)), "self",
                         atom.MEDIA_TYPE),
               atom.Link(base, "alternate", "text/html")],
        entries=[_entry(alert, base, tags.get(alert.rule_id, ())) for alert in alerts],
    )
    return AtomResponse(atom.document(feed))


def _entry(alert: FeedAlert, base: str, tags: tuple[str, ...]) -> atom.Entry:
    rule_title = alert.rule_title or alert.rule_id
    links = [atom.Link(f"{base}stories/{alert.story_id}", "alternate", "text/html")]
    article = web_href(alert.article_url)
    if article is not None:
        links.append(atom.Link(article, "related", "text/html", alert.source))
    return atom.Entry(
        id=f"urn:watcher:match:{alert.match_id}",
        title=f"{rule_title}: {alert.article_title}",
        updated=alert.matched_at,
        published=alert.published,
        summary=alert.snippet,
        links=links,
        categories=[
            atom.Category(alert.severity, SCHEMES["severity"], f"severity {alert.severity}"),
            atom.Category(alert.rule_id, SCHEMES["rule"], rule_title),
            *(atom.Category(tag, SCHEMES["tag"]) for tag in tags),
        ],
        author=alert.source,
    )


def _feed_id(rule: str | None, tag: str | None) -> str:
    parts = ["urn:watcher:alerts"]
    if rule:
        parts.append(f"rule:{quote(rule, safe='')}")
    if tag:
        parts.append(f"tag:{quote(tag, safe='')}")
    return ":".join(parts)


def _problem(status: int, message: str) -> Response:
    return JSONResponse({"error": message}, status_code=status)
