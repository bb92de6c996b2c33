"""Snippets: the sentence or sentences that hold a match's spans, with the spans marked.

Marks are `[` and `]` so the snippet reads the same in JSON, mail and a terminal; the
article's own brackets are escaped (watcher/marks.py).
"""

from __future__ import annotations

from bisect import bisect_right

from watcher.marks import escape, marked
from watcher.model import Span
from watcher.text.analysis import AnalysedText, FieldText

MAX_SENTENCES = 3
MAX_SENTENCE_CHARS = 400
CONTEXT_CHARS = 120


def make_snippet(text: AnalysedText, spans: list[Span]) -> str:
    """Up to MAX_SENTENCES sentences holding the spans, title first, joined by ' … '.
    Without spans (a rule of NOT alone: no word made it hold) the body's first sentence,
    else the title, unmarked: an alert still shows what the article is about."""
    if not spans:
        return _opening(text)
    pieces: list[str] = []
    for field_text in text.fields():
        in_field = [s for s in spans if s.field == field_text.name]
        for sentence_index in _sentences_of(field_text, in_field):
            if len(pieces) == MAX_SENTENCES:
                break
            pieces.append(_marked_sentence(field_text, sentence_index, in_field))
    return " … ".join(pieces)


def _opening(text: AnalysedText) -> str:
    for field_text in (text.body, text.title):
        if field_text.starts.shape[0]:  # it has a word, so a first sentence
            return _marked_sentence(field_text, 0, [])
    return ""


def _sentences_of(field_text: FieldText, spans: list[Span]) -> list[int]:
    """Indexes of the sentences that hold the spans' starts.

    A match has a few spans: bisecting the array per span beats a numpy call per match.
    """
    if not spans:
        return []
    starts = field_text.sentence_starts
    return sorted({max(0, bisect_right(starts, s.start) - 1) for s in spans})


def _marked_sentence(field_text: FieldText, sentence_index: int, spans: list[Span]) -> str:
    """One sentence with the spans in it marked, cut around them when it is long. A phrase
    may run on past the sentence's end (punctuation is no word): only its part inside is
    marked, so a long sentence is always cut."""
    start, end = field_text.sentence_bounds(sentence_index)
    inside = [
        Span(max(s.start, start), min(s.end, end), s.field)
        for s in spans
        if s.start < end and s.end > start
    ]
    if end - start > MAX_SENTENCE_CHARS:
        lead, tail = start, end
        if inside:
            start = max(start, inside[0].start - CONTEXT_CHARS)
            end = min(end, inside[-1].end + CONTEXT_CHARS, start + MAX_SENTENCE_CHARS)
        else:  # an opening shown without a match in it
            end = start + MAX_SENTENCE_CHARS
        inside = [s for s in inside if s.end <= end]
        prefix, suffix = ("…" if start > lead else ""), ("…" if end < tail else "")
    else:
        prefix = suffix = ""
    return prefix + mark(field_text.text, start, end, inside) + suffix


def mark(text: str, start: int, end: int, spans: list[Span]) -> str:
    """text[start:end] with each (non-overlapping part of a) span marked, the rest escaped."""
    out: list[str] = []
    cursor = start
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        if span.start < cursor:  # nested or overlapping: already inside a mark
            continue
        out.append(escape(text[cursor : span.start]))
        out.append(marked(text[span.start : span.end]))
        cursor = span.end
    out.append(escape(text[cursor:end]))
    return " ".join("".join(out).split())
