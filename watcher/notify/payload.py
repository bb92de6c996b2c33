"""watcher's own JSON for `watcher://` webhooks: one document per message, versioned, with
the fields a program needs (ids, severities, rules, article, story, spans), not a text.

docs/alerts.md ("watcher's own JSON webhook") has its JSON Schema; a change that breaks it
raises PAYLOAD_VERSION.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from watcher.model import Alert, MatchPlace, Span
from watcher.notify.render import bounded, by_severity

PAYLOAD_VERSION = 1


def alert_document(alerts: Sequence[Alert], identity: str) -> dict[str, Any]:
    """One article's alerts to one channel: the most severe rule's snippet and severity at
    the top, every rule (most severe first) in `rules`, every rule's spans in `spans`.
    `context` and a rule's `held` are filled by context labelling; empty until then.
    `places` (top level) are every rule's places, each once, in the order of `rules`."""
    ordered = by_severity(bounded(alert) for alert in alerts)
    first = ordered[0]
    return {
        "version": PAYLOAD_VERSION,
        "kind": "alert",
        "id": identity,
        "severity": str(first.severity),
        "rules": [_rule(alert) for alert in ordered],
        "article": {
            "id": first.article_id,
            "title": first.article_title,
            "url": first.url,
            "source": first.source,
            "published": _time(first.published),
        },
        "story": {"id": first.story_id, "outlets": [first.source, *first.other_outlets]},
        "matched_at": _time(min(alert.matched_at for alert in ordered)),
        "snippet": first.snippet,
        "spans": _spans(sorted({span for alert in ordered for span in alert.spans})),
        "context": [],
        "places": places_json({p.id: p for alert in ordered for p in alert.places}.values()),
    }


def notify_test_document(channel: str, message: str, identity: str) -> dict[str, Any]:
    """`watcher notify test CHANNEL` to a watcher webhook: the same envelope, kind `test`."""
    return {"version": PAYLOAD_VERSION, "kind": "test", "id": identity, "channel": channel,
            "message": message}


def _rule(alert: Alert) -> dict[str, Any]:
    return {
        "id": alert.rule_id,
        "title": alert.rule_title,
        "severity": str(alert.severity),
        "query": alert.query,
        "snippet": alert.snippet,
        "spans": _spans(alert.spans),
        "context": [],
        "places": places_json(alert.places),
    }


def places_json(places: Iterable[MatchPlace]) -> list[dict[str, Any]]:
    """Each located place as every JSON output writes it (`watcher match`/`matches`, the
    webhook): id, name, kind, coordinates, parents nearest first."""
    return [
        {"id": place.id, "name": place.name, "kind": place.kind,
         "latitude": place.latitude, "longitude": place.longitude,
         "parents": [{"id": p.id, "name": p.name, "kind": p.kind} for p in place.parents]}
        for place in places
    ]


def _spans(spans: Sequence[Span]) -> list[list[int | str]]:
    """`[start, end, field]`, as `watcher matches --format jsonl` writes them."""
    return [[span.start, span.end, span.field] for span in spans]


def _time(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with `Z`; naive times are UTC (the store keeps UTC)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
