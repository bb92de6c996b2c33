"""Text taken from feeds, as pages show it: hostile, so escaped, never marked safe.

A snippet's marks (watcher/marks.py: `[word]`) become <mark> around the escaped words; a
link from a feed becomes an href only when it is http(s).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from jinja2 import Environment
from markupsafe import Markup, escape

from watcher.marks import restyled


def snippet_html(snippet: str) -> Markup:
    """The snippet escaped, then each matched word wrapped in <mark>."""
    return Markup(restyled(snippet, lambda words: f"<mark>{escape(words)}</mark>",
                           lambda text: str(escape(text))))


def http_url(url: str | None) -> str | None:
    """The URL when it is http(s) with a host, else None (no javascript:, data:, …)."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    return url.strip() if parts.scheme.lower() in ("http", "https") and parts.netloc else None


def install(environment: Environment) -> None:
    """The filters templates use on feed text: `|snippet_html`, `|http_url`."""
    environment.filters.setdefault("snippet_html", snippet_html)
    environment.filters.setdefault("http_url", http_url)
