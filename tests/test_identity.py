"""Article identity keys and story signatures, on real FA-KES article pairs (tests/data/stories)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import tracemalloc
import unicodedata
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from datasketch import MinHash
from hypothesis import example, given
from hypothesis import strategies as st

from watcher.identity import canonical_url, content_hash, identity_keys
from watcher.ingest.stories import (
    BANDS,
    NUM_PERM,
    ROWS,
    SAME_STORY,
    SCHEME,
    SEED,
    SHINGLE_BATCH,
    StorySignature,
    _story_word_bytes,
    _story_words,
    similarity,
    story_signature,
)
from watcher.model import Article

PAIRS = json.loads((Path(__file__).parent / "data" / "stories" / "pairs.json").read_text("utf-8"))
ARTICLES = {pair[side]["row"]: pair[side] for pair in PAIRS for side in ("a", "b")}


def pairs_of(kind: str) -> list[Any]:
    return [
        pytest.param(p["a"], p["b"], id=f"{p['a']['source']}-{p['b']['source']}-{p['a']['row']}")
        for p in PAIRS
        if p["kind"] == kind
    ]


def signature(article: dict[str, str]) -> StorySignature:
    return story_signature(article["title"], article["text"])


# --- canonical URLs -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        # scheme and host lower-cased, path case kept, "www." kept
        ("HTTPS://WWW.Example.COM/News/Story", "https://www.example.com/News/Story"),
        # default ports dropped, others kept
        ("http://example.com:80/a", "http://example.com/a"),
        ("https://example.com:443/a", "https://example.com/a"),
        ("http://example.com:8080/a", "http://example.com:8080/a"),
        ("https://example.com:80/a", "https://example.com:80/a"),
        # fragment dropped
        ("https://example.com/a#comments", "https://example.com/a"),
        # tracking parameters dropped, the rest kept and sorted
        ("https://example.com/a?utm_source=rss&utm_medium=feed&id=7", "https://example.com/a?id=7"),
        ("https://example.com/a?fbclid=IwAR0x&gclid=abc&yclid=1", "https://example.com/a"),
        ("https://example.com/a?mc_cid=1&mc_eid=2&p=3", "https://example.com/a?p=3"),
        ("https://example.com/a?page=2&id=7&lang=en", "https://example.com/a?id=7&lang=en&page=2"),
        # percent-escapes: unreserved characters decoded, the others upper-cased
        ("https://example.com/%7Euser/a%2fb", "https://example.com/~user/a%2Fb"),
        ("https://example.com/s?q=%41%42", "https://example.com/s?q=AB"),
        ("https://example.com/caf%c3%a9", "https://example.com/caf%C3%A9"),
        # an empty path is "/"
        ("https://example.com", "https://example.com/"),
        ("  https://example.com/a  ", "https://example.com/a"),
    ],
)
def test_canonical_url(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        None,
        "",
        "   ",
        "ftp://example.com/file",
        "mailto:desk@example.com",
        "javascript:alert(1)",
        "/news/story",
        "//example.com/news",
        "not a url",
        "http://",
        "https://exa mple.com/a",
        "http://example.com:99999/a",
        "http://example.com:port/a",
    ],
)
def test_canonical_url_is_none_for_anything_but_an_http_url(url: str | None) -> None:
    assert canonical_url(url) is None


def test_two_fetches_of_one_article_share_the_canonical_url() -> None:
    from_feed = "https://News.example.com/world/syria-aleppo?utm_source=rss&utm_campaign=feed"
    from_social = "https://news.example.com:443/world/syria-aleppo?fbclid=IwAR2x#top"
    assert canonical_url(from_feed) == canonical_url(from_social)


def test_different_articles_keep_different_canonical_urls() -> None:
    assert canonical_url("https://example.com/a?id=1") != canonical_url(
        "https://example.com/a?id=2"
    )
    assert canonical_url("https://example.com/Story") != canonical_url("https://example.com/story")


URL_PIECES = st.sampled_from(
    ["a", "Z", "0", "/", "?", "#", "&", "=", "%", "%2f", "%7E", ".", "-", "~", ":", ":80", "@"]
    + ["é", " ", "www.", "utm_source=x", "fbclid=y", "id=1"]
)


@given(st.lists(URL_PIECES, max_size=16).map("".join))
def test_canonical_url_is_idempotent(tail: str) -> None:
    for url in ("https://Example.com/" + tail, "http://" + tail):
        canonical = canonical_url(url)
        if canonical is not None:
            assert canonical_url(canonical) == canonical


# --- content hash -------------------------------------------------------------------------


def test_content_hash_ignores_case_and_whitespace() -> None:
    a = content_hash("Siege  of Aleppo", "Forces lifted\n\n the siege.\t")
    b = content_hash("siege of ALEPPO", "  forces lifted the siege.")
    assert a == b


def test_content_hash_is_sha256_of_the_normalised_text() -> None:
    expected = hashlib.sha256(b"siege of aleppo\nforces lifted the siege.").hexdigest()
    assert content_hash(" Siege of  Aleppo", "Forces lifted the SIEGE.") == expected


def test_content_hash_folds_unicode_compatibility_forms() -> None:
    assert content_hash("ﬁghting", "ｑａｍｉｓｈｌｉ") == content_hash("fighting", "qamishli")


def test_content_hash_tells_texts_and_fields_apart() -> None:
    assert content_hash("Siege of Aleppo", "Lifted") != content_hash("Siege of Aleppo", "Tightened")
    assert content_hash("Siege of", "Aleppo") != content_hash("Siege", "of Aleppo")


def _content_hash_reference(title: str, body: str) -> str:
    """The content hash as stored identity keys were made: every run of whitespace (the
    regex's `\\s`) one space, then stripped."""
    def normalised(text: str) -> str:
        return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text).casefold()).strip()

    return hashlib.sha256(f"{normalised(title)}\n{normalised(body)}".encode()).hexdigest()


WHITESPACE_AND_WORDS = st.text(st.sampled_from(
    ["a", "B", "\u00e9", "\ufb01", " ", "\t", "\n", "\r", "\x0b", "\x0c", "\x1c", "\x1f",
     "\x85", "\xa0", "\u1680", "\u2000", "\u2028", "\u2029", "\u202f", "\u3000",
     "\u200b", "\ufeff"]))


@given(title=st.one_of(WHITESPACE_AND_WORDS, st.text()), body=WHITESPACE_AND_WORDS)
@example(title=" \u3000Siege\x85of\u2028 Aleppo\xa0", body="\t\n")
def test_content_hash_is_the_stored_keys_hash(title: str, body: str) -> None:
    assert content_hash(title, body) == _content_hash_reference(title, body)


# --- identity keys ------------------------------------------------------------------------


def test_identity_keys_strongest_first() -> None:
    article = Article(
        id="feed-1",
        title="Siege of Aleppo",
        body="Forces lifted the siege.",
        url="https://Example.com/aleppo?utm_source=rss",
        source="example-feed",
        guid="tag:example.com,2016:aleppo-1",
    )
    assert identity_keys(article) == (
        "guid:example-feed:tag:example.com,2016:aleppo-1",
        "url:https://example.com/aleppo",
        "hash:" + content_hash("Siege of Aleppo", "Forces lifted the siege."),
    )


def test_identity_keys_without_guid_or_usable_url_are_the_hash() -> None:
    no_url = Article(id="x#1", title="T", body="B")
    bad_url = Article(id="x#1", title="T", body="B", url="mailto:desk@example.com", guid="  ")
    assert identity_keys(no_url) == ("hash:" + content_hash("T", "B"),)
    assert identity_keys(bad_url) == identity_keys(no_url)


def test_a_link_shared_by_different_articles_gives_no_key() -> None:
    """A feed giving every entry its home page: the link stays, but must not make one article."""
    home = Article(id="sha256:1", title="T", body="B", url="https://example.com/",
                   url_identifies=False)
    assert identity_keys(home) == ("hash:" + content_hash("T", "B"),)
    assert home.url == "https://example.com/"


def test_one_article_in_two_seed_files_meets_on_the_hash() -> None:
    first = Article(id="a#1", title="Siege of Aleppo", body="Forces lifted it.", source="seeds")
    second = Article(id="b#3", title="Siege of  Aleppo", body="Forces lifted it.\n", source="seeds")
    assert set(identity_keys(first)) & set(identity_keys(second))


def test_guid_keys_are_scoped_by_source() -> None:
    first = Article(id="1", title="A", body="x", source="feed-a", guid="1")
    second = Article(id="1", title="B", body="y", source="feed-b", guid="1")
    assert not set(identity_keys(first)) & set(identity_keys(second))


# --- story signatures on real pairs -------------------------------------------------------


@pytest.mark.parametrize(("a", "b"), pairs_of("same"))
def test_same_story_pairs_reach_the_threshold_and_share_a_band(
    a: dict[str, str], b: dict[str, str]
) -> None:
    sig_a, sig_b = signature(a), signature(b)
    assert similarity(sig_a.values, sig_b.values) >= SAME_STORY
    assert any(x == y for x, y in zip(sig_a.bands, sig_b.bands, strict=True))


@pytest.mark.parametrize(("a", "b"), pairs_of("apart"))
def test_different_stories_stay_below_the_threshold(a: dict[str, str], b: dict[str, str]) -> None:
    assert similarity(signature(a).values, signature(b).values) < SAME_STORY


def test_an_added_paragraph_and_new_boilerplate_keep_the_story() -> None:
    story = ARTICLES[236]  # Reuters on Ahram Online, 543 words
    extra = " ".join(ARTICLES[317]["text"].split()[:60])  # a paragraph of another story
    rewritten = f"BEIRUT (Wire) - {story['text']} {extra} Copyright 2017 Example News."
    similar = similarity(signature(story).values, story_signature("Update", rewritten).values)
    assert similar >= SAME_STORY


# --- signature properties -----------------------------------------------------------------


def test_signature_shape() -> None:
    sig = story_signature("Siege of Aleppo", "Forces lifted the siege on Sheikh Maqsoud.")
    assert len(sig.values) == NUM_PERM * 4
    assert len(sig.bands) == BANDS
    assert all(-(2**63) <= band < 2**63 for band in sig.bands)


def test_identical_text_gives_identical_signature() -> None:
    article = ARTICLES[236]
    assert signature(article) == signature(dict(article))
    assert similarity(signature(article).values, signature(article).values) == 1.0


def test_signature_ignores_case_punctuation_and_diacritics() -> None:
    plain = story_signature("Drone strike near Afrin and Qamislo", "Two killed, says monitor.")
    noisy = story_signature("DRONE STRIKE NEAR AFRÎN AND QAMİŞLO", "Two  killed -- says monitor")
    assert noisy == plain


def test_a_long_article_is_hashed_in_slices_to_the_same_signature() -> None:
    """The signature of a text far longer than one slice equals one MinHash over all its
    shingles at once (the slices only bound memory: a 50 MB article took 18 GB)."""
    words = [f"w{n % 997}x{n % 13}" for n in range(3 * SHINGLE_BATCH)]
    body = " ".join(words)
    whole = MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME)
    whole.update_batch([" ".join(words[i : i + 3]).encode() for i in range(len(words) - 2)])
    assert story_signature("", body).values == np.asarray(whole.hashvalues, "<u4").tobytes()


def datasketch_values(title: str, body: str) -> bytes:
    """The signature values as datasketch's MinHash makes them over the article's shingles
    (the reference: stored signatures were made so, and must not move)."""
    words = _story_words(title) + _story_words(body)
    shingles = [" ".join(words[i : i + 3]).encode() for i in range(max(1, len(words) - 2))]
    minhash = MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME)
    if words:
        minhash.update_batch(shingles)
    return np.asarray(minhash.hashvalues, "<u4").tobytes()


def test_signatures_of_the_stored_pairs_are_datasketchs_values() -> None:
    for article in ARTICLES.values():
        assert signature(article).values == datasketch_values(article["title"], article["text"])


@given(title=st.text(max_size=40),
       body=st.lists(st.sampled_from(["Siege", "of", "Qamişlo", "lifted", "É", "x"]),
                     max_size=30).map(" ".join))
@example(title="", body="")
@example(title="Siege", body="")
@example(title="", body="Siege of Aleppo")
def test_signatures_are_datasketchs_values(title: str, body: str) -> None:
    assert story_signature(title, body).values == datasketch_values(title, body)


def test_a_long_article_is_hashed_in_bounded_memory() -> None:
    body = " ".join(f"w{n % 997}x{n % 13}" for n in range(300_000))  # about 2.4 MB
    tracemalloc.start()
    try:
        story_signature("", body)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 200 * 2**20  # one matrix over all shingles alone was 300,000 x 256 x 8 bytes


def test_signature_is_the_same_in_another_process() -> None:
    article = ARTICLES[557]
    code = (
        "import json, sys; from watcher.ingest.stories import story_signature as s; "
        "a = json.load(sys.stdin); g = s(a['title'], a['text']); "
        "print(json.dumps([g.values.hex(), list(g.bands)]))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    run = subprocess.run(
        [sys.executable, "-c", code],
        input=json.dumps(article),
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    values_hex, bands = json.loads(run.stdout)
    assert bytes.fromhex(values_hex) == signature(article).values
    assert tuple(bands) == signature(article).bands


def test_short_and_empty_texts_give_valid_signatures() -> None:
    empty = story_signature("", "")
    title_only = story_signature("Siege lifted", "")
    assert len(empty.values) == len(title_only.values) == NUM_PERM * 4
    assert story_signature("Siege lifted", "") == story_signature("siege LIFTED!", "")
    assert similarity(title_only.values, story_signature("Evacuation ordered", "").values) == 0.0


def test_an_empty_body_gives_the_title_signature() -> None:
    headline = "Kurdish-led forces withdraw from government zones in Qamishlo"
    title_only = story_signature(headline, "")
    assert similarity(title_only.values, story_signature("", headline).values) == 1.0


def test_similarity_is_symmetric_and_rejects_mismatched_signatures() -> None:
    a, b = signature(ARTICLES[2]), signature(ARTICLES[138])
    assert similarity(a.values, b.values) == similarity(b.values, a.values)
    with pytest.raises(ValueError):
        similarity(a.values, b.values[:-4])


def test_lsh_bands_find_candidates_below_the_threshold() -> None:
    # band threshold (1/b)^(1/r) below SAME_STORY: pairs are found by bands, then verified
    assert (1 / BANDS) ** (1 / ROWS) < SAME_STORY
    assert BANDS <= 32 and BANDS * ROWS <= NUM_PERM


def _story_words_reference(text: str) -> list[str]:
    """The story words the slow and obvious way, every character of every text read (as
    before the fast paths): stored signatures depend on these words staying the same."""
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text).casefold())
    folded = "".join(char for char in decomposed if not unicodedata.combining(char))
    return re.findall(r"[^\W_]+", folded)


NEWS_ASCII = st.text(st.sampled_from("abcXYZ019 _-.,'\n\t\x00\x7f"), max_size=80)


@given(text=st.one_of(NEWS_ASCII, st.text(st.characters(max_codepoint=0x7F))))
@example(text="Siege of ALEPPO, 3 killed_by drone\x00strike")
def test_story_words_of_ascii_text_are_the_slow_paths(text: str) -> None:
    assert _story_word_bytes(text) == [word.encode() for word in _story_words_reference(text)]


@given(text=st.one_of(st.text(), st.builds("".join, st.lists(st.one_of(
    NEWS_ASCII, st.sampled_from(["Qamişlo", "AFRÎN", "QAMİŞLO", "\ufb01re", "Ⅻ", "ﬀ", "ǅ",
                                 "e\u0301", "\u0301x", "Straße", "İ", "\ufffd", "ä\u0308"]))))))
@example(text="Drone strike near Afrîn and Qamişlo \u2014 Straße ﬁre e\u0301")
def test_story_words_of_any_text_are_the_slow_paths(text: str) -> None:
    assert _story_words(text) == _story_words_reference(text)
    assert _story_word_bytes(text) == [word.encode() for word in _story_words_reference(text)]
