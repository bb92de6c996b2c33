"""The context trigger lists as values (Triggers, with Entry, DateRules, Alternatives), which
the sentence reader, the date reader and the lexicon read articles with; apart from reading
the files into them (context_triggers_load.py), so those import the values alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from watcher.model import ContextLabelName

__all__ = ["MAX_SCOPE", "TRIGGER_DIRECTIONS", "Alternatives", "DateRules", "Entry", "Triggers",
           "Words"]

TRIGGER_DIRECTIONS = ("forward", "backward", "both")
MAX_SCOPE = 30  # words; a trigger reaching further would label unrelated clauses

Words = tuple[str, ...]


@dataclass(frozen=True)
class Entry:
    """What one phrase of the trigger file does: a label's trigger (with its direction and
    scope in words), its pseudo-trigger, or a terminator (`label` None: every label's)."""

    label: ContextLabelName | None
    direction: str
    scope: int = 0


@dataclass(frozen=True)
class DateRules:
    """What the words around a past date say of it (the data file's `dates:`). `ongoing`:
    phrases that make the date the start of something that may still hold ("since 2012",
    "a truce agreed in February"), each with its reach, how many words before the date its
    last word may end; `present_perfect`: phrases that end the forward scope of a date
    inside its sentence. The lengths and the longest reach are the search's bounds,
    computed here from the lists so they cannot disagree with them."""

    ongoing: Mapping[Words, int]
    present_perfect: frozenset[Words]
    ongoing_lengths: tuple[int, ...] = field(init=False)
    ongoing_reach: int = field(init=False)
    present_perfect_lengths: tuple[int, ...] = field(init=False)

    def __post_init__(self) -> None:
        bounds = {
            "ongoing_lengths": tuple(sorted({len(phrase) for phrase in self.ongoing})),
            "ongoing_reach": max(self.ongoing.values(), default=0),
            "present_perfect_lengths": tuple(sorted({len(p) for p in self.present_perfect})),
        }
        for name, value in bounds.items():
            object.__setattr__(self, name, value)  # frozen: set once, here


@dataclass(frozen=True)
class Alternatives:
    """When a lead ("whether") asks which of a few names did it, not whether it happened
    (the data file's `alternatives:`): an "or" within `reach` words after the lead, none of
    them a `clause_words` one, and no `future_words` one within `future_reach` words after
    the "or"."""

    leads: frozenset[Words]
    reach: int
    clause_words: frozenset[str]
    future_reach: int
    future_words: frozenset[str]


@dataclass(frozen=True)
class Triggers:
    """The compiled trigger lists: phrases (as analysed words) to what they do, and the
    places of the triggers and pseudo-triggers by their anchor, the phrase's longest word
    (its offset in the phrase, the phrase's length): common words such as "in", "was"
    start phrases ("in the past", "was denied"), so a phrase is looked for only where its
    rarer word is. `stop_lengths`: the lengths of the terminators and exempt phrases each
    first word starts, longest first (looked for only in a sentence that has a trigger).
    `governs_next_word`: the labels whose cue governs the word right after it, so their own
    terminators end it only further on ("did not in fact bomb")."""

    phrases: Mapping[Words, tuple[Entry, ...]]
    clause_breaks: frozenset[str]
    anchors: Mapping[str, tuple[tuple[int, int], ...]]
    stop_lengths: Mapping[str, tuple[int, ...]]
    governs_next_word: frozenset[ContextLabelName]
    dates: DateRules
    alternatives: Alternatives
