"""A brute-force evaluator of the rule language, the definition the engine must agree with.

It reads the query AST directly and scans every word for every term: no index, no
per-type cache, no candidate selection, no windowed NEAR. Slow and obviously right.
"""

from __future__ import annotations

from functools import partial
from itertools import product

from watcher.places import name_key
from watcher.rules.ast import And, InField, Near, Not, NotIn, Or, Query, Term
from watcher.text.analysis import AnalysedText, Analyzer, FieldText
from watcher.text.known_names import known_names
from watcher.text.variants import fold, is_article, is_variant

Range = tuple[int, int, int]  # field number, first word, last word


class Reference:
    def __init__(self, analyzer: Analyzer, text: AnalysedText) -> None:
        self.analyzer = analyzer
        self.fields = text.fields()

    def truth(self, query: Query, fields: tuple[int, ...] = (0, 1)) -> set[Range] | None:
        """None when false, else the term ranges that made it true."""
        if isinstance(query, And):
            parts = [self.truth(c, fields) for c in query.children]
            return None if any(p is None for p in parts) else set().union(*parts)
        if isinstance(query, Or):
            parts = [p for p in (self.truth(c, fields) for c in query.children) if p is not None]
            return set().union(*parts) if parts else None
        if isinstance(query, Not):
            return None if self.truth(query.child, fields) is not None else set()
        if isinstance(query, InField):
            return self.truth(query.child, self._only(query.field, fields))
        hits = self.hits(query, fields)
        return {t for _, _, _, terms in hits for t in terms} if hits else None

    def hits(self, query: Query, fields: tuple[int, ...]) -> list:
        if isinstance(query, Term):
            return [(f, s, e, ((f, s, e),)) for f in fields for s, e in self.term(query, f)]
        if isinstance(query, Or):
            return [h for c in query.children for h in self.hits(c, fields)]
        if isinstance(query, InField):
            return self.hits(query.child, self._only(query.field, fields))
        if isinstance(query, NotIn):  # A's hits that share no word with a B hit of their field
            left_out = [b for b in self.hits(query.exclude, fields)  # B in one sentence only
                        if self.fields[b[0]].sentence[b[1]] == self.fields[b[0]].sentence[b[2]]]
            return [a for a in self.hits(query.include, fields)
                    if not any(b[0] == a[0] and b[1] <= a[2] and a[1] <= b[2] for b in left_out)]
        assert isinstance(query, Near)
        found = []
        for a, b in product(self.hits(query.left, fields), self.hits(query.right, fields)):
            if a[0] == b[0] and self._near(query, a, b):
                found.append((a[0], min(a[1], b[1]), max(a[2], b[2]), a[3] + b[3]))
        return found

    def _near(self, query: Near, a, b) -> bool:
        if query.ordered and not a[2] < b[1]:
            return False
        field = self.fields[a[0]]
        first, last = min(a[1], b[1]), max(a[2], b[2])
        if query.scope == "sentence":
            return field.sentence[first] == field.sentence[last]
        if query.scope == "paragraph":
            return field.paragraph[first] == field.paragraph[last]
        between = max(b[1] - a[2] - 1, a[1] - b[2] - 1, 0)
        return between <= query.distance

    def term(self, term: Term, field_no: int) -> list[tuple[int, int]]:
        words = self.analyzer.words(term.text) or [term.text.lower()]
        known = None
        if term.kind == "variant":
            words = [w for w in words if not is_article(w)] or words
            known = known_names(term.text, words, is_english=self.analyzer.lexicon.is_english)
        field = self.fields[field_no]
        found = []
        for start in range(len(field)):
            end = self._phrase_end(term, words, field, start, known is not None,
                                   known is not None and known.own_spelling)
            if end is not None:
                found.append((start, end))
        if known is None:
            return found
        # A known place: its other names as they are (name_key per word, articles between
        # them optional), then every occurrence checked against other places' names.
        text = [self._word(field, pos) for pos in range(len(field))]
        for name in known.names:
            found += [(start, end) for start in range(len(field))
                      if (end := self._name_end(name, text, start)) is not None]
        is_english = self.analyzer.lexicon.is_english
        return sorted({(start, end) for start, end in found
                       if known.check.keeps(text, start, end, is_english=is_english,
                                            sentence=field.sentence,
                                            between=partial(_between, field))})

    @staticmethod
    def _name_end(name: tuple[str, ...], text: list[str], start: int) -> int | None:
        pos = start - 1
        for number, word in enumerate(name):
            pos += 1
            if number > 0 and pos < len(text) and name_key(text[pos]) != word \
                    and is_article(text[pos]):
                pos += 1  # one article between words, as the engine skips
            if pos >= len(text) or name_key(text[pos]) != word:
                return None
        return pos

    def _phrase_end(
        self, term: Term, words: list[str], field: FieldText, start: int, known: bool = False,
        own_spelling: bool = False,
    ):
        pos = start - 1
        alone = len(words) == 1  # a one-word variant name (is_variant's `alone`)
        for number, word in enumerate(words):
            pos += 1
            if pos >= len(field):
                return None
            text = self._word(field, pos)
            # al-Has*: the words before the last one are whole words
            kind = "word" if term.kind == "prefix" and number < len(words) - 1 else term.kind
            possessive = known and number == len(words) - 1  # Aleppos, for a known place
            loose = known and not term.in_area
            matches = partial(self.word_matches, kind, word, alone=alone, possessive=possessive,
                              known_place=known, loose=loose,
                              dropped_vowel=loose and own_spelling)
            if (
                number > 0
                and kind == "variant"
                and not matches(text)
                and is_article(text)
            ):
                pos += 1
                if pos >= len(field):
                    return None
                text = self._word(field, pos)
            if not matches(text):
                return None
        return pos

    def _word(self, field: FieldText, pos: int) -> str:
        return self.analyzer.types[int(field.types[pos])].lower

    def word_matches(
        self, kind: str, rule_word: str, text_word: str, alone: bool = False,
        possessive: bool = False, known_place: bool = False, loose: bool = False,
        dropped_vowel: bool = False,
    ) -> bool:
        lexicon = self.analyzer.lexicon
        if kind == "exact":
            return text_word == rule_word.lower()
        if kind == "prefix":
            return fold(text_word).startswith(fold(rule_word))
        if kind == "variant":
            return is_variant(rule_word, text_word, is_english=lexicon.is_english, alone=alone,
                              possessive=possessive, known_place=known_place, loose=loose,
                              dropped_vowel=dropped_vowel)
        return fold(text_word) in {fold(f) for f in lexicon.forms_of(fold(rule_word))}

    @staticmethod
    def _only(name: str, fields: tuple[int, ...]) -> tuple[int, ...]:
        return tuple(f for f in fields if ("title", "body")[f] == name)


def _between(field: FieldText, word: int) -> str:
    """The field's text between the word and the next."""
    return field.text[field.ends.item(word):field.starts.item(word + 1)]
