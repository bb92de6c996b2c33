"""Text analysis on spaCy: article fields -> words with offsets, sentences and paragraphs.

Everything per word *type* (lower-casing, folding, word-ness) is computed once per
vocabulary entry and looked up per token, so analysis rides on the tokenizer's speed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import spacy
from spacy.attrs import IDX, LENGTH, LOWER, SENT_START
from spacy.language import Language
from spacy.pipeline import Sentencizer

from watcher.errors import ConfigError
from watcher.model import Article
from watcher.text.lexicon import Lexicon
from watcher.text.variants import fold

# spaCy holds a whole Doc in memory; long texts are analysed in chunks of about this
# many characters, cut at a line break (else a space) so no word is split.
CHUNK_CHARS = 100_000
TOKENIZER_CACHE = 200_000
BLANK_PIPELINE = "blank:en"
# Title and body are tokenized together, joined by a paragraph break, then split again.
FIELD_SEPARATOR = "\n\n"
# The sentence-final marks of spaCy's sentencizer.
SENTENCE_PUNCT = frozenset(Sentencizer.default_punct_chars)


@dataclass(frozen=True)
class WordType:
    """What watcher knows about one distinct lower-cased token string."""

    lower: str
    folded: str
    is_word: bool
    breaks_paragraph: bool
    ends_sentence: bool


@dataclass(frozen=True, eq=False)
class FieldText:
    """One field (title or body) as words: numpy arrays indexed by word position.

    `types` holds each word's index into the analyser's type table; `starts`/`ends`
    are character offsets into `text`; `sentence`/`paragraph` number the units from 0.
    `sentence_starts` are the character offsets where each sentence begins.

    Frozen, but `sentence_starts` is cached on first use (cached_property writes the
    instance dictionary directly).
    """

    name: str
    text: str
    types: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    sentence: np.ndarray
    paragraph: np.ndarray
    # Token-level arrays (words and the rest) behind `sentence_starts`.
    token_sentence: np.ndarray
    token_starts: np.ndarray
    token_breaks: np.ndarray

    @cached_property
    def sentence_starts(self) -> np.ndarray:
        """Character offset where each sentence begins; computed only for snippets."""
        if len(self.token_sentence) == 0:
            return np.zeros(1, dtype=np.int64)
        return _sentence_char_starts(self.token_sentence, self.token_starts, self.token_breaks)

    def __len__(self) -> int:
        return int(self.types.shape[0])

    def sentence_bounds(self, sentence_id: int) -> tuple[int, int]:
        """Character range of one sentence, trailing white space trimmed."""
        start = int(self.sentence_starts[sentence_id])
        last = len(self.sentence_starts) - 1
        end = len(self.text) if sentence_id >= last else int(self.sentence_starts[sentence_id + 1])
        while end > start and self.text[end - 1].isspace():
            end -= 1
        return start, end


@dataclass(frozen=True, eq=False)
class AnalysedText:
    """An article's title and body, analysed once and read by every rule."""

    article: Article
    title: FieldText
    body: FieldText

    def fields(self) -> tuple[FieldText, FieldText]:
        return (self.title, self.body)


class Analyzer:
    """Owns the spaCy pipeline and the per-word-type table shared with the engine.

    The type table only grows; the engine caches its own per-type answers by the same
    index, so both stay consistent for the analyser's lifetime.
    """

    def __init__(self, pipeline: str = BLANK_PIPELINE) -> None:
        self.nlp = load_pipeline(pipeline)
        self.lexicon = Lexicon.load()
        self.types: list[WordType] = []
        self._type_index: dict[int, int] = {}
        self._type_is_word = np.zeros(0, dtype=bool)
        self._type_breaks = np.zeros(0, dtype=bool)
        self._type_ends = np.zeros(0, dtype=bool)
        self._known_hashes = np.zeros(0, dtype=np.uint64)
        self._known_types = np.zeros(0, dtype=np.int64)
        # The blank pipeline's sentence boundaries are computed from word types (below);
        # a trained pipeline's parser or senter is used as it is.
        self._own_sentences = not any(
            self.nlp.has_pipe(p) for p in ("parser", "senter", "sentencizer")
        )

    # -- word types -------------------------------------------------------------------

    def type_of(self, lower_hash: int) -> int:
        """Index of a word type by its LOWER hash, creating it on first sight."""
        index = self._type_index.get(lower_hash)
        if index is None:
            index = self._add_type(self.nlp.vocab.strings[lower_hash])
            self._type_index[lower_hash] = index
        return index

    def _add_type(self, lower: str) -> int:
        word = WordType(
            lower=lower,
            folded=fold(lower),
            is_word=any(ch.isalnum() for ch in lower),
            breaks_paragraph="\n" in lower and lower.isspace(),
            ends_sentence=lower in SENTENCE_PUNCT,
        )
        self.types.append(word)
        return len(self.types) - 1

    def _flags(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per-type boolean arrays (word, paragraph break, sentence end).

        Extended with the new types only: Python work follows new words, not the
        vocabulary's size (which grows for as long as a daemon runs).
        """
        known = len(self._type_is_word)
        if known != len(self.types):
            new = self.types[known:]

            def extend(flags: np.ndarray, values: Iterator[bool]) -> np.ndarray:
                return np.concatenate((flags, np.fromiter(values, dtype=bool, count=len(new))))

            self._type_is_word = extend(self._type_is_word, (t.is_word for t in new))
            self._type_breaks = extend(self._type_breaks, (t.breaks_paragraph for t in new))
            self._type_ends = extend(self._type_ends, (t.ends_sentence for t in new))
        return self._type_is_word, self._type_breaks, self._type_ends

    # -- analysis ---------------------------------------------------------------------

    def words(self, text: str) -> list[str]:
        """The lower-cased words of a short text (a rule's phrase), split like articles."""
        return [t.lower_ for t in self.nlp.tokenizer(text) if any(c.isalnum() for c in t.text)]

    def analyse(self, article: Article) -> AnalysedText:
        """Both fields; a short article is tokenized in one pass, which halves the fixed
        per-call cost that dominates for headlines."""
        title, body = article.title, article.body
        if (
            len(title) + len(body) + len(FIELD_SEPARATOR) > CHUNK_CHARS
            or title[-1:].isspace()
            or body[:1].isspace()  # white space would merge with the separator
        ):
            return AnalysedText(
                article, self.analyse_field("title", title), self.analyse_field("body", body)
            )
        offset = len(title) + len(FIELD_SEPARATOR)
        arrays = self._analyse_chunk(title + FIELD_SEPARATOR + body, 0)
        title_end, body_start = np.searchsorted(arrays[1], [len(title), offset]).tolist()
        title_part = tuple(a[:title_end] for a in arrays)
        types, starts, ends, *flags = (a[body_start:] for a in arrays)
        body_part = (types, starts - offset, ends - offset, *flags)
        return AnalysedText(
            article,
            self._field_from("title", title, title_part),
            self._field_from("body", body, body_part),
        )

    def _field_from(self, name: str, text: str, part: tuple[np.ndarray, ...]) -> FieldText:
        if len(part[0]) == 0:
            return _empty_field(name, text)
        return _join_fields(name, text, [part], self._own_sentences)

    def analyse_field(self, name: str, text: str) -> FieldText:
        parts = [self._analyse_chunk(chunk, offset) for offset, chunk in chunks(text)]
        if not parts:
            return _empty_field(name, text)
        return _join_fields(name, text, parts, self._own_sentences)


    def _analyse_chunk(self, text: str, offset: int) -> tuple[np.ndarray, ...]:
        """Arrays for one chunk: types, starts, ends, sentence starts (token-level flags)."""
        if self._own_sentences:
            rows = self.nlp.tokenizer(text).to_array([LOWER, IDX, LENGTH])
        else:
            rows = self.nlp(text).to_array([LOWER, IDX, LENGTH, SENT_START])
        if rows.shape[0] == 0:
            empty, no = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool)
            return empty, empty, empty, no, no, no
        types = self._types_of(rows[:, 0])
        is_word, breaks, ends_sentence = self._flags()
        starts = rows[:, 1].astype(np.int64) + offset
        ends = starts + rows[:, 2].astype(np.int64)
        # Sentence marks: the trained pipeline's sentence starts, or for the blank one the
        # sentence-final tokens, turned into starts once the chunks are joined.
        marks = ends_sentence[types] if self._own_sentences else rows[:, 3] == 1
        return types, starts, ends, marks, breaks[types], is_word[types]

    def _types_of(self, lower_hashes: np.ndarray) -> np.ndarray:
        """Type index per token by binary search in C over the known hashes.

        Only strings never seen before go through Python (once each, ever).
        """
        where = np.searchsorted(self._known_hashes, lower_hashes)
        where = np.minimum(where, max(len(self._known_hashes) - 1, 0))
        if len(self._known_hashes) == 0 or not np.array_equal(
            self._known_hashes[where], lower_hashes
        ):
            self._learn(lower_hashes)
            where = np.searchsorted(self._known_hashes, lower_hashes)
        return self._known_types[where]

    def _learn(self, lower_hashes: np.ndarray) -> None:
        """Add the types of unseen hashes, merged into the sorted lookup arrays."""
        unique = np.unique(lower_hashes)
        where = np.searchsorted(self._known_hashes, unique)
        inside = where < len(self._known_hashes)
        known = np.zeros(len(unique), dtype=bool)
        known[inside] = self._known_hashes[where[inside]] == unique[inside]
        new_hashes = unique[~known]  # sorted, as np.unique returns them
        new_types = np.fromiter(
            (self.type_of(h) for h in new_hashes.tolist()), dtype=np.int64, count=len(new_hashes)
        )
        at = where[~known]
        self._known_hashes = np.insert(self._known_hashes, at, new_hashes)
        self._known_types = np.insert(self._known_types, at, new_types)


def sentence_start_mask(is_word: np.ndarray, ends_sentence: np.ndarray) -> np.ndarray:
    """spaCy's sentencizer rule, vectorised: a word starts a sentence when a sentence-final
    mark (`.`, `!`, `?` …) came after the previous word.
    """
    positions = np.arange(is_word.shape[0])
    last_end = np.maximum.accumulate(np.where(ends_sentence, positions, -1))
    last_word = np.maximum.accumulate(np.where(is_word, positions, -1))
    before_end = np.concatenate(([-1], last_end[:-1]))
    before_word = np.concatenate(([-1], last_word[:-1]))
    return is_word & (before_end > before_word)


def _empty_field(name: str, text: str) -> FieldText:
    empty = np.zeros(0, dtype=np.int64)
    return FieldText(name, text, empty, empty, empty, empty, empty, empty, empty, empty)


def _join_fields(
    name: str, text: str, parts: list[tuple[np.ndarray, ...]], own_sentences: bool
) -> FieldText:
    """Concatenate chunk arrays and number sentences and paragraphs over the whole field.

    A line break ends a paragraph and therefore a sentence too: headlines and bullet
    lines have no final full stop.
    """
    if len(parts) == 1:
        types, starts, ends, marks, breaks, is_word = parts[0]
    else:
        types, starts, ends, marks, breaks, is_word = (
            np.concatenate(col) for col in zip(*parts, strict=True)
        )
    if types.shape[0] == 0:
        return _empty_field(name, text)
    paragraph = np.cumsum(breaks)
    after_break = np.zeros_like(breaks)
    after_break[1:] = breaks[:-1]
    sent_start = sentence_start_mask(is_word, marks) if own_sentences else marks
    new_sentence = sent_start | after_break
    new_sentence[0] = True
    sentence = np.cumsum(new_sentence) - 1
    return FieldText(
        name=name,
        text=text,
        types=types[is_word],
        starts=starts[is_word],
        ends=ends[is_word],
        sentence=sentence[is_word],
        paragraph=paragraph[is_word],
        token_sentence=sentence,
        token_starts=starts,
        token_breaks=breaks,
    )


def _sentence_char_starts(
    sentence: np.ndarray, starts: np.ndarray, breaks: np.ndarray
) -> np.ndarray:
    """Character offset of each sentence's first non-break token."""
    count = int(sentence[-1]) + 1
    result = np.full(count, -1, dtype=np.int64)
    keep = ~breaks
    ids = sentence[keep][::-1]
    result[ids] = starts[keep][::-1]  # reversed so the first token of a sentence wins
    missing = result < 0
    if missing.any():  # a sentence of line breaks only: start where the next one starts
        for i in np.nonzero(missing)[0][::-1]:
            result[i] = result[i + 1] if i + 1 < count else int(starts[-1])
    return result


def chunks(text: str, size: int = CHUNK_CHARS) -> Iterator[tuple[int, str]]:
    """Split text into (offset, chunk) pieces of about `size` characters, cut at a break.

    Only a run of over `size` characters without a space is cut inside a word.
    """
    start = 0
    while start < len(text):
        end = min(start + size, len(text))
        if end < len(text):
            cut = text.rfind("\n", start + size // 2, end)
            if cut < 0:
                cut = text.rfind(" ", start + size // 2, end)
            if cut < 0:  # no break in the window: the next space, unless absurdly far
                cut = text.find(" ", end, end + size)
            end = cut + 1 if cut >= 0 else end
        yield start, text[start:end]
        start = end


def load_pipeline(name: str) -> Language:
    """The blank English tokenizer, or a named trained pipeline.

    Neither the lemma nor (for the blank pipeline) sentence boundaries come from a pipe:
    both are properties of word types, computed once per type, which keeps analysis
    close to the tokenizer's speed (see design.md).
    """
    if name == BLANK_PIPELINE:
        nlp = spacy.blank("en")
    else:
        try:
            nlp = spacy.load(name)
        except OSError as error:
            raise ConfigError(
                f"spaCy pipeline {name!r} is not installed (pip install it, or use blank:en):"
                f" {error}"
            ) from None
    nlp.max_length = CHUNK_CHARS * 2
    nlp.tokenizer.max_cache_size = TOKENIZER_CACHE
    return nlp
