"""The syntax errors lark's parse of a query ends in, said in the query's words: a character
no token starts, a token the parser did not expect (named as the operator that lacks an
operand), and the operands NOT IN (and, strictly, NEAR) cannot take, found on its trees.

Apart from the reference parser (grammar.py), which builds lark and its trees and calls
these when a query fails: every error a user reads is worded here.
"""

from __future__ import annotations

import re

from lark import Token, Tree

from watcher.rules.syntax import QuerySyntaxError

__all__ = ["bad_character", "near_offenders", "near_problems", "not_in_offenders",
           "not_in_problems", "unexpected_token"]

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


def _written(token: Token) -> str:
    """A token as a one-line message names it: `NOT IN` may hold any white space, a line
    break of a YAML block among it, which would split the FILE:LINE:COLUMN line."""
    return " ".join(str(token).split())


def near_problems(placed: Tree) -> list[QuerySyntaxError]:
    """AND/NOT inside NEAR has no span to measure from: each offender, on a tree with
    positions."""
    problems = []
    for node in near_offenders(placed):
        negated = [c for c in node.children if isinstance(c, Tree) and c.data == "not_expr"]
        if node.data == "and_expr" and negated:  # `(Homs NOT Hama)`: the NOT is the trouble
            node = negated[0]
        word = "AND" if node.data == "and_expr" else "NOT"
        problems.append(QuerySyntaxError(node.meta.start_pos,
                                         f"{word} inside a NEAR operand: {_NEAR_RULE}"))
    return problems


def near_offenders(tree: Tree) -> list[Tree]:
    return [
        node
        for near in tree.find_data("near_expr")
        for operand in near.children[::2]
        for node in _offenders_in(operand)
    ]


def _offenders_in(node: Tree | Token) -> list[Tree]:
    if isinstance(node, Token) or node.data == "near_expr":
        return []  # a term, a list, or a NEAR chain (checked on its own)
    if node.data in ("and_expr", "not_expr"):
        return [node]
    return [found for child in node.children for found in _offenders_in(child)]


def not_in_problems(placed: Tree) -> list[QuerySyntaxError]:
    """NOT IN leaves out occurrences, so each side must be made of term occurrences: each
    side that is not, and each NOT IN after another, on a tree with positions."""
    problems = []
    for node in not_in_offenders(placed):
        if isinstance(node, Token):  # a second NOT IN in a row
            problems.append(QuerySyntaxError(
                node.start_pos, "NOT IN after NOT IN: to leave out several forms, "
                                "write A NOT IN (B OR C)"))
            continue
        problems.append(QuerySyntaxError(
            node.meta.start_pos, f"{_operator_of(node)} inside a NOT IN operand: {_NOT_IN_RULE}"))
    return problems


def not_in_offenders(tree: Tree) -> list[Tree | Token]:
    found: list[Tree | Token] = []
    for not_in in tree.find_data("notin_expr"):
        found.extend(not_in.children[3::2])  # NOT IN operators past the first
        for operand in not_in.children[::2]:
            found.extend(_not_of_terms(operand))
    return found


def _not_of_terms(node: Tree | Token) -> list[Tree]:
    """The parts of a NOT IN operand that are no term, list or place (an OR-group's
    members are looked at one by one)."""
    if isinstance(node, Token):
        return []
    if node.data == "or_expr":
        return [part for child in node.children for part in _not_of_terms(child)]
    return [node]


def _operator_of(node: Tree) -> str:
    """How the query writes the operator of an offending operand: `AND`, `NOT`, `NEAR/5`,
    `title:`, `NOT IN`."""
    if node.data in ("near_expr", "notin_expr"):
        return _written(node.children[1])
    if node.data == "field":
        return str(node.children[0])
    if node.data == "and_expr":
        return "AND"
    return "NOT"
