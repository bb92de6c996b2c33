"""YAML as rule files and watcher.yaml read it: where a syntax error is, and how far
aliases may expand.

`compose_bounded` is the one way in. It composes through libyaml's C parser when PyYAML
was built with it (the PyPI wheels are): five times faster than PyYAML's pure-Python
composer, which was most of the time of loading many rules. Whatever libyaml refuses is
composed again by the pure-Python `BoundedLoader`, so every error is PyYAML's, in PyYAML's
words at PyYAML's mark, whichever parser found it first; without libyaml the pure loader
does everything.

PyYAML marks the place it gave up. For a quote, bracket or brace never closed that is the
end of the file, far from the mistake: the place it was opened (its context mark) is
reported instead.

An alias stands for its anchor's whole value, so a few hundred bytes of aliases naming
aliases (nine levels of ten: a "billion laughs") hold 10**9 values, and whatever walks or
builds the values runs for minutes and takes gigabytes. `BoundedLoader` counts, while it
composes, the values the document holds once every alias is expanded, and refuses the
document at the alias that takes it past `MAX_EXPANDED_VALUES`: a syntax error like any
other, found in time linear in the file's length. libyaml composes an alias as its anchor's
node object itself, never a copy, so its node graph is as small as the file; sizing each
node of it once (`expands_within_bound`) finds the same documents, and those are composed
again by `BoundedLoader` to be refused at the alias.
"""

from __future__ import annotations

import re

import yaml

MAX_EXPANDED_VALUES = 100_000  # hand-written settings and rules hold a few thousand at most
LIBYAML = bool(getattr(yaml, "__with_libyaml__", False))


def compose_bounded(text: str, *, libyaml: bool = LIBYAML) -> yaml.Node | None:
    """The node tree of the one document in `text` (None when empty), positions kept.

    Raises what `yaml.compose(text, Loader=BoundedLoader)` raises, the same error at the
    same mark, whether `libyaml` composes it or not (tests compare both ways)."""
    if libyaml and composes_alike(text):
        try:
            root = yaml.compose(text, Loader=yaml.CSafeLoader)
        except (yaml.YAMLError, UnicodeError):  # said again in PyYAML's own words, below
            pass
        else:
            if "&" not in text or expands_within_bound(root):  # no anchor: no alias
                return root
    return yaml.compose(text, Loader=BoundedLoader)  # type: ignore[arg-type]


# What libyaml reads otherwise than PyYAML, found by composing random documents both ways
# (tests/rules/test_yaml_loaders.py keeps the cases). A match may be inside a string: that
# file is only composed the slower way.
_UNALIKE = re.compile(
    r"""
      :(?:\s|\#[^\n]*+)*[,\]}]  # an empty value in a flow collection (`{a: , b: c}`):
                                # libyaml marks it where the next token starts, PyYAML
                                # where the `:` ends
    | (?:^|[\s,\[\]{}])!         # a tag: `!` alone is a string to libyaml, a null to
                                # PyYAML; libyaml takes handles PyYAML refuses (`!*x`)
    | [|>][-+0-9]*\#            # a block scalar's header, a comment right after it
    """,
    re.MULTILINE | re.VERBOSE,
)


def composes_alike(text: str) -> bool:
    """Whether libyaml composes `text` to the nodes and marks PyYAML would, as far as a
    glance can tell: not with a tab (libyaml takes one inside a plain scalar, PyYAML refuses
    it), a byte-order mark (PyYAML counts it in the marks' index), no line end at the end (the
    two place the end marks apart), a `?` where a flow collection may be (`[why?]`: a plain
    scalar to libyaml, a key to PyYAML), or any of `_UNALIKE`."""
    return (
        text.endswith("\n")
        and "\t" not in text
        and not text.startswith("\ufeff")
        and not ("?" in text and ("[" in text or "{" in text))
        and _UNALIKE.search(text) is None
    )


def expands_within_bound(root: yaml.Node | None) -> bool:
    """Whether the document holds at most MAX_EXPANDED_VALUES values with every alias
    expanded, and no alias inside its own anchor: BoundedLoader's test, on a graph whose
    aliases are their anchors' nodes. Each node is sized once, children first."""
    sizes: dict[int, int] = {}  # id(node) -> values in it, aliases expanded
    open_nodes: set[int] = set()  # the nodes whose children are being sized
    pending: list[tuple[yaml.Node, bool]] = [] if root is None else [(root, False)]
    while pending:
        node, children_sized = pending.pop()
        if children_sized:
            open_nodes.discard(id(node))
            size = 1 + sum(sizes[id(child)] for child in _children(node))
            if size > MAX_EXPANDED_VALUES:
                return False
            sizes[id(node)] = size
        elif id(node) in open_nodes:  # an alias inside its own anchor: endless
            return False
        elif id(node) not in sizes:
            open_nodes.add(id(node))
            pending.append((node, True))
            pending.extend((child, False) for child in _children(node))
    return True


_BOOLEAN_TAG = "tag:yaml.org,2002:bool"
_TRUE_WORDS, _FALSE_WORDS = frozenset({"true", "yes", "on"}), frozenset({"false", "no", "off"})


def yaml_boolean(node: yaml.Node) -> bool | None:
    """A YAML boolean's value, or None when the node is none: a string "false" would be
    truthy, and an explicit `!!bool maybe` is tagged boolean but says neither."""
    if not (isinstance(node, yaml.ScalarNode) and node.tag == _BOOLEAN_TAG):
        return None
    value = node.value.lower()
    return True if value in _TRUE_WORDS else False if value in _FALSE_WORDS else None


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
