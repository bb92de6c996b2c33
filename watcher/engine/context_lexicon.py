"""Which words may start a context cue (ContextLexicon), learnt once per word type of an
analyser and kept across articles: apart from the reader (context.py) and the sentence
(context_sentence.py), whose state is one article's.
"""

from __future__ import annotations

from datetime import date

import numpy as np

from watcher.engine.context_dates import MONTHS, year_of
from watcher.engine.context_triggers import Triggers
from watcher.text.analysis import WordType

__all__ = ["ContextLexicon"]

# ContextLexicon's years after which a word may be a cue: a trigger's anchor is one even in
# an article without a publication date (year -1), other words never (a year is at most 2100).
ALWAYS_A_CUE, NEVER_A_CUE = -2, np.iinfo(np.int16).max
YEARS_KEPT = 8  # publication years whose cue words ContextLexicon keeps (few: recent news)


class ContextLexicon:
    """Per word type of one analyser, from which publication year on a trigger or a past
    date can start at it: learnt once per type, so an article's words that may be cues are
    found in one array lookup and a sentence is searched only at those few."""

    def __init__(self, triggers: Triggers, types: list[WordType]) -> None:
        self.triggers = triggers
        self.types = types
        self.known = 0  # types learnt; the arrays below have room for more (_room)
        self._folded = np.zeros(0, dtype=object)  # of each type (an array: read by slices)
        # Per type: the word may start a cue in an article published after this year.
        self._cue_after_year = np.zeros(0, dtype=np.int16)
        # Per publication year (-1: unknown), whether each type may start a cue.
        self._cues_by_year: dict[int, np.ndarray] = {}

    def anchors(self, type_indexes: np.ndarray, published: date | None) -> list[int]:
        """Positions in `type_indexes` of the words a cue of an article published on
        `published` (None: unknown) may be found by: a trigger's anchor always, a month when
        the date is known, a year when it is before the publication's."""
        self.learn()
        year = -1 if published is None else published.year
        cues = self._cues_by_year.get(year)
        if cues is None:
            if len(self._cues_by_year) >= YEARS_KEPT:
                self._cues_by_year.clear()
            cues = self._cues_by_year[year] = self._cue_after_year < year
        return cues.take(type_indexes).nonzero()[0].tolist()

    def words(self, type_indexes: np.ndarray) -> list[str]:
        """The folded words of these types (a sentence's, to find its cues in)."""
        self.learn()
        return self._folded[type_indexes].tolist()

    def learn(self) -> None:
        """Catch up with the word types the analyser met since."""
        known, total = self.known, len(self.types)
        if known == total:
            return
        new = [word.folded for word in self.types[known:total]]
        self._folded = _room(self._folded, total)
        self._folded[known:total] = new
        after_year = self._cue_after_year = _room(self._cue_after_year, total)
        after_year[known:total] = [self._cue_after(word) for word in new]
        for year, cues in self._cues_by_year.items():
            cues = self._cues_by_year[year] = _room(cues, total)
            cues[known:total] = after_year[known:total] < year
        self.known = total

    def _cue_after(self, word: str) -> int:
        """The year after which articles may have a cue at the word (see `anchors`)."""
        if word in self.triggers.anchors:
            return ALWAYS_A_CUE
        if word in MONTHS:
            return 0
        year = year_of(word)
        return NEVER_A_CUE if year is None else year


def _room(array: np.ndarray, size: int) -> np.ndarray:
    """`array`, or a copy at least twice as large when it has fewer than `size` entries:
    a daemon learns a few types per article, and each is then copied a bounded number of
    times, not at every article."""
    if size <= len(array):
        return array
    grown = np.zeros(max(size, 2 * len(array)), dtype=array.dtype)
    grown[:len(array)] = array
    return grown
