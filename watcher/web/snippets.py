"""Feed text on a page: a stored snippet with its matched words in <mark>, and links that
are only ever web links.

Everything from a feed is hostile: the snippet is escaped piece by piece and only the marks
this module inserts are markup; a `javascript:` or `data:` link is never an href.
"""

from __future__ import annotations

from markupsafe import Markup, escape

from watcher.marks import pieces, restyled
from watcher.notify.render import is_web_url

LINK_REL = "noopener noreferrer nofollow"  # what every link taken from a feed carries


def marked_snippet(snippet: str) -> Markup:
    """The stored snippet (`[word]` marks, watcher/marks.py) as HTML: the article's text
    escaped, each matched word in <mark>."""
    return Markup(restyled(  # safe: every piece is escaped here
        snippet, lambda words: f"<mark>{escape(words)}</mark>", lambda text: str(escape(text))))


def snippet_pieces(snippet: str) -> list[tuple[str, bool]]:
    """The snippet as (article text, whether it is a matched word) runs, for the API."""
    return pieces(snippet)


def web_href(url: str | None) -> str | None:
    """The URL when it may be a link (http or https with a host), else None."""
    return url.strip() if url is not None and is_web_url(url) else None
