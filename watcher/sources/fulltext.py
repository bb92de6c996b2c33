"""An article page's main text without navigation, ads or comments: where trafilatura lives.

Only extraction: fetching the page (and its size and time limits) belongs to the caller.
"""

from __future__ import annotations

import logging

import trafilatura

from watcher.sources.html import html_to_text

log = logging.getLogger(__name__)


def extract_text(html: bytes | str, *, url: str) -> str | None:
    """The page's main text, paragraphs separated by a blank line; None when none was found.

    trafilatura hands back the main content as simplified HTML (p, h1-h6, list, br), so
    paragraph breaks come from the same converter as feed entries. Bytes are decoded by
    trafilatura (meta charset, then detection). The headline usually leads the text.
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
    return html_to_text(main) or None
