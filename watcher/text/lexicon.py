"""English lemma knowledge from spaCy's lookup tables (spacy-lookups-data), read once.

Rule words are expanded at compile time to every form that lemmatises to them, so no
lemma is ever computed per token and the rule's own word is never lemmatised.
"""

from __future__ import annotations

import gzip
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import spacy_lookups_data
import srsly
from spacy.lang.en.stop_words import STOP_WORDS

from watcher.text.variants import NAME_ELEMENTS, fold

LEMMA_TABLE = "en_lemma_lookup.json.gz"
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

    @classmethod
    def load(cls) -> Lexicon:
        table: dict[str, str] = srsly.read_gzip_json(spacy_lookups_data.get_file(LEMMA_TABLE))
        with gzip.open(ENGLISH_WORDS_FILE, "rt", encoding="utf-8") as handle:
            english = frozenset(handle.read().split())
        return cls(forms_by_lemma=invert(table), english_words=english)

    def forms_of(self, word: str) -> frozenset[str]:
        """The word itself and every form whose lemma it is: `siege` -> siege, sieges."""
        lower = word.lower()
        return self.forms_by_lemma.get(lower, frozenset()) | {lower}

    def is_stop_word(self, word: str) -> bool:
        """spaCy's English stop words (the, of, said ...): the most common words of all."""
        return word.lower() in STOP_WORDS

    def is_english(self, word: str) -> bool:
        """Whether a word (folded) is an ordinary English word form, so never a name variant."""
        return fold(word) in self.english_words


def invert(table: dict[str, str]) -> dict[str, frozenset[str]]:
    """A form -> lemma table as lemma -> forms, lower-cased (the table is case-sensitive)."""
    forms: defaultdict[str, set[str]] = defaultdict(set)
    for form, lemma in table.items():
        forms[lemma.lower()].add(form.lower())
    return {lemma: frozenset(f) for lemma, f in forms.items()}


def build_english_words(min_prob: float = MIN_PROB) -> frozenset[str]:
    """Folded ordinary English words: every lemma-table form and lemma, plus frequent words.

    Frequent = seen in lower case (so proper nouns like `Assad` stay out) with a
    log-probability above `min_prob`, which adds words the lemma table lacks (`him`).
    NAME_ELEMENTS (sheikh, tal, tell ...) are removed: news spells them inside names.
    """
    lemmas: dict[str, str] = srsly.read_gzip_json(spacy_lookups_data.get_file(LEMMA_TABLE))
    probs: dict[str, float] = srsly.read_gzip_json(spacy_lookups_data.get_file(PROB_TABLE))
    words = {fold(w) for pair in lemmas.items() for w in pair}
    words.update(fold(w) for w, p in probs.items() if p > min_prob and w == w.lower())
    return frozenset(w for w in words - NAME_ELEMENTS if w and not any(c.isspace() for c in w))


def write_english_words(path: Path = ENGLISH_WORDS_FILE) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.GzipFile(path, "wb", mtime=0) as raw:
        raw.write("\n".join(sorted(build_english_words())).encode("utf-8"))


if __name__ == "__main__":
    write_english_words()
