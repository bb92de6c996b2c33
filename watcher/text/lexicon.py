"""English lemma knowledge from spaCy's lookup tables (spacy-lookups-data), read once.

Rule words are expanded at compile time to every form that lemmatises to them, so no
lemma is ever computed per token and the rule's own word is never lemmatised. The forms
come from three places: the lookup table (form -> lemma, 41,000 common forms), the
exceptions of spaCy's rule lemmatizer that are ordinary words (irregular forms with every
lemma they may have: *leaves* is leaf and leave, *dying* is die), and, for words the lookup
table does not know, English's regular endings (*Kurds*, *jihadists*), never making a form
a table gives to another word (docs/rule-language.md, "Inflections").
"""

from __future__ import annotations

import gzip
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from watcher.text.variants import NAME_ELEMENTS, fold

LEMMA_TABLE = "en_lemma_lookup.json.gz"
EXCEPTIONS_TABLE = "en_lemma_exc.json.gz"  # part of speech -> irregular form -> lemmas
INDEX_TABLE = "en_lemma_index.json.gz"  # part of speech -> known lemmas
RULES_TABLE = "en_lemma_rules.json.gz"  # part of speech -> [ending, lemma ending]
INFLECTED = ("noun", "verb", "adj")
MIN_REGULAR_CHARS = 3  # shorter words get no made-up regular forms
VOWELS = frozenset("aeiou")
PROB_TABLE = "en_lexeme_prob.json.gz"
# Log-probability above which a word seen in lower case counts as ordinary English;
# below it the table is mostly names, typos and foreign words (e.g. `deir` is -17.9).
# -14 keeps out of names *beanie* (~Bunia), *usa*/*asia* (~Issa), *kin* (~Khan), *samurai*
# (~Samarra); -15 would also take real spellings (*dair* for Deir, *essa* for Issa).
MIN_PROB = -14.0
# The English word list derived from both tables, shipped because reading the
# million-entry probability table takes seconds; `python -m watcher.text.lexicon` rebuilds it.
ENGLISH_WORDS_FILE = Path(__file__).parent / "data" / "english_words.txt.gz"


@dataclass(frozen=True)
class Lexicon:
    """Inflected forms per lemma, and the set of ordinary English word forms."""

    forms_by_lemma: dict[str, frozenset[str]]
    english_words: frozenset[str]
    # spaCy's lemmatizer rules for nouns and verbs, (form ending, lemma ending): what a
    # word the tables do not know may end in (a name's part of speech is unknown).
    endings: tuple[tuple[str, str], ...] = ()
    in_lookup: frozenset[str] = frozenset()  # the lookup table's forms and lemmas
    known_forms: frozenset[str] = frozenset()  # every form and lemma of every table

    @classmethod
    def load(cls) -> Lexicon:
        table: dict[str, str] = _read(LEMMA_TABLE)
        exceptions: dict[str, dict[str, list[str]]] = _read(EXCEPTIONS_TABLE)
        index: dict[str, list[str]] = _read(INDEX_TABLE)
        rules: dict[str, list[list[str]]] = _read(RULES_TABLE)
        with gzip.open(ENGLISH_WORDS_FILE, "rt", encoding="utf-8") as handle:
            english = frozenset(handle.read().split())
        # The exceptions also list names as forms (*Bani* of `ban`): ordinary words only.
        irregular = [
            (form, lemma)
            for form, lemma in _exception_pairs(exceptions)
            if fold(form) in english
        ]
        in_lookup = {w.lower() for pair in table.items() for w in pair}
        known = in_lookup | {w.lower() for pair in irregular for w in pair}
        known.update(w.lower() for part in INFLECTED for w in index.get(part, ()))
        return cls(
            forms_by_lemma=invert_pairs([*table.items(), *irregular]),
            english_words=english,
            endings=tuple(dict.fromkeys(
                (ending, stem) for part in ("noun", "verb") for ending, stem in rules[part]
            )),
            in_lookup=frozenset(in_lookup),
            known_forms=frozenset(known),
        )

    def forms_of(self, word: str) -> frozenset[str]:
        """The word itself and every form whose lemma it is: `siege` -> siege, sieges."""
        lower = word.lower()
        return self.forms_by_lemma.get(lower, frozenset()) | self._regular_forms(lower) | {lower}

    def _regular_forms(self, lemma: str) -> frozenset[str]:
        """For a word the lookup table does not know (`Kurd`, `jihadist`), the forms English's
        regular endings make: spaCy's lemmatizer rules run backwards (kurds, jihadists) and
        a doubled last consonant before -ed/-ing (a made-up `blip`: blipped). Never a form
        some table gives to another word, and nothing for short words and stop words, whose
        made-up forms would be other words (`us` -> *USS*)."""
        if (
            lemma in self.in_lookup
            or len(lemma) < MIN_REGULAR_CHARS
            or not (lemma.isascii() and lemma.isalpha())
            or self.is_stop_word(lemma)
        ):
            return frozenset()
        forms = {
            lemma[: len(lemma) - len(stem)] + ending
            for ending, stem in self.endings
            if lemma.endswith(stem)
            and len(lemma) > len(stem)
            and not (stem == "" and lemma.endswith("e") and ending[0] in "ei")  # no *siegeed*
        }
        if _doubles_last_consonant(lemma):
            forms.update(lemma + lemma[-1] + ending for ending in ("ed", "ing"))
        return frozenset(forms - self.known_forms)

    def is_stop_word(self, word: str) -> bool:
        """spaCy's English stop words (the, of, said ...): the most common words of all."""
        return word.lower() in stop_words()

    def is_english(self, word: str) -> bool:
        """Whether a word (folded) is an ordinary English word form, so never a name variant."""
        return fold(word) in self.english_words


def invert_pairs(pairs: Iterable[tuple[str, str]]) -> dict[str, frozenset[str]]:
    """(form, lemma) pairs as lemma -> forms, lower-cased (the tables are case-sensitive)."""
    forms: defaultdict[str, set[str]] = defaultdict(set)
    for form, lemma in pairs:
        forms[lemma.lower()].add(form.lower())
    return {lemma: frozenset(f) for lemma, f in forms.items()}


def _exception_pairs(exceptions: dict[str, dict[str, list[str]]]) -> Iterator[tuple[str, str]]:
    """(form, lemma) of the rule lemmatizer's irregular forms, every lemma of each form."""
    for part in INFLECTED:
        for form, lemmas in exceptions.get(part, {}).items():
            for lemma in lemmas:
                yield form, lemma


def _doubles_last_consonant(lemma: str) -> bool:
    """Whether -ed/-ing may double the last letter: consonant, vowel, consonant (drop,
    admit), not w, x or y. `lemma`: ASCII letters, at least MIN_REGULAR_CHARS."""
    a, b, c = lemma[-3:]
    return a not in VOWELS and b in VOWELS and c not in VOWELS and c not in "wxy"


@cache
def stop_words() -> frozenset[str]:
    """spaCy's English stop words, imported when first asked: importing spaCy takes about
    half a second, which `watcher rules check` (it reads ENGLISH_WORDS_FILE) need not pay."""
    from spacy.lang.en.stop_words import STOP_WORDS

    return frozenset(STOP_WORDS)


def _read(name: str) -> Any:
    """One table of spacy-lookups-data (imported here, as spaCy is: see stop_words)."""
    import spacy_lookups_data
    import srsly

    return srsly.read_gzip_json(spacy_lookups_data.get_file(name))


def build_english_words(min_prob: float = MIN_PROB) -> frozenset[str]:
    """Folded ordinary English words: every lemma-table form and lemma, plus frequent words.

    Frequent = seen in lower case (so proper nouns like `Assad` stay out) with a
    log-probability above `min_prob`, which adds words the lemma table lacks (`him`).
    NAME_ELEMENTS (sheikh, tal, tell ...) are removed: news spells them inside names.
    """
    lemmas: dict[str, str] = _read(LEMMA_TABLE)
    probs: dict[str, float] = _read(PROB_TABLE)
    words = {fold(w) for pair in lemmas.items() for w in pair}
    words.update(fold(w) for w, p in probs.items() if p > min_prob and w == w.lower())
    return frozenset(w for w in words - NAME_ELEMENTS if w and not any(c.isspace() for c in w))


def write_english_words(path: Path = ENGLISH_WORDS_FILE) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.GzipFile(path, "wb", mtime=0) as raw:
        raw.write("\n".join(sorted(build_english_words())).encode("utf-8"))


if __name__ == "__main__":
    write_english_words()
