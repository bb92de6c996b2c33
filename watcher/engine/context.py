"""Context of a match's mentions: is the event historical, ended, negated or hypothetical?

A ConText-style reader written for news. Trigger phrases label the mentions within a
bounded scope after them (forward), before them (backward) or on either side (both),
never past their sentence, a clause break (`;`, `:`, a dash, a bracket) or a terminator
("but", "however"); pseudo-triggers look like triggers but are none ("not only"), and at
each word the longest phrase wins. Dates clearly before the article's publication ("in
2014" in an article of 2017, "on March 17" in one of April 8) are historical triggers.

The trigger lists are data (watcher/engine/data/context.yaml, extended by the file that
watcher.yaml's `context.triggers` names). Pure: it reads the analysed words the engine
already has, only the sentences holding a match's mentions, each once per article.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import cast

import numpy as np
import yaml

from watcher.engine.positional import TermRange
from watcher.errors import ConfigError
from watcher.model import ContextLabel, ContextLabelName
from watcher.rules.yaml_marks import BoundedLoader, error_position
from watcher.text.analysis import AnalysedText, FieldText, WordType

LABELS: tuple[ContextLabelName, ...] = ("historical", "ended", "negated", "hypothetical")
TRIGGER_DIRECTIONS = ("forward", "backward", "both")
DIRECTIONS = (*TRIGGER_DIRECTIONS, "pseudo", "terminate")
DEFAULT_TRIGGERS = Path(__file__).parent / "data" / "context.yaml"
MAX_SCOPE = 30  # words; a trigger reaching further would label unrelated clauses

# A date this many days or more before publication is history, not today's news: reports
# of the last days ("on Tuesday", "on March 3" in an article of March 5) are the news.
HISTORICAL_DAYS = 14
DATE_SCOPE = 8  # words on either side of a past date
ONGOING = frozenset({"since"})  # "besieged since 2012" is still besieged
MONTHS = {
    name: number
    for number in range(1, 13)
    for name in (calendar.month_name[number].lower(), calendar.month_abbr[number].lower())
} | {"sept": 9}
# Months that are also ordinary words: a month only beside a day or year, or after these.
AMBIGUOUS_MONTHS = frozenset({"may", "march", "jan", "mar", "sep", "dec"})
MONTH_LEADS = frozenset({"in", "early", "late", "mid", "since", "until", "on", "by", "of",
                         "last", "this", "between", "from", "during", "through"})
ORDINAL_ENDINGS = ("st", "nd", "rd", "th")

Words = tuple[str, ...]
WordsOf = Callable[[str], list[str]]


@dataclass(frozen=True)
class Entry:
    """What one phrase of the trigger file does: a label's trigger (with its direction and
    scope in words), its pseudo-trigger, or a terminator (`label` None: every label's)."""

    label: ContextLabelName | None
    direction: str
    scope: int = 0


@dataclass(frozen=True)
class Triggers:
    """The compiled trigger lists: phrases (as analysed words) to what they do."""

    phrases: Mapping[Words, tuple[Entry, ...]]
    clause_breaks: frozenset[str]

    @property
    def longest(self) -> int:
        return max((len(p) for p in self.phrases), default=1)


@dataclass(frozen=True)
class Cue:
    """A trigger found in a sentence, at words [first, last] of its field."""

    label: ContextLabelName
    direction: str
    scope: int
    first: int
    last: int


# -- the trigger file ------------------------------------------------------------------


def load_triggers(words_of: WordsOf, extra: str | Path | None = None) -> Triggers:
    """The shipped triggers plus those of `extra` (watcher.yaml's `context.triggers`);
    `words_of` splits a phrase as articles are split. Raises ConfigError naming the file,
    line and column of a bad entry."""
    phrases: dict[Words, list[Entry]] = {}
    breaks: set[str] = set()
    for path in (DEFAULT_TRIGGERS, *([Path(extra)] if extra else [])):
        _read_file(path, words_of, phrases, breaks)
    return Triggers(
        phrases={p: tuple(dict.fromkeys(e)) for p, e in phrases.items()},
        clause_breaks=frozenset(breaks),
    )


def _read_file(
    path: Path, words_of: WordsOf, phrases: dict[Words, list[Entry]], breaks: set[str]
) -> None:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot read context triggers: {error}") from None
    try:
        root = yaml.compose(text, Loader=BoundedLoader)  # type: ignore[arg-type]
    except yaml.MarkedYAMLError as error:
        line, column = error_position(error) or (1, 1)
        raise ConfigError(f"{path}:{line}:{column}: {error.problem or error}") from None
    if root is None:
        return
    for key, value in _mapping(path, root):
        name = key.value
        if name == "terminators":
            for phrase in _strings(path, value):
                _add(phrases, words_of(phrase), Entry(None, "terminate"))
        elif name == "clause_breaks":
            breaks.update(_clause_break(path, node) for node in _string_nodes(path, value))
        elif name in LABELS:
            for group in _sequence(path, value):
                _read_group(path, cast(ContextLabelName, name), group, words_of, phrases)
        else:
            known = ", ".join(("terminators", "clause_breaks", *LABELS))
            _fail(path, key, f"unknown key {name!r} (known: {known})")


def _read_group(
    path: Path, label: ContextLabelName, group: yaml.Node, words_of: WordsOf,
    phrases: dict[Words, list[Entry]],
) -> None:
    """One `{direction, scope, phrases}` group of a label."""
    fields = {key.value: (key, value) for key, value in _mapping(path, group)}
    for name, (key, _) in fields.items():
        if name not in ("direction", "scope", "phrases"):
            _fail(path, key, f"unknown key {name!r} (known: direction, scope, phrases)")
    if "direction" not in fields or "phrases" not in fields:
        _fail(path, group, "a group needs `direction` and `phrases`")
    direction_node = fields["direction"][1]
    direction = direction_node.value
    if direction not in DIRECTIONS:
        _fail(path, direction_node, f"direction must be one of: {', '.join(DIRECTIONS)}")
    scope = 0
    if direction in TRIGGER_DIRECTIONS:
        scope = _scope(path, fields.get("scope"), group)
    elif "scope" in fields:
        _fail(path, fields["scope"][0], f"a {direction} group has no scope")
    entry = Entry(label, direction, scope)
    for node in _string_nodes(path, fields["phrases"][1]):
        words = words_of(node.value)
        if not words:
            _fail(path, node, f"phrase {node.value!r} has no word")
        _add(phrases, words, entry)


def _scope(path: Path, scope: tuple[yaml.Node, yaml.Node] | None, group: yaml.Node) -> int:
    if scope is None:
        _fail(path, group, "a trigger group needs `scope` (words)")
    node = scope[1]
    if not (isinstance(node, yaml.ScalarNode) and node.value.isdigit()
            and 1 <= int(node.value) <= MAX_SCOPE):
        _fail(path, node, f"scope must be a whole number of words from 1 to {MAX_SCOPE}")
    return int(node.value)


def _add(phrases: dict[Words, list[Entry]], words: list[str], entry: Entry) -> None:
    if words:
        phrases.setdefault(tuple(words), []).append(entry)


def _clause_break(path: Path, node: yaml.ScalarNode) -> str:
    if len(node.value) != 1 or node.value.isalnum() or node.value.isspace():
        _fail(path, node, "a clause break is one punctuation character")
    return str(node.value)


def _mapping(path: Path, node: yaml.Node) -> list[tuple[yaml.ScalarNode, yaml.Node]]:
    if not isinstance(node, yaml.MappingNode):
        _fail(path, node, "expected a mapping")
    pairs = []
    for key, value in node.value:
        if not isinstance(key, yaml.ScalarNode):
            _fail(path, key, "expected a name")
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


def _strings(path: Path, node: yaml.Node) -> list[str]:
    return [str(item.value) for item in _string_nodes(path, node)]


def _fail(path: Path, node: yaml.Node, message: str) -> None:
    mark = node.start_mark
    raise ConfigError(f"{path}:{mark.line + 1}:{mark.column + 1}: {message}")


# -- reading an article ----------------------------------------------------------------


class ContextReader:
    """Labels the mentions of matches in one analysed article; each sentence's triggers are
    found once, when a match first needs them."""

    def __init__(self, triggers: Triggers, text: AnalysedText, types: list[WordType]) -> None:
        self.triggers = triggers
        self.text = text
        self.types = types
        published = text.article.published
        self.published = published.date() if published is not None else None
        self._sentences: dict[tuple[int, int], _Sentence] = {}

    def labels(self, terms: Iterable[TermRange]) -> tuple[ContextLabel, ...]:
        """The labels every sentence holding a mention carries, with their cue words.

        A sentence carries a label when a trigger's scope reaches one of its mentions (the
        place may sit outside the scope while the event word is inside). Every sentence
        must carry it, so one plain report of the event keeps the match unlabelled.
        """
        by_sentence: dict[tuple[int, int], list[tuple[int, int]]] = {}
        fields = self.text.fields()
        for field_no, first, last in terms:
            sentence_no = int(fields[field_no].sentence[first])
            by_sentence.setdefault((field_no, sentence_no), []).append((first, last))
        if not by_sentence:
            return ()
        common: dict[ContextLabelName, list[str]] | None = None
        for key, mentions in sorted(by_sentence.items()):
            carried = self._sentence(key).labels(mentions)
            if common is None:
                common = {label: list(cues) for label, cues in carried.items()}
            else:
                common = {
                    label: cues + [c for c in carried[label] if c not in cues]
                    for label, cues in common.items() if label in carried
                }
        assert common is not None
        return tuple(
            ContextLabel(label, tuple(common[label])) for label in LABELS if label in common
        )

    def _sentence(self, key: tuple[int, int]) -> _Sentence:
        sentence = self._sentences.get(key)
        if sentence is None:
            field = self.text.fields()[key[0]]
            first = int(np.searchsorted(field.sentence, key[1], "left"))
            end = int(np.searchsorted(field.sentence, key[1], "right"))
            sentence = _Sentence(self, field, first, end)
            self._sentences[key] = sentence
        return sentence


class _Sentence:
    """One sentence's words, clauses and triggers."""

    def __init__(self, reader: ContextReader, field: FieldText, first: int, end: int) -> None:
        self.field = field
        self.first, self.end = first, end
        types = reader.types
        self.words = [types[t].folded for t in field.types[first:end].tolist()]
        self.clause = self._clauses(reader.triggers.clause_breaks)
        self.stops: dict[int, ContextLabelName | None] = {}  # terminator words by position
        self.cues = self._find_cues(reader.triggers, reader.published)

    def _clauses(self, breaks: frozenset[str]) -> list[int]:
        """Each word's clause number: it grows at punctuation that breaks a clause."""
        text, starts, ends = self.field.text, self.field.starts, self.field.ends
        clause, number = [], 0
        for i in range(self.first, self.end):
            if i > self.first and any(c in breaks for c in text[ends[i - 1]:starts[i]]):
                number += 1
            clause.append(number)
        return clause

    def _find_cues(self, triggers: Triggers, published: date | None) -> list[Cue]:
        """Triggers and past dates, left to right, the longest phrase winning at each word."""
        cues: list[Cue] = []
        words, i, longest = self.words, 0, triggers.longest
        while i < len(words):
            dated = _date_at(words, i, published)
            if dated is not None:
                length, past = dated
                if past:
                    cues.append(Cue("historical", "both", DATE_SCOPE, i, i + length - 1))
                i += length
                continue
            for length in range(min(longest, len(words) - i), 0, -1):
                entries = triggers.phrases.get(tuple(words[i:i + length]))
                if entries:
                    self._note(entries, i, length, cues)
                    i += length
                    break
            else:
                i += 1
        return cues

    def _note(self, entries: tuple[Entry, ...], i: int, length: int, cues: list[Cue]) -> None:
        for entry in entries:
            if entry.direction == "terminate":
                self.stops[i] = entry.label
            elif entry.direction != "pseudo" and entry.label is not None:
                cues.append(Cue(entry.label, entry.direction, entry.scope, i, i + length - 1))

    def labels(self, mentions: list[tuple[int, int]]) -> dict[ContextLabelName, list[str]]:
        """Labels whose triggers reach a mention (field word positions), with cue words."""
        found: dict[ContextLabelName, list[str]] = {}
        for cue in self.cues:
            low, high = self._scope(cue)
            if any(first - self.first <= high and last - self.first >= low
                   for first, last in mentions):
                cues = found.setdefault(cue.label, [])
                words = self._text(cue)
                if words not in cues:
                    cues.append(words)
        return found

    def _scope(self, cue: Cue) -> tuple[int, int]:
        """Sentence word positions [low, high] the cue reaches, within its clause."""
        low, high = cue.last + 1, cue.first - 1  # empty unless a direction widens it
        if cue.direction in ("forward", "both"):
            high = cue.last
            while high + 1 < len(self.words) and high + 1 - cue.last <= cue.scope \
                    and self._continues(cue, high + 1):
                high += 1
        if cue.direction in ("backward", "both"):
            low = cue.first
            while low - 1 >= 0 and cue.first - (low - 1) <= cue.scope \
                    and self._continues(cue, low - 1):
                low -= 1
        return low, high

    def _continues(self, cue: Cue, position: int) -> bool:
        """Whether the cue's scope reaches this word: same clause, no terminator."""
        if self.clause[position] != self.clause[cue.first]:
            return False
        return position not in self.stops or self.stops[position] not in (None, cue.label)

    def _text(self, cue: Cue) -> str:
        field = self.field
        start = int(field.starts[self.first + cue.first])
        return field.text[start:int(field.ends[self.first + cue.last])]


# -- dates -----------------------------------------------------------------------------


def _date_at(words: list[str], i: int, published: date | None) -> tuple[int, bool] | None:
    """A date starting at word i: (its length in words, whether it is clearly before
    `published`), or None when no date starts here. Without `published` no date is past."""
    parsed = _parse_date(words, i)
    if parsed is None:
        return None
    length, year, month, day = parsed
    if published is None or ONGOING & set(words[max(0, i - 2):i]):
        return length, False
    if month is None:
        return length, year is not None and year < published.year
    if year is None:
        if month > published.month:  # later this year, or last year: unknown
            return length, False
        year = published.year
    last_day = day or calendar.monthrange(year, month)[1]
    try:
        when = date(year, month, last_day)
    except ValueError:
        return length, False
    return length, (published - when).days >= HISTORICAL_DAYS


def _parse_date(
    words: list[str], i: int
) -> tuple[int, int | None, int | None, int | None] | None:
    """(length, year, month, day) of "2014", "March 17", "17 March 2016", "July 2012"."""
    day = _day(words[i])
    at = i + 1 if day is not None and i + 1 < len(words) and words[i + 1] in MONTHS else i
    month = MONTHS.get(words[at])
    if month is None:
        year = _year(words[i])
        return (1, year, None, None) if year is not None else None
    after = at + 1
    if day is None and after < len(words):
        day = _day(words[after])
        after += day is not None
    year = _year(words[after]) if after < len(words) else None
    after += year is not None
    if words[at] in AMBIGUOUS_MONTHS and day is None and year is None \
            and (at == 0 or words[at - 1] not in MONTH_LEADS):
        return None
    return after - i, year, month, day


def _year(word: str) -> int | None:
    return int(word) if len(word) == 4 and word.isdigit() and 1900 <= int(word) <= 2100 else None


def _day(word: str) -> int | None:
    digits = word[:-2] if word.endswith(ORDINAL_ENDINGS) else word
    if digits.isdigit() and len(digits) <= 2 and 1 <= int(digits) <= 31:
        return int(digits)
    return None
