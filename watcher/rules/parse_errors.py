"""The wording of the errors lark's parse of a query ends in (a character no token starts, an
operator without its operand, an operand NOT IN or NEAR cannot take, which grammar.py finds
on lark's trees); the token checks' own are syntax.py's.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from watcher.rules.syntax import QuerySyntaxError

if TYPE_CHECKING:
    from lark import Token

__all__ = ["bad_character", "near_operand", "not_in_after_not_in", "not_in_operand",
           "unexpected_token"]

_BINARY = frozenset({"AND", "OR", "NEAR_OP", "NOT_IN"})
_OPERATORS = _BINARY | {"NOT"}
_NEAR_RULE = "NEAR operands may only be terms, lists or OR-groups of them"
_NOT_IN_RULE = (
    "each side of NOT IN is a term, phrase, prefix, variant, place:, @list or a "
    "parenthesised OR of them"
)
_PLACE_NEEDS = (
    "'place:' must be directly followed by a place name, a quoted name or an id: "
    'place:Aleppo, place:"Hasakah Governorate", place:"Midan, Damascus", place:geonames:170063'
)


def bad_character(text: str, at: int) -> QuerySyntaxError:
    char = text[at]
    after = text[at + 1 : at + 2]
    if char == '"':
        return QuerySyntaxError(at, "unterminated quote: this '\"' is never closed")
    if char in "=~" and after == '"':
        return QuerySyntaxError(at + 1, "unterminated quote: this '\"' is never closed")
    if char in "=~":
        return QuerySyntaxError(at, f"'{char}' must be directly followed by a word or a phrase")
    if char == "@":
        return QuerySyntaxError(at, "'@' must be directly followed by a list name")
    if char == "*":
        return QuerySyntaxError(at, "'*' must directly follow a word, as in evacuat*")
    if char == ":" and re.search(r"(?<![\w~=@])place$", text[:at]):
        return QuerySyntaxError(at - len("place"), _PLACE_NEEDS)
    if char == ":":
        return QuerySyntaxError(at, "':' may only follow title or body, as in title:( … )")
    if char == "-":
        return QuerySyntaxError(at, "unexpected '-' (to exclude a term, use NOT)")
    return QuerySyntaxError(at, f"unexpected character {char!r}")


def unexpected_token(token: Token, tokens: list[Token]) -> QuerySyntaxError:
    """Name the operator that lacks an operand rather than the token lark stumbled on."""
    before = [t for t in tokens if token.type == "$END" or t.start_pos < token.start_pos]
    prev = before[-1] if before else None
    this, last = _written(token), _written(prev) if prev is not None else ""
    if prev is not None and prev.type in _OPERATORS and token.type in _BINARY:
        return QuerySyntaxError(token.start_pos, f"'{this}' right after '{last}': a term "
                                                 "is missing between them")
    if prev is not None and prev.type in _OPERATORS:
        return QuerySyntaxError(prev.start_pos, f"dangling operator '{last}': nothing after it")
    if prev is not None and prev.type == "FIELD":
        return QuerySyntaxError(prev.start_pos, f"'{last}' must be followed by a term or ( … )")
    if token.type in _BINARY:
        return QuerySyntaxError(token.start_pos, f"dangling operator '{this}': nothing before it")
    if prev is not None and prev.type == "LPAR" and token.type == "RPAR":
        return QuerySyntaxError(prev.start_pos, "empty parentheses")
    return QuerySyntaxError(token.start_pos, f"unexpected '{this}'")


def near_operand(at: int, operator: str) -> QuerySyntaxError:
    """AND or NOT (`operator`) inside a NEAR operand: no span to measure from."""
    return QuerySyntaxError(at, f"{operator} inside a NEAR operand: {_NEAR_RULE}")


def not_in_operand(at: int, operator: str) -> QuerySyntaxError:
    """A NOT IN operand made by `operator` (`AND`, `NOT`, `NEAR/5`, `title:`, `NOT IN`), as
    the query writes it: NOT IN leaves out occurrences, so each side is made of terms."""
    return QuerySyntaxError(at, f"{_written(operator)} inside a NOT IN operand: {_NOT_IN_RULE}")


def not_in_after_not_in(at: int) -> QuerySyntaxError:
    return QuerySyntaxError(at, "NOT IN after NOT IN: to leave out several forms, "
                                "write A NOT IN (B OR C)")


def _written(token: str) -> str:
    """A token as a one-line message names it: `NOT IN` may hold any white space, a line
    break of a YAML block among it, which would split the FILE:LINE:COLUMN line."""
    return " ".join(str(token).split())
