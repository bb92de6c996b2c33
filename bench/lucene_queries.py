"""Rules and articles as the Lucene harness (bench/lucene/) reads them: JSON lines.

A rule's query becomes a tree of plain nodes that bench/lucene/Queries.java turns into
Lucene span and boolean queries, over the same inflected forms the regex baseline uses
(bench/baseline.py) and no variants:

- a word: `{"terms": [form, ...]}`, the word and every form whose lemma it is; an exact
  term (`=Forces`) its one form; `~Name` the name as spelled (a form the analyzer splits,
  such as `Deir ez-Zor`, is matched as a phrase); a phrase: an ordered NEAR/0 of its words;
- a prefix: `{"prefix": text}` (Lucene's PrefixQuery);
- `A NEAR/n B`: `{"near": [a, b], "slop": n, "ordered": false}` (ONEAR: ordered), Lucene's
  SpanNear, whose slop counts the words between, as NEAR/n does;
- NEAR/s and NEAR/p: Lucene has no sentences, so a SpanNear of SENTENCE_SLOP or
  PARAGRAPH_SLOP words stands in for them (a FA-KES sentence averages 24 words);
- `A NOT IN B`: `{"spannot": [a, b]}`, Lucene's SpanNotQuery (the hits of A that overlap
  none of B's; watcher counts only B's within one sentence, which Lucene has no notion of,
  so the two differ only where B crosses a sentence break);
- AND, OR, NOT: `{"and": [...]}`, `{"or": [...]}`, `{"not": node}`; `title:( … )`:
  `{"field": "title", "query": node}`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from watcher.model import Article
from watcher.rules.ast import And, InField, Near, Not, NotIn, Or, Query, Term
from watcher.text.lexicon import Lexicon

SENTENCE_SLOP = 20  # NEAR/s: words between, at most (FA-KES: 24 words a sentence on average)
PARAGRAPH_SLOP = 100  # NEAR/p
SLOPS = {"sentence": SENTENCE_SLOP, "paragraph": PARAGRAPH_SLOP}

Node = dict[str, Any]


class QueryTranslator:
    """Query AST -> the harness's query tree."""

    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon

    def translate(self, query: Query) -> Node:
        match query:
            case Term():
                return self.term(query)
            case And(children):
                return {"and": [self.translate(c) for c in children]}
            case Or(children):
                return {"or": [self.translate(c) for c in children]}
            case Not(child):
                return {"not": self.translate(child)}
            case InField(name, child):
                return {"field": name, "query": self.translate(child)}
            case Near():
                return self.near(query)
            case NotIn(include, exclude):
                return {"spannot": [self.translate(include), self.translate(exclude)]}
        raise ValueError(f"no Lucene query for {query!r}")

    def near(self, near: Near) -> Node:
        slop = near.distance if near.scope == "words" else SLOPS[near.scope]
        operands = [self.translate(near.left), self.translate(near.right)]
        return {"near": operands, "slop": slop, "ordered": near.ordered}

    def term(self, term: Term) -> Node:
        if term.kind == "prefix":
            return {"prefix": term.text.lower()}
        if term.kind in ("exact", "variant"):
            return {"terms": [term.text.lower()]}
        words = [{"terms": sorted(self.lexicon.forms_of(w))} for w in term.text.split()]
        if len(words) == 1:
            return words[0]
        return {"near": words, "slop": 0, "ordered": True}


def rule_lines(translator: QueryTranslator, rules: Iterable[tuple[str, Query]]) -> list[str]:
    """One `{"id", "query"}` line per (rule id, query)."""
    return [json.dumps({"id": rule_id, "query": translator.translate(query)})
            for rule_id, query in rules]


def article_lines(articles: Iterable[Article]) -> list[str]:
    """One `{"id", "title", "body"}` line per article."""
    return [json.dumps({"id": a.id, "title": a.title, "body": a.body}) for a in articles]


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path
