"""The public JSON shapes of a match and a stored match (../shared/docs/interfaces.md):
what `watcher match`, `replay` and `matches --format jsonl` print and what the workspace's
`GET /api/matches` answers, decided here once for both."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from watcher.model import Match
from watcher.notify.payload import places_json
from watcher.store import StoredMatch


def match_json(found: Match) -> dict[str, Any]:
    """The public JSON shape of a match (interfaces.md)."""
    return {
        "rule": found.rule_id,
        "article": found.article_id,
        "title": found.title,
        "severity": str(found.severity),
        "spans": [[s.start, s.end, s.field] for s in found.spans],
        "snippet": found.snippet,
        # Added by issue 17: the context labels of the match's words with their cue words,
        # and the labels that held it back (empty when it was not: it alerts).
        "context": [{"label": c.label, "cues": list(c.cues)} for c in found.context],
        "held": list(found.held),
        # Added by issue 18: the gazetteer places the match names (docs/commands.md).
        "places": places_json(found.places),
    }


def timestamp(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with a Z, or None."""
    if moment is None:
        return None
    return moment.isoformat().replace("+00:00", "Z")


def stored_match_json(stored: StoredMatch) -> dict[str, Any]:
    """The match line plus when it was stored, which channels confirmed delivery and, added
    by issue 17, why its article was old news and not alerted ("baseline": the source's
    first poll; "too old": published longer than max_age before; null when it was not)."""
    return {
        **match_json(stored.match),
        "matched_at": timestamp(stored.matched_at),
        "notified": list(stored.notified),
        "old_news": stored.old_news,
    }
