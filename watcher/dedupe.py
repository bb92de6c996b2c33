"""Article identity (guid, canonical URL, content hash), what an article must hold to be
stored and when it can have been published, and near-duplicate story signatures.

Each of these is decided here only: the feeds, the other inputs and the pipeline ask.

Pure, no I/O. URLs go through courlan: maintained, trafilatura's own URL library, and unlike
w3lib and url-normalize it knows tracking parameters. Stories: datasketch MinHash + LSH bands.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from itertools import islice
from urllib.parse import SplitResult, urlsplit

import numpy as np
from courlan import normalize_url
from datasketch import MinHash

from watcher.model import Article

# A published time before this is a feed's placeholder (1970-01-01), not a time.
EARLIEST_PUBLISHED = datetime(1990, 1, 1, tzinfo=UTC)

# Measured on FA-KES (docs/stories.md): wire copies 0.64-0.89, light rewrites 0.40-0.60, different
# reports on one event 0.13-0.30; unrelated pages sharing a site's boilerplate up to 0.33.
# Bands use the first BANDS * ROWS values; LSH threshold (1/32)^(1/3) = 0.315 < SAME_STORY.
# Changing these, SEED, SCHEME or the shingles invalidates every stored signature and band.
NUM_PERM = 256
BANDS = 32
ROWS = 3
SAME_STORY = 0.4
SHINGLE_WORDS = 3
SHINGLE_BATCH = 10_000
SEED = 1
SCHEME = "affine32"  # pinned: datasketch 2.0 changed the default, and stored values must not move

_WHITESPACE = re.compile(r"\s+")
_WORD = re.compile(r"[^\W_]+")
_HOST = re.compile(r"[\w.-]+|[0-9a-f:.]+")  # a name (IDN allowed) or an IPv6 address
_PERCENT_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


@dataclass(frozen=True)
class StorySignature:
    """A MinHash signature and its LSH band hashes.

    `values` is NUM_PERM little-endian uint32s. `bands[i]` is band i's hash as a signed 64-bit
    int (fits a BIGINT); the band index is mixed into the hash, so equal hashes in different
    bands never collide even if the store keeps only the hash.
    """

    values: bytes
    bands: tuple[int, ...]


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
    return _WHITESPACE.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


def identity_keys(article: Article) -> tuple[str, ...]:
    """The article's identity keys, strongest first; it is stored if any key is.

    guid is scoped by source (two feeds may reuse "1"); seed files have no guid and positional
    ids, so two files carrying one article meet on the content hash. A link the source saw
    on other, different articles (`url_identifies` False) gives no key: it would make them one.
    """
    keys = []
    guid = (article.guid or "").strip()
    if guid:
        keys.append(f"guid:{article.source}:{guid}")
    url = canonical_url(article.url) if article.url_identifies else None
    if url is not None:
        keys.append(f"url:{url}")
    keys.append(f"hash:{content_hash(article.title, article.body)}")
    return tuple(keys)


def story_signature(title: str, body: str) -> StorySignature:
    """MinHash of the article's word 3-grams, with its band hashes for LSH lookup."""
    minhash = MinHash(
        num_perm=NUM_PERM, seed=SEED, scheme=SCHEME, permutations=_permutations()
    )
    shingles = _shingles(_story_words(title) + _story_words(body))
    # update_batch makes a (shingles x NUM_PERM) matrix: in slices, a 50 MB article needs
    # megabytes, not gigabytes, and the minimum over the slices is the same signature.
    while batch := list(islice(shingles, SHINGLE_BATCH)):
        minhash.update_batch(batch)
    values = np.asarray(minhash.hashvalues, dtype="<u4").tobytes()
    return StorySignature(values=values, bands=_band_hashes(values))


@cache
def _permutations() -> np.ndarray:
    """The MinHash permutations, drawn once: drawing them costs more than hashing an article."""
    return MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME).permutations


def _story_words(text: str) -> list[str]:
    """Words folded for comparison: case, Unicode form and diacritics (Qamişlo = Qamislo)."""
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text).casefold())
    folded = "".join(char for char in decomposed if not unicodedata.combining(char))
    return _WORD.findall(folded)


def _shingles(words: list[str]) -> Iterator[bytes]:
    """Word 3-grams; a text shorter than that is one shingle, an empty one none."""
    if len(words) <= SHINGLE_WORDS:
        if words:
            yield " ".join(words).encode("utf-8")
        return
    for i in range(len(words) - SHINGLE_WORDS + 1):
        yield " ".join(words[i : i + SHINGLE_WORDS]).encode("utf-8")


def _band_hashes(values: bytes) -> tuple[int, ...]:
    """One signed 64-bit hash per band of ROWS values (the first BANDS * ROWS of NUM_PERM)."""
    width = ROWS * 4
    chunks = (values[band * width : (band + 1) * width] for band in range(BANDS))
    return tuple(_band_hash(band, chunk) for band, chunk in enumerate(chunks))


def _band_hash(band: int, chunk: bytes) -> int:
    """blake2b of the band index and its values, as a signed int that fits a BIGINT column."""
    digest = hashlib.blake2b(band.to_bytes(2, "little") + chunk, digest_size=8).digest()
    return int.from_bytes(digest, "little", signed=True)


def similarity(a: bytes, b: bytes) -> float:
    """Estimated Jaccard similarity of two signatures' shingle sets (share of equal values)."""
    if len(a) != len(b) or len(a) % 4:
        raise ValueError(f"signatures differ in size or are malformed ({len(a)}, {len(b)} bytes)")
    left, right = np.frombuffer(a, dtype="<u4"), np.frombuffer(b, dtype="<u4")
    return float(np.count_nonzero(left == right)) / len(left) if len(left) else 0.0
