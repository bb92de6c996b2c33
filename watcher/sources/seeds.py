"""Seed-format .txt input: split scraped pages into articles and strip site boilerplate.

Owns the title/body/date rules; they are pattern lists plus repetition detection, not per-site code.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from enum import Enum, auto
from pathlib import Path
from typing import NamedTuple

from watcher.errors import InputError
from watcher.model import Article
from watcher.sources.files import unusable_reason
from watcher.when import as_utc

# Only lines this short are tried against patterns: boilerplate is short, and this bounds every
# regex to constant work per line, so a 50 MB line costs one pass, never a backtracking blow-up.
MAX_META_LINE = 200
# Longer first lines are treated as body text (a page without a headline), not as a title.
MAX_TITLE = 300
MAX_TITLE_WORDS = 30
# The repeated headline block (title, captions, title again) sits within this many lines.
HEADER_WINDOW = 40
# A new article starts after at least this many blank lines (the seeds use 2-4).
MIN_GAP = 2
# Any line end, also CR alone (old Mac files) and CR CR LF (CRLF converted twice).
LINE_END = re.compile(r"\r*\n|\r")

# Whole-line furniture, as one anchored alternation so each line costs one regex call. The
# `stamp` branch only counts when its date parses; `label` is a caption label without its text.
_FURNITURE = re.compile(
    "|".join(
        (
            r"(?:last\s+)?(?P<stamp>updated|published|posted)(?:\s+on)?\s*:?\s*(?P<when>\S.*)",
            r"(?P<label>(?:photo\s+)?caption\s*:?)",
            r"(?:photo\s+)?caption\s*:.*",  # a caption with its text on the same line
            r"TT|\d{1,4}",  # font-size toggle, share / comment counters
            r"follow(?: us)?|share(?: this)?|print|advertisement|read more|captcha",
            r"skip to (?:main )?content|select page|your comments?|you are replying to:.*",
            r"reporter['’]?s code:?\s*\S*|news (?:code|id):?\s*\d*|media id:?\s*\d*",
        )
    ),
    re.IGNORECASE,
)
_CREDIT = re.compile(
    r"\b(?:AP|AFP|EPA|SANA|DPA|UPI)\b|\b(?i:photos?|reuters|getty|anadolu|xinhua|file)\b"
)
_TIME = r"(?:(?:,|\s+at)?\s+(?P<H>\d{1,2}):(?P<M>\d{2})\s*(?P<ampm>[ap]\.?m\.?)?)?"
_DAY_MONTH_YEAR = re.compile(
    r"(?:[a-z]+,?\s+)?(?P<d>\d{1,2})(?:st|nd|rd|th)?\s+(?P<m>[a-z]+)\.?,?\s+(?P<y>\d{4})" + _TIME,
    re.IGNORECASE,
)
_MONTH_DAY_YEAR = re.compile(
    r"(?:[a-z]+,?\s+)?(?P<m>[a-z]+)\.?\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<y>\d{4})" + _TIME,
    re.IGNORECASE,
)
_TIMEZONE_SUFFIX = re.compile(r"\s*(?:GMT|UTC|Z)\s*$", re.IGNORECASE)
_WORD = re.compile(r"[a-z0-9]+")

# fmt: off
_MONTH_NAMES = (
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
)
# fmt: on
_MONTHS = {
    **{name: number for number, name in enumerate(_MONTH_NAMES, 1)},
    **{name[:3]: number for number, name in enumerate(_MONTH_NAMES, 1)},
    "sept": 9,
}

# Outlets whose name shows up as a banner line or a "Title | Site" suffix in scraped pages.
# fmt: off
SITE_NAMES = (
    "Asharq Al-Awsat", "Arab News", "The New Arab", "Al-Araby Al-Jadeed", "Al Jazeera",
    "Al-Monitor", "Associated Press", "Reuters", "AFP", "BBC News", "Enab Baladi",
    "North Press Agency", "Rudaw", "Kurdistan24", "Syria Direct", "SANA",
)
# fmt: on
# Navigation words that, followed by "| Site", make a site banner rather than a headline.
# fmt: off
_SECTION_WORDS = frozenset((
    "home", "news", "latest", "world", "middle", "east", "middle-east", "arab", "arabic", "gulf",
    "opinion", "opinions", "politics", "economy", "business", "sport", "sports", "culture",
    "lifestyle", "features", "analysis", "video", "videos", "photos", "multimedia", "media",
    "technology", "tech", "science", "health", "region", "international", "english", "archive",
))
# fmt: on
_TITLE_SEPARATORS = (" | ", " – ", " — ", " - ")
_BULLETS = "•·▪►*-–—"
_SENTENCE_END = ".,;:…"
_CLOSING_QUOTES = "\"'”’»)"


def read_seed_file(path: str | os.PathLike[str], *, file_id: str | None = None) -> list[Article]:
    """Articles of one seed file, ids from `file_id` (default: the file stem); InputError
    when it is unusable.

    Unreadable, empty, binary (NUL bytes) or non-UTF-8 files, and files holding no article,
    raise InputError so the caller can report them and go on with other inputs.
    """
    name = os.fspath(path)
    try:
        data = Path(name).read_bytes()
    except OSError as exc:
        raise InputError(name, f"cannot read: {exc.strerror or exc}") from None
    reason = unusable_reason(data)
    if reason is not None:
        raise InputError(name, reason)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(name, f"invalid UTF-8 at byte {exc.start}") from None
    articles = read_seed_text(text, file_id=file_id or Path(name).stem)
    if not articles:
        raise InputError(name, "no article found (only blank or boilerplate lines)")
    return articles


def read_seed_text(text: str, *, file_id: str, source: str = "seeds") -> list[Article]:
    """Split seed-format text into articles with ids `file_id#n` (n counts from 1).

    Pure and linear in the text size, so callers can feed it any scraped page.
    """
    articles: list[Article] = []
    for segment in _split_segments(_lines(text)):
        article = _build_article(segment, f"{file_id}#{len(articles) + 1}", source)
        if article is not None:
            articles.append(article)
    return articles


class _Kind(Enum):
    """What a non-blank line is, decided once per distinct line so every pass stays cheap."""

    BOILERPLATE = auto()  # site furniture, banners, inline captions
    DATE = auto()  # an `Updated/Published <date>` stamp (also furniture)
    LABEL = auto()  # a bare `Caption:` label; the caption text is on the next line
    CREDIT = auto()  # a photo caption ending in a credit such as `(AFP)`
    TITLE = auto()  # may be a headline: short, no sentence end, no bullet
    TEXT = auto()  # anything else: paragraphs, bullets


_FURNITURE_KINDS = (_Kind.BOILERPLATE, _Kind.DATE, _Kind.LABEL)


class _Line(NamedTuple):
    """A stripped non-blank line with its kind and, for DATE lines, (stamp word, datetime)."""

    text: str
    kind: _Kind
    stamp: tuple[str, datetime] | None = None


def _lines(text: str) -> list[str]:
    """Stripped lines (blank ones as ""), whichever line ends the file uses (old Mac
    files end lines with CR alone); stripping also drops indentation of captions."""
    text = text.removeprefix("\ufeff")
    return [line.strip() for line in LINE_END.split(text)]


def _split_segments(lines: Sequence[str]) -> list[list[_Line]]:
    """Classified non-blank lines grouped per article.

    A new article starts at a headline-like line after a gap of MIN_GAP+ blank lines, but only
    once the current one has body text: a gap between a caption and the body is no boundary.
    """
    cache: dict[str, _Line] = {}
    segments: list[list[_Line]] = [[]]
    blank_run = 0
    seen_title = has_body = False
    for text in lines:
        if not text:
            blank_run += 1
            continue
        line = cache.get(text) or _classify(text, cache)
        if blank_run >= MIN_GAP and has_body and line.kind is _Kind.TITLE:
            segments.append([])
            seen_title = has_body = False
        blank_run = 0
        segments[-1].append(line)
        if has_body or line.kind in _FURNITURE_KINDS or line.kind is _Kind.CREDIT:
            continue
        has_body = seen_title and line.kind is _Kind.TEXT
        seen_title = True
    return [segment for segment in segments if segment]


def _classify(text: str, cache: dict[str, _Line]) -> _Line:
    """The kind of one line; short lines are cached, as furniture and captions repeat a lot."""
    if len(text) > MAX_META_LINE:  # patterns only describe short lines
        return _Line(text, _Kind.TITLE if _is_title_like(text) else _Kind.TEXT)
    line = _furniture(text)
    if line is None and ("|" in text or len(text) <= 40) and _is_site_banner(text):
        line = _Line(text, _Kind.BOILERPLATE)
    if line is None and text.endswith(")") and _is_credit_caption(text):
        line = _Line(text, _Kind.CREDIT)
    if line is None:
        line = _Line(text, _Kind.TITLE if _is_title_like(text) else _Kind.TEXT)
    cache[text] = line
    return line


def _furniture(text: str) -> _Line | None:
    """The line as DATE, LABEL or BOILERPLATE when it matches _FURNITURE, else None."""
    match = _FURNITURE.fullmatch(text)
    if match is None:
        return None
    if match["stamp"]:
        when = _parse_date(match["when"])
        return None if when is None else _Line(text, _Kind.DATE, (match["stamp"].lower(), when))
    return _Line(text, _Kind.LABEL if match["label"] else _Kind.BOILERPLATE)


def _build_article(lines: Sequence[_Line], article_id: str, source: str) -> Article | None:
    """One article from its classified lines, or None when they are all furniture."""
    start = _title_index(lines)
    if start is None:
        return None
    headline = lines[start].text
    counts = Counter(line.text for line in lines)
    if len(headline) > MAX_TITLE:  # no headline: everything is body
        title, header_end = "", start - 1
    else:
        title, header_end = _strip_site_suffix(headline), _header_end(lines, start, counts)
    return Article(
        id=article_id,
        title=title,
        body="\n\n".join(_body_lines(lines, start, header_end, counts)),
        published=_published(lines),
        source=source,
    )


def _title_index(lines: Sequence[_Line]) -> int | None:
    """Index of the headline: the first line that is neither furniture nor a photo caption."""
    after_label = False
    for index, line in enumerate(lines):
        if line.kind is _Kind.LABEL:
            after_label = True
        elif after_label or line.kind in _FURNITURE_KINDS or line.kind is _Kind.CREDIT:
            after_label = False
        else:
            return index
    return None


def _header_end(lines: Sequence[_Line], start: int, counts: Counter[str]) -> int:
    """Index of the last repeat of the headline near the top; the body starts after it.

    The search stops at the first paragraph printed only once: a headline repeated after real
    text is a footer or related link, not the end of the headline block.
    """
    headline = lines[start].text
    title = _strip_site_suffix(headline)
    end = start
    for index in range(start + 1, min(len(lines), start + 1 + HEADER_WINDOW)):
        text, kind, _ = lines[index]
        if text == headline or (len(text) <= MAX_TITLE and _strip_site_suffix(text) == title):
            end = index
        elif kind is _Kind.TEXT and counts[text] == 1:
            break
    return end


def _body_lines(
    lines: Sequence[_Line], start: int, header_end: int, counts: Counter[str]
) -> list[str]:
    """Paragraphs after the header, without furniture and the captions leading into the body.

    Until the first real paragraph, lines already seen in the header, a line printed exactly
    twice in a row (image alt text + caption), photo-credit captions and the line after a
    `Caption:` label are captions, not body. The headline itself never is body.
    """
    texts = [line.text for line in lines]
    header = set(texts[start : header_end + 1])
    leading = True
    after_label = False
    body: list[str] = []
    for index in range(header_end + 1, len(lines)):
        text, kind = texts[index], lines[index].kind
        if kind is _Kind.LABEL:
            after_label = leading
            continue
        if kind in _FURNITURE_KINDS or (start <= header_end and text == texts[start]):
            continue
        if leading:
            doubled = counts[text] == 2 and text in (_at(texts, index - 1), _at(texts, index + 1))
            if after_label or doubled or text in header or kind is _Kind.CREDIT:
                after_label = False
                continue
            leading = False
        body.append(text)
    return body


def _at(texts: Sequence[str], index: int) -> str | None:
    """The text at `index`, or None outside the list (no wrap-around for -1)."""
    return texts[index] if 0 <= index < len(texts) else None


def _published(lines: Sequence[_Line]) -> datetime | None:
    """The date of the first `Published …` line, else of the first `Updated …`/`Posted …` line.

    Datelines inside captions or text are deliberately ignored: they date events, not the page.
    """
    stamps = [line.stamp for line in lines if line.stamp is not None]
    published = [when for word, when in stamps if word == "published"]
    return (published or [when for _, when in stamps] or [None])[0]


def _parse_date(text: str) -> datetime | None:
    """A timezone-aware UTC datetime from the date formats news sites print, or None."""
    text = _TIMEZONE_SUFFIX.sub("", text.strip().rstrip("."))
    try:
        return as_utc(datetime.fromisoformat(text))
    except ValueError:  # not ISO, or out of range: try the other forms
        pass
    match = _DAY_MONTH_YEAR.fullmatch(text) or _MONTH_DAY_YEAR.fullmatch(text)
    if match is None:
        return None
    month = _MONTHS.get(match["m"].lower())
    if month is None:
        return None
    hour, minute = _clock(match["H"], match["M"], match["ampm"])
    try:
        return datetime(int(match["y"]), month, int(match["d"]), hour, minute, tzinfo=UTC)
    except ValueError:  # 31 February, 25:00 …
        return None


def _clock(hour: str | None, minute: str | None, ampm: str | None) -> tuple[int, int]:
    """24-hour (hour, minute) from an optional 12- or 24-hour time; midnight when absent."""
    if hour is None or minute is None:
        return 0, 0
    value = int(hour)
    if ampm:
        value = value % 12 + (12 if ampm.lower().startswith("p") else 0)
    return value, int(minute)


def _is_credit_caption(line: str) -> bool:
    """A photo caption: a line ending in a short parenthesised credit such as `(AFP)`."""
    if "(" not in line:
        return False
    credit = line[line.rfind("(") + 1 : -1]
    return len(credit) <= 60 and bool(_CREDIT.search(credit) or _site_words(credit))


def _is_site_banner(line: str) -> bool:
    """A site-name line: the outlet's name, alone or after navigation words and `|`."""
    *nav, last = line.split("|")
    if len(last) > 40:  # cheap test first: most lines fail it
        return False
    site = _site_words(last)
    if not site or site != _words(last):
        return False
    return all(word in _SECTION_WORDS for word in " ".join(nav).lower().split())


def _strip_site_suffix(title: str) -> str:
    """The headline without a trailing ` | Site …` / ` - Site` added by the page title."""
    for separator in _TITLE_SEPARATORS:
        index = title.find(separator)
        while index > 0:
            tail = title[index + len(separator) :]
            if len(tail) <= 80 and _site_words(tail):
                return title[:index].rstrip()
            index = title.find(separator, index + 1)
    return title


def _site_words(text: str) -> list[str]:
    """The words of the known site name `text` starts with, or [] when it starts with none."""
    words = _words(text)
    for site in _SITE_WORDS:
        if words[: len(site)] == site:
            return site
    return []


def _words(text: str) -> list[str]:
    """Lower-case alphanumeric words, so `Asharq Al-awsat` equals `ASHARQ AL-AWSAT`."""
    return _WORD.findall(text.lower())


_SITE_WORDS = [_words(name) for name in SITE_NAMES]


def _is_title_like(line: str) -> bool:
    """Whether a (non-furniture) line can be a headline: short, no sentence end, no bullet."""
    if len(line) > MAX_TITLE or line[0] in _BULLETS or _ends_sentence(line):
        return False
    return len(line.split()) <= MAX_TITLE_WORDS


def _ends_sentence(line: str) -> bool:
    """Whether a line ends like a sentence (`.`, `,`, `:` …), possibly inside closing quotes."""
    stripped = line.rstrip(_CLOSING_QUOTES)
    return bool(stripped) and stripped[-1] in _SENTENCE_END
