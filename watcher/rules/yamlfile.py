"""One YAML rule file read with node positions, and typed readers of its scalars.

Owns decoding and composing the file, FILE:LINE:COLUMN of any node or of a spot inside one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import yaml

from watcher.errors import RuleError
from watcher.model import CONTEXT_LABELS, ContextLabelName, Severity
from watcher.rules.yaml_marks import compose_bounded, error_position, yaml_boolean
from watcher.when import parse_duration

ESCAPE_WIDTHS = {"x": 4, "u": 6, "U": 10}  # double-quoted \xHH, \uHHHH, \UHHHHHHHH

_NULL_TAG = "tag:yaml.org,2002:null"

Pairs = dict[str, tuple[yaml.Node, yaml.Node]]


@dataclass(frozen=True)
class YamlFile:
    """One rule file: its name for errors, its text to place errors inside scalars.

    Public so the loader can report against it; `errors` and `warnings` are shared by
    every file loaded.
    """

    name: str
    text: str
    errors: list[RuleError]
    warnings: list[RuleError] = field(default_factory=list)  # loaded, but likely not meant

    def error(self, node: yaml.Node, message: str) -> None:
        self.errors.append(self.problem(node, message))

    def problem(self, node: yaml.Node, message: str) -> RuleError:
        """The error at `node`, for a list other than this file's own."""
        mark = node.start_mark
        return RuleError(self.name, mark.line + 1, mark.column + 1, message)

    def where(self, node: yaml.Node) -> str:
        return f"{self.name}:{node.start_mark.line + 1}:{node.start_mark.column + 1}"

    def error_inside(self, node: yaml.Node, offset: int, message: str) -> None:
        """An error at `offset` inside a scalar's value (a query or a list entry)."""
        self.errors.append(self.problem_inside(node, offset, message))

    def problem_inside(self, node: yaml.Node, offset: int, message: str) -> RuleError:
        """The error at `offset` inside a scalar's value, for a list other than this file's."""
        line, column = _position_inside(self.text, node, offset)
        return RuleError(self.name, line, column, message)

    def warn_inside(self, node: yaml.Node, offset: int, message: str) -> None:
        """A warning at `offset` inside a scalar's value: the rules load all the same."""
        line, column = _position_inside(self.text, node, offset)
        self.warnings.append(RuleError(self.name, line, column, f"warning: {message}"))


def read_text(name: str, path: Path, errors: list[RuleError]) -> str | None:
    """The file as text, or None with why not (unreadable, not UTF-8) in `errors`."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        why = f"cannot read file: {exc.strerror or exc}"
        if path.is_symlink() and not path.exists():
            why = f"broken symbolic link: its target '{os.readlink(path)}' cannot be reached"
        errors.append(RuleError(name, 1, 1, why))
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        bad = f"byte 0x{data[exc.start]:02x} at offset {exc.start}"
        errors.append(RuleError(name, 1, 1, f"not UTF-8 text ({bad})"))
        return None


def compose(file: YamlFile) -> yaml.Node | None:
    """The YAML node tree (positions kept); syntax errors reported at PyYAML's mark."""
    try:
        return compose_bounded(file.text)
    except yaml.MarkedYAMLError as exc:
        problem = exc.problem or exc.context or "invalid YAML"
        context = f" ({exc.context})" if exc.problem and exc.context else ""
        line, column = error_position(exc) or (1, 1)
        file.errors.append(RuleError(file.name, line, column, f"invalid YAML: {problem}{context}"))
    except yaml.reader.ReaderError as exc:  # a control character: no mark, only an index
        char = chr(exc.character) if isinstance(exc.character, int) else exc.character
        message = f"invalid YAML: character {char!r} is not allowed"
        file.errors.append(RuleError(file.name, *_line_column(file.text, exc.position), message))
    except yaml.YAMLError as exc:
        file.errors.append(RuleError(file.name, 1, 1, f"invalid YAML: {exc}"))
    except RecursionError:  # PyYAML composes nested collections recursively
        file.errors.append(RuleError(file.name, 1, 1, "invalid YAML: nested too deeply"))
    return None


def check_keys_unique(file: YamlFile, root: yaml.Node) -> None:
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
                    first_lines[key.value] = line(key)
                else:
                    file.error(key, "a key must be a plain string")
                pending.extend((key, value))


def mapping_pairs(node: yaml.MappingNode) -> Pairs:
    """Key text -> (key node, value node); the last of equal keys, as YAML would.

    Not `pairs`: the loader's locals holding the result are called that.
    """
    return {k.value: (k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode)}


def shadowed_pairs(node: yaml.MappingNode) -> list[tuple[str, yaml.Node]]:
    """(key, value) of the entries a later equal key hides from `mapping_pairs`: already an
    error (check_keys_unique), but their own problems are reported too, all at once."""
    kept = {id(value) for _, value in mapping_pairs(node).values()}
    return [
        (key.value, value)
        for key, value in node.value
        if isinstance(key, yaml.ScalarNode) and id(value) not in kept
    ]


def line(node: yaml.Node) -> int:
    """1-based line where `node` starts (PyYAML marks count from 0)."""
    return node.start_mark.line + 1


def is_null(node: yaml.Node) -> bool:
    """An explicit or empty null (`~`, `null`, nothing): optional keys then mean the default."""
    return isinstance(node, yaml.ScalarNode) and node.tag == _NULL_TAG


def read_string(file: YamlFile, node: yaml.Node, what: str) -> str | None:
    """A scalar's source text (`2024` stays `2024`), or None with the problem reported."""
    if is_null(node) or (isinstance(node, yaml.ScalarNode) and not node.value.strip()):
        file.error(node, f"{what} is empty")
        return None
    if isinstance(node, yaml.ScalarNode):
        return node.value
    kind = "a list" if isinstance(node, yaml.SequenceNode) else "a mapping"
    file.error(node, f"{what} must be a string, not {kind}")
    return None


def string_items(file: YamlFile, node: yaml.Node, key: str) -> list[tuple[yaml.Node, str]]:
    """(node, text) of each string in a sequence; null counts as an empty sequence."""
    if is_null(node):
        return []
    if not isinstance(node, yaml.SequenceNode):
        file.error(node, f"'{key}' must be a list of strings")
        return []
    items = [(item, read_string(file, item, f"an entry of '{key}'")) for item in node.value]
    return [(item, text) for item, text in items if text is not None]


def read_strings(file: YamlFile, node: yaml.Node, key: str) -> tuple[str, ...]:
    """The texts of `string_items`, for keys whose entries need no position later."""
    return tuple(text for _, text in string_items(file, node, key))


def read_severity(file: YamlFile, node: yaml.Node) -> Severity:
    """A severity name; MEDIUM (the default) after reporting a bad one."""
    text = read_string(file, node, "'severity'")
    try:
        return Severity.parse(text) if text is not None else Severity.MEDIUM
    except ValueError as exc:
        file.error(node, str(exc))
        return Severity.MEDIUM


def read_cooldown(file: YamlFile, node: yaml.Node) -> int | None:
    """A duration in seconds, in watcher.yaml's syntax (`90`, `6h`, `1h30m`); None (no
    cooldown) after reporting a bad one, in watcher.yaml's words."""
    text = read_string(file, node, "'cooldown'")
    if text is None:
        return None
    try:
        return parse_duration(text)
    except ValueError as exc:
        file.error(node, f"'cooldown' {exc} (got {text!r})")
        return None


def read_exclude(file: YamlFile, node: yaml.Node) -> tuple[ContextLabelName, ...]:
    """Context labels that hold the rule's matches back; each unknown one reported (and
    left out). `exclude: []` holds nothing back, whatever watcher.yaml's default."""
    labels: list[ContextLabelName] = []
    for item, text in string_items(file, node, "exclude"):
        if text in CONTEXT_LABELS:
            labels.append(cast(ContextLabelName, text))
        else:
            file.error(item, f"unknown context label {text!r} in 'exclude' (known: "
                             f"{', '.join(CONTEXT_LABELS)})")
    return tuple(dict.fromkeys(labels))


def read_enabled(file: YamlFile, node: yaml.Node) -> bool:
    """A YAML boolean only (yaml_marks.yaml_boolean); True after reporting."""
    value = yaml_boolean(node)
    if value is None:
        file.error(node, "'enabled' must be true or false")
        return True
    return value


def _position_inside(text: str, node: yaml.Node, offset: int) -> tuple[int, int]:
    """1-based line and column of `offset` in a scalar's value.

    Plain one-line scalars: the node's column + offset. Quoted ones (which may hold
    escapes) and multi-line ones (block `|`/`>` or folded) are aligned with the source
    text character by character.
    """
    start = node.start_mark
    quoted = getattr(node, "style", None) in ("'", '"')
    multi_line = start.line != node.end_mark.line
    # Escapes (\" or '') make the value shorter than its source: align character-wise.
    index = _source_index(text, node, offset) if multi_line or quoted else None
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
    if node.style in ("'", '"'):
        pos += 1  # past the opening quote, which a value starting with `"` would meet first
    if node.style in ("|", ">"):
        pos = text.find("\n", pos, end) + 1  # past the header and any comment on it
        if pos == 0:
            return None
    escapes = node.style == '"'
    found = pos
    for char in value[: offset + 1]:
        while pos < end:
            if escapes and text[pos] == "\\":
                width = _escape_width(text, pos)
                if width:  # the whole escape stands for this one character
                    found, pos = pos, pos + width
                    break
                pos += 3 if text[pos + 1 : pos + 3] == "\r\n" else 2  # escaped line break:
                continue  # it continues the line and stands for no character
            if _same_char(text[pos], char):
                found, pos = pos, pos + 1
                break
            pos += 1
        else:
            return None
    return found


def _escape_width(text: str, pos: int) -> int:
    """Source characters of the double-quoted escape at `pos` (0: an escaped line break)."""
    following = text[pos + 1 : pos + 2]
    if following in ("\n", "\r", ""):
        return 0
    return ESCAPE_WIDTHS.get(following, 2)


def _same_char(source: str, value: str) -> bool:
    """Folding turns line breaks into spaces, so any white space matches any other."""
    return source == value or (source.isspace() and value.isspace())
