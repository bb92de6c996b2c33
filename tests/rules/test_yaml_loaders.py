"""YAML through libyaml's C composer and through PyYAML's pure-Python one: the same nodes for
every valid document, the same error at the same mark for every broken one, and the alias
bound either way (watcher/rules/yaml_marks.py).

Rule files, watcher.yaml and the context triggers are all read by `compose_bounded`; here
each document is composed both ways, `libyaml=True` being what a PyYAML built with libyaml
does by default and `libyaml=False` what one without it does.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.alias_bomb import alias_bomb
from watcher.errors import RuleSetError
from watcher.rules.load import load_rules
from watcher.rules.yaml_marks import LIBYAML, MAX_EXPANDED_VALUES, compose_bounded

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(not LIBYAML, reason="this PyYAML was built without libyaml")

VALID = [
    "",
    "# a comment only\n",
    "a: 'é x'\nb: \"ü\\u00e9 z\"\nc: |\n  ÿ line\n  two\n",
    "a: b\r\nc: 'd\r\n  e'\r\n",  # Windows line ends
    "a: x\u2028b: y\n",  # a Unicode line separator
    "k: 😀 smile\nq: '😀'\n",
    "a: >\n  folded\n  text\n\n  more\nb: 1\n",
    'a: "x\\\n  y"\n',  # an escaped line break
    "- &a [1, 2]\n- *a\n- *a\n",
    "{a: [b, {c: d}], e: ~, f: , g: null, h: true, i: 1.5, j: 2024-01-01}\n",
    "? complex\n: value\n",
    "a: !!str 1\nb: !custom x\n",
    "a: 1\n...\n",
    "%YAML 1.1\n---\na: 1\n",
    "a:    \n  - x\n  -   y\n",
    "a: 'it''s'\n",
    "key with spaces: value with: colon\n",
    "- a\n b\n",
    "a: [1,2,]\n",
    "a: {b}\n",
    "\ufeffa: 1\n",
    "title: Search & rescue\nq: 'Homs & Hama'\n",  # an ampersand that is no anchor
    "a: &x 1\nb: &x 2\nc: *x\n",  # an anchor named again: the alias means the last one
    "base: &base {severity: high, tags: [a]}\nrule: {<<: *base, id: r}\n",
    "[" * 200 + "]" * 200 + "\n",
    "&anchor\n",
    # read otherwise by libyaml, so composed by PyYAML alone (yaml_marks.composes_alike)
    "{a: , b}\n",
    "[a: , b]\n",
    "{a: # why\n , b: c}\n",
    "tags: [why?]\n",
    "!\n",
    "a: !\nb: ! x\n",
    "a: b\tc\n",
    "a: b",  # no line end at the end
    "key:\n- a\n- b",
]

BROKEN = [
    'rules:\n  - id: r\n    title: "Siege\n    query: siege\n',  # a quote never closed
    "rules: [\n  {id: r, title: t, query: siege}\n",  # a bracket never closed
    "rules:\n  - {id: r, title: t, query: siege\n",  # a brace never closed
    "rules:\n  - id: r\n    title: t: u\n",  # mapping values not allowed here
    "rules:\n  - id: a\x07\n",  # a control character
    "a: \x00\n",
    "a:\n\t- b\n",  # a tab as indentation
    "a: b\n c: d\n",  # bad indentation
    "- a\nb: c\n",  # a mapping after a sequence
    "a: *undefined\n",
    "a: 1\n---\nb: 2\n",  # two documents
    "a: \"bad \\q escape\"\n",
    "a: \"\\uZZZZ\"\n",
    "a: |x\n  text\n",  # a bad block scalar header
    "a: 'x'y\n",
    "a: @reserved\n",
    "a: `reserved\n",
    "%YAML 2.0\n---\na: 1\n",
    "%YAML 1.1\n%YAML 1.1\n---\na: 1\n",
    "a: !<tag\n",
    "? [\n",
    "[a, b}\n",
    "{a: b]\n",
    "a: b\n- c\n",
    "--- a\n--- b\n",
    "a: &a [*a]\n",  # an alias inside its own anchor
    "rules: &r [a, *r]\n",
    "lists:\n" + alias_bomb(9, indent="  "),
    alias_bomb(5),  # 111,111 values: just past the bound
    alias_bomb(40),  # 10**40 values: refused as soon as the bound is passed
    "[" * 5000 + "]" * 5000 + "\n",  # nested too deeply for either composer
]


def _tree(node: yaml.Node | None, seen: dict[int, int] | None = None) -> object:
    """Everything the loaders read of a node: kind, tag, marks, style and value; an alias
    as the number of the node it repeats. libyaml says '' for a plain scalar's style and False
    for a block sequence's flow style where PyYAML says None: the same to every reader."""
    if node is None:
        return None
    seen = {} if seen is None else seen
    if id(node) in seen:
        return ("alias", seen[id(node)])
    seen[id(node)] = len(seen)
    marks = tuple((m.line, m.column, m.index) for m in (node.start_mark, node.end_mark))
    head = (type(node).__name__, node.tag, marks, getattr(node, "style", None) or None,
            bool(getattr(node, "flow_style", False)))
    if isinstance(node, yaml.ScalarNode):
        return (*head, node.value)
    if isinstance(node, yaml.SequenceNode):
        return (*head, *(_tree(child, seen) for child in node.value))
    return (*head, *((_tree(k, seen), _tree(v, seen)) for k, v in node.value))


def _outcome(text: str, *, libyaml: bool) -> object:
    """The node tree, or the error as the loaders report it: its kind, its text (problem,
    context and marks) and the mark it is reported at."""
    try:
        return _tree(compose_bounded(text, libyaml=libyaml))
    except (yaml.YAMLError, RecursionError) as error:
        marks = [getattr(error, name, None) for name in ("problem_mark", "context_mark")]
        return (type(error).__name__, str(error),
                [(m.line, m.column) for m in marks if m is not None])


def _shipped_documents() -> list[Path]:
    return sorted([*(ROOT / "rules").glob("*.yaml"), ROOT / "watcher.example.yaml",
                   *(ROOT / "watcher" / "engine" / "data").glob("*.yaml")])


@pytest.mark.parametrize("text", VALID)
def test_a_valid_document_composes_to_the_same_nodes_either_way(text):
    assert _outcome(text, libyaml=True) == _outcome(text, libyaml=False)


@pytest.mark.parametrize("path", _shipped_documents(), ids=lambda p: p.name)
def test_the_shipped_rules_and_settings_compose_to_the_same_nodes_either_way(path):
    text = path.read_text(encoding="utf-8")
    assert _outcome(text, libyaml=True) == _outcome(text, libyaml=False)


@pytest.mark.parametrize("text", BROKEN)
def test_a_broken_document_is_the_same_error_at_the_same_mark_either_way(text):
    pure = _outcome(text, libyaml=False)
    assert isinstance(pure, tuple) and pure[0] in ("ScannerError", "ParserError",
                                                   "ComposerError", "ReaderError",
                                                   "RecursionError"), pure
    assert _outcome(text, libyaml=True) == pure


def test_a_rule_file_error_is_one_line_in_pyyaml_words_through_libyaml(tmp_path):
    """What `watcher rules check` prints, through the default (libyaml) composer."""
    (tmp_path / "a.yaml").write_text("rules:\n  - id: r\n    title: t: u\n", encoding="utf-8")
    with pytest.raises(RuleSetError) as caught:
        load_rules(tmp_path)
    assert str(caught.value) == (
        f"{tmp_path / 'a.yaml'}:3:13: invalid YAML: mapping values are not allowed here")


@pytest.mark.parametrize("levels", [5, 9, 40, 200])
def test_an_alias_bomb_is_refused_at_the_alias_that_passes_the_bound(levels):
    """10**200 values: sizing them one by one, or composing them, would never end; both ways
    size each node of the file once and refuse at the same alias."""
    text = "lists:\n" + alias_bomb(min(levels, 26), indent="  ")
    if levels > 26:  # more levels than letters: name them a0, a1, …
        text = "lists:\n" + "".join(
            f"  a{n}: &a{n} [{', '.join([f'*a{n - 1}' if n else 'lol'] * 10)}]\n"
            for n in range(levels))
    for libyaml in (True, False):
        with pytest.raises(yaml.composer.ComposerError) as caught:
            compose_bounded(text, libyaml=libyaml)
        assert caught.value.problem.startswith(
            f"aliases expand to more than {MAX_EXPANDED_VALUES:,} values")
    assert _outcome(text, libyaml=True) == _outcome(text, libyaml=False)


def test_aliases_within_the_bound_compose_through_libyaml_as_they_are():
    """10**4 values from four levels of aliases load, sharing the anchors' nodes."""
    text = "lists:\n" + alias_bomb(4, indent="  ")
    lists = compose_bounded(text, libyaml=True).value[0][1]
    assert lists.value[-1][1].value[0] is lists.value[-2][1]  # `*c` is the anchor's node
    assert _outcome(text, libyaml=True) == _outcome(text, libyaml=False)


# Pieces of YAML, good and bad, that random documents are made of: every way libyaml was
# seen to read a document otherwise than PyYAML is among them (tab, `!`, `?` in a flow, an
# empty flow value, a block header's comment, no line end at the end, odd line breaks).
PIECES = [
    "a", "key", ": ", ":", "- ", "-", "\n", "\n  ", "\n    ", " ", "[", "]", "{", "}", ", ",
    ",", "'q x'", '"d \\" x"', '"\\u00e9"', "# c\n", " #x", "#", "&x ", "*x", "&y ", "*y",
    "!!str ", "!t ", "!", "? ", "?x", "a?b", "|\n  blk\n", ">\n  f\n", "|-\n  x\n", "|+\n  k\n\n",
    ">2\n   y\n", "é", "😀", "\t", "\r\n", "\r", "\u2028", "\x85", "~", "null", "1", "---\n",
    "...\n", "'", '"', "'a\n  b'", '"a\\\n b"', "%YAML 1.1\n", "%TAG ! tag:x,2000:\n", "@", "`",
    "\\", "=", "*", "<<: ", "title: ", "query: ", "rules:\n  - id: r\n    ", "lists:\n  l: [",
]  # fmt: skip


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(PIECES), min_size=1, max_size=16), st.booleans())
def test_any_document_composes_or_fails_alike_either_way(pieces, line_end):
    text = "".join(pieces) + ("\n" if line_end else "")
    assert _outcome(text, libyaml=True) == _outcome(text, libyaml=False)
