"""HTML -> plain text with paragraph breaks: the one place an HTML parser is used.

Blocks become paragraphs separated by a blank line, <br> a line break; never raises on garbage.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

from lxml import etree

# lxml (libxml2's HTML parser, in C): maintained, wheels for every platform we run on, recovers
# from tag soup, and trafilatura needs it anyway, so this costs no second parser. selectolax
# (lexbor) is faster still, but feed entries are small and it would be one more dependency.

BLOCK_TAGS = frozenset({
    "address", "article", "aside", "blockquote", "body", "caption", "center", "dd", "details",
    "dialog", "dir", "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form",
    "h1", "h2", "h3", "h4", "h5", "h6", "header", "hgroup", "hr", "html", "legend", "li", "main",
    "menu", "nav", "ol", "p", "pre", "section", "summary", "table", "tbody", "tfoot", "thead",
    "tr", "ul",
})  # fmt: skip
# Cells of one row stay on one line, but their words must not run together.
CELL_TAGS = frozenset({"td", "th"})
# Never text a reader sees.
DROPPED_TAGS = (
    "script", "style", "noscript", "iframe", "template", "head", "svg", "math", "object", "embed",
    "canvas",
)  # fmt: skip

_PARAGRAPH = "\n\n"
_LINE = "\n"
# C0 controls (but tab, newline, carriage return): NUL makes libxml2 stop reading.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_WHITESPACE = re.compile(r"\s+")
_SPACES = re.compile(r"[^\S\n]+")
_BLANK_RUNS = re.compile(r"\n{3,}")
_BLANK_LINE = re.compile(r"\n[^\S\n]*\n\s*")
# Fallback only: tags, and a tag cut off by the end of the text.
_TAG = re.compile(r"<(/?)([A-Za-z][^\s/>]*)[^>]*>|<[A-Za-z/!][^>]*\Z")
_DROPPED_START = re.compile(r"<!--|<(" + "|".join(DROPPED_TAGS) + r")\b", re.IGNORECASE)


def html_to_text(markup: str) -> str:
    """Readable text of an HTML fragment or page; text without tags is kept as plain text."""
    if "<" not in markup:
        return normalise_text(html.unescape(markup))
    cleaned = _CONTROL.sub("", markup)
    # huge_tree: nesting up to 2048 deep instead of 256 before libxml2 gives up.
    parser = etree.HTMLParser(
        encoding="utf-8", remove_comments=True, remove_pis=True, no_network=True, huge_tree=True
    )
    try:
        root = etree.fromstring(cleaned.encode("utf-8", "replace"), parser)
    except (etree.LxmlError, ValueError):
        return fallback_text(cleaned)
    if any(error.level_name == "FATAL" for error in parser.error_log):
        # libxml2 stopped early (nesting deeper than its limit): the tree holds only a prefix.
        return fallback_text(cleaned)
    if root is None:
        return ""
    etree.strip_elements(root, *DROPPED_TAGS, with_tail=False)
    return _tidy("".join(_pieces(root)))


def normalise_text(text: str) -> str:
    """Plain text with paragraphs (blank-line separated) kept and other whitespace collapsed.

    Single newlines inside a paragraph are hard wraps, not structure, so they become spaces.
    """
    paragraphs = _BLANK_LINE.split(_CONTROL.sub("", text))
    return _PARAGRAPH.join(p for p in (" ".join(p.split()) for p in paragraphs) if p)


def fallback_text(markup: str) -> str:
    """Text by pattern when the parser gave up: dropped elements, then tags, removed.

    Linear in the input (each scan moves forward), so hostile input cannot make it slow.
    """
    source = _without_dropped(markup)
    pieces, position = [], 0
    for tag in _TAG.finditer(source):
        pieces.append(_WHITESPACE.sub(" ", html.unescape(source[position : tag.start()])))
        pieces.append(_tag_mark(tag.group(1) or "", tag.group(2) or ""))
        position = tag.end()
    pieces.append(_WHITESPACE.sub(" ", html.unescape(source[position:])))
    return _tidy("".join(pieces))


def _pieces(root: etree._Element) -> Iterator[str]:
    """Text and break marks in document order, walked without recursion (any depth)."""
    in_pre = 0
    for event, element in etree.iterwalk(root, events=("start", "end")):
        tag = element.tag if isinstance(element.tag, str) else ""
        if event == "start":
            in_pre += tag == "pre"
            yield _tag_mark("", tag)
            yield _flow(element.text, in_pre > 0)
        else:
            in_pre -= tag == "pre"
            yield _tag_mark("/", tag)
            yield _flow(element.tail, in_pre > 0)


def _flow(text: str | None, preformatted: bool) -> str:
    """Source whitespace is one space, except that line breaks inside <pre> are kept."""
    if not text:
        return ""
    if preformatted:
        return _SPACES.sub(" ", text.replace("\r\n", "\n"))
    return _WHITESPACE.sub(" ", text)


def _tag_mark(closing: str, tag: str) -> str:
    """What a tag contributes to the text: a paragraph break, a line break, a space, nothing."""
    tag = tag.lower()
    if tag in BLOCK_TAGS:
        return _PARAGRAPH
    if tag == "br":
        return "" if closing else _LINE
    return " " if tag in CELL_TAGS else ""


def _tidy(text: str) -> str:
    """Lines stripped, runs of spaces one space, at most one blank line between paragraphs."""
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return _BLANK_RUNS.sub(_PARAGRAPH, "\n".join(lines)).strip()


def _without_dropped(markup: str) -> str:
    """The markup without comments and script-like elements (an unclosed one runs to the end)."""
    kept, position = [], 0
    while (start := _DROPPED_START.search(markup, position)) is not None:
        kept.append(markup[position : start.start()])
        name = start.group(1)
        end = re.compile("-->" if name is None else rf"</{name}\s*>", re.IGNORECASE)
        found = end.search(markup, start.end())
        position = len(markup) if found is None else found.end()
    kept.append(markup[position:])
    return "".join(kept)
