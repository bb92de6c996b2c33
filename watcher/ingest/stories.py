"""Near-duplicate stories: MinHash signatures of an article's word 3-grams, with LSH band
hashes so the store finds candidates without comparing every article.

Pure, no I/O. datasketch MinHash + LSH bands (docs/stories.md).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from itertools import islice

import numpy as np

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

_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class StorySignature:
    """A MinHash signature and its LSH band hashes.

    `values` is NUM_PERM little-endian uint32s. `bands[i]` is band i's hash as a signed 64-bit
    int (fits a BIGINT); the band index is mixed into the hash, so equal hashes in different
    bands never collide even if the store keeps only the hash.
    """

    values: bytes
    bands: tuple[int, ...]


def story_signature(title: str, body: str) -> StorySignature:
    """MinHash of the article's word 3-grams, with its band hashes for LSH lookup."""
    words = _story_word_bytes(title) + _story_word_bytes(body)
    values = _min_hashes(_shingles(words)).tobytes()
    return StorySignature(values=values, bands=_band_hashes(values))


def _min_hashes(shingles: Iterator[bytes]) -> np.ndarray:
    """datasketch's MinHash values (SCHEME) of the shingles, as little-endian uint32s.

    The arithmetic of `MinHash.update_batch`, with the hashing batched: its hash function
    (`sha1_hash32`: SHA-1's first 4 bytes, little-endian) was a Python call per shingle,
    most of a signature's cost; here the digests are read as one array. Then, as there,
    the MurmurHash3 finalizer and `a * h + b` (mod 2**32) per permutation, the minimum per
    permutation. Stored signatures depend on these values: tests/test_identity.py compares
    them with datasketch's. In slices: a 50 MB article needs a (shingles x NUM_PERM) matrix
    of megabytes, not gigabytes, and the minimum over the slices is the same."""
    multipliers, offsets = _permutations()
    values = np.full(NUM_PERM, _NO_HASH, dtype=np.uint32)
    sha1 = hashlib.sha1
    while batch := list(islice(shingles, SHINGLE_BATCH)):
        digests = b"".join([sha1(shingle).digest() for shingle in batch])
        # Each 20-byte digest is 5 uint32s: the first of each is the shingle's hash.
        hashes = _fmix32(np.frombuffer(digests, dtype="<u4")[::_DIGEST_WORDS].astype(np.uint32))
        permuted = np.multiply.outer(hashes, multipliers)
        permuted += offsets
        values = np.minimum(values, permuted.min(axis=0))
    return values.astype("<u4")


_DIGEST_WORDS = hashlib.sha1().digest_size // 4
_NO_HASH = np.uint32(2**32 - 1)  # datasketch's empty MinHash: every value the largest
# MurmurHash3's 32-bit finalizer (datasketch's _fmix for width 32): shifts and multipliers.
_FMIX32 = (np.uint32(16), np.uint32(0x85EBCA6B), np.uint32(13), np.uint32(0xC2B2AE35),
           np.uint32(16))


def _fmix32(hashes: np.ndarray) -> np.ndarray:
    """The finalizer datasketch applies to each hash before the permutations (uint32
    arithmetic wraps, as it does there)."""
    first, times, second, again, last = _FMIX32
    hashes = hashes ^ (hashes >> first)
    hashes = hashes * times
    hashes = hashes ^ (hashes >> second)
    hashes = hashes * again
    return hashes ^ (hashes >> last)


@cache
def _permutations() -> tuple[np.ndarray, np.ndarray]:
    """The MinHash permutations' multipliers and offsets (uint32), drawn once by datasketch:
    drawing them costs more than hashing an article."""
    from datasketch import MinHash  # imported when the first signature is made

    multipliers, offsets = MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME).permutations
    return multipliers.astype(np.uint32), offsets.astype(np.uint32)


def _story_words(text: str) -> list[str]:
    """Words folded for comparison: case, Unicode form and diacritics (Qamişlo = Qamislo).

    Only the non-ASCII runs are read character by character for combining marks. ASCII
    text, most news, never comes here: `_story_word_bytes` reads it on its own. Stored
    signatures depend on these words: they are what reading every character gave
    (tests/test_identity.py compares them)."""
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text).casefold())
    return _WORD.findall(_NON_ASCII.sub(_without_combining_marks, decomposed))


_NON_ASCII = re.compile(r"[^\x00-\x7f]+")


def _story_word_bytes(text: str) -> list[bytes]:
    """The story words in UTF-8, which the shingles are made of, without encoding each word
    (a replay's signatures spent a fifth of their time making words and shingles). ASCII
    text is in every Unicode form already and has no diacritics: read as bytes at once,
    lower-cased, its words are its runs of [a-z0-9], all the ASCII that `_WORD` takes.
    Other text is folded by `_story_words`, encoded in one piece and split again: a word
    holds no whitespace, nor does UTF-8 put a whitespace byte inside a character.
    tests/test_identity.py compares both with the reference."""
    if text.isascii():
        return _ASCII_WORD.findall(text.lower().encode("ascii"))
    return " ".join(_story_words(text)).encode("utf-8").split()


_ASCII_WORD = re.compile(rb"[a-z0-9]+")


def _without_combining_marks(run: re.Match[str]) -> str:
    return "".join(char for char in run.group() if not unicodedata.combining(char))


def _shingles(words: list[bytes]) -> Iterator[bytes]:
    """Word 3-grams, as their words joined by a space (UTF-8); a text shorter than that is
    one shingle, an empty one none."""
    if len(words) <= SHINGLE_WORDS:
        if words:
            yield b" ".join(words)
        return
    # SHINGLE_WORDS words each, in one pass over that many views of the list
    views = [words[offset:] for offset in range(SHINGLE_WORDS)]
    yield from map(b" ".join, zip(*views, strict=False))


def _band_hashes(values: bytes) -> tuple[int, ...]:
    """One signed 64-bit hash per band of ROWS values (the first BANDS * ROWS of NUM_PERM)."""
    width = ROWS * 4
    return tuple(_band_hash(prefix + values[band * width : (band + 1) * width])
                 for band, prefix in enumerate(_BAND_PREFIXES))


_BAND_PREFIXES = tuple(band.to_bytes(2, "little") for band in range(BANDS))  # made once


def _band_hash(band_and_values: bytes) -> int:
    """blake2b of the band index (2 bytes, little-endian) and its values, as a signed int
    that fits a BIGINT column."""
    digest = hashlib.blake2b(band_and_values, digest_size=8).digest()
    return int.from_bytes(digest, "little", signed=True)


def similarity(a: bytes, b: bytes) -> float:
    """Estimated Jaccard similarity of two signatures' shingle sets (share of equal values)."""
    if len(a) != len(b) or len(a) % 4:
        raise ValueError(f"signatures differ in size or are malformed ({len(a)}, {len(b)} bytes)")
    left, right = np.frombuffer(a, dtype="<u4"), np.frombuffer(b, dtype="<u4")
    return float(np.count_nonzero(left == right)) / len(left) if len(left) else 0.0
