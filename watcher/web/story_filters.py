"""The inbox's filters as people give them (a form's query string, the API's parameters)
turned into the store's StoryFilter: a tag becomes the ids of the rules carrying it, a
place name the gazetteer id it means, a date or an age (24h) a moment.

The map and any other page "filtered like the inbox" read the same parameters here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from fastapi import Request
from starlette.datastructures import QueryParams

from watcher.engine.place_names import place_id
from watcher.errors import WorkspaceError
from watcher.model import Severity
from watcher.store.inbox import STATUSES, Status, StoryFilter
from watcher.web.context import Web, web_of
from watcher.web.rulebook import rules_or_none, tagged
from watcher.when import parse_since

MAX_FIELD = 200  # no filter value is longer; a longer one is cut
FIELDS = ("rule", "tag", "severity", "source", "place", "status", "since", "until", "q")


@dataclass(frozen=True)
class FilterForm:
    """The filters as given, "" when not: what the form shows again and links keep."""

    rule: str = ""
    tag: str = ""
    severity: str = ""
    source: str = ""
    place: str = ""
    status: str = ""
    since: str = ""
    until: str = ""
    q: str = ""
    held: bool = False

    @classmethod
    def of(cls, params: QueryParams) -> FilterForm:
        held = params.get("held", "") not in ("", "0", "false")
        return _cleaned(cls(**{name: params.get(name, "") for name in FIELDS}, held=held))

    def query_pairs(self) -> list[tuple[str, str]]:
        """The filters given, as query-string pairs (for the next page's link)."""
        pairs = [(name, getattr(self, name)) for name in FIELDS if getattr(self, name)]
        return pairs + ([("held", "1")] if self.held else [])


def story_filter(request: Request, given: FilterForm) -> StoryFilter:
    """The store's filter for `given`; a value that means nothing is a WorkspaceError."""
    form, web = _cleaned(given), web_of(request)
    return StoryFilter(
        rules=_rules(request, [form.rule] if form.rule else [], form.tag or None),
        severity=_severity(form.severity),
        source=form.source or None,
        place=_place(form.place),
        status=_status(form.status),
        since=_moment(web, form.since, "since"),
        until=_moment(web, form.until, "until"),
        q=form.q or None,
        held=form.held,
    )


def _cleaned(form: FilterForm) -> FilterForm:
    """Every value cut to MAX_FIELD characters, without NUL (PostgreSQL refuses it in any
    text: a NUL typed into a filter would be a server error, not an empty list)."""
    values = {name: getattr(form, name).replace("\x00", "").strip()[:MAX_FIELD]
              for name in FIELDS}
    return replace(form, **values)


def _rules(request: Request, rules: Sequence[str], tag: str | None) -> tuple[str, ...] | None:
    """The rule ids asked for; with a tag, only those (of them) that carry it."""
    if tag is None:
        return tuple(rules) or None
    loaded = rules_or_none(request)
    carrying = tuple(sorted(tagged(loaded, tag))) if loaded is not None else ()
    return tuple(r for r in carrying if r in rules) if rules else carrying


def _severity(text: str) -> Severity | None:
    if not text:
        return None
    try:
        return Severity.parse(text)
    except ValueError as error:
        raise WorkspaceError(str(error)) from None


def _place(text: str) -> str | None:
    if not text:
        return None
    try:
        return place_id(text, " (type it in Place)")
    except ValueError as error:
        raise WorkspaceError(str(error)) from None


def _status(text: str) -> Status | None:
    if not text:
        return None
    for status in STATUSES:
        if text == status:
            return status
    raise WorkspaceError(f"unknown status {text!r}: one of {', '.join(STATUSES)}")


def _moment(web: Web, text: str, name: str) -> datetime | None:
    if not text:
        return None
    try:
        return parse_since(text, web.now())
    except ValueError as error:
        raise WorkspaceError(f"{name}: {error}") from None
