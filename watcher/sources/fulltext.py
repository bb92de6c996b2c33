"""An article page's main text without navigation, ads or comments: where trafilatura lives.

Only extraction: fetching the page (and its size and time limits) belongs to the caller.
"""

from __future__ import annotations

import logging

import trafilatura

from watcher.sources.html import html_to_text

log = logging.getLogger(__name__)


def extract_text(html: bytes | str, *, url: str, title: str = "") -> str | None:
    """The page's main text, paragraphs separated by a blank line; None when none was found.

    trafilatura hands back the main content as simplified HTML (p, h1-h6, list, br), so
    paragraph breaks come from the same converter as feed entries. Bytes are decoded by
    trafilatura (meta charset, then detection). The headline usually leads the text: when
    it repeats `title` (the article's own), it is dropped, so it is not matched and
    highlighted twice.
    """
    if isinstance(html, str):
        html = html.replace("\x00", "")
    try:
        main = trafilatura.extract(
            html,
            url=url,
            output_format="html",
            include_comments=False,
            include_tables=True,
            include_images=False,
            include_links=False,
            with_metadata=False,
        )
    except Exception as error:  # one hostile page must cost that page only, never the poll
        log.warning("event=fulltext_failed url=%s error=%r", url, error)
        return None
    if not main:
        return None
    return _without_headline(html_to_text(main), title) or None


def _without_headline(text: str, title: str) -> str:
    """`text` without a first paragraph that says `title` again (case and spacing aside)."""
    first, _, rest = text.partition("\n\n")
    if title and _folded(first) == _folded(title):
        return rest
    return text


def _folded(text: str) -> str:
    return " ".join(text.split()).casefold()
