"""Loading YAML rule files into one validated RuleSet; every problem as FILE:LINE:COLUMN.

Owns rule file discovery, YAML node positions, and checking every key, rule and list.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

from watcher.errors import RuleError, RuleSetError
from watcher.model import Severity
from watcher.rules.ast import Query, Rule, RuleSet, RuleTests, Term
from watcher.rules.grammar import (
    ListExpander,
    ListRef,
    QuerySyntaxError,
    parse_list_entry,
    parse_query,
)

RULE_KEYS = (
    "id", "title", "query", "severity", "tags", "sources", "notify", "cooldown", "enabled", "tests",
)  # fmt: skip
REQUIRED_KEYS = ("id", "title", "query")
TEST_KEYS = ("match", "no_match")
TOP_KEYS = ("lists", "rules")
RULE_SUFFIXES = (".yaml", ".yml")
ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]*")
LIST_NAME_PATTERN = re.compile(r"\w[\w-]*")  # exactly what `@name` accepts in a query
COOLDOWN_PATTERN = re.compile(r"([0-9]+)([smhd])")
UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}

_Operand = Term | ListRef
_NULL_TAG = "tag:yaml.org,2002:null"
_BOOL_TAG = "tag:yaml.org,2002:bool"


def load_rules(path: str | Path, *, channels: Collection[str] | None = None) -> RuleSet:
    """Every rule under `path` (a directory, recursively, or one file), or RuleSetError.

    All files are checked before anything is returned, so one bad file never leaves a
    half-loaded rule set; `channels` (when given) are the names `notify:` may use.
    """
    root = Path(path)
    if not root.exists():
        raise RuleSetError([RuleError(str(path), 1, 1, "no such file or directory")])
    loading = _Loading(channels)
    for file_path in _rule_files(root):
        name = str(path) if root.is_file() else str(file_path)
        loading.load_file(name, file_path)
    return loading.finish()


def _rule_files(root: Path) -> list[Path]:
    if root.is_file():
        return [root]
    return sorted(p for p in root.rglob("*") if p.suffix in RULE_SUFFIXES and p.is_file())


@dataclass(frozen=True)
class _File:
    """One rule file: its name for errors, its text to place errors inside scalars."""

    name: str
    text: str
    errors: list[RuleError]

    def error(self, node: yaml.Node, message: str) -> None:
        mark = node.start_mark
        self.errors.append(RuleError(self.name, mark.line + 1, mark.column + 1, message))

    def where(self, node: yaml.Node) -> str:
        return f"{self.name}:{node.start_mark.line + 1}:{node.start_mark.column + 1}"

    def error_inside(self, node: yaml.Node, offset: int, message: str) -> None:
        """An error at `offset` inside a scalar's value (a query or a list entry)."""
        line, column = _position_inside(self.text, node, offset)
        self.errors.append(RuleError(self.name, line, column, message))


_Where = tuple[_File, yaml.Node]  # where an @ref was written, to report it


@dataclass
class _Draft:
    """A query whose ListRefs wait for every list; `rule` is None if another key was bad."""

    rule: Rule | None
    query: Query
    file: _File
    query_node: yaml.Node


@dataclass
class _Loading:
    """What has been read so far from every file: lists, rule drafts and every error."""

    channels: Collection[str] | None
    errors: list[RuleError] = field(default_factory=list)
    lists: dict[str, list[tuple[_Where, _Operand]]] = field(default_factory=dict)
    drafts: list[_Draft] = field(default_factory=list)
    list_sites: dict[str, str] = field(default_factory=dict)  # name -> FILE:LINE:COLUMN
    id_sites: dict[str, str] = field(default_factory=dict)

    def load_file(self, name: str, path: Path) -> None:
        text = _read_text(name, path, self.errors)
        if text is None:
            return
        file = _File(name, text, self.errors)
        root = _compose(file)
        if root is None:
            return
        _check_keys_unique(file, root)
        if not isinstance(root, yaml.MappingNode):
            file.error(root, "a rule file must be a mapping with 'lists' and/or 'rules'")
            return
        for key, (key_node, value) in _pairs(root).items():
            if key == "lists":
                self.load_lists(file, value)
            elif key == "rules":
                self.load_rules(file, value)
            else:
                allowed = ", ".join(TOP_KEYS)
                file.error(key_node, f"unknown top-level key '{key}' (allowed: {allowed})")

    def load_lists(self, file: _File, node: yaml.Node) -> None:
        if _is_null(node):
            return
        if not isinstance(node, yaml.MappingNode):
            file.error(node, "'lists' must be a mapping of list names to terms")
            return
        for name, (key_node, value) in _pairs(node).items():
            entries = _list_entries(file, name, value)
            if not LIST_NAME_PATTERN.fullmatch(name):
                file.error(key_node, f"bad list name '{name}': use letters, digits, '_' and '-'")
            elif self.is_first(self.list_sites, "list", file, key_node):
                self.lists[name] = entries

    def load_rules(self, file: _File, node: yaml.Node) -> None:
        if _is_null(node):
            return
        if not isinstance(node, yaml.SequenceNode):
            file.error(node, "'rules' must be a sequence of rules")
            return
        for item in node.value:
            if isinstance(item, yaml.MappingNode):
                self.load_rule(file, item)
            else:
                file.error(item, "a rule must be a mapping with id, title, query, …")

    def load_rule(self, file: _File, node: yaml.MappingNode) -> None:
        pairs = _pairs(node)
        for key, (key_node, _) in pairs.items():
            if key not in RULE_KEYS:
                file.error(
                    key_node, f"unknown key '{key}' in rule (allowed: {', '.join(RULE_KEYS)})"
                )
        for key in REQUIRED_KEYS:
            if key not in pairs:
                file.error(node, f"rule has no '{key}' (required)")
        options = self.read_options(file, pairs)
        rule_id = self.read_id(file, pairs["id"][1]) if "id" in pairs else None
        title = _read_string(file, pairs["title"][1], "'title'") if "title" in pairs else None
        query = _read_query(file, pairs["query"][1]) if "query" in pairs else None
        if query is None:
            return
        text, tree = query
        rule = None
        if rule_id is not None and title is not None:
            rule = Rule(rule_id, title, text, tree, file=file.name, line=_line(node), **options)
        self.drafts.append(_Draft(rule, tree, file, pairs["query"][1]))

    def read_id(self, file: _File, node: yaml.Node) -> str | None:
        """The id, registered on first sight so a later duplicate names where the first is."""
        rule_id = _read_string(file, node, "'id'")
        if rule_id is None:
            return None
        if not ID_PATTERN.fullmatch(rule_id):
            need = "lower-case letters, digits, '_' and '-', starting with a letter or digit"
            file.error(node, f"bad rule id '{rule_id}': use {need}")
            return None
        return rule_id if self.is_first(self.id_sites, "rule id", file, node) else None

    def is_first(self, sites: dict[str, str], what: str, file: _File, node: yaml.Node) -> bool:
        """Registers a name; a second definition is an error naming where the first is."""
        if node.value in sites:
            first = sites[node.value]
            file.error(node, f"duplicate {what} '{node.value}' (first defined at {first})")
            return False
        sites[node.value] = file.where(node)
        return True

    def read_options(self, file: _File, pairs: _Pairs) -> dict[str, object]:
        """Rule keyword arguments for the optional keys present; null means the default."""
        options: dict[str, object] = {}
        for key, (attribute, reader) in _OPTIONAL_READERS.items():
            if key in pairs and not _is_null(pairs[key][1]):
                options[attribute] = reader(file, pairs[key][1])
        if "notify" in pairs and self.channels is not None:
            self.check_channels(file, pairs["notify"][1])
        return options

    def check_channels(self, file: _File, node: yaml.Node) -> None:
        """Only names; the shape of `notify` was checked with the other options."""
        channels = self.channels or ()
        configured = ", ".join(sorted(channels)) or "none"
        items = node.value if isinstance(node, yaml.SequenceNode) else []
        for item in items:
            if isinstance(item, yaml.ScalarNode) and item.value not in channels:
                file.error(item, f"unknown channel '{item.value}' (configured: {configured})")

    def finish(self) -> RuleSet:
        """Expand every @list (lists first, then rules); raise if anything failed."""
        expander = ListExpander(self.lists, _report_at_ref)
        lists = expander.expand_all()
        rules = []
        for draft in self.drafts:
            query = expander.expand(draft.query, (draft.file, draft.query_node))
            if draft.rule is not None:
                rules.append(replace(draft.rule, query=query))
        if self.errors:
            raise RuleSetError(self.errors)
        return RuleSet(tuple(rules), lists)


_Pairs = dict[str, tuple[yaml.Node, yaml.Node]]


def _report_at_ref(where: _Where, ref: ListRef, message: str) -> None:
    file, node = where
    file.error_inside(node, ref.offset, message)


def _read_text(name: str, path: Path, errors: list[RuleError]) -> str | None:
    try:
        data = path.read_bytes()
    except OSError as exc:
        errors.append(RuleError(name, 1, 1, f"cannot read file: {exc.strerror or exc}"))
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        bad = f"byte 0x{data[exc.start]:02x} at offset {exc.start}"
        errors.append(RuleError(name, 1, 1, f"not UTF-8 text ({bad})"))
        return None


def _compose(file: _File) -> yaml.Node | None:
    """The YAML node tree (positions kept); syntax errors reported at PyYAML's mark."""
    try:
        return yaml.compose(file.text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        context = f" ({exc.context})" if exc.problem and exc.context else ""
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        file.errors.append(RuleError(file.name, line, column, f"invalid YAML: {problem}{context}"))
    except yaml.reader.ReaderError as exc:  # a control character: no mark, only an index
        char = chr(exc.character) if isinstance(exc.character, int) else exc.character
        message = f"invalid YAML: character {char!r} is not allowed"
        file.errors.append(RuleError(file.name, *_line_column(file.text, exc.position), message))
    except yaml.YAMLError as exc:
        file.errors.append(RuleError(file.name, 1, 1, f"invalid YAML: {exc}"))
    return None


def _check_keys_unique(file: _File, root: yaml.Node) -> None:
    """PyYAML silently keeps the last of two equal keys; a rule file never means that."""
    seen: set[int] = set()
    pending = [root]
    while pending:
        node = pending.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            pending.extend(node.value)
        elif isinstance(node, yaml.MappingNode):
            first_lines: dict[str, int] = {}
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value in first_lines:
                    first = first_lines[key.value]
                    file.error(key, f"duplicate key '{key.value}' (first given at line {first})")
                elif isinstance(key, yaml.ScalarNode):
                    first_lines[key.value] = _line(key)
                else:
                    file.error(key, "a key must be a plain string")
                pending.extend((key, value))


def _pairs(node: yaml.MappingNode) -> _Pairs:
    """Key text -> (key node, value node); the last of equal keys, as YAML would."""
    return {k.value: (k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode)}


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _is_null(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == _NULL_TAG


def _read_string(file: _File, node: yaml.Node, what: str) -> str | None:
    """A scalar's source text (`2024` stays `2024`), or None with the problem reported."""
    if _is_null(node) or (isinstance(node, yaml.ScalarNode) and not node.value.strip()):
        file.error(node, f"{what} is empty")
        return None
    if isinstance(node, yaml.ScalarNode):
        return node.value
    kind = "a list" if isinstance(node, yaml.SequenceNode) else "a mapping"
    file.error(node, f"{what} must be a string, not {kind}")
    return None


def _string_items(file: _File, node: yaml.Node, key: str) -> list[tuple[yaml.Node, str]]:
    """(node, text) of each string in a sequence; null counts as an empty sequence."""
    if _is_null(node):
        return []
    if not isinstance(node, yaml.SequenceNode):
        file.error(node, f"'{key}' must be a list of strings")
        return []
    items = [(item, _read_string(file, item, f"an entry of '{key}'")) for item in node.value]
    return [(item, text) for item, text in items if text is not None]


def _read_strings(file: _File, node: yaml.Node, key: str) -> tuple[str, ...]:
    return tuple(text for _, text in _string_items(file, node, key))


def _read_query(file: _File, node: yaml.Node) -> tuple[str, Query] | None:
    """The query text and its tree (ListRefs still in); errors point inside the query."""
    if not isinstance(node, yaml.ScalarNode):
        _read_string(file, node, "'query'")
        return None
    text = "" if _is_null(node) else node.value
    try:
        return text, parse_query(text, strict=True)
    except QuerySyntaxError as exc:
        file.error_inside(node, exc.offset, exc.message)
        return None


def _read_severity(file: _File, node: yaml.Node) -> Severity:
    text = _read_string(file, node, "'severity'")
    try:
        return Severity.parse(text) if text is not None else Severity.MEDIUM
    except ValueError as exc:
        file.error(node, str(exc))
        return Severity.MEDIUM


def _read_cooldown(file: _File, node: yaml.Node) -> int | None:
    text = _read_string(file, node, "'cooldown'")
    found = COOLDOWN_PATTERN.fullmatch(text.strip()) if text is not None else None
    if found is None:
        if text is not None:
            file.error(node, f"bad cooldown '{text}': use a whole number and s, m, h or d, e.g. 6h")
        return None
    return int(found.group(1)) * UNIT_SECONDS[found.group(2)]


def _read_enabled(file: _File, node: yaml.Node) -> bool:
    if isinstance(node, yaml.ScalarNode) and node.tag == _BOOL_TAG:
        return node.value.lower() in ("true", "yes", "on")
    file.error(node, "'enabled' must be true or false")
    return True


def _read_tests(file: _File, node: yaml.Node) -> RuleTests:
    if not isinstance(node, yaml.MappingNode):
        file.error(node, "'tests' must be a mapping with 'match' and/or 'no_match'")
        return RuleTests()
    pairs = _pairs(node)
    for key, (key_node, _) in pairs.items():
        if key not in TEST_KEYS:
            file.error(key_node, f"unknown key '{key}' in tests (allowed: match, no_match)")
    examples = {
        key: _read_strings(file, pairs[key][1], f"tests.{key}") for key in TEST_KEYS if key in pairs
    }
    return RuleTests(**examples)


_OPTIONAL_READERS: dict[str, tuple[str, Callable[[_File, yaml.Node], object]]] = {
    "severity": ("severity", _read_severity),
    "tags": ("tags", lambda file, node: _read_strings(file, node, "tags")),
    "sources": ("sources", lambda file, node: _read_strings(file, node, "sources")),
    "notify": ("notify", lambda file, node: _read_strings(file, node, "notify")),
    "cooldown": ("cooldown_seconds", _read_cooldown),
    "enabled": ("enabled", _read_enabled),
    "tests": ("tests", _read_tests),
}


def _list_entries(file: _File, name: str, node: yaml.Node) -> list[tuple[_Where, _Operand]]:
    """Each entry parsed as one operand; an unquoted entry with a space is a phrase."""
    if not isinstance(node, yaml.SequenceNode):
        file.error(node, f"list '{name}' must be a sequence of terms")
        return []
    if not node.value:
        file.error(node, f"list '{name}' is empty")
    entries = []
    for item, text in _string_items(file, node, f"@{name}"):
        try:
            entries.append(((file, item), parse_list_entry(text)))
        except QuerySyntaxError as exc:
            file.error_inside(item, exc.offset, exc.message)
    return entries


def _position_inside(text: str, node: yaml.Node, offset: int) -> tuple[int, int]:
    """1-based line and column of `offset` in a scalar's value.

    One-line scalars: the node's column + offset (+1 past an opening quote). Multi-line
    ones (block `|`/`>` or folded) are aligned with the source text character by character.
    """
    start = node.start_mark
    index = None if start.line == node.end_mark.line else _source_index(text, node, offset)
    if index is None:
        quote = 1 if getattr(node, "style", None) in ("'", '"') else 0
        return start.line + 1, start.column + 1 + quote + offset
    return _line_column(text, index)


def _line_column(text: str, index: int) -> tuple[int, int]:
    """1-based line and column of the character at `index`."""
    return text.count("\n", 0, index) + 1, index - text.rfind("\n", 0, index)


def _source_index(text: str, node: yaml.ScalarNode, offset: int) -> int | None:
    """Where value[offset] sits in the file: skip indentation, line breaks and headers."""
    value = node.value
    if offset >= len(value):
        return None
    pos, end = node.start_mark.index, node.end_mark.index
    if node.style in ("|", ">"):
        pos = text.find("\n", pos, end) + 1  # past the header and any comment on it
        if pos == 0:
            return None
    for char in value[: offset + 1]:
        while pos < end and not _same_char(text[pos], char):
            pos += 1
        if pos >= end:
            return None
        pos += 1
    return pos - 1


def _same_char(source: str, value: str) -> bool:
    """Folding turns line breaks into spaces, so any white space matches any other."""
    return source == value or (source.isspace() and value.isspace())
