"""The query syntax tree and the Rule value that the loader builds and the engine compiles.

Nodes are frozen so a compiled rule set can be shared between threads and reloads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from watcher.errors import RuleError
from watcher.model import ContextLabelName, Severity

TermKind = Literal["word", "exact", "prefix", "variant"]
Scope = Literal["words", "sentence", "paragraph"]
FieldName = Literal["title", "body"]


@dataclass(frozen=True)
class Term:
    """A word or a phrase, compared as `kind` says.

    `text` is the user's text without operators or quotes (`siege`, `Sheikh Maqsoud`,
    `evacuat` for `evacuat*`); it becomes words with the article tokenizer at compile time,
    so rules and articles are split the same way. `in_area`: a `~` variant a `place:` term
    stands for, of a place inside the one it names (watcher/rules/place_terms.py): it meets
    its spellings only, not one vowel group more or fewer nor one vowel letter left out
    (docs/variants.md), as hundreds of villages' names would meet surnames and towns
    abroad (*Horton* for *Huraytan*).
    """

    kind: TermKind
    text: str
    in_area: bool = False


@dataclass(frozen=True)
class And:
    children: tuple[Query, ...]


@dataclass(frozen=True)
class Or:
    children: tuple[Query, ...]


@dataclass(frozen=True)
class Not:
    child: Query


@dataclass(frozen=True)
class Near:
    """`left NEAR/n right`; `ordered` for ONEAR; scope sentence/paragraph for NEAR/s, NEAR/p."""

    left: Query
    right: Query
    scope: Scope = "words"
    distance: int = 0
    ordered: bool = False


@dataclass(frozen=True)
class NotIn:
    """`include NOT IN exclude`: the occurrences of `include` that overlap no occurrence of
    `exclude` within one sentence of the same field (Lucene's SpanNotQuery): a word left
    out where it is part of a phrase of another sense (`fight NOT IN "fighting position"`).
    Both sides are terms or OR-groups of them, so each occurrence is one term's."""

    include: Query
    exclude: Query


@dataclass(frozen=True)
class InField:
    """`title:( … )` or `body:( … )`."""

    field: FieldName
    child: Query


Query = Term | And | Or | Not | Near | NotIn | InField


@dataclass(frozen=True)
class Example:
    """One `tests:` example: an article body, or a title and a body (for `title:` rules)."""

    body: str
    title: str = ""
    line: int = field(default=0, compare=False)  # where it is in its file (0: not from one)

    def describe(self) -> str:
        return repr(self.body) if not self.title else f"title {self.title!r}, body {self.body!r}"


@dataclass(frozen=True)
class RuleTests:
    """A rule's own examples, run by `watcher rules test`."""

    match: tuple[Example, ...] = ()
    no_match: tuple[Example, ...] = ()


@dataclass(frozen=True)
class Rule:
    """One loaded, validated watch rule; `query` has every `@list` already expanded."""

    id: str
    title: str
    query_text: str
    query: Query
    severity: Severity = Severity.MEDIUM
    tags: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    notify: tuple[str, ...] = ()
    cooldown_seconds: int | None = None
    # Context labels that hold a match back (stored, not alerted); None: watcher.yaml's
    # `context.exclude`.
    exclude: tuple[ContextLabelName, ...] | None = None
    enabled: bool = True
    tests: RuleTests = field(default_factory=RuleTests)
    file: str = ""
    line: int = 0


@dataclass(frozen=True)
class RuleSet:
    """Every rule loaded from a rules path, in file then document order."""

    rules: tuple[Rule, ...]
    lists: dict[str, tuple[Query, ...]] = field(default_factory=dict, hash=False)
    # Loaded, but likely not what the author meant (`rules check` prints them).
    warnings: tuple[RuleError, ...] = field(default=(), compare=False)

    def enabled(self) -> tuple[Rule, ...]:
        return tuple(r for r in self.rules if r.enabled)
