"""The naive baseline: one compiled Python `re` pattern per rule, run over the raw article text.

Words become `\\b(?:form|form…)\\b` alternations of their inflected forms; no tokenizer, no index.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from watcher.rules.ast import And, InField, Near, Not, NotIn, Or, Query, Term
from watcher.text.lexicon import Lexicon

FLAGS = re.IGNORECASE
BUDGET_SECONDS = 60.0  # run the baseline at a size only if projected under this
REPEAT_UNDER_SECONDS = 10.0  # best of 3 only when one pass is quicker than this
# What may lie before an assertion's target, per field: the raw text is "title\nbody".
_SCOPE_PREFIX = {None: r"[\s\S]*?", "title": r"[^\n]*?", "body": r"[^\n]*\n[\s\S]*?"}
_BETWEEN = {"sentence": r"[^.!?\n]*?", "paragraph": r"[^\n]*?"}


@dataclass(frozen=True)
class RegexRule:
    """A rule as one pattern; `anchored` patterns assert from the start (use `match`)."""

    rule_id: str
    pattern: re.Pattern[str]
    anchored: bool

    def matches(self, text: str) -> bool:
        if self.anchored:
            return self.pattern.match(text) is not None
        return self.pattern.search(text) is not None


class RegexTranslator:
    """Query AST -> one regular expression, as someone writing rules as regexes would."""

    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon

    def translate(self, rule_id: str, query: Query) -> RegexRule:
        if _is_positional(query):
            return RegexRule(rule_id, re.compile(self.positional(query), FLAGS), anchored=False)
        return RegexRule(rule_id, re.compile(r"\A" + self.assertion(query, None), FLAGS), True)

    def assertion(self, query: Query, scope: str | None) -> str:
        """A zero-width test at the text's start: AND, NOT and field scopes as lookaheads."""
        match query:
            case And(children):
                return "".join(self.assertion(c, scope) for c in children)
            case Not(child):
                return f"(?!{self.assertion(child, scope)})"
            case InField(name, child):
                return self.assertion(child, name)
            case Or(children) if not _is_positional(query):
                return "(?:" + "|".join(self.assertion(c, scope) for c in children) + ")"
        return f"(?={_SCOPE_PREFIX[scope]}(?:{self.positional(query)}))"

    def positional(self, query: Query) -> str:
        match query:
            case Term():
                return self.term(query)
            case Or(children):
                return r"\b(?:" + "|".join(self._bare(c) for c in children) + r")\b"
            case Near():
                return self.near(query)
            case NotIn():
                # Leaving out the occurrences of A inside B needs B's occurrences around
                # each A: no one pattern says that for every B, so none is pretended.
                raise ValueError(f"NOT IN has no regex translation: {query!r}")
        raise ValueError(f"no regex for {query!r} inside a positional operand")

    def near(self, near: Near) -> str:
        a, b = self.positional(near.left), self.positional(near.right)
        if near.scope == "words":
            gap = rf"\W+(?:\w+\W+){{0,{near.distance}}}?"
        else:
            gap = _BETWEEN[near.scope]
        forward = f"(?:{a}){gap}(?:{b})"
        return forward if near.ordered else f"{forward}|(?:{b}){gap}(?:{a})"

    def term(self, term: Term) -> str:
        return r"\b" + self._bare(term) + r"\b"

    def _bare(self, query: Query) -> str:
        """A term without its word boundaries, so OR-groups share one pair of `\\b`."""
        if not isinstance(query, Term):
            return "(?:" + self.positional(query) + ")"
        words = query.text.split()
        if query.kind == "prefix":
            return re.escape(query.text) + r"\w*"
        if query.kind == "variant":
            # No transliteration: the name as spelled, hyphen or space between its parts,
            # an optional leading al-/el- article.
            parts = [re.escape(p) for w in words for p in re.split(r"[-\s]+", w) if p]
            return r"(?:[ae]l[-\s])?" + r"[-\s]+".join(parts)
        if query.kind == "exact":
            return r"\W+".join(re.escape(w) for w in words)
        return r"\W+".join(self._forms(w) for w in words)

    def _forms(self, word: str) -> str:
        forms = sorted(self.lexicon.forms_of(word), key=lambda f: (-len(f), f))
        return "(?:" + "|".join(re.escape(f) for f in forms) + ")"


def _is_positional(query: Query) -> bool:
    match query:
        case Term() | Near():
            return True
        case Or(children):
            return all(_is_positional(c) for c in children)
    return False
