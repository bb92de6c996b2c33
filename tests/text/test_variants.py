"""Transliteration variants: the rule-language table, generalisations and false friends."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest
import spacy

from watcher.text.lexicon import Lexicon, build_english_words
from watcher.text.variants import (
    NAME_ELEMENTS,
    fold,
    is_article,
    is_variant,
    variant_keys,
    variant_phrase_matches,
)

TABLE = [
    "Sheikh Maqsoud, Sheikh Maqsood, Sheikh Maksoud, Sheikh Maqsud, Shaykh Maqsud, Sheik Maqsoud",
    "Qamishli, Qamishlo, Kamishli, Qamişlo, Al-Qamishli",
    "Ashrafieh, Ashrafiyeh, Achrafieh, Ashrafiya",
    "Hasaka, Hasakah, Al-Hasakah, Hassakeh, al-Hasaka",
    "Deir Hafer, Deir Hafir, Dayr Hafir",
    "Türkiye, Turkiye",
]
GENERALISED = [
    "Deir ez-Zor, Deir Ezzor, Deir al-Zor, Dayr az-Zawr, Deir Zor",
    "Hasakeh, Hasaka, Hassakeh, Alhasakah",
    "Raqqa, Raqqah, Rakka, ar-Raqqah, Arraqqa",
    "Kobani, Kobane, Kobanî",
    "Manbij, Menbij",
    "Tal Abyad, Tell Abyad, Tal Abiad",
    "Ras al-Ain, Ras al-Ayn, Ras Ain",
    "Idlib, Idleb",
    "Aleppo",
    "Homs, Hims",
    "Erbil, Arbil",
    "As-Suwayda, Sweida, Suwaida",
]
FALSE_FRIENDS = [
    ("Hasaka", ["has", "hash", "husk"]),
    ("Homs", ["homes", "hums", "hems"]),
    ("Deir", ["dear", "door", "deer", "dare"]),
    ("Hama", ["home", "him", "ham"]),
    ("Idlib", ["idle"]),
    ("Raqqa", ["rock", "rack"]),
    ("Qamishli", ["comical", "camisole", "Kamila", "chemically"]),
    # Rarer English words with a name's consonants and vowel groups.
    ("Bunia", ["beanie"]),
    ("Issa", ["usa", "asia", "aussie"]),
    ("Khan", ["kin"]),
    ("Samarra", ["samurai"]),
    ("Bustan", ["boston"]),
    ("Qayyarah", ["korea"]),
]
# Real spellings that are rare English-table words: they must stay names.
RARE_REAL_SPELLINGS = [("Deir", "Dair"), ("Issa", "Essa"), ("Bani", "Beni")]
DIFFERENT_NAMES = [
    ("Homs", "Hama"),
    ("Hasaka", "Haska"),  # a dropped vowel changes the vowel-group count
    ("Deir", "Daraa"),
    ("Raqqa", "Rukban"),
    ("Raqqa", "Iraq"),  # a leading vowel is part of the key
    ("Hama", "Amah"),
    ("Sinjar", "Shingal"),
    ("Kobani", "Ayn al-Arab"),
    ("Qamishli", "Amuda"),
]
PLACES = [
    "Aleppo", "Homs", "Hama", "Idlib", "Raqqa", "Qamishli", "Kobani", "Afrin", "Manbij",
    "Hasaka", "Deir", "Tal", "Rifat", "Mosul", "Kirkuk", "Erbil", "Sinjar", "Turkey",
]  # fmt: skip


@pytest.fixture(scope="session")
def english() -> frozenset[str]:
    return Lexicon.load().english_words


@pytest.fixture(scope="session")
def is_english(english: frozenset[str]) -> Callable[[str], bool]:
    return english.__contains__


_TOKENIZER = spacy.blank("en").tokenizer


def words(name: str) -> list[str]:
    """Split like the engine does: spaCy tokens that hold a letter or digit."""
    return [t.text for t in _TOKENIZER(name) if any(ch.isalnum() for ch in t.text)]


def pairs(rows: list[str]) -> list[tuple[str, str]]:
    """Every ordered pair of spellings within each row, self-pairs included."""
    out = []
    for row in rows:
        spellings = [s.strip() for s in row.split(",")]
        out.extend(itertools.product(spellings, repeat=2))
    return out


@pytest.mark.parametrize(("rule", "text"), pairs(TABLE))
def test_table_spellings_match(rule: str, text: str, is_english) -> None:
    assert variant_phrase_matches(words(rule), words(text), is_english=is_english)


@pytest.mark.parametrize(("rule", "text"), pairs(GENERALISED))
def test_generalised_spellings_match(rule: str, text: str, is_english) -> None:
    assert variant_phrase_matches(words(rule), words(text), is_english=is_english)


@pytest.mark.parametrize(("rule", "text"), [(r, t) for r, texts in FALSE_FRIENDS for t in texts])
def test_english_false_friends_do_not_match(rule: str, text: str, is_english) -> None:
    assert not is_variant(rule, text, is_english=is_english)
    assert not is_variant(rule, text.capitalize(), is_english=is_english)


@pytest.mark.parametrize(("rule", "text"), RARE_REAL_SPELLINGS)
def test_rare_real_spellings_still_match(rule: str, text: str, is_english) -> None:
    assert is_variant(rule, text, is_english=is_english)


@pytest.mark.parametrize(("a", "b"), DIFFERENT_NAMES + [(b, a) for a, b in DIFFERENT_NAMES])
def test_different_names_do_not_match(a: str, b: str, is_english) -> None:
    assert not variant_phrase_matches(words(a), words(b), is_english=is_english)


def test_qamishli_meets_no_english_word(english: frozenset[str], is_english) -> None:
    assert not [w for w in english if is_variant("Qamishli", w, is_english=is_english)]


@pytest.mark.parametrize("place", PLACES)
def test_places_match_their_own_spelling(place: str, is_english) -> None:
    for spelling in (place, place.lower(), place.upper()):
        assert is_variant(place, spelling, is_english=is_english)
    assert variant_keys(place)


@pytest.mark.parametrize("place", [p for p in PLACES if p != "Turkey"])
def test_places_are_not_english(place: str, english: frozenset[str]) -> None:
    assert fold(place) not in english


def test_english_set_has_ordinary_words_not_names(english: frozenset[str]) -> None:
    assert {"has", "homes", "dear", "him", "idle", "rock", "the"} <= english
    assert not {"deir", "assad", "qamishli", "hasaka"} & english
    assert not NAME_ELEMENTS & english


@pytest.mark.parametrize(
    ("word", "folded"),
    [
        ("Qamişlo", "qamishlo"),
        ("Türkiye", "turkiye"),
        ("ÇAĞRI", "chagri"),
        ("Kobanî", "kobani"),
        ("Efrîn", "efrin"),
        ("Diyarbakır", "diyarbakir"),
        ("İzmir", "izmir"),
        ("Ra'qqa", "raqqa"),
        ("Ḥimṣ", "hims"),
        ("ʿAyn", "ayn"),
        ("Ma’arrat", "maarrat"),
        ("Qamis\u0327lo", "qamishlo"),  # decomposed s + cedilla
        ("Aleppo", "aleppo"),
    ],
)
def test_fold(word: str, folded: str) -> None:
    assert fold(word) == folded


@pytest.mark.parametrize(
    "word", ["al", "Al", "el", "EZ", "ez", "az", "ar", "as", "ash", "ad", "ed", "ud", "ur", "an"]
)
def test_articles(word: str) -> None:
    assert is_article(word)


@pytest.mark.parametrize("word", ["Deir", "Tal", "Ras", "Abu", "bin", "a", "the", "Al-Bab"])
def test_not_articles(word: str) -> None:
    assert not is_article(word)


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("Alhasakah", {"hsk3", "Vlhsk4"}),
        ("Ezzor", {"zr1", "Vzr2"}),
        ("Aleppo", {"Vlp3"}),  # `al` + vowel is not an article
        ("Alan", {"Vln2"}),  # stem would be under three letters
        ("Homs", {"hms1"}),
        ("homes", {"hms2"}),
        ("Yathrib", {"ytrb2"}),  # initial y is a consonant
        ("aaa", set()),  # no consonant: exact match only
        ("حلب", set()),  # not Latin: exact match only
    ],
)
def test_variant_keys(word: str, expected: set[str]) -> None:
    assert variant_keys(word) == expected


def test_keys_are_case_and_diacritic_insensitive() -> None:
    assert variant_keys("QAMIŞLO") == variant_keys("qamishlo") == variant_keys("Qamishli")


def test_phrase_word_count_must_agree(is_english) -> None:
    assert not variant_phrase_matches(["Deir", "Hafer"], ["Deir"], is_english=is_english)
    assert not variant_phrase_matches(["Deir"], ["Deir", "Hafer"], is_english=is_english)


def test_phrase_of_only_articles_is_compared_as_is(is_english) -> None:
    assert variant_phrase_matches(["Al"], ["al"], is_english=is_english)
    assert not variant_phrase_matches(["Al"], ["Bab"], is_english=is_english)
    assert not variant_phrase_matches([], [], is_english=is_english)


def test_english_check_applies_to_the_text_word_only(is_english) -> None:
    assert is_variant("Turkey", "Türkiye", is_english=is_english)
    assert not is_variant("Türkiye", "Turkey", is_english=is_english)


def test_shipped_english_word_list_is_current(english: frozenset[str]) -> None:
    """The shipped list is what `python -m watcher.text.lexicon` builds from spaCy's tables."""
    assert english == build_english_words()


# The same table through the real engine, as a rule meets an article: the index must
# find every spelling the definition above accepts, and none of the false friends.


@pytest.mark.parametrize(("rule", "text"), pairs(TABLE) + pairs(GENERALISED))
def test_engine_matches_every_spelling_in_an_article(fires, rule: str, text: str) -> None:
    assert fires(f'~"{rule}"', f"Reports from {text} on Monday.")


@pytest.mark.parametrize(
    ("rule", "text"), [(rule, word) for rule, words in FALSE_FRIENDS for word in words]
)
def test_engine_ignores_english_false_friends(fires, rule: str, text: str) -> None:
    assert not fires(f"~{rule}", f"They spoke of {text} and {text.capitalize()} again.")
