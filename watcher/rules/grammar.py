"""The query language: `parse_query` (text -> ast.Query, by the quick path when it can) and
its reference, lark's LALR grammar: the one module that imports lark, so it also finds on
lark's trees the operands NOT IN and NEAR cannot take (parse_errors.py words those errors).
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
    near_operand,
    not_in_after_not_in,
    not_in_operand,
    unexpected_token,
)
from watcher.rules.quick_parse import quick_parse
from watcher.rules.references import ListRef, PlaceRef, flatten
from watcher.rules.syntax import (
    MAX_DEPTH,
    NOT_IN_PATTERN,
    PHRASE_PATTERN,
    PLACE_ID_PATTERN,
    PLACE_MARKER,
    TOO_DEEP,
    WORD_PATTERN,
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

// WORD, PHRASE, PLACE_ID and NOT_IN: the patterns the quick lexer shares (syntax.py)
WORD: /{WORD_PATTERN}/
PHRASE: /{PHRASE_PATTERN}/
EXACT: "=" (WORD | PHRASE)
VARIANT: "~" (WORD | PHRASE)
PREFIX.2: WORD "*"
LIST: /@\w[\w-]*/
// A place and everything inside it: place:Aleppo, place:"Midan, Damascus", place:geonames:170063
PLACE.3: "place:" (PLACE_ID | WORD | PHRASE)
PLACE_ID: /{PLACE_ID_PATTERN}/
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
    if not _not_in_offenders(tree) and not (strict and _near_offenders(tree)):
        return
    placed = _parse(tokens, positions=True)
    problems = _not_in_problems(placed) + (_near_problems(placed) if strict else [])
    raise min(problems, key=lambda p: p.offset)


def _near_problems(placed: Tree) -> list[QuerySyntaxError]:
    """AND/NOT inside NEAR has no span to measure from: each offender, on a tree with
    positions."""
    problems = []
    for node in _near_offenders(placed):
        negated = [c for c in node.children if isinstance(c, Tree) and c.data == "not_expr"]
        if node.data == "and_expr" and negated:  # `(Homs NOT Hama)`: the NOT is the trouble
            node = negated[0]
        word = "AND" if node.data == "and_expr" else "NOT"
        problems.append(near_operand(node.meta.start_pos, word))
    return problems


def _near_offenders(tree: Tree) -> list[Tree]:
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


def _not_in_problems(placed: Tree) -> list[QuerySyntaxError]:
    """NOT IN leaves out occurrences, so each side must be made of term occurrences: each
    side that is not, and each NOT IN after another, on a tree with positions."""
    problems = []
    for node in _not_in_offenders(placed):
        if isinstance(node, Token):  # a second NOT IN in a row
            problems.append(not_in_after_not_in(node.start_pos))
            continue
        problems.append(not_in_operand(node.meta.start_pos, _operator_of(node)))
    return problems


def _not_in_offenders(tree: Tree) -> list[Tree | Token]:
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
    """The operator of an offending operand as the query writes it: `AND`, `NOT`, `NEAR/5`,
    `title:`, `NOT IN` (with its white space, which the message makes one space)."""
    if node.data in ("near_expr", "notin_expr"):
        return str(node.children[1])
    if node.data == "field":
        return str(node.children[0])
    if node.data == "and_expr":
        return "AND"
    return "NOT"


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
