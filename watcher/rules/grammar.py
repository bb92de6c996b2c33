"""The query language: a lark LALR grammar and `parse_query`, text -> ast.Query.

Owns every syntax error (with its 0-based offset in the query): lark, the reference parser,
is here (`reference_parse`, its tree made into ast nodes); a well-formed query is parsed by
the quick path (quick_parse.py), and the checks and terms both share are syntax.py's, the
wording of lark's failures parse_errors.py's. `@list` and `place:` terms are left as ListRef
and PlaceRef (references.py) for the loader (watcher/rules/load.py, place_terms.py).
"""

from __future__ import annotations

import re
from functools import cache

from lark import Lark, Token, Transformer, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedToken, VisitError
from lark.lexer import Lexer, LexerThread

from watcher.rules.ast import And, InField, Not, NotIn, Or, Query, Term
from watcher.rules.parse_errors import (
    bad_character,
    near_offenders,
    near_problems,
    not_in_offenders,
    not_in_problems,
    unexpected_token,
)
from watcher.rules.quick_parse import quick_parse
from watcher.rules.references import ListRef, PlaceRef, flatten
from watcher.rules.syntax import (
    MAX_DEPTH,
    NOT_IN_PATTERN,
    PLACE_MARKER,
    TOO_DEEP,
    OperandTokens,
    QuerySyntaxError,
    check_tokens,
    near,
    query_depth,
)

__all__ = ["operator_in_entry", "parse_list_entry", "parse_query", "reference_parse"]

_GRAMMAR = rf"""
start: or_expr

?or_expr: and_expr ("OR" and_expr)*
?and_expr: near_expr ("AND"? near_expr)*
?near_expr: notin_expr (NEAR_OP notin_expr)*
?notin_expr: unary (NOT_IN unary)*
?unary: not_expr | atom
not_expr: "NOT" unary
?atom: operand | "(" or_expr ")" | field
field: FIELD atom
?operand: WORD | PHRASE | EXACT | PREFIX | VARIANT | LIST | PLACE

// A word: letters (any script) and digits, with inner - ' . (al-Hasaka, U.S.).
// The optional final dot is only for abbreviations such as U.S. or e.g.
WORD: /[^\W_]+(?:[-'\u2019.][^\W_]+)*(?:(?<=\.[^\W_])\.)?/
PHRASE: /"[^"]*"/
EXACT: "=" (WORD | PHRASE)
VARIANT: "~" (WORD | PHRASE)
PREFIX.2: WORD "*"
LIST: /@\w[\w-]*/
// A place and everything inside it: place:Aleppo, place:"Midan, Damascus", place:geonames:170063
PLACE.3: "place:" (PLACE_ID | WORD | PHRASE)
PLACE_ID: /(?:geonames|admin1|watcher|simplemaps):[\w.-]*\w/
FIELD.2: /(?:title|body):/
NEAR_OP.2: /O?NEAR\/[^\s()"]*/
NOT_IN.3: /{NOT_IN_PATTERN}/

%ignore /\s+/
"""

_NEAR_WORD = re.compile(r"O?NEAR/")
_NOT_AN_ENTRY = (
    "a list entry must be one term, phrase, prefix (abc*), variant (~Name), place (place:Name) "
    "or @list"
)


def parse_query(text: str, *, strict: bool = False) -> Query:
    """The AST of `text`; `@name` and `place:` operands are left as ListRef and PlaceRef for
    the loader.

    `strict` also rejects AND/NOT inside a NEAR operand, which the engine cannot honour;
    the loader asks for it so the error points into the query.

    A well-formed query is parsed by `quick_parse`, ten times faster than lark; anything
    else (every error) by lark, the reference (`reference_parse`), so every error is its.
    """
    query = quick_parse(text, strict=strict)
    return reference_parse(text, strict=strict) if query is None else query


def reference_parse(text: str, *, strict: bool = False) -> Query:
    """`parse_query` through lark's LALR parser alone: what `quick_parse` must agree with
    (tests/rules/test_quick_parse.py), and where every syntax error is found."""
    tokens = _lex(text)
    check_tokens(tokens)
    try:
        tree = _parse(tokens)
        _check_operands(tree, tokens, strict=strict)
        query = _ToQuery().transform(tree)
    except UnexpectedToken as exc:
        raise unexpected_token(exc.token, tokens) from None
    except VisitError as exc:  # lark wraps what the tree's transformer raised
        if isinstance(exc.orig_exc, QuerySyntaxError):
            raise exc.orig_exc from None
        raise
    except RecursionError:
        raise QuerySyntaxError(0, TOO_DEEP) from None
    if query_depth(query) > MAX_DEPTH:  # compiling and evaluating it would recurse as deep
        raise QuerySyntaxError(0, TOO_DEEP)
    return query


def parse_list_entry(text: str) -> Term | ListRef | PlaceRef:
    """One `lists:` entry; an unquoted entry with a space is a phrase (`~Sheikh Maqsoud`,
    `place:Sheikh Maqsoud`)."""
    source, quote_at = _entry_as_query(text)
    try:
        node = parse_query(source)
    except QuerySyntaxError as exc:
        offset = exc.offset - 1 if quote_at is not None and exc.offset > quote_at else exc.offset
        raise QuerySyntaxError(offset, exc.message) from None
    if not isinstance(node, Term | ListRef | PlaceRef):
        raise QuerySyntaxError(0, _NOT_AN_ENTRY)
    return node


def operator_in_entry(text: str) -> tuple[int, str] | None:
    """The first operator word (`AND`, `OR`, `NOT`, `NEAR/…`) of an unquoted list entry that
    the contract reads as a phrase (`siege OR blockade`), with its offset: most likely meant
    as a query, so the loader warns. None for an entry that is no such phrase."""
    if _entry_as_query(text)[1] is None:
        return None
    for found in re.finditer(r"\S+", text):
        if found.group() in ("AND", "OR", "NOT") or _NEAR_WORD.match(found.group()):
            return found.start(), found.group()
    return None


def _entry_as_query(text: str) -> tuple[str, int | None]:
    """The entry as query text, and where a quote was inserted (to map offsets back)."""
    body = text.strip()
    if '"' in body or body.startswith("@") or not any(ch.isspace() for ch in body):
        return text, None
    marker = PLACE_MARKER if body.startswith(PLACE_MARKER) else body[0] if body[0] in "=~" else ""
    quote_at = text.index(body) + len(marker)
    return f'{text[:quote_at]}"{text[quote_at:].rstrip()}"', quote_at


@cache
def _parser(positions: bool = False) -> Lark:
    """Built once each: lark compiles the LALR tables and the lexer regex on construction.
    Trees carry node positions only when asked (they cost a third of a parse), which is
    only to place an error (tokens always carry theirs)."""
    return Lark(_GRAMMAR, parser="lalr", lexer="basic", propagate_positions=positions)


@cache
def _lexer() -> Lexer:
    """Built once: `Lark.lex` would build a new lexer on every call."""
    return _parser()._build_lexer()


def _parse(tokens: list[Token], *, positions: bool = False) -> Tree:
    """The parse tree of tokens already lexed (and checked): `Lark.parse` would lex again."""
    parser = _parser(positions).parse_interactive()
    for token in tokens:
        parser.feed_token(token)
    tree: Tree = parser.feed_eof(tokens[-1])
    return tree


def _lex(text: str) -> list[Token]:
    """Every token of `text`; a character no token can start is reported by kind."""
    try:
        return list(LexerThread.from_text(_lexer(), text).lex(None))
    except UnexpectedCharacters as exc:
        raise bad_character(text, exc.pos_in_stream) from None


def _check_operands(tree: Tree, tokens: list[Token], *, strict: bool) -> None:
    """Operands that NOT IN (and, when `strict`, NEAR) cannot take: report the leftmost of
    either kind (found on the positionless tree, placed on a tree parsed again with
    positions), as the reader meets them."""
    if not not_in_offenders(tree) and not (strict and near_offenders(tree)):
        return
    placed = _parse(tokens, positions=True)
    problems = not_in_problems(placed) + (near_problems(placed) if strict else [])
    raise min(problems, key=lambda p: p.offset)


class _ToQuery(OperandTokens, Transformer):
    """Parse tree -> ast nodes; the terminal callbacks (OperandTokens, syntax.py) turn each
    operand token into a Term, as the quick parser's tokens are turned."""

    def start(self, children: list[Query]) -> Query:
        return children[0]

    def or_expr(self, children: list[Query]) -> Or:
        return Or(flatten(Or, children))

    def and_expr(self, children: list[Query]) -> And:
        return And(flatten(And, children))

    def not_expr(self, children: list[Query]) -> Not:
        return Not(children[0])

    def field(self, children: list) -> InField:
        return InField(children[0][:-1], children[1])

    def notin_expr(self, children: list) -> NotIn:
        """`a NOT IN b`: one operator, its operands checked before (_check_operands)."""
        return NotIn(children[0], children[2])

    def near_expr(self, children: list) -> Query:
        """Left-associative: `a NEAR/5 b NEAR/5 c` is `(a NEAR/5 b) NEAR/5 c`."""
        node = children[0]
        for op, right in zip(children[1::2], children[2::2], strict=True):
            node = near(node, op, right)
        return node
