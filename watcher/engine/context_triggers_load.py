"""The context trigger lists: watcher/engine/data/context.yaml, and the file watcher.yaml's
`context.triggers` names, read into one Triggers (the values, watcher/engine/context_triggers.py,
which context_sentence.py, context_dates.py and context_lexicon.py read articles with).

A later file only adds: its phrases join the lists, a reach only grows, an option only
turns on. Every mistake is one line naming the file, line and column, as rule files do.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from types import MappingProxyType
from typing import NoReturn, cast

import yaml

from watcher.engine.context_triggers import (
    MAX_SCOPE,
    TRIGGER_DIRECTIONS,
    Alternatives,
    DateRules,
    Entry,
    Triggers,
    Words,
)
from watcher.errors import ConfigError
from watcher.model import CONTEXT_LABELS, ContextLabelName
from watcher.rules.yaml_marks import compose_bounded, error_position, yaml_boolean

__all__ = ["load_triggers", "shipped_triggers"]

# Labels that trigger phrases give (the data file's keys); `boilerplate` comes from the
# analyser's page-furniture lead words instead (FieldText.lead_at).
TRIGGER_LABELS = tuple(label for label in CONTEXT_LABELS if label != "boilerplate")
DIRECTIONS = (*TRIGGER_DIRECTIONS, "pseudo", "terminate", "exempt")
STOP_DIRECTIONS = ("terminate", "exempt")  # found in a sentence only where a trigger is
DEFAULT_TRIGGERS = Path(__file__).parent / "data" / "context.yaml"
ALTERNATIVE_KEYS = ("leads", "reach", "clause_words", "future_reach", "future_words")
INT_TAG = "tag:yaml.org,2002:int"

# Words too common in news to find a phrase by ("were" in "were denied"), the most common
# first: a phrase is found by its longest other word, else by the rarest of these.
COMMON_WORDS = (
    "the", "a", "an", "in", "of", "to", "and", "on", "for", "at", "by", "with", "from", "as", "was",
    "were", "is", "are", "has", "have", "had", "be", "been", "it", "its", "that", "this",
    "one", "over", "than", "other", "only", "year", "years", "day", "week", "month", "these",
    "being", "will", "would", "can", "could", "did", "does", "do", "may", "might", "should",
    "must", "since", "last", "held", "called", "came", "end", "least", "no", "not", "n't",
)
COMMONNESS = {word: len(COMMON_WORDS) - rank for rank, word in enumerate(COMMON_WORDS)}

WordsOf = Callable[[str], list[str]]


def load_triggers(words_of: WordsOf, extra: str | Path | None = None) -> Triggers:
    """The shipped triggers plus those of `extra` (watcher.yaml's `context.triggers`);
    `words_of` splits a phrase as articles are split. Raises ConfigError naming the file,
    line and column of a bad entry."""
    read = _Read()
    for path in (DEFAULT_TRIGGERS, *([Path(extra)] if extra else [])):
        _read_file(path, words_of, read)
    _check_leads(read)
    return _compiled(read)


def _compiled(read: _Read) -> Triggers:
    """The lists as the reader looks them up, with the bounds of its searches; read-only,
    as every engine of a process shares the shipped ones (shipped_triggers)."""
    phrases = read.phrases
    return Triggers(
        phrases=MappingProxyType({p: tuple(dict.fromkeys(e)) for p, e in phrases.items()}),
        clause_breaks=frozenset(read.breaks),
        anchors=MappingProxyType(_anchors(
            p for p, e in phrases.items() if any(x.direction not in STOP_DIRECTIONS for x in e)
        )),
        stop_lengths=MappingProxyType(_lengths(
            p for p, e in phrases.items() if any(x.direction in STOP_DIRECTIONS for x in e)
        )),
        governs_next_word=frozenset(read.governs_next_word),
        dates=DateRules(
            ongoing=MappingProxyType(dict(read.ongoing)),
            present_perfect=frozenset(read.present_perfect),
        ),
        alternatives=Alternatives(
            leads=frozenset(read.leads), reach=read.alternative_reach,
            clause_words=frozenset(read.clause_words), future_reach=read.future_reach,
            future_words=frozenset(read.future_words),
        ),
    )


class _Read:
    """What the files read so far say: each file adds to it, none removes (a number such as
    a reach only grows). `leads`: where each alternative lead was named, to report one that
    no file makes a trigger."""

    def __init__(self) -> None:
        self.phrases: dict[Words, list[Entry]] = {}
        self.breaks: set[str] = set()
        self.governs_next_word: set[ContextLabelName] = set()
        self.ongoing: dict[Words, int] = {}
        self.present_perfect: set[Words] = set()
        self.leads: dict[Words, tuple[Path, yaml.Node]] = {}
        self.alternative_reach = 0
        self.clause_words: set[str] = set()
        self.future_reach = 0
        self.future_words: set[str] = set()


def _anchors(phrases: Iterable[Words]) -> dict[str, tuple[tuple[int, int], ...]]:
    """Each phrase under its rarest-looking word, as (offset, length): the longest word
    that is not a common one (COMMON_WORDS), the last of equals, else the least common.
    Phrases sharing their anchor, offset and length ("not over", "not yet") share one
    place: a sentence's words there are looked up once, whatever the phrase."""
    anchors: dict[str, dict[tuple[int, int], None]] = {}
    for phrase in phrases:
        offset = max(range(len(phrase)),
                     key=lambda n: (-COMMONNESS.get(phrase[n], 0), len(phrase[n]), n))
        anchors.setdefault(phrase[offset], {})[offset, len(phrase)] = None
    return {word: tuple(places) for word, places in anchors.items()}


def _lengths(phrases: Iterable[Words]) -> dict[str, tuple[int, ...]]:
    """The lengths of the phrases each first word starts, longest first."""
    lengths: dict[str, set[int]] = {}
    for phrase in phrases:
        lengths.setdefault(phrase[0], set()).add(len(phrase))
    return {word: tuple(sorted(n, reverse=True)) for word, n in lengths.items()}


_shipped: dict[tuple[str, ...], Triggers] = {}
_shipped_lock = threading.Lock()


def shipped_triggers(words_of: WordsOf) -> Triggers:
    """The shipped lists, read once per way of splitting words (every English pipeline
    splits the file's phrases alike, so in practice once)."""
    with _shipped_lock:
        key = tuple(words_of("can't stop, won't stop: no let-up"))
        triggers = _shipped.get(key)
        if triggers is None:
            triggers = _shipped[key] = load_triggers(words_of)
        return triggers


def _read_file(path: Path, words_of: WordsOf, read: _Read) -> None:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot read context triggers: {error}") from None
    try:
        root = compose_bounded(text)
    except yaml.MarkedYAMLError as error:
        line, column = error_position(error) or (1, 1)
        raise ConfigError(f"{path}:{line}:{column}: {error.problem or error}") from None
    if root is None:
        return
    for key, value in _mapping(path, root):
        name = key.value
        if name == "terminators":
            for _, words in _phrases(path, value, words_of):
                _add(read.phrases, words, Entry(None, "terminate"))
        elif name == "clause_breaks":
            read.breaks.update(_clause_break(path, node) for node in _string_nodes(path, value))
        elif name == "dates":
            _read_dates(path, value, words_of, read)
        elif name == "alternatives":
            _read_alternatives(path, value, words_of, read)
        elif name in TRIGGER_LABELS:
            _read_label(path, cast(ContextLabelName, name), value, words_of, read)
        else:
            known = ", ".join(("terminators", "clause_breaks", "dates", "alternatives",
                               *TRIGGER_LABELS))
            _fail(path, key, f"unknown key {name!r} (known: {known})")


def _read_label(
    path: Path, label: ContextLabelName, node: yaml.Node, words_of: WordsOf, read: _Read
) -> None:
    """A label's trigger groups: a list of them, or a mapping of its `groups` and its
    options (`governs_next_word`)."""
    groups: yaml.Node | None = node
    if isinstance(node, yaml.MappingNode):
        fields = _fields(path, node, ("governs_next_word", "groups"))
        if "governs_next_word" in fields:
            _read_governs(path, label, fields["governs_next_word"][1], read)
        groups = fields["groups"][1] if "groups" in fields else None
    elif not isinstance(node, yaml.SequenceNode):
        _fail(path, node, "expected a list of groups, or a mapping of `groups` and "
                          "`governs_next_word`")
    for group in _sequence(path, groups) if groups is not None else ():
        _read_group(path, label, group, words_of, read.phrases)


def _read_governs(path: Path, label: ContextLabelName, node: yaml.Node, read: _Read) -> None:
    """`governs_next_word`: a file may turn it on for a label, never off (files only add)."""
    if _boolean(path, node, "governs_next_word"):
        read.governs_next_word.add(label)
    elif label in read.governs_next_word:
        _fail(path, node, f"governs_next_word of {label} is on in the shipped file; a file "
                          "only adds, so it cannot be turned off")


def _read_group(
    path: Path, label: ContextLabelName, group: yaml.Node, words_of: WordsOf,
    phrases: dict[Words, list[Entry]],
) -> None:
    """One `{direction, scope, phrases}` group of a label."""
    fields = _fields(path, group, ("direction", "scope", "phrases"))
    if "direction" not in fields or "phrases" not in fields:
        _fail(path, group, "a group needs `direction` and `phrases`")
    direction_node = fields["direction"][1]
    direction = direction_node.value
    if direction not in DIRECTIONS:
        _fail(path, direction_node, f"direction must be one of: {', '.join(DIRECTIONS)}")
    scope = 0
    if direction in TRIGGER_DIRECTIONS:
        if "scope" not in fields:
            _fail(path, group, "a trigger group needs `scope` (words)")
        scope = _words_count(path, fields["scope"][1], "scope")
    elif "scope" in fields:
        _fail(path, fields["scope"][0], f"a {direction} group has no scope")
    entry = Entry(label, direction, scope)
    for _, words in _phrases(path, fields["phrases"][1], words_of):
        _add(phrases, words, entry)


def _read_dates(path: Path, node: yaml.Node, words_of: WordsOf, read: _Read) -> None:
    """`dates:`: the `ongoing` groups (`reach`, `phrases`) and the `present_perfect`
    phrases. A phrase given twice keeps its longest reach."""
    fields = _fields(path, node, ("ongoing", "present_perfect"))
    if "ongoing" in fields:
        for group in _sequence(path, fields["ongoing"][1]):
            parts = _fields(path, group, ("reach", "phrases"))
            if "reach" not in parts or "phrases" not in parts:
                _fail(path, group, "an ongoing group needs `reach` and `phrases`")
            reach = _words_count(path, parts["reach"][1], "reach")
            for _, words in _phrases(path, parts["phrases"][1], words_of):
                read.ongoing[words] = max(reach, read.ongoing.get(words, 0))
    if "present_perfect" in fields:
        read.present_perfect.update(
            words for _, words in _phrases(path, fields["present_perfect"][1], words_of)
        )


def _read_alternatives(path: Path, node: yaml.Node, words_of: WordsOf, read: _Read) -> None:
    """`alternatives:` (Alternatives): its lists are added to, its reaches only grow."""
    fields = _fields(path, node, ALTERNATIVE_KEYS)
    if "leads" in fields:
        for phrase_node, words in _phrases(path, fields["leads"][1], words_of):
            read.leads.setdefault(words, (path, phrase_node))
    if "reach" in fields:
        reach = _words_count(path, fields["reach"][1], "reach")
        read.alternative_reach = max(read.alternative_reach, reach)
    if "future_reach" in fields:
        reach = _words_count(path, fields["future_reach"][1], "future_reach")
        read.future_reach = max(read.future_reach, reach)
    if "clause_words" in fields:
        read.clause_words.update(_single_words(path, fields["clause_words"][1], words_of))
    if "future_words" in fields:
        read.future_words.update(_single_words(path, fields["future_words"][1], words_of))


def _check_leads(read: _Read) -> None:
    """An alternative lead that is no trigger phrase of any file would do nothing."""
    for words, (path, node) in read.leads.items():
        if not any(e.direction in TRIGGER_DIRECTIONS for e in read.phrases.get(words, ())):
            _fail(path, node, f"alternative lead {node.value!r} is no trigger phrase "
                              "(a label's forward, backward or both group)")


def _fields(
    path: Path, node: yaml.Node, known: tuple[str, ...]
) -> dict[str, tuple[yaml.ScalarNode, yaml.Node]]:
    """A mapping's keys, each one of `known`."""
    fields = {key.value: (key, value) for key, value in _mapping(path, node)}
    for name, (key, _) in fields.items():
        if name not in known:
            _fail(path, key, f"unknown key {name!r} (known: {', '.join(known)})")
    return fields


def _words_count(path: Path, node: yaml.Node, what: str) -> int:
    """A scope or reach in words: bounded, as a longer one would reach unrelated clauses. A
    YAML integer of plain digits only: str.isdigit() takes "²", which int() refuses."""
    if not (isinstance(node, yaml.ScalarNode) and node.tag == INT_TAG
            and re.fullmatch(r"[0-9]{1,2}", node.value)
            and 1 <= int(node.value) <= MAX_SCOPE):
        _fail(path, node, f"{what} must be a whole number of words from 1 to {MAX_SCOPE}")
    return int(node.value)


def _boolean(path: Path, node: yaml.Node, what: str) -> bool:
    """A YAML boolean only (yaml_marks.yaml_boolean)."""
    value = yaml_boolean(node)
    if value is None:
        _fail(path, node, f"{what} must be true or false")
    return value


def _phrases(
    path: Path, node: yaml.Node, words_of: WordsOf
) -> list[tuple[yaml.ScalarNode, Words]]:
    """A list of phrases, each with its words as articles are split."""
    found = []
    for item in _string_nodes(path, node):
        words = tuple(words_of(item.value))
        if not words:
            _fail(path, item, f"phrase {item.value!r} has no word")
        found.append((item, words))
    return found


def _single_words(path: Path, node: yaml.Node, words_of: WordsOf) -> list[str]:
    """A list of words, each one word as articles are split ("'ll", not "will not")."""
    found = []
    for item, words in _phrases(path, node, words_of):
        if len(words) != 1:
            _fail(path, item, f"{item.value!r} is not one word")
        found.append(words[0])
    return found


def _add(phrases: dict[Words, list[Entry]], words: Words, entry: Entry) -> None:
    phrases.setdefault(words, []).append(entry)


def _clause_break(path: Path, node: yaml.ScalarNode) -> str:
    if len(node.value) != 1 or node.value.isalnum() or node.value.isspace():
        _fail(path, node, "a clause break is one punctuation character")
    return str(node.value)


def _mapping(path: Path, node: yaml.Node) -> list[tuple[yaml.ScalarNode, yaml.Node]]:
    """A mapping's pairs; a key given twice is an error, as in rule files (PyYAML would
    silently keep the last)."""
    if not isinstance(node, yaml.MappingNode):
        _fail(path, node, "expected a mapping")
    pairs = []
    first_lines: dict[str, int] = {}
    for key, value in node.value:
        if not isinstance(key, yaml.ScalarNode):
            _fail(path, key, "expected a name")
        if key.value in first_lines:
            _fail(path, key, f"duplicate key '{key.value}' "
                             f"(first given at line {first_lines[key.value]})")
        first_lines[key.value] = key.start_mark.line + 1
        pairs.append((key, value))
    return pairs


def _sequence(path: Path, node: yaml.Node) -> list[yaml.Node]:
    if not isinstance(node, yaml.SequenceNode):
        _fail(path, node, "expected a list")
    return list(node.value)


def _string_nodes(path: Path, node: yaml.Node) -> list[yaml.ScalarNode]:
    items = _sequence(path, node)
    for item in items:
        if not isinstance(item, yaml.ScalarNode) or not item.value.strip():
            _fail(path, item, "expected a phrase (a string)")
    return cast(list[yaml.ScalarNode], items)



def _fail(path: Path, node: yaml.Node, message: str) -> NoReturn:
    mark = node.start_mark
    raise ConfigError(f"{path}:{mark.line + 1}:{mark.column + 1}: {message}")
