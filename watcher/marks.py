"""The mark format of snippets: `[word]` marks a matched word, `\\[` an article's own bracket.

Written by engine/snippets.py, read by every renderer (terminal, mail, chat). An article's own
`[`, `]` and `\\` are escaped with a backslash, so every unescaped bracket pair is a mark
and a quoted "[We] will" is never shown as a match. Snippets stored before escaping read
as they always did: the innermost bracket pairs are marks.
"""

from __future__ import annotations

import re
from collections.abc import Callable

OPEN, CLOSE = "[", "]"
# An escaped character; a mark (not empty, no unescaped bracket inside); or plain text up
# to the next backslash or opening bracket (or that character alone when it starts no mark).
_PIECE = re.compile(r"\\(.)|\[((?:[^\\\[\]]|\\.)+)\]|([^\\\[]+|.)", re.DOTALL)
_ESCAPED = re.compile(r"\\(.)", re.DOTALL)

Piece = tuple[str, bool]  # (text as in the article, whether it is a mark)


def escape(text: str) -> str:
    """Article text as it goes into a snippet: its own brackets and backslashes escaped.
    Most text has none, and `in` tests are much cheaper than str.translate with a table."""
    if "\\" not in text and OPEN not in text and CLOSE not in text:
        return text
    return text.replace("\\", "\\\\").replace(OPEN, "\\" + OPEN).replace(CLOSE, "\\" + CLOSE)


def marked(text: str) -> str:
    """One matched word (or phrase) as it goes into a snippet."""
    return OPEN + escape(text) + CLOSE


def pieces(snippet: str) -> list[Piece]:
    """The snippet as runs of article text and marks, escapes undone."""
    found: list[Piece] = []
    run: list[str] = []  # plain text since the last mark, joined once (linear time)
    for piece in _PIECE.finditer(snippet):
        escaped, mark, bare = piece.groups()
        if mark is None:
            run.append(escaped if escaped is not None else bare)
            continue
        if run:
            found.append(("".join(run), False))
            run = []
        found.append((_ESCAPED.sub(r"\1", mark), True))
    if run:
        found.append(("".join(run), False))
    return found


def restyled(
    snippet: str, mark: Callable[[str], str], text: Callable[[str], str] = str
) -> str:
    """The snippet with each mark's words passed through `mark` and the article text
    between them through `text`: how every renderer shows a stored snippet."""
    return "".join(mark(words) if is_mark else text(words) for words, is_mark in pieces(snippet))


def plain(snippet: str) -> str:
    """The snippet for plain text: marks as `[word]`, the article's own brackets bare (a
    reader tells them apart by sense; a program reads `pieces`)."""
    return restyled(snippet, lambda words: OPEN + words + CLOSE)
