"""Fetched feed bytes -> Articles: the one place feedparser is used.

Owns which entry field becomes which Article field, and saying why a response is no feed.
"""

from __future__ import annotations

import io
import logging
import re
import time
import xml.sax
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser

from watcher.identity import canonical_url, content_id, plausible_published
from watcher.model import Article
from watcher.sources.html import html_to_text, normalise_text
from watcher.when import as_utc

log = logging.getLogger(__name__)

LINK_SCHEMES = frozenset({"http", "https"})
# Bytes sniffed for an HTML page served where a feed was expected.
SNIFF_BYTES = 2048
HTML_MEDIA_TYPES = frozenset({"text/html", "application/xhtml+xml"})
# Entities kept from a DOCTYPE: a character reference or a short literal (feedparser's own rule,
# plus a cap that bounds a reference's growth to 8x its own length); anything naming another
# entity, a file or a URL is removed.
_SAFE_ENTITY = re.compile(
    r"<!ENTITY\s+[\w.:-]+\s+(?:\"(?:&#\w+;|[^\"&%<]{0,32})\"|'(?:&#\w+;|[^'&%<]{0,32})')\s*>"
)
_ENTITY_DECLARATION = re.compile(r"<!ENTITY(?:[^>\"']|\"[^\"]*\"|'[^']*')*>")
_DOCTYPE_HEAD = re.compile(r"<!DOCTYPE[^\[>]*")
_SUBSET_END = re.compile(r"\]\s*>")
_FIRST_ELEMENT = re.compile(r"<[A-Za-z_:]")
_HTML_TAG = re.compile(rb"<!doctype html|<(?:html|head|body)[\s>]")
# How a document's first bytes give its encoding (XML 1.0, appendix F); else ASCII-compatible.
_BYTE_ORDERS = (
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\x00<", "utf-32-be"),
    (b"<\x00\x00\x00", "utf-32-le"),
    (b"\xfe\xff", "utf-16-be"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\x00<", "utf-16-be"),
    (b"<\x00", "utf-16-le"),
)
# A reused-guid (link) warning names this many (the others are counted), each cut to
# KEY_SHOWN characters: the warning stays one readable line whatever the feed holds.
NAMED_KEYS = 3
KEY_SHOWN = 80
# A link that this many different entries of one document share identifies none of them.
LINK_SHARERS = 3


@dataclass(frozen=True)
class ParsedFeed:
    """What one fetched feed held.

    `malformed` is why feedparser flagged the document (its entries are still here);
    `not_a_feed` says the response was no feed at all (an HTML page, empty, JSON ...);
    `skipped` counts entries with neither title, body nor link; `reused_guids` says which
    guids the feed gave to several different entries (each of them is still here),
    `shared_links` which links.
    """

    entries: tuple[Article, ...]
    title: str | None = None
    malformed: str | None = None
    not_a_feed: str | None = None
    skipped: int = 0
    reused_guids: str | None = None
    shared_links: str | None = None

    @property
    def warning(self) -> str | None:
        """The feed's faults that cost no entry, in one line for the source's status."""
        faults = (self.malformed, self.reused_guids, self.shared_links)
        return "; ".join(fault for fault in faults if fault) or None


def parse_feed(
    content: bytes,
    *,
    source: str,
    url: str,
    headers: Mapping[str, str] | None = None,
    now: datetime,
) -> ParsedFeed:
    """Articles of a fetched feed; never raises on what the server sent.

    `headers` are the response's (Content-Type gives the charset, Content-Location the base
    for relative links; `url` is the base otherwise). Publication times later than `now`
    are taken as `now`: the entry cannot have been published after we read it.

    An Article's id is the entry's guid, else its link, else `sha256:` and 32 hex digits of
    its title and body (stable across fetches). It carries no source prefix: `source` is its
    own field, and identity keys already scope a guid by source. A guid the document gives
    to several different entries identifies none of them, nor does a link they share
    (`tell_apart_entries`).
    """
    response_headers = _response_headers(headers or {}, url)
    content = _without_leading_blank(content)
    try:
        # A stream, never bytes or a str: feedparser opens a str or bytes naming a URL or a file.
        result = feedparser.parse(
            io.BytesIO(defuse_doctype(content)),
            # Without the base: feedparser would resolve a guid such as "1001" against it
            # too, into a made-up link (`_link` resolves real links against it instead).
            response_headers=_without_base(response_headers),
            # Entry HTML only ever becomes text (html.py drops scripts, styles and every
            # link), so feedparser's own sanitising and link rewriting are wasted work:
            # about a fifth of parsing time (bench/RESULTS.md, Feeds).
            resolve_relative_uris=False,
            sanitize_html=False,
        )
    except Exception as error:  # feedparser has crashed on hostile bytes; that costs this feed
        log.warning("event=feed_unreadable source=%s error=%r", source, error)
        reason = " ".join(str(error).split()) or type(error).__name__
        return ParsedFeed(entries=(), not_a_feed=f"the response could not be read: {reason}")
    base, moment = response_headers["content-location"], as_utc(now)
    articles = [_article(entry, source=source, base=base, now=moment) for entry in result.entries]
    home = canonical_url(_link(result.feed.get("link"), base))
    entries, reused, shared = tell_apart_entries([a for a in articles if a is not None], home)
    return ParsedFeed(
        entries=entries,
        title=_title(result.feed) or None,
        malformed=_bozo_reason(result, response_headers, _declares_xml(content)),
        not_a_feed=_not_a_feed_reason(result, content, response_headers),
        skipped=len(articles) - len(entries),
        reused_guids=reused,
        shared_links=shared,
    )


def tell_apart_entries(
    articles: Sequence[Article], home: str | None = None
) -> tuple[tuple[Article, ...], str | None, str | None]:
    """The entries of one document with ids and keys that tell different entries apart,
    and one-line warnings for guids and for links that several different entries share.

    Taken as identity, a shared guid or link would make every entry after the first
    "already seen" and drop it (a CMS writing its home page into every guid, a podcast
    linking every episode to its home page). An entry whose guid is shared is identified
    as if it had none: by its link when no other, different entry carries it, else by its
    content. A link that is the site's front page (`home`, the feed's own link, or the
    path "/") or that LINK_SHARERS entries share is kept for the alert but gives no
    identity key. Two entries on one article link stay one article: most often an update
    listed beside its first version, under a new guid. Documents where guids and links
    are unique, the usual case, come back as they were: same ids, same keys.
    """
    reused = _shared(articles, lambda a: a.guid)
    shared = _shared(articles, lambda a: canonical_url(a.url))
    if not reused and not shared:
        return tuple(articles), None, None
    # Entries whose guid is shared are told apart above; links matter for the others.
    others = _shared([a for a in articles if a.guid not in reused],
                     lambda a: canonical_url(a.url))
    apart = {link for link, count in others.items()
             if count >= LINK_SHARERS or _is_front_page(link, home)}
    entries = tuple(_identified(a, reused, shared, apart) for a in articles)
    guid_ways, link_ways = set(), set()
    for article, entry in zip(articles, entries, strict=True):
        if article.guid in reused:
            guid_ways.add("link" if entry.url_identifies else "content")
        elif canonical_url(article.url) in apart:
            link_ways.add("guid" if entry.guid else "content")
    link_warnings = [
        _sharing_warning("link", {k: n for k, n in others.items() if k in apart},
                         f"told apart by {_ways(link_ways)}"),
        _sharing_warning("link", {k: n for k, n in others.items() if k not in apart},
                         "taken as one article (an update beside its first version)"),
    ]
    return (
        entries,
        _sharing_warning("guid", reused, f"told apart by {_ways(guid_ways)}"),
        "; ".join(w for w in link_warnings if w) or None,
    )


def defuse_doctype(content: bytes) -> bytes:
    """The document with its DOCTYPE's internal subset cut to entities that cannot expand or fetch.

    feedparser strips unsafe entity declarations only when each starts a line, and expat's
    own limit on entity expansion lets a one-line "billion laughs" grow to megabytes first.
    """
    encoding = _xml_encoding(content)
    if "<!ENTITY".encode(encoding) not in content:
        return content
    text = content.decode(encoding, "replace")
    found = _internal_subset(text)
    if found is None:
        return content
    doctype, end = found
    declarations = _ENTITY_DECLARATION.findall(text, doctype.end(), end)
    safe = "".join(f"\n{d}" for d in declarations if _SAFE_ENTITY.fullmatch(d))
    head = doctype.group(0).rstrip()
    replacement = f"{head} [{safe}\n]>" if safe else f"{head}>"
    # feedparser only keeps declared entities of a DOCTYPE that starts a line.
    before = text[: doctype.start()]
    newline = "\n" if before and not before.endswith("\n") else ""
    return (before + newline + replacement + text[end:]).encode(encoding)


def _internal_subset(text: str) -> tuple[re.Match[str], int] | None:
    """The DOCTYPE's head (name, external id) when an internal [subset] follows, and its end."""
    doctype = _DOCTYPE_HEAD.search(text)
    if doctype is None or not text.startswith("[", doctype.end()):
        return None
    element = _FIRST_ELEMENT.search(text)
    if element is not None and element.start() < doctype.start():
        return None
    # An unclosed subset runs to the end: whatever follows is then malformed, never expanded.
    close = _SUBSET_END.search(text, doctype.end())
    return doctype, len(text) if close is None else close.end()


def _without_leading_blank(content: bytes) -> bytes:
    """The document without whitespace before its XML declaration (after a UTF-8 BOM).

    Blank lines printed before the declaration are a common server-side slip; expat refuses
    them, which would send the whole feed to feedparser's weaker loose parser.
    """
    bom = b"\xef\xbb\xbf" if content.startswith(b"\xef\xbb\xbf") else b""
    stripped = content[len(bom) :].lstrip(b" \t\r\n")
    return bom + stripped if stripped.startswith(b"<?xml") else content


def _xml_encoding(content: bytes) -> str:
    """How to read the markup of a document: UTF-16/32 by its first bytes, else as bytes."""
    for prefix, encoding in _BYTE_ORDERS:
        if content.startswith(prefix):
            return encoding
    return "latin-1"


def _response_headers(headers: Mapping[str, str], url: str) -> dict[str, str]:
    """Header names lower-cased (as feedparser reads them), the feed URL as the base URI."""
    lowered = {str(name).lower(): str(value) for name, value in headers.items()}
    lowered["content-location"] = _join(url, lowered.get("content-location", "").strip()) or url
    return lowered


def _without_base(headers: Mapping[str, str]) -> dict[str, str]:
    return {name: value for name, value in headers.items() if name != "content-location"}


def _article(entry: Any, *, source: str, base: str, now: datetime) -> Article | None:
    """One entry as an Article, or None when nothing identifies it (no guid, link, title or
    body). Whether it holds enough to be stored is the pipeline's one rule
    (identity.refusal_reason), which names the entries it refuses."""
    title = _title(entry)
    body = _body(entry)
    guid = _guid(entry)
    link = _link(entry.get("link"), base) if _has_link(entry, guid) else None
    if not (title or body or link or guid):
        return None
    return Article(
        id=guid or link or content_id(title, body),
        title=title,
        body=body,
        url=link,
        published=_published(entry, now),
        source=source,
        guid=guid,
    )


def _variant(article: Article) -> tuple[str, str, str | None]:
    """What makes two entries different articles: title, body, link as its URL key has it
    (not the time, nor tracking parameters)."""
    return article.title, article.body, canonical_url(article.url) or article.url


def _shared(articles: Sequence[Article], key: Callable[[Article], str | None]) -> dict[str, int]:
    """Each key (guid, canonical link) that different entries share, with how many; an
    entry repeated word for word is one entry (the repeat is a duplicate, nothing is lost)."""
    keys = [key(article) for article in articles]
    counts = Counter(k for k in keys if k)
    variants: dict[str, set[tuple[str, str, str | None]]] = {}
    for article, k in zip(articles, keys, strict=True):
        if k and counts[k] > 1:  # unique keys, the usual case: no work
            variants.setdefault(k, set()).add(_variant(article))
    return {k: len(found) for k, found in variants.items() if len(found) > 1}


def _identified(
    article: Article, reused: Mapping[str, int], shared: Mapping[str, int], apart: set[str]
) -> Article:
    """The entry with a shared guid, or a link shared as `apart` says, no longer standing
    for its identity."""
    link_apart = canonical_url(article.url) in apart
    if article.guid in reused or (link_apart and not article.guid):
        return _identified_without_guid(article, shared)
    return replace(article, url_identifies=False) if link_apart else article


def _is_front_page(link: str, home: str | None) -> bool:
    """Whether a canonical link is the site's front page: the feed's own link, or "/"."""
    return link == home or urlsplit(link).path in ("", "/")


def _identified_without_guid(article: Article, shared_links: Mapping[str, int]) -> Article:
    """The article as if its entry had no guid: its link is its id, or, when different
    entries share that link, its content is (and the link gives no identity key)."""
    link = canonical_url(article.url)
    if article.url and link is not None and link not in shared_links:
        return replace(article, id=article.url, guid=None)
    by_content = content_id(article.title, article.body)
    return replace(article, id=by_content, guid=None, url_identifies=False)


def _sharing_warning(what: str, shared: Mapping[str, int], verdict: str) -> str | None:
    """One line: which guids (links), for how many different entries, and what became of
    the entries; None when nothing is shared."""
    if not shared:
        return None
    if len(shared) == 1:
        [(key, count)] = shared.items()
        return f"feed reuses {what} {_shown(key)} for {count} different entries; {verdict}"
    named = [f"{_shown(key)} for {count}" for key, count in list(shared.items())[:NAMED_KEYS]]
    more = ", ..." if len(shared) > NAMED_KEYS else ""
    return (f"feed reuses {len(shared)} {what}s for different entries "
            f"({', '.join(named)}{more}); {verdict}")


def _ways(ways: set[str]) -> str:
    """"guid", "link", "content" or several joined by "and", in that order."""
    return " and ".join(way for way in ("guid", "link", "content") if way in ways)


def _shown(key: str) -> str:
    """A guid or link quoted on one line (control characters escaped), long ones cut."""
    return repr(key if len(key) <= KEY_SHOWN else key[: KEY_SHOWN - 1] + "\u2026")


def _title(item: Any) -> str:
    """A title on one line; HTML titles lose their markup."""
    return " ".join(_text(item.get("title"), item.get("title_detail")).split())


def _body(entry: Any) -> str:
    """The longest text among the entry's content elements and its summary (= description)."""
    candidates = [(part.get("value"), part) for part in entry.get("content") or ()]
    candidates.append((entry.get("summary"), entry.get("summary_detail")))
    texts = [_text(value, detail) for value, detail in candidates if value]
    return max(texts, key=len, default="")  # the first of equally long texts: content


def _text(value: Any, detail: Any) -> str:
    """Text of a feed value: feedparser says whether it is HTML (sanitised) or plain text."""
    if not isinstance(value, str):
        return ""
    kind = detail.get("type", "") if isinstance(detail, Mapping) else ""
    return normalise_text(value) if kind == "text/plain" else html_to_text(value)


def _link(link: Any, base: str) -> str | None:
    """The entry's link made absolute; only web links are kept (no javascript:, mailto:)."""
    if not isinstance(link, str) or not link.strip():
        return None
    absolute = _join(base, link.strip())
    if absolute is None or urlsplit(absolute).scheme.lower() not in LINK_SCHEMES:
        return None
    return absolute


def _join(base: str, link: str) -> str | None:
    """`link` resolved against `base`, or None when either is no parseable URL."""
    try:
        return urljoin(base, link)
    except ValueError:
        return None


def _has_link(entry: Any, guid: str | None) -> bool:
    """False when feedparser's link is only the guid (an RSS guid is a permalink unless it
    says otherwise) and that guid is no URL: "1001" would become a made-up page beside the
    feed, and other feeds' entries "1001" the same page. A path ("/a/2") is a link."""
    links = entry.get("links") or ()
    if guid is None or any(link.get("rel") == "alternate" for link in links):
        return True  # no guid to be one, or a <link> of its own (an enclosure is none)
    return guid.startswith("/") or urlsplit(guid).scheme.lower() in LINK_SCHEMES


def _guid(entry: Any) -> str | None:
    """The publisher's id for the entry (RSS guid, Atom id), None when absent or blank."""
    value = entry.get("id")
    if not isinstance(value, str):
        return None
    return value.strip() or None


def _published(entry: Any, now: datetime) -> datetime | None:
    """published, else updated, as aware UTC (feedparser gives UTC struct_time), as
    identity.plausible_published keeps it (a 1970 placeholder is none, a later one `now`)."""
    for key in ("published_parsed", "updated_parsed"):
        # dict.get, not entry.get: feedparser maps a missing updated_parsed to published_parsed.
        moment = _utc_datetime(dict.get(entry, key))
        if moment is not None:
            return plausible_published(moment, now)
    return None


def _utc_datetime(value: Any) -> datetime | None:
    """A UTC struct_time as an aware datetime; None for none or an impossible date."""
    if not isinstance(value, time.struct_time):
        return None
    try:
        return datetime(*value[:5], min(value.tm_sec, 59), tzinfo=UTC)
    except (ValueError, OverflowError):
        return None


def _bozo_reason(result: Any, headers: Mapping[str, str], declared: bool) -> str | None:
    """Why feedparser flagged the document, in one line; a missing Content-Type is no fault.

    Positions are 1-based; feedparser puts a line with an XML declaration before a document
    without one (`declared` False), which the line number must not count.
    """
    error = result.get("bozo_exception") if result.get("bozo") else None
    if error is None:
        return None
    if isinstance(error, xml.sax.SAXParseException):
        line = max(error.getLineNumber() - (not declared), 1)
        return f"{error.getMessage()} at line {line}, column {error.getColumnNumber() + 1}"
    if isinstance(error, feedparser.NonXMLContentType) and not headers.get("content-type"):
        return None
    return " ".join(str(error).split()) or type(error).__name__


def _declares_xml(content: bytes) -> bool:
    """Whether the document starts with an XML declaration (after a byte order mark)."""
    head = content.removeprefix(b"\xef\xbb\xbf")[:64]
    return head.decode(_xml_encoding(head), "replace").lstrip("\ufeff").startswith("<?xml")


def _not_a_feed_reason(result: Any, content: bytes, headers: Mapping[str, str]) -> str | None:
    """Why the response is no feed, or None: feedparser recognised a format or found entries."""
    if result.get("version") or result.entries:
        return None
    if not content.strip():
        return "the response is empty"
    media_type = headers.get("content-type", "").split(";")[0].strip().lower()
    head = content[:SNIFF_BYTES].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if media_type in HTML_MEDIA_TYPES or _HTML_TAG.search(head):
        return "the response is an HTML page, not a feed"
    if media_type.endswith("json") or head.startswith((b"{", b"[")):
        return "the response is JSON, not an RSS or Atom feed"
    return "the response is not an RSS, Atom or RDF feed"
