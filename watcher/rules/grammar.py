"""The query language: a lark LALR grammar and `parse_query`, text -> ast.Query.

Owns every syntax error (with its 0-based offset in the query) and what `@list` expands to;
`place:` terms are left as PlaceRef for the loader (watcher/rules/place_terms.py).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cache
from typing import Generic, TypeVar

from lark import Lark, Token, Transformer, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedToken, VisitError
from lark.lexer import Lexer, LexerThread

from watcher.rules.ast import And, InField, Near, Not, NotIn, Or, Query, Term

MIN_PREFIX_CHARS = 3
Where = TypeVar("Where")

# `IN` is an operator only right after `NOT` (`NOT IN`), and not as the start of a word.
_NOT_IN_PATTERN = r"NOT\s+IN(?![^\W_]|[-'\u2019.][^\W_]|\*)"

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
NOT_IN.3: /{_NOT_IN_PATTERN}/

%ignore /\s+/
"""

_NEAR_ARG = re.compile(r"[0-9]+|s|p")
_BINARY = frozenset({"AND", "OR", "NEAR_OP", "NOT_IN"})
_OPERATORS = _BINARY | {"NOT"}
_NEAR_WORD = re.compile(r"O?NEAR/")
_WORD_HYPHEN = re.compile(r"(?<=[^\W_])-(?=[^\W\d_])")
_TERMS = frozenset({"WORD", "PHRASE", "EXACT", "PREFIX", "VARIANT", "LIST", "PLACE"})
_NEAR_RULE = "NEAR operands may only be terms, lists or OR-groups of them"
_NOT_IN_RULE = (
    "each side of NOT IN is a term, phrase, prefix, variant, place:, @list or a "
    "parenthesised OR of them"
)
_NOT_AN_ENTRY = (
    "a list entry must be one term, phrase, prefix (abc*), variant (~Name), place (place:Name) "
    "or @list"
)
PLACE_MARKER = "place:"
_PLACE_NEEDS = (
    "'place:' must be directly followed by a place name, a quoted name or an id: "
    'place:Aleppo, place:"Hasakah Governorate", place:"Midan, Damascus", place:geonames:170063'
)


class QuerySyntaxError(ValueError):
    """A query that does not parse; `offset` is 0-based in the query text."""

    def __init__(self, offset: int, message: str) -> None:
        super().__init__(f"{message} (at offset {offset})")
        self.offset = offset
        self.message = message


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
    _check_tokens(tokens)
    try:
        tree = _parse(tokens)
        _check_operands(tree, tokens, strict=strict)
        query = _ToQuery().transform(tree)
    except UnexpectedToken as exc:
        raise _unexpected_token(exc.token, tokens) from None
    except VisitError as exc:  # lark wraps what the tree's transformer raised
        if isinstance(exc.orig_exc, QuerySyntaxError):
            raise exc.orig_exc from None
        raise
    except RecursionError:
        raise QuerySyntaxError(0, TOO_DEEP) from None
    if _depth(query) > MAX_DEPTH:  # compiling and evaluating it would recurse as deep
        raise QuerySyntaxError(0, TOO_DEEP)
    return query


MAX_DEPTH = 100  # nested groups and operators; real queries use a handful
TOO_DEEP = f"query is nested too deeply (more than {MAX_DEPTH} levels of brackets or operators)"


def _depth(query: Query) -> int:
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
        raise _bad_character(text, exc.pos_in_stream) from None


def _bad_character(text: str, at: int) -> QuerySyntaxError:
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


def _check_tokens(tokens: list[Token]) -> None:
    """Errors visible token by token, before the parser gives a vaguer message."""
    if not tokens:
        raise QuerySyntaxError(0, "empty query")
    open_parens: list[int] = []
    for token, following in zip(tokens, [*tokens[1:], None], strict=True):
        _check_token(token)
        if token.type == "PREFIX" and following is not None and \
                following.start_pos == token.end_pos and following.type in _TERMS:
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


def _unexpected_token(token: Token, tokens: list[Token]) -> QuerySyntaxError:
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
        problems.append(QuerySyntaxError(node.meta.start_pos,
                                         f"{word} inside a NEAR operand: {_NEAR_RULE}"))
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
            problems.append(QuerySyntaxError(
                node.start_pos, "NOT IN after NOT IN: to leave out several forms, "
                                "write A NOT IN (B OR C)"))
            continue
        problems.append(QuerySyntaxError(
            node.meta.start_pos, f"{_operator_of(node)} inside a NOT IN operand: {_NOT_IN_RULE}"))
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
    """How the query writes the operator of an offending operand: `AND`, `NOT`, `NEAR/5`,
    `title:`, `NOT IN`."""
    if node.data in ("near_expr", "notin_expr"):
        return _written(node.children[1])
    if node.data == "field":
        return str(node.children[0])
    if node.data == "and_expr":
        return "AND"
    return "NOT"


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


def _phrase_text(quoted: str) -> str:
    """A phrase's words without the quotes, white space runs made one space."""
    return " ".join(quoted[1:-1].split())


def flatten(kind: type[And] | type[Or], children: list[Query]) -> tuple[Query, ...]:
    """`a AND (b AND c)` is one And of three, so the engine and tests see one shape."""
    flat: list[Query] = []
    for child in children:
        flat.extend(child.children if isinstance(child, kind) else (child,))
    return tuple(flat)


class _ToQuery(Transformer):
    """Parse tree -> ast nodes; terminal callbacks turn each operand token into a Term (the
    quick parser calls them too)."""

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
            node = _near(node, op, right)
        return node

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


def _operand_text(text: str) -> str:
    return _phrase_text(text) if text.startswith('"') else text


# A NEAR whose operand is itself a NEAR takes that NEAR's close pairs, joined into
# stretches, as its hits; each further link multiplies the stretches passed on (a chain of
# 12 `NEAR/50` over a 3,000-word text took minutes; measured on a 20,000-word article of
# ten repeated words, each link costs about four times the one before). Three links (four
# operands, `A NEAR B NEAR C NEAR D`) stay near a second on such a text; four are refused
# (docs/rule-language.md, "At most three NEARs chain").
MAX_CHAINED_NEARS = 3


def _near(left: Query, op: Token, right: Query) -> Near:
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


# -- the quick path ----------------------------------------------------------------------
#
# Loading 10,000 rules spent most of its parsing in lark feeding tokens one by one through
# its LALR tables. The grammar is LL(1), so a recursive-descent parser over the same
# tokens builds the same tree directly. It only parses: a query it cannot take whole
# (any error, too deep, AND/NOT inside a NEAR operand) is left to lark, which says why.

_WORD_RE = r"[^\W_]+(?:[-'\u2019.][^\W_]+)*(?:(?<=\.[^\W_])\.)?"
_PHRASE_RE = r'"[^"]*"'
# lark's terminals in lark's order (priority, then width): the first that matches wins.
_QUICK_TOKEN = re.compile("|".join(
    f"(?P<{name}>{pattern})" for name, pattern in (
        ("PLACE", rf"place:(?:(?:geonames|admin1|watcher):[\w.-]*\w|{_PHRASE_RE}|{_WORD_RE})"),
        ("PREFIX", rf"{_WORD_RE}\*"),
        ("NEAR_OP", r'O?NEAR/[^\s()"]*'),
        ("NOT_IN", _NOT_IN_PATTERN),
        ("FIELD", r"(?:title|body):"),
        ("VARIANT", rf"~(?:{_PHRASE_RE}|{_WORD_RE})"),
        ("EXACT", rf"=(?:{_PHRASE_RE}|{_WORD_RE})"),
        ("WORD", _WORD_RE),
        ("LIST", r"@\w[\w-]*"),
        ("PHRASE", _PHRASE_RE),
        ("SPACE", r"\s+"),
        ("LPAR", r"\("),
        ("RPAR", r"\)"),
    )
))
_KEYWORDS = frozenset({"AND", "OR", "NOT"})  # a WORD that is exactly one is that keyword
_UNARY_START = _TERMS | {"NOT", "LPAR", "FIELD"}


class _Lexeme(str):
    """A token as the checks and `_near` read lark's: its text, `type` and positions."""

    type: str
    start_pos: int
    end_pos: int


class _GiveUp(Exception):
    """The quick parser meets something it leaves to lark."""


def quick_parse(text: str, *, strict: bool = False) -> Query | None:
    """`reference_parse(text, strict=strict)` for a well-formed query, else None."""
    tokens = _quick_lex(text)
    if not tokens:
        return None
    try:
        _check_tokens(tokens)  # type: ignore[arg-type]  # read as lark's tokens are
        query = _QuickParser(tokens).query()
    except (QuerySyntaxError, _GiveUp, RecursionError):
        return None
    if (strict and _near_with_and_or_not(query)) or _depth(query) > MAX_DEPTH:
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
    """The grammar's rules as methods, each returning what `_ToQuery` makes of its tree."""

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
            node = _near(node, op, self.not_in_expr())  # type: ignore[arg-type]
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
        if kind in _TERMS:
            token = self.take()
            return getattr(_ToQuery, token.type)(token)  # type: ignore[no-any-return]
        raise _GiveUp

    def unary_atom(self) -> Query:
        """`field: FIELD atom`: an atom, which is a unary without NOT."""
        if self.peek() == "NOT":
            raise _GiveUp
        return self.unary()


def _of_terms(query: Query | ListRef | PlaceRef) -> bool:
    """What `_not_of_terms` finds nothing in on lark's tree, on the query."""
    if isinstance(query, Or):
        return all(map(_of_terms, query.children))
    return isinstance(query, Term | ListRef | PlaceRef)


def _near_with_and_or_not(query: Query) -> bool:
    """What `_near_problems` finds on lark's tree, found on the query: a NEAR with an
    And or a Not in an operand, through OR-groups and field scopes (not into another NEAR)."""
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
