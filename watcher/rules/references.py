"""`@list` and `place:` references (ListRef, PlaceRef), which the parsers only make, and their
replacement by the loader, which knows every list (ListExpander) and place (place_terms.py).
`flatten`: the one shape of And and Or that parsing and replacing both keep.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Generic, TypeVar

from watcher.rules.ast import And, InField, Near, Not, NotIn, Or, Query

__all__ = ["ListExpander", "ListRef", "PlaceRef", "flatten", "replace_list_refs", "replace_refs",
           "unknown_list"]

Where = TypeVar("Where")


@dataclass(frozen=True)
class ListRef:
    """`@name` as parsed; the loader replaces it with the list's entries."""

    name: str
    offset: int


@dataclass(frozen=True)
class PlaceRef:
    """`place:…` as parsed; the loader replaces it with the place's names (place_terms.py).

    `text` is what follows `place:`, without quotes: a name (`Aleppo`), a name and the names
    of places it lies in (`Midan, Damascus`), or a gazetteer id (`geonames:170063`).
    """

    text: str
    offset: int


def flatten(kind: type[And] | type[Or], children: list[Query]) -> tuple[Query, ...]:
    """`a AND (b AND c)` is one And of three, so the engine and tests see one shape."""
    flat: list[Query] = []
    for child in children:
        flat.extend(child.children if isinstance(child, kind) else (child,))
    return tuple(flat)


Ref = TypeVar("Ref", ListRef, PlaceRef)


def replace_list_refs(query: Query | ListRef, resolve: Callable[[ListRef], Query]) -> Query:
    """`query` with every ListRef replaced by `resolve(ref)`; And/Or flattened again."""
    return replace_refs(query, ListRef, resolve)


def replace_refs(
    query: Query | ListRef | PlaceRef, kind: type[Ref], resolve: Callable[[Ref], Query]
) -> Query:
    """`query` with every reference of `kind` replaced by `resolve(ref)`; And/Or flattened
    again (a place's Or of names joins the Or it stands in). A part holding no such
    reference is returned as it is, not rebuilt: most queries of a large rule set have no
    @list, and rebuilding each was a tenth of loading them."""
    if isinstance(query, kind):
        return resolve(query)
    if isinstance(query, And | Or):
        group = type(query)
        children = [replace_refs(child, kind, resolve) for child in query.children]
        if all(new is old for new, old in zip(children, query.children, strict=True)):
            return query
        return group(flatten(group, children))
    if isinstance(query, Not):
        child = replace_refs(query.child, kind, resolve)
        return query if child is query.child else Not(child)
    if isinstance(query, NotIn):
        include = replace_refs(query.include, kind, resolve)
        exclude = replace_refs(query.exclude, kind, resolve)
        if include is query.include and exclude is query.exclude:
            return query
        return NotIn(include, exclude)
    if isinstance(query, Near):
        left = replace_refs(query.left, kind, resolve)
        right = replace_refs(query.right, kind, resolve)
        if left is query.left and right is query.right:
            return query
        return replace(query, left=left, right=right)
    if isinstance(query, InField):
        child = replace_refs(query.child, kind, resolve)
        return query if child is query.child else replace(query, child=child)
    return query  # type: ignore[return-value]  # a term, or a reference of the other kind


class ListExpander(Generic[Where]):
    """Replaces @name by its entries, depth first, reporting unknown names and cycles.

    `lists` maps each name to its (where, entry) pairs; `where` is whatever lets `report`
    place an error (the loader passes file and YAML node), so this stays free of YAML.
    """

    def __init__(
        self,
        lists: Mapping[str, Sequence[tuple[Where, Query | ListRef]]],
        report: Callable[[Where, ListRef, str], None],
    ) -> None:
        self.lists = lists
        self.report = report
        self.expanded: dict[str, tuple[Query, ...]] = {}
        self.stack: list[str] = []

    def expand_all(self) -> dict[str, tuple[Query, ...]]:
        """Every list's entries with their own @refs expanded, in definition order."""
        for name in self.lists:
            self._expand_list(name)
        return {name: self.expanded[name] for name in self.lists}

    def expand(self, query: Query | ListRef, where: Where) -> Query:
        """`query` with each @name replaced: one entry by itself, several by their Or."""
        return replace_list_refs(query, lambda ref: self._resolve(ref, where))

    def _expand_list(self, name: str) -> None:
        if name in self.expanded or name in self.stack:
            return
        self.stack.append(name)
        entries = tuple(self.expand(entry, where) for where, entry in self.lists[name])
        self.expanded[name] = entries
        self.stack.pop()

    def _resolve(self, ref: ListRef, where: Where) -> Query:
        if ref.name not in self.lists:
            self.report(where, ref, unknown_list(ref.name, self.lists))
            return ref  # type: ignore[return-value]  # reported: the rule set will not load
        if ref.name in self.stack:
            cycle = " -> ".join(f"@{n}" for n in self.stack[self.stack.index(ref.name) :])
            self.report(where, ref, f"list cycle: {cycle} -> @{ref.name}")
            return ref  # type: ignore[return-value]
        self._expand_list(ref.name)
        entries = self.expanded[ref.name]
        if len(entries) == 1:
            return entries[0]
        # Each distinct entry once: lists that refer to a list twice, nested, would
        # otherwise double at every level (40 lines of YAML, 2**40 terms).
        return Or(tuple(dict.fromkeys(flatten(Or, list(entries)))))


def unknown_list(name: str, lists: Collection[str]) -> str:
    close = difflib.get_close_matches(name, list(lists), n=1)
    return f"unknown list '@{name}'" + (f" (did you mean '@{close[0]}'?)" if close else "")
