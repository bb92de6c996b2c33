"""Article identity (guid, canonical URL, content hash), what an article must hold to be
stored, and when it can have been published.

Each of these is decided here only: the feeds, the other inputs and the pipeline ask, which
is why it is a leaf (it needs only the model), not part of ingest/.

Pure, no I/O. URLs go through courlan: maintained, trafilatura's own URL library, and unlike
w3lib and url-normalize it knows tracking parameters.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import SplitResult, urlsplit

from courlan import normalize_url

from watcher.model import Article

# A published time before this is a feed's placeholder (1970-01-01), not a time.
EARLIEST_PUBLISHED = datetime(1990, 1, 1, tzinfo=UTC)


_HOST = re.compile(r"[\w.-]+|[0-9a-f:.]+")  # a name (IDN allowed) or an IPv6 address
_PERCENT_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def canonical_url(url: str | None) -> str | None:
    """The URL two fetches of one article share, or None if it is not an http(s) URL.

    Lower-cases scheme and host, drops default ports, the fragment and tracking parameters,
    sorts the remaining parameters and normalises percent-escapes. "www." is kept: a site may
    serve different content without it, and a false merge would hide an article.
    """
    parts = _split_http_url(url)
    if parts is None:
        return None
    cleaned = urlsplit(normalize_url(parts._replace(fragment=""), strict=False))
    return cleaned._replace(path=_normalise_escapes(cleaned.path) or "/").geturl()


def _split_http_url(url: str | None) -> SplitResult | None:
    """The URL's parts if it is an absolute http(s) URL with a host and a valid port."""
    if not url or not url.strip():
        return None
    try:
        parts = urlsplit(url.strip())
        _ = parts.port  # raises ValueError for a non-numeric or out-of-range port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return parts if _HOST.fullmatch(parts.hostname) else None


def _normalise_escapes(path: str) -> str:
    """RFC 3986 6.2.2: decode escapes of unreserved characters, upper-case the others."""

    def fix(match: re.Match[str]) -> str:
        char = chr(int(match.group(1), 16))
        return char if char in _UNRESERVED else "%" + match.group(1).upper()

    return _PERCENT_ESCAPE.sub(fix, path)


def content_hash(title: str, body: str) -> str:
    """Hex sha256 of title and body, insensitive to case, Unicode form and whitespace."""
    text = _normalise_text(title) + "\n" + _normalise_text(body)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def content_id(title: str, body: str) -> str:
    """An id for an entry without guid or link: `sha256:` and the first 32 hex digits of its
    content hash, so the id and the hash identity key agree on what "the same text" is."""
    return f"sha256:{content_hash(title, body)[:32]}"


def refusal_reason(article: Article) -> str:
    """Why an article cannot be stored, or "": one with no title and no body holds nothing
    to match. A link alone is not enough (full text, when configured, fills the body first)."""
    if not article.title.strip() and not article.body.strip():
        return "no title and no body"
    return ""


def plausible_published(published: datetime | None, now: datetime) -> datetime | None:
    """The published time to keep: None before 1990 (a placeholder: unknown is honest), and
    at most `now` (nothing was published after we read it; a fast clock keeps the article,
    dated when it was read). `published` and `now` are aware."""
    if published is None or published < EARLIEST_PUBLISHED:
        return None
    return min(published, now)


def _normalise_text(text: str) -> str:
    """NFKC, case-folded, each run of whitespace one space, none at either end. Splitting
    on whitespace and joining with one space does that: `str.split` and the regex `\\s`
    both take the characters `str.isspace` takes, and the regex's substitution cost a
    replay more than the rest of the hash (tests/test_identity.py compares them)."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


@dataclass(frozen=True)
class Identity:
    """What tells an article apart, computed once (`identify`): its identity keys, strongest
    first (it is stored if any key is), and the canonical URL and content hash they hold,
    which the store keeps with the article."""

    keys: tuple[str, ...]
    canonical_url: str | None
    content_hash: str

    @property
    def content_key(self) -> str:
        """The key of its text, always the last: the one copies in different feeds share."""
        return self.keys[-1]


def identify(article: Article) -> Identity:
    """The article's identity: the pipeline asks the store with it and stores it as it is.

    guid is scoped by source (two feeds may reuse "1"); seed files have no guid and positional
    ids, so two files carrying one article meet on the content hash. A link the source saw
    on other, different articles (`url_identifies` False) gives no key: it would make them one,
    but it is still the article's canonical URL.
    """
    url = canonical_url(article.url)
    digest = content_hash(article.title, article.body)
    keys = []
    guid = (article.guid or "").strip()
    if guid:
        keys.append(f"guid:{article.source}:{guid}")
    if url is not None and article.url_identifies:
        keys.append(f"url:{url}")
    keys.append(f"hash:{digest}")
    return Identity(tuple(keys), url, digest)


def identity_keys(article: Article) -> tuple[str, ...]:
    """The keys of `identify(article)`, for callers that need no more (the feeds' tests)."""
    return identify(article).keys
