"""watcher.yaml as a YAML document: its values, where each one sits, `${NAME}` substitution.

settings.py validates the values; this module answers "on which line was that?" for its
errors, and remembers which values came from a variable so that they are never echoed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from watcher.errors import ConfigError
from watcher.rules.yaml_marks import compose_bounded, error_position

Loc = tuple[str | int, ...]  # a key path as pydantic reports it: ("sources", 2, "every")
ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class Document:
    """One configuration file, read: values with `${NAME}` replaced, the node tree for
    positions, the variables each substituted value came from, and what went wrong."""

    path: str
    root: yaml.Node | None = None
    values: Mapping[str, Any] = field(default_factory=dict)
    substituted: Mapping[Loc, tuple[str, ...]] = field(default_factory=dict)
    unset: tuple[tuple[Loc, str], ...] = ()  # (where, variable) for each ${NAME} not set
    duplicates: tuple[tuple[Loc, int], ...] = ()  # (repeated key, line of the first one)

    def position(self, loc: Loc) -> tuple[int, int]:
        """1-based line and column of the key holding the value at `loc` (of the item, in a
        list); of the deepest enclosing node that exists when the value is missing."""
        node = target = self.root
        for step in loc:
            found = _child(node, step)
            if found is None:
                break
            target, node = found
        if target is None:
            return 1, 1
        return target.start_mark.line + 1, target.start_mark.column + 1

    def variables_under(self, loc: Loc) -> tuple[str, ...]:
        """The variables substituted into the value at `loc` or anything inside it."""
        found = {name for at, names in self.substituted.items() if at[: len(loc)] == loc
                 for name in names}  # fmt: skip
        return tuple(sorted(found))


def read_document(path: str, env: Mapping[str, str]) -> Document:
    """The file at `path` parsed and substituted; ConfigError when it is not a YAML mapping."""
    root, data, duplicates = _parse(path, _read_text(path))
    if data is None:
        return Document(path)
    if not isinstance(data, dict) or root is None:
        raise ConfigError(f"{path}:1:1: the configuration must be a mapping of settings")
    substituted: dict[Loc, tuple[str, ...]] = {}
    unset: list[tuple[Loc, str]] = []
    values = _substitute(data, env, (), substituted, unset)
    return Document(path, root, values, substituted, tuple(unset), tuple(duplicates))


def _read_text(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot read configuration: {error}") from None


def _parse(path: str, text: str) -> tuple[yaml.Node | None, Any, list[tuple[Loc, int]]]:
    """Node tree, values and repeated keys; duplicates are found before construction
    because safe_load would silently keep the last one."""
    try:
        root = compose_bounded(text)
        if root is None:
            return None, None, []
        duplicates = list(_duplicate_keys(root, (), set()))
        return root, yaml.constructor.SafeConstructor().construct_document(root), duplicates
    except yaml.YAMLError as error:
        position = error_position(error) if isinstance(error, yaml.MarkedYAMLError) else None
        where = f"{path}:{position[0]}:{position[1]}" if position else path
        raise ConfigError(f"{where}: invalid YAML: {getattr(error, 'problem', error)}") from None


def _duplicate_keys(node: yaml.Node, loc: Loc, seen: set[int]) -> Iterator[tuple[Loc, int]]:
    if id(node) in seen:  # an alias: already checked where its anchor is (and no loops)
        return
    seen.add(id(node))
    if isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield from _duplicate_keys(item, (*loc, index), seen)
    elif isinstance(node, yaml.MappingNode):
        first: dict[str, int] = {}
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value in first:
                yield (*loc, key.value), first[key.value]
            elif isinstance(key, yaml.ScalarNode):
                first[key.value] = key.start_mark.line + 1
            yield from _duplicate_keys(value, (*loc, str(key.value)), seen)


def _child(node: yaml.Node | None, step: str | int) -> tuple[yaml.Node, yaml.Node] | None:
    """(node to point at, node to descend into) for one step of a key path."""
    if isinstance(node, yaml.MappingNode):
        for key, value in reversed(node.value):  # the last of repeated keys is the one used
            if isinstance(key, yaml.ScalarNode) and key.value == str(step):
                return key, value
    if isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value):
        return node.value[step], node.value[step]
    return None


def _substitute(
    value: Any,
    env: Mapping[str, str],
    loc: Loc,
    substituted: dict[Loc, tuple[str, ...]],
    unset: list[tuple[Loc, str]],
) -> Any:
    """Replace ${NAME} in every string, so secrets can stay in the environment; a string
    naming an unset variable is kept as written (and reported by the caller)."""
    if isinstance(value, str):
        names = tuple(ENV_REFERENCE.findall(value))
        if names:
            substituted[loc] = names
            unset.extend((loc, name) for name in names if name not in env)
        if not names or any(name not in env for name in names):
            return value
        return ENV_REFERENCE.sub(lambda found: env[found.group(1)], value)
    if isinstance(value, list):
        return [_substitute(v, env, (*loc, i), substituted, unset) for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {k: _substitute(v, env, (*loc, k), substituted, unset) for k, v in value.items()}
    return value
