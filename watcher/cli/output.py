"""How commands print matches and articles: the public JSON shapes and the text for people.

The JSON shapes are a contract (../shared/docs/interfaces.md); text output may change. The
shapes of a match are watcher/ingest/shapes.py's, which the workspace's API answers too.
"""

from __future__ import annotations

from typing import Any

import click

from watcher.ingest.shapes import timestamp
from watcher.marks import restyled
from watcher.model import Match
from watcher.notify.render import places_text
from watcher.store import StoredArticle, StoredDelivery, StoredMatch


def match_text(found: Match, source: str = "") -> str:
    """Lines for people: what fired on which article, the highlighted snippet, and its
    context labels with the cue words that decided them (held-back ones first)."""
    head = click.style(found.rule_id, bold=True)
    where = f" ({source})" if source else ""
    snippet = restyled(
        found.snippet, lambda words: f"[{click.style(words, fg='yellow', bold=True)}]"
    )
    lines = [f"{head} [{found.severity}] {found.article_id}{where}: {found.title}",
             f"    {snippet}"]
    cues = {c.label: ", ".join(f'"{cue}"' for cue in c.cues) for c in found.context}
    if found.held:
        lines.append("    held back: " + "; ".join(f"{h} ({cues.get(h, '')})" for h in found.held))
    others = [label for label in cues if label not in found.held]
    if others:
        lines.append("    context: " + "; ".join(f"{label} ({cues[label]})" for label in others))
    if found.places:
        lines.append("    places: " + places_text(found.places))
    return "\n".join(lines)


def article_json(stored: StoredArticle) -> dict[str, Any]:
    """The public JSON shape of a stored article (interfaces.md)."""
    return {
        "id": stored.id,
        "title": stored.title,
        "source": stored.source,
        "url": stored.url,
        "published": timestamp(stored.published),
        "fetched": timestamp(stored.fetched),
        "story": stored.story,
    }


def article_text(stored: StoredArticle) -> str:
    """One line for people: published (or "-"), where from, which story, id and title."""
    published = (timestamp(stored.published) or "-")[:16]
    return f"{published:16}  {stored.source}  story {stored.story}  {stored.id}: {stored.title}"


OLD_NEWS_NOTES = {
    "baseline": "not alerted: baseline (the source's first poll)",
    "too old": "not alerted: too old (published longer than max_age before)",
}


def stored_match_text(stored: StoredMatch) -> str:
    sent = f"  sent: {', '.join(stored.notified)}" if stored.notified else ""
    old = stored.old_news
    note = f"  {OLD_NEWS_NOTES.get(old, f'not alerted: {old}')}" if old else ""
    when = timestamp(stored.matched_at) or ""
    return f"{when[:16]}{sent}{note}\n{match_text(stored.match)}"


def delivery_json(stored: StoredDelivery) -> dict[str, Any]:
    """One outbox row: which match went (or goes) to which channel, and how it went."""
    return {
        "id": stored.id,
        "rule": stored.rule_id,
        "article": stored.article_id,
        "title": stored.title,
        "channel": stored.channel,
        "status": stored.status,
        "attempts": stored.attempts,
        "created": timestamp(stored.created),
        "next_attempt": timestamp(stored.next_attempt) if stored.status == "pending" else None,
        "sent_at": timestamp(stored.sent_at),
        "last_error": stored.last_error,
        "silence": stored.silence_id,
    }


def delivery_text(stored: StoredDelivery) -> str:
    """One line per (match, channel), as interfaces.md says: `#12 pending ops-email
    rule=siege article=seed-001#1 attempts=2 next 2026-11-23T20:01 last error: HTTP 500`."""
    when = {
        "pending": f"next {(timestamp(stored.next_attempt) or '')[:16]}",
        "sent": f"sent {(timestamp(stored.sent_at) or '')[:16]}",
        "silenced": f"by silence {stored.silence_id}",
    }.get(stored.status, "gave up")
    error = f" last error: {stored.last_error}" if stored.last_error else ""
    return (f"#{stored.id} {stored.status} {stored.channel} rule={stored.rule_id} "
            f"article={stored.article_id} attempts={stored.attempts} {when}{error}")
