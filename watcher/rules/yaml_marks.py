"""YAML as rule files and watcher.yaml read it: where a syntax error is, and how far
aliases may expand.

PyYAML marks the place it gave up. For a quote, bracket or brace never closed that is the
end of the file, far from the mistake: the place it was opened (its context mark) is
reported instead.

An alias stands for its anchor's whole value, so a few hundred bytes of aliases naming
aliases (nine levels of ten: a "billion laughs") hold 10**9 values, and whatever walks or
builds the values runs for minutes and takes gigabytes. `BoundedLoader` counts, while it
composes, the values the document holds once every alias is expanded, and refuses the
document at the alias that takes it past `MAX_EXPANDED_VALUES`: a syntax error like any
other, found in time linear in the file's length.
"""

from __future__ import annotations

import yaml

MAX_EXPANDED_VALUES = 100_000  # hand-written settings and rules hold a few thousand at most


def error_position(error: yaml.MarkedYAMLError) -> tuple[int, int] | None:
    """1-based line and column of the mistake, or None when PyYAML gave no mark."""
    mark = error.problem_mark or error.context_mark
    problem = error.problem or ""
    if error.context_mark is not None and ("end of stream" in problem or "<stream end>" in problem):
        mark = error.context_mark
    return (mark.line + 1, mark.column + 1) if mark is not None else None


class BoundedLoader(yaml.SafeLoader):
    """SafeLoader that refuses aliases expanding to more than MAX_EXPANDED_VALUES values
    (or to an endless value: an alias inside its own anchor), at the offending alias."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._sizes: dict[int, int] = {}  # id(node) -> values in it, aliases expanded
        self._expanded = 0  # values in the document so far, aliases expanded

    def compose_document(self) -> yaml.Node | None:
        self._sizes, self._expanded = {}, 0
        return super().compose_document()  # type: ignore[no-any-return]

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node:
        if not self.check_event(yaml.AliasEvent):
            node = super().compose_node(parent, index)
            self._sizes[id(node)] = 1 + sum(self._sizes.get(id(child), 0)
                                            for child in _children(node))
            self._expanded += 1
            return node
        mark = self.peek_event().start_mark
        node = super().compose_node(parent, index)  # an undefined alias is PyYAML's error
        size = self._sizes.get(id(node))
        if size is None:
            raise yaml.composer.ComposerError(
                None, None, "an alias inside its own anchor would repeat it endlessly", mark)
        self._expanded += size
        if self._expanded > MAX_EXPANDED_VALUES:
            raise yaml.composer.ComposerError(
                None, None, f"aliases expand to more than {MAX_EXPANDED_VALUES:,} values "
                "(aliases of aliases?); write the values out or use fewer aliases", mark)
        return node


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []
