"""The date reader of context labels: whether the words at a place in a sentence are a date
("2014", "March 17") clearly before the article's publication, a historical trigger. Its
English (month names, ordinals) is code, here; what a date's words around it say is data.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from datetime import date

from watcher.engine.context_triggers import DateRules

__all__ = ["DATE_SCOPE", "MONTHS", "date_at", "day_of", "is_fronted", "year_of"]

# A date this many days or more before publication is history, not today's news: reports
# of the last days ("on Tuesday", "on March 3" in an article of March 5) are the news.
HISTORICAL_DAYS = 14
DATE_SCOPE = 8  # words on either side of a past date (its clause when it opens the sentence)
MONTHS = {
    name: number
    for number in range(1, 13)
    for name in (calendar.month_name[number].lower(), calendar.month_abbr[number].lower())
} | {"sept": 9}
MONTHS |= {f"{name}.": number for name, number in list(MONTHS.items())
           if len(name) <= 4 and name != "may"}  # "Sept. 22", as spaCy keeps the period
# Months that are also ordinary words: a month only beside a day or year, or after these.
AMBIGUOUS_MONTHS = frozenset({"may", "march", "jan", "mar", "sep", "dec"})
MONTH_LEADS = frozenset({"in", "early", "late", "mid", "since", "until", "on", "by", "of",
                         "last", "this", "between", "from", "during", "through"})
ORDINAL_ENDINGS = ("st", "nd", "rd", "th")


def date_at(
    words: Sequence[str], i: int, published: date | None, dates: DateRules
) -> tuple[int, bool] | None:
    """A date starting at word i: (its length in words, whether it is clearly before
    `published`), or None when no date starts here. Without `published` no date is past,
    nor after one of the `ongoing` phrases of `dates`."""
    parsed = _parse_date(words, i)
    if parsed is None:
        return None
    length, year, month, day = parsed
    if published is None or _ongoing(words, i, dates):
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


def _ongoing(words: Sequence[str], i: int, dates: DateRules) -> bool:
    """Whether an `ongoing` phrase ends within its reach before the date at word i."""
    ongoing = dates.ongoing
    return any(
        ongoing.get(tuple(words[max(0, at + 1 - length):at + 1]), 0) >= i - at
        for at in range(max(0, i - dates.ongoing_reach), i) for length in dates.ongoing_lengths
    )


def _parse_date(
    words: Sequence[str], i: int
) -> tuple[int, int | None, int | None, int | None] | None:
    """(length, year, month, day) of "2014", "March 17", "17 March 2016", "July 2012"."""
    day = day_of(words[i])
    at = i + 1 if day is not None and i + 1 < len(words) and words[i + 1] in MONTHS else i
    month = MONTHS.get(words[at])
    if month is None:
        year = year_of(words[i])
        return (1, year, None, None) if year is not None else None
    after = at + 1
    if day is None and after < len(words):
        day = day_of(words[after])
        after += day is not None
    year = year_of(words[after]) if after < len(words) else None
    after += year is not None
    if words[at] in AMBIGUOUS_MONTHS and day is None and year is None \
            and (at == 0 or words[at - 1] not in MONTH_LEADS):
        return None
    return after - i, year, month, day


def is_fronted(words: Sequence[str], start: int) -> bool:
    """Whether the date at `start` opens its sentence ("On September 5 troops broke the
    blockade ...", "In 2014 ..."): a fronted time sets the time of the whole clause, not
    only of the words beside it."""
    return start == 0 or (start == 1 and words[0] in MONTH_LEADS)


def year_of(word: str) -> int | None:
    return int(word) if len(word) == 4 and word.isdigit() and 1900 <= int(word) <= 2100 else None


def day_of(word: str) -> int | None:
    digits = word[:-2] if word.endswith(ORDINAL_ENDINGS) else word
    if digits.isdigit() and len(digits) <= 2 and 1 <= int(digits) <= 31:
        return int(digits)
    return None
