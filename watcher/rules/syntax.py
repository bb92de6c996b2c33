"""What both parsers of the query language share (grammar.py's lark, quick_parse.py): the
tokens' patterns, QuerySyntaxError and the token checks with their messages, the terms
operand tokens make, NEAR's checks, the nesting bound; free of lark, as the quick path is.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from watcher.places.gazetteer import ID_PREFIXES
from watcher.rules.ast import And, InField, Near, Not, NotIn, Or, Query, Term
from watcher.rules.references import ListRef, PlaceRef

if TYPE_CHECKING:
    from lark import Token

__all__ = ["MAX_CHAINED_NEARS", "MAX_DEPTH", "MIN_PREFIX_CHARS", "NOT_IN_PATTERN", "PHRASE_PATTERN",
           "PLACE_ID_PATTERN", "PLACE_MARKER", "TERMS", "TOO_DEEP", "WORD_PATTERN",
           "OperandTokens", "QuerySyntaxError", "check_tokens", "near", "query_depth"]

MIN_PREFIX_CHARS = 3

# The tokens' patterns both lexers are built from (grammar.py's lark terminals, quick_parse.py's
# regex), so that both read a query alike. A word: letters (any script) and digits, with
# inner - ' . (al-Hasaka, U.S.); the optional final dot is only for abbreviations such as
# U.S. or e.g.
WORD_PATTERN = r"[^\W_]+(?:[-'\u2019.][^\W_]+)*(?:(?<=\.[^\W_])\.)?"
PHRASE_PATTERN = r'"[^"]*"'
# place:geonames:170063: an id of the gazetteer, by the prefixes its ids have
PLACE_ID_PATTERN = rf"(?:{'|'.join(map(re.escape, ID_PREFIXES))})[\w.-]*\w"
# `IN` is an operator only right after `NOT` (`NOT IN`), and not as the start of a word.
NOT_IN_PATTERN = r"NOT\s+IN(?![^\W_]|[-'\u2019.][^\W_]|\*)"
_NEAR_ARG = re.compile(r"[0-9]+|s|p")
_WORD_HYPHEN = re.compile(r"(?<=[^\W_])-(?=[^\W\d_])")
TERMS = frozenset({"WORD", "PHRASE", "EXACT", "PREFIX", "VARIANT", "LIST", "PLACE"})
PLACE_MARKER = "place:"


class QuerySyntaxError(ValueError):
    """A query that does not parse; `offset` is 0-based in the query text."""

    def __init__(self, offset: int, message: str) -> None:
        super().__init__(f"{message} (at offset {offset})")
        self.offset = offset
        self.message = message


MAX_DEPTH = 100  # nested groups and operators; real queries use a handful
TOO_DEEP = f"query is nested too deeply (more than {MAX_DEPTH} levels of brackets or operators)"


def query_depth(query: Query) -> int:
    """How deeply the query nests, counted without recursion."""
    deepest, pending = 0, [(query, 1)]
    while pending:
        node, depth = pending.pop()
        deepest = max(deepest, depth)
        if depth > MAX_DEPTH:
            break
        children: tuple[Query, ...] = ()
        if isinstance(node, And | Or):
            children = node.children
        elif isinstance(node, Not | InField):
            children = (node.child,)
        elif isinstance(node, Near):
            children = (node.left, node.right)
        elif isinstance(node, NotIn):
            children = (node.include, node.exclude)
        pending.extend((child, depth + 1) for child in children)
    return deepest


def check_tokens(tokens: list[Token]) -> None:
    """Errors visible token by token, before the parser gives a vaguer message."""
    if not tokens:
        raise QuerySyntaxError(0, "empty query")
    open_parens: list[int] = []
    for token, following in zip(tokens, [*tokens[1:], None], strict=True):
        _check_token(token)
        if token.type == "PREFIX" and following is not None and \
                following.start_pos == token.end_pos and following.type in TERMS:
            raise QuerySyntaxError(
                token.end_pos - 1,
                f"'*' ends a prefix: nothing may follow it in the word "
                f"('{token!s}{following!s}'); a prefix matches words that begin with it",
            )
        if token.type == "LPAR":
            open_parens.append(token.start_pos)
        elif token.type == "RPAR" and not open_parens:
            raise QuerySyntaxError(token.start_pos, "unbalanced parentheses: ')' has no '('")
        elif token.type == "RPAR":
            open_parens.pop()
    if open_parens:
        raise QuerySyntaxError(open_parens[-1], "unbalanced parentheses: '(' is never closed")


def _check_token(token: Token) -> None:
    at = token.start_pos
    if token.type in ("PHRASE", "EXACT", "VARIANT") and "*" in token:
        raise QuerySyntaxError(
            at + token.index("*"), "'*' is not allowed in a phrase: a prefix is one word (abc*)"
        )
    if token.type == "WORD" and token in ("NEAR", "ONEAR"):
        raise QuerySyntaxError(at, f"{token} needs a distance: {token}/n, {token}/s or {token}/p")
    if token.type == "NEAR_OP" and not _NEAR_ARG.fullmatch(_near_arg(token)):
        op, arg = token.split("/", 1)
        raise QuerySyntaxError(
            at,
            f"bad {op} distance {arg!r}: use {op}/n with a whole number n, "
            f"{op}/s (same sentence) or {op}/p (same paragraph)",
        )
    if token.type == "PREFIX" and len(_last_part(token[:-1])) < MIN_PREFIX_CHARS:
        need = f"at least {MIN_PREFIX_CHARS} characters before '*'"
        if _last_part(token[:-1]) != token[:-1]:  # al-Ha*: the words before are whole words
            need += f" in its last word ('{_last_part(token[:-1])}')"
        raise QuerySyntaxError(at, f"prefix '{token!s}' is too short: put {need}")
    if token.endswith('"') and not any(ch.isalnum() for ch in token.removeprefix(PLACE_MARKER)):
        raise QuerySyntaxError(at, "empty phrase: no word between the quotes")


def _last_part(word: str) -> str:
    """The last part of a hyphenated word, split where spaCy splits articles' words: at a
    hyphen between a letter or digit and a letter (`al-Has` -> `Has`; `T-72` stays)."""
    return _WORD_HYPHEN.split(word)[-1]


class OperandTokens:
    """Each operand token to its Term (a ListRef, a PlaceRef), named by the token's type:
    lark's transformer (grammar.py's _ToQuery) calls these as its terminal callbacks, the
    quick parser directly."""

    @staticmethod
    def WORD(token: Token) -> Term:
        return Term("word", str(token))

    @staticmethod
    def PHRASE(token: Token) -> Term:
        return Term("word", _phrase_text(token))

    @staticmethod
    def EXACT(token: Token) -> Term:
        return Term("exact", _operand_text(token[1:]))

    @staticmethod
    def VARIANT(token: Token) -> Term:
        return Term("variant", _operand_text(token[1:]))

    @staticmethod
    def PREFIX(token: Token) -> Term:
        return Term("prefix", str(token[:-1]))

    @staticmethod
    def LIST(token: Token) -> ListRef:
        return ListRef(str(token[1:]), token.start_pos)

    @staticmethod
    def PLACE(token: Token) -> PlaceRef:
        return PlaceRef(_operand_text(token[len(PLACE_MARKER) :]), token.start_pos)


def _phrase_text(quoted: str) -> str:
    """A phrase's words without the quotes, white space runs made one space."""
    return " ".join(quoted[1:-1].split())


def _operand_text(text: str) -> str:
    return _phrase_text(text) if text.startswith('"') else text


# A NEAR whose operand is itself a NEAR takes that NEAR's close pairs, joined into
# stretches, as its hits; each further link multiplies the stretches passed on (a chain of
# 12 `NEAR/50` over a 3,000-word text took minutes; measured on a 20,000-word article of
# ten repeated words, each link costs about four times the one before). Three links (four
# operands, `A NEAR B NEAR C NEAR D`) stay near a second on such a text; four are refused
# (docs/rule-language.md, "At most three NEARs chain").
MAX_CHAINED_NEARS = 3


def near(left: Query, op: Token, right: Query) -> Near:
    fields = {_field_of(left), _field_of(right)}
    if None not in fields and len(fields) == 2:
        raise QuerySyntaxError(op.start_pos, f"{op!s} between title:( … ) and body:( … ) never "
                                             "holds: NEAR pairs words of one field; use AND")
    if 1 + max(_chained_nears(left), _chained_nears(right)) > MAX_CHAINED_NEARS:
        raise QuerySyntaxError(
            op.start_pos, f"more than {MAX_CHAINED_NEARS} NEARs chained at {op!s}: the cost "
            "grows with every link; share an operand with AND instead: "
            "(A NEAR/5 B NEAR/5 C) AND (C NEAR/5 D NEAR/5 E)")
    arg = _near_arg(op)
    ordered = op.startswith("ONEAR")
    if arg == "s":
        return Near(left, right, scope="sentence", ordered=ordered)
    if arg == "p":
        return Near(left, right, scope="paragraph", ordered=ordered)
    return Near(left, right, scope="words", distance=int(arg), ordered=ordered)


def _field_of(query: Query) -> str | None:
    """The one field a NEAR operand is confined to (`title:( … )`, or an OR of such), else
    None."""
    if isinstance(query, InField):
        return query.field
    if isinstance(query, Or):
        fields = {_field_of(child) for child in query.children}
        return fields.pop() if len(fields) == 1 else None
    return None


def _chained_nears(query: Query) -> int:
    """How many NEARs an operand chains, one inside the other's operand (OR-groups and
    field scopes pass hits on unchanged); NEAR operands hold nothing else."""
    if isinstance(query, Near):
        return 1 + max(_chained_nears(query.left), _chained_nears(query.right))
    if isinstance(query, Or):
        return max(map(_chained_nears, query.children))
    if isinstance(query, InField):
        return _chained_nears(query.child)
    return 0


def _near_arg(token: Token) -> str:
    return token.split("/", 1)[1]
