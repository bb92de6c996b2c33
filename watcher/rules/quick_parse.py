"""The quick path of the query language (`quick_parse`): recursive descent over lark's tokens
for well-formed queries. Apart from lark's reference (grammar.py), which it must agree with
(tests/rules/test_quick_parse.py), so that it imports no lark, only syntax.py.
"""

from __future__ import annotations

import re

from watcher.rules.ast import And, InField, Near, Not, NotIn, Or, Query, Term
from watcher.rules.references import ListRef, PlaceRef, flatten
from watcher.rules.syntax import (
    MAX_DEPTH,
    NOT_IN_PATTERN,
    PHRASE_PATTERN,
    PLACE_ID_PATTERN,
    TERMS,
    WORD_PATTERN,
    OperandTokens,
    QuerySyntaxError,
    check_tokens,
    near,
    query_depth,
)

__all__ = ["quick_parse"]

# lark's terminals in lark's order (priority, then width): the first that matches wins.
_QUICK_TOKEN = re.compile("|".join(
    f"(?P<{name}>{pattern})" for name, pattern in (
        ("PLACE", rf"place:(?:{PLACE_ID_PATTERN}|{PHRASE_PATTERN}|{WORD_PATTERN})"),
        ("PREFIX", rf"{WORD_PATTERN}\*"),
        ("NEAR_OP", r'O?NEAR/[^\s()"]*'),
        ("NOT_IN", NOT_IN_PATTERN),
        ("FIELD", r"(?:title|body):"),
        ("VARIANT", rf"~(?:{PHRASE_PATTERN}|{WORD_PATTERN})"),
        ("EXACT", rf"=(?:{PHRASE_PATTERN}|{WORD_PATTERN})"),
        ("WORD", WORD_PATTERN),
        ("LIST", r"@\w[\w-]*"),
        ("PHRASE", PHRASE_PATTERN),
        ("SPACE", r"\s+"),
        ("LPAR", r"\("),
        ("RPAR", r"\)"),
    )
))
_KEYWORDS = frozenset({"AND", "OR", "NOT"})  # a WORD that is exactly one is that keyword
_UNARY_START = TERMS | {"NOT", "LPAR", "FIELD"}


class _Lexeme(str):
    """A token as the checks and `near` read lark's: its text, `type` and positions."""

    type: str
    start_pos: int
    end_pos: int


class _GiveUp(Exception):
    """The quick parser meets something it leaves to lark."""


def quick_parse(text: str, *, strict: bool = False) -> Query | None:
    """`reference_parse(text, strict=strict)` for a well-formed query, else None.

    Loading 10,000 rules spent most of its parsing in lark feeding tokens one by one through
    its LALR tables. The grammar is LL(1), so a recursive-descent parser over the same
    tokens builds the same tree directly. It only parses: a query it cannot take whole
    (any error, too deep, AND/NOT inside a NEAR operand) is left to lark, which says why.
    """
    tokens = _quick_lex(text)
    if not tokens:
        return None
    try:
        check_tokens(tokens)  # type: ignore[arg-type]  # read as lark's tokens are
        query = _QuickParser(tokens).query()
    except (QuerySyntaxError, _GiveUp, RecursionError):
        return None
    if (strict and _near_with_and_or_not(query)) or query_depth(query) > MAX_DEPTH:
        return None
    return query


def _quick_lex(text: str) -> list[_Lexeme] | None:
    """lark's tokens of `text`, or None at a character no token starts."""
    tokens, at, end = [], 0, len(text)
    match = _QUICK_TOKEN.match
    while at < end:
        found = match(text, at)
        if found is None:
            return None
        kind = found.lastgroup
        if kind != "SPACE":
            token = _Lexeme(found.group())
            token.type = str(token) if kind == "WORD" and token in _KEYWORDS else str(kind)
            token.start_pos, token.end_pos = at, found.end()
            tokens.append(token)
        at = found.end()
    return tokens


class _QuickParser:
    """The grammar's rules as methods, each returning what grammar.py's `_ToQuery` makes of
    its tree."""

    def __init__(self, tokens: list[_Lexeme]) -> None:
        self.tokens = tokens
        self.at = 0

    def query(self) -> Query:
        query = self.or_expr()
        if self.at != len(self.tokens):
            raise _GiveUp
        return query

    def peek(self) -> str | None:
        return self.tokens[self.at].type if self.at < len(self.tokens) else None

    def take(self) -> _Lexeme:
        self.at += 1
        return self.tokens[self.at - 1]

    def or_expr(self) -> Query:
        children = [self.and_expr()]
        while self.peek() == "OR":
            self.take()
            children.append(self.and_expr())
        return children[0] if len(children) == 1 else Or(flatten(Or, children))

    def and_expr(self) -> Query:
        children = [self.near_expr()]
        while True:
            if self.peek() == "AND":
                self.take()
            elif self.peek() not in _UNARY_START:
                break
            children.append(self.near_expr())
        return children[0] if len(children) == 1 else And(flatten(And, children))

    def near_expr(self) -> Query:
        node = self.not_in_expr()
        while self.peek() == "NEAR_OP":
            op = self.take()
            node = near(node, op, self.not_in_expr())  # type: ignore[arg-type]
        return node

    def not_in_expr(self) -> Query:
        node = self.unary()
        if self.peek() != "NOT_IN":
            return node
        self.take()
        exclude = self.unary()
        if self.peek() == "NOT_IN" or not (_of_terms(node) and _of_terms(exclude)):
            raise _GiveUp  # lark says what is wrong
        return NotIn(node, exclude)

    def unary(self) -> Query:
        kind = self.peek()
        if kind == "NOT":
            self.take()
            return Not(self.unary())
        if kind == "LPAR":
            self.take()
            inside = self.or_expr()
            if self.peek() != "RPAR":
                raise _GiveUp
            self.take()
            return inside
        if kind == "FIELD":
            field = self.take()
            return InField(field[:-1], self.unary_atom())
        if kind in TERMS:
            token = self.take()
            return getattr(OperandTokens, token.type)(token)  # type: ignore[no-any-return]
        raise _GiveUp

    def unary_atom(self) -> Query:
        """`field: FIELD atom`: an atom, which is a unary without NOT."""
        if self.peek() == "NOT":
            raise _GiveUp
        return self.unary()


def _of_terms(query: Query | ListRef | PlaceRef) -> bool:
    """What grammar.py's `_not_of_terms` finds nothing in on lark's tree, on the query."""
    if isinstance(query, Or):
        return all(map(_of_terms, query.children))
    return isinstance(query, Term | ListRef | PlaceRef)


def _near_with_and_or_not(query: Query) -> bool:
    """What grammar.py's `_near_problems` finds on lark's tree, found on the query: a
    NEAR with an And or a Not in an operand, through OR-groups and field scopes (not into
    another NEAR)."""
    pending: list[Query] = [query]
    while pending:
        node = pending.pop()
        if isinstance(node, Near):
            if _offends(node.left) or _offends(node.right):
                return True
            pending.extend((node.left, node.right))
        elif isinstance(node, And | Or):
            pending.extend(node.children)
        elif isinstance(node, Not | InField):
            pending.append(node.child)
    return False


def _offends(operand: Query) -> bool:
    if isinstance(operand, And | Not):
        return True
    if isinstance(operand, Or):
        return any(_offends(child) for child in operand.children)
    if isinstance(operand, InField):
        return _offends(operand.child)
    return False
