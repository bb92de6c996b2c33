"""Text analysis on spaCy: article fields -> words with offsets, sentences and paragraphs.

Everything per word *type* (lower-casing, folding, word-ness) is computed once per
vocabulary entry and looked up per token, so analysis rides on the tokenizer's speed.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

import numpy as np
import spacy
from spacy.attrs import ID, IDX, LENGTH, ORTH, SENT_START
from spacy.lang.char_classes import ALPHA
from spacy.language import Language
from spacy.pipeline import Sentencizer
from spacy.tokenizer import Tokenizer
from spacy.tokens import Doc
from spacy.util import compile_infix_regex

from watcher.model import Article
from watcher.text.lexicon import Lexicon
from watcher.text.pipelines import BLANK_PIPELINE, check_pipeline, unloadable
from watcher.text.variants import fold

# spaCy holds a whole Doc in memory; long texts are analysed in chunks of about this
# many characters, cut at a line break (else a space) so no word is split.
CHUNK_CHARS = 100_000
TOKENIZER_CACHE = 200_000
# spaCy's tokenizer caches how it split each space-delimited string, but once a call meets
# a special case ("U.S.", "'s") it caches nothing more until the call ends: the blank
# pipeline therefore tokenizes pieces of about this many characters, one call each, so the
# cache keeps filling (a whole 100 kB batch in one call caches only what precedes its first
# special case). Pieces are cut where the tokens come out the same (SAFE_CUT).
PIECE_CHARS = 1_000
# Where a text may be cut without changing its tokens: after a single space between two
# letters or digits, or after any other run of white space (its own token). Every string is
# split on white space alone, so only the special-case matcher could join tokens across a
# cut; `cuts_keep_tokens` checks that none of its patterns can span either kind of cut.
SAFE_CUT = re.compile(r"(?<=[^\W_]) (?=[^\W_])|(?<!\S )(?<=\s)(?=\S)")
# Title and body are tokenized together, joined by a paragraph break, then split again.
FIELD_SEPARATOR = "\n\n"
# The sentence-final marks of spaCy's sentencizer.
SENTENCE_PUNCT = frozenset(Sentencizer.default_punct_chars)
# Ranks and titles that spaCy's English tokenizer splits from their full stop ("Col", "."),
# lower-cased: that stop ends no sentence, so `siege NEAR/s Aleppo` holds in "ordered by
# Col. Hassan in Aleppo". (It keeps Gen., Gov., Sen., Adm., Dr., Mr. and more whole.)
ABBREVIATED_TITLES = frozenset({
    "amb", "brig", "brig.-gen", "capt", "cdr", "cmdr", "col", "col.-gen", "cpl", "cpt",
    "det", "fr", "ft", "insp", "lieut", "lt", "lt.-col", "lt.-gen", "maj", "maj.-gen",
    "pfc", "pres", "pte", "pvt", "sgt", "sgt.-maj", "spc", "sr", "supt",
})
# Page furniture that flattened pages run into the story without a full stop (FA-KES:
# "... Print Tweet Views 2494 Related Russian US jets had near miss over Syria ...",
# "... a monitoring group said Tags Nusra Front al-Qaeda Aleppo ..."): capitalised and
# spaced off the word before, these start a sentence of their own, so NEAR/s never pairs
# a related headline or a tag with the story. Case-sensitive: "related" in prose stays.
LEAD_WORDS = frozenset(
    form for word in ("Related", "Tags", "Category", "Categories") for form in (word, word.upper())
)
# Two-word leads: a first word (capitalised) followed by a second; any pairing of the two
# sets reads as furniture ("Read more", "Read also", "See also", "See more", "Follow us").
LEAD_PAIR_FIRSTS = frozenset(
    form for word in ("Read", "See", "Follow") for form in (word, word.upper())
)
LEAD_PAIR_SECONDS = frozenset({"more", "also", "us"})  # lower-cased
# A furniture sentence runs to the next full stop, so the story's own first sentence may be
# glued after the list ("Read more here Syrian miracle baby saver killed in Aleppo The
# opposition fighters launched ..."). Headline lists rarely hold these capitalised words,
# prose sentences often open with them: the furniture ends at the first one (erring
# towards the story, whose words then count as its own).
PROSE_OPENERS = frozenset({"The", "A", "An"})
# An embedded tweet, flattened, ends with its picture link and its signature: the account's
# name, handle and date ("... pic.twitter.com/w5tQH8 UN Refugee Agency (@Refugees) August
# 9, 2016"), a byline, not the story. The link starts a sentence (a lead), and the
# signature is furniture up to its date's year, looked for within SIGNATURE_REACH words.
TWEET_LINK = "pic.twitter.com"
SIGNATURE_REACH = 12
# A bar between words separates the items of a flattened link list ("Iraqs vote
# violations | The global gag rule | Slovenian elections"): it ends a sentence as `.` does.
LIST_SEPARATORS = frozenset({"|"})
# Unicode's own hyphens (U+2010, and U+2011 that does not break a line) split words as the
# ASCII hyphen does in spaCy, so `al‑Hasaka` is the words al and Hasaka.
UNICODE_HYPHEN_INFIX = rf"(?<=[{ALPHA}0-9])[\u2010\u2011](?=[{ALPHA}])"
# Characters that do not show and do not change a word (soft hyphen, zero-width space and
# joiners, word joiner, byte order mark): web pages put them inside words.
INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"))
# A lexeme's rank slot (spaCy's ID attribute, read with `Doc.to_array`) holds watcher's code
# for its word type: a tag in the top byte (so an unset rank, all ones, or a vector row
# number is never mistaken for one), four flags, and the type's index.
TAG_SHIFT = 56
TYPE_TAG = 0x40
WORD_FLAG, BREAK_FLAG, END_FLAG, TITLE_FLAG = 1 << 40, 1 << 41, 1 << 42, 1 << 43
# Per lexeme (case-sensitive), not per word type: boilerplate leads (LEAD_WORDS ...) and
# white space (a lead glued to the token before it, as in "Ukraine-Related", is no lead).
LEAD_FLAG, PAIR_FIRST_FLAG, PAIR_SECOND_FLAG, SPACE_FLAG = 1 << 44, 1 << 45, 1 << 46, 1 << 47
TYPE_MASK = (1 << 40) - 1
LOWEST_CODE, HIGHEST_CODE = TYPE_TAG << TAG_SHIFT, (TYPE_TAG + 1 << TAG_SHIFT) - 1


@dataclass(frozen=True)
class WordType:
    """What watcher knows about one distinct lower-cased token string."""

    lower: str
    folded: str
    is_word: bool
    breaks_paragraph: bool
    ends_sentence: bool
    abbreviated_title: bool  # its full stop ends no sentence (ABBREVIATED_TITLES)


class Tokens(NamedTuple):
    """Token-level arrays of one text: type codes (see TYPE_TAG), character offsets, and the
    trained pipeline's sentence starts (None for the blank one, whose come from word types)."""

    codes: np.ndarray
    starts: np.ndarray
    lengths: np.ndarray
    sentence_marks: np.ndarray | None


@dataclass(frozen=True, eq=False)
class FieldText:
    """One field (title or body) as words: numpy arrays indexed by word position.

    `types` holds each word's index into the analyser's type table; `starts`/`ends`
    are character offsets into `text`; `sentence`/`paragraph` number the units: equal
    within one, growing, with gaps. `sentence_starts` are the character offsets where
    each sentence begins.

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
    # Token level (words and the rest), read only to find where sentences begin.
    tokens: Tokens
    word_tokens: np.ndarray  # the token position of each word in `tokens`
    char_offset: int = 0  # where the field's text begins in the tokens' offsets
    # The token positions of the boilerplate lead words in `tokens` (sorted), which the
    # analyser found to start sentences at them (lead_positions): context reads them here
    # instead of looking for them again. Shared by the fields of a batch.
    token_leads: tuple[int, ...] = ()

    @cached_property
    def sentence_starts(self) -> list[int]:
        """Character offset where each sentence begins; computed only for snippets, and a
        list because snippets bisect it (bisecting an array reads numpy scalars)."""
        if len(self.types) == 0:
            return [0]
        return _sentence_char_starts(self)

    @cached_property
    def _lead_tokens(self) -> frozenset[int]:
        """The token positions of this field's lead words: the fields of a batch share
        `tokens` and `token_leads` (Analyzer.analyse_many), and another article's leads are
        none of its own. Two bisections: the analyser found them already."""
        leads = self.token_leads
        if not leads or not len(self.word_tokens):
            return frozenset()
        first, last = self.word_tokens.item(0), self.word_tokens.item(-1)
        return frozenset(leads[bisect_left(leads, first):bisect_right(leads, last)])

    def has_leads(self) -> bool:
        """Whether a boilerplate lead word is anywhere in the field (most have none): one
        bisection into the batch's leads, nothing kept (context asks once per field)."""
        leads = self.token_leads
        if not leads or not len(self.word_tokens):
            return False
        after = bisect_left(leads, self.word_tokens.item(0))
        return after < len(leads) and leads[after] <= self.word_tokens.item(-1)

    def lead_at(self, word: int) -> bool:
        """Whether the word is a boilerplate lead (`Related`, `Tags`, `Read more`): its
        sentence is page furniture, a list of other pages' titles, not the article's text."""
        return self.word_tokens.item(word) in self._lead_tokens

    def lead_words(self, lead: int) -> str:
        """The lead at word `lead` as the text has it: `Related`, `Read more`, a tweet's
        picture link."""
        surface = self.surface(lead)
        one_word = surface in LEAD_WORDS or is_tweet_link(surface)
        last = lead if one_word else min(lead + 1, len(self) - 1)
        return self.text[self.starts.item(lead):self.ends.item(last)]

    def surface(self, word: int) -> str:
        """The word as the text spells it."""
        return self.text[self.starts.item(word):self.ends.item(word)]

    def furniture_end(self, lead: int, end: int) -> int:
        """Where the page furniture that the lead word at `lead` begins stops, at most
        `end` (its sentence's end): at a prose opener (PROSE_OPENERS, or `At least`);
        after a tweet's signature for its picture link (_signature_end)."""
        if is_tweet_link(self.surface(lead)):
            return self._signature_end(lead, end)
        for word in range(lead + 1, end):
            surface = self.surface(word)
            if surface in PROSE_OPENERS or (
                surface == "At" and word + 1 < end and self.surface(word + 1) == "least"
            ):
                return word
        return end

    def _signature_end(self, link: int, end: int) -> int:
        """The word after the year that dates a tweet's signature (`UN Refugee Agency
        (@Refugees) August 9, 2016`) within SIGNATURE_REACH words of its picture link, at
        most `end`; the word after the link when none is: the link alone is furniture."""
        for word in range(link + 1, min(end, link + 1 + SIGNATURE_REACH)):
            surface = self.surface(word)
            if len(surface) == 4 and surface.isdigit() and 1900 <= int(surface) <= 2100:
                return word + 1
        return min(link + 1, end)

    def __len__(self) -> int:
        return int(self.types.shape[0])

    def sentence_bounds(self, index: int) -> tuple[int, int]:
        """Character range of the field's index-th sentence (from 0; not a word's sentence
        number), trailing white space trimmed."""
        starts = self.sentence_starts
        start = starts[index]
        end = len(self.text) if index >= len(starts) - 1 else starts[index + 1]
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

    def __init__(
        self, pipeline: str = BLANK_PIPELINE, *, lexicon: Lexicon | None = None,
        furniture: bool = True, piece_chars: int | None = PIECE_CHARS,
    ) -> None:
        """`furniture=False` analyses without the page-furniture units (a lead word or a
        list bar starts no sentence): the sentencizer rule alone, which bench/units.py
        compares against. `piece_chars=None` tokenizes each text in one call, the reference
        the pieces (PIECE_CHARS) are tested against."""
        self.pipeline = pipeline
        self.furniture = furniture
        self.nlp = load_pipeline(pipeline)
        self.piece_chars = piece_chars
        self.lexicon = Lexicon.load() if lexicon is None else lexicon
        self.types: list[WordType] = []
        self._type_index: dict[int, int] = {}
        # The blank pipeline's sentence boundaries are computed from word types (below);
        # a trained pipeline's parser or senter is used as it is.
        self._own_sentences = not any(
            self.nlp.has_pipe(p) for p in ("parser", "senter", "sentencizer")
        )
        # A trained pipeline's sentences depend on the whole text: it reads it in one call.
        self._in_pieces = (
            piece_chars is not None and self._own_sentences and cuts_keep_tokens(self.nlp)
        )

    def renewed(self) -> Analyzer:
        """A new analyser on the same pipeline, its type table and spaCy vocabulary empty
        (the lexicon, which never grows, is shared): dropping this one frees every word
        type a long run has met."""
        return Analyzer(
            self.pipeline, lexicon=self.lexicon, furniture=self.furniture,
            piece_chars=self.piece_chars,
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
        lower = lower.translate(INVISIBLE)  # `evac\u00aduation` is the word evacuation
        word = WordType(
            lower=lower,
            folded=fold(lower),
            is_word=any(ch.isalnum() for ch in lower),
            breaks_paragraph="\n" in lower and lower.isspace(),
            ends_sentence=lower in SENTENCE_PUNCT or (self.furniture and lower in LIST_SEPARATORS),
            abbreviated_title=lower in ABBREVIATED_TITLES,
        )
        self.types.append(word)
        return len(self.types) - 1

    def _type_code(self, lower_hash: int, orth: str) -> int:
        """The code stored in a lexeme's rank slot: tag, the type's flags, the lexeme's own
        (case-sensitive) flags, the type's index."""
        index = self.type_of(lower_hash)
        word = self.types[index]
        furniture = self.furniture
        flags = (
            WORD_FLAG * word.is_word
            | BREAK_FLAG * word.breaks_paragraph
            | END_FLAG * word.ends_sentence
            | TITLE_FLAG * word.abbreviated_title
            | LEAD_FLAG * (furniture and (orth in LEAD_WORDS or is_tweet_link(orth)))
            | PAIR_FIRST_FLAG * (furniture and orth in LEAD_PAIR_FIRSTS)
            | PAIR_SECOND_FLAG * (word.lower in LEAD_PAIR_SECONDS)
            | SPACE_FLAG * (orth.isspace())
        )
        return TYPE_TAG << TAG_SHIFT | flags | index

    # -- analysis ---------------------------------------------------------------------

    def words(self, text: str) -> list[str]:
        """The lower-cased words of a short text (a rule's phrase), split and cleaned like
        articles' words (a rule pasted from a web page may hold a soft hyphen too)."""
        return [
            t.lower_.translate(INVISIBLE)
            for t in self.nlp.tokenizer(text)
            if any(c.isalnum() for c in t.text)
        ]

    def analyse(self, article: Article) -> AnalysedText:
        """Title and body of one article, analysed once for every rule."""
        if _too_long(article):
            return self.analyse_many([article])[0]
        return self._analyse_batch([article])[0]

    def analyse_many(self, articles: Sequence[Article]) -> list[AnalysedText]:
        """Several articles at once: their fields are tokenized and numbered as one text
        (up to CHUNK_CHARS), which spreads the fixed cost of each call over the batch.
        Results are the same as one at a time."""
        analysed: list[AnalysedText] = []
        for batch in _batches(articles):
            if len(batch) == 1 and _too_long(batch[0]):
                article = batch[0]
                title = self.analyse_field("title", article.title)
                body = self.analyse_field("body", article.body)
                analysed.append(AnalysedText(article, title, body))
            else:
                analysed.extend(self._analyse_batch(batch))
        return analysed

    def _analyse_batch(self, batch: Sequence[Article]) -> list[AnalysedText]:
        texts = [text for article in batch for text in (article.title, article.body)]
        offsets = np.cumsum([0] + [len(t) + len(FIELD_SEPARATOR) for t in texts[:-1]])
        tokens = self._tokens(FIELD_SEPARATOR.join(texts), 0)
        words = _words(tokens)
        bounds = np.searchsorted(words.starts, offsets).tolist() + [len(words.positions)]
        char_offsets = offsets.tolist()
        fields = [
            _field(("title", "body")[i % 2], text, tokens, words,
                   slice(bounds[i], bounds[i + 1]), char_offsets[i])
            for i, text in enumerate(texts)
        ]
        return [
            AnalysedText(article, fields[2 * n], fields[2 * n + 1])
            for n, article in enumerate(batch)
        ]

    def analyse_field(self, name: str, text: str) -> FieldText:
        parts = [self._tokens(chunk, offset) for offset, chunk in chunks(text)]
        if not parts:
            return _empty_field(name, text)
        tokens = parts[0]
        if len(parts) > 1:
            marks = None
            if not self._own_sentences:
                marks = np.concatenate([p.sentence_marks for p in parts])
            columns = list(zip(*parts, strict=True))[:3]
            tokens = Tokens(*(np.concatenate(column) for column in columns), marks)
        return _field(name, text, tokens, _words(tokens), slice(0, None), 0)

    def _tokens(self, text: str, offset: int) -> Tokens:
        """Token arrays of one chunk, tokenized in pieces (PIECE_CHARS) where that leaves
        the tokens unchanged."""
        if not self._in_pieces:
            return self._piece_tokens(text, offset)
        parts = [
            self._piece_tokens(piece, offset + at)
            for at, piece in pieces(text, self.piece_chars or len(text))
        ]
        if len(parts) == 1:
            return parts[0]
        columns = list(zip(*parts, strict=True))[:3]
        return Tokens(*(np.concatenate(column) for column in columns), None)

    def _piece_tokens(self, text: str, offset: int) -> Tokens:
        """Token arrays of one tokenizer call. Each lexeme carries its type code in its rank
        slot (unused without word vectors), so one `to_array` call yields types and flags."""
        if self._own_sentences:
            doc = self.nlp.tokenizer(text)
            rows = doc.to_array([ID, IDX, LENGTH])
        else:
            doc = self.nlp(text)
            rows = doc.to_array([ID, IDX, LENGTH, SENT_START])
        codes = rows[:, 0]
        if codes.shape[0] and (codes.min() < LOWEST_CODE or codes.max() > HIGHEST_CODE):
            self._learn(doc)
            codes = doc.to_array(ID)
        signed = rows.view(np.int64)  # offsets and lengths are small: no copy needed
        starts = signed[:, 1] + offset if offset else signed[:, 1]
        marks = None if self._own_sentences else rows[:, 3] == 1
        return Tokens(codes, starts, signed[:, 2], marks)

    def _learn(self, doc: Doc) -> None:
        """Give every lexeme of the doc without a code its code (once per lexeme, ever)."""
        codes = doc.to_array(ID)
        unknown = np.unique(doc.to_array(ORTH)[(codes >> TAG_SHIFT) != TYPE_TAG])
        vocab = self.nlp.vocab
        for orth in unknown.tolist():
            lexeme = vocab[orth]
            lexeme.rank = self._type_code(lexeme.lower, lexeme.orth_)


class Words(NamedTuple):
    """Word-level arrays of a token sequence: the words' token positions, type indexes,
    and sentence and paragraph numbers; and the token positions of its lead words."""

    positions: np.ndarray
    types: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    sentence: np.ndarray
    paragraph: np.ndarray
    leads: tuple[int, ...]


def is_tweet_link(surface: str) -> bool:
    """Whether the word is an embedded tweet's picture link (TWEET_LINK ...)."""
    return surface[:len(TWEET_LINK)].lower() == TWEET_LINK


def _words(tokens: Tokens) -> Words:
    """The words of a token sequence, numbered by sentence and paragraph.

    A line break ends a paragraph and therefore a sentence too (headlines and bullet lines
    have no final full stop). For the blank pipeline a sentence-final mark (`.`, `!`, `?`
    ...) or a list bar (`|`) between two words starts a sentence, spaCy's sentencizer rule,
    unless it is the full stop of an abbreviated rank or title (`Col.`, ABBREVIATED_TITLES);
    a trained pipeline's sentence starts are used as they are. With either, a boilerplate
    lead (`Related`, `Tags`, `Read more`: LEAD_WORDS) starts a sentence. A word's sentence
    number counts the markers up to it, so numbers are equal within a sentence and grow,
    with gaps.
    """
    codes = tokens.codes
    positions = np.flatnonzero(codes & WORD_FLAG)
    starts = tokens.starts[positions]
    leads = lead_positions(tokens)
    return Words(
        positions=positions,
        types=(codes[positions] & TYPE_MASK).view(np.int64),
        starts=starts,
        ends=starts + tokens.lengths[positions],
        sentence=np.cumsum(_sentence_markers(tokens, leads))[positions],
        paragraph=np.cumsum(codes & BREAK_FLAG)[positions],
        leads=tuple(leads.tolist()),
    )


def _sentence_markers(tokens: Tokens, leads: np.ndarray | None = None) -> np.ndarray:
    """Tokens that start a sentence for the word at or after them: for the blank
    pipeline the break or final mark itself, for a trained one its sentence start or
    the token after a break; for both a boilerplate lead word itself (`leads`, the
    tokens' lead_positions when the caller found them already)."""
    codes = tokens.codes
    if tokens.sentence_marks is None:
        ends = (codes & END_FLAG) != 0
        ends[1:] &= ~(((codes[:-1] & TITLE_FLAG) != 0)  # "Col" + "." with nothing between
                      & (tokens.starts[:-1] + tokens.lengths[:-1] == tokens.starts[1:]))
        markers = ends | ((codes & BREAK_FLAG) != 0)
    else:
        markers = tokens.sentence_marks.copy()
        markers[1:] |= (codes[:-1] & BREAK_FLAG) != 0
    markers[lead_positions(tokens) if leads is None else leads] = True
    return markers


def lead_positions(tokens: Tokens) -> np.ndarray:
    """Token positions of boilerplate lead words (LEAD_WORDS, and the first of a
    LEAD_PAIR_FIRSTS + LEAD_PAIR_SECONDS pair) not glued to the token before them: page
    furniture that a flattened page runs into the story, so it starts a sentence of its
    own. One numpy call finds the few candidates, so texts without any pay next to nothing;
    found once per batch, each field keeps them (FieldText.token_leads)."""
    candidates = np.flatnonzero(tokens.codes & (LEAD_FLAG | PAIR_FIRST_FLAG))
    if candidates.shape[0] == 0:
        return candidates
    return candidates[[_is_lead(tokens, i) for i in candidates.tolist()]]


def _is_lead(tokens: Tokens, position: int) -> bool:
    codes = tokens.codes
    if not int(codes[position]) & LEAD_FLAG:  # the first word of a pair: is the second next?
        following = position + 1
        if following == codes.shape[0] or not int(codes[following]) & PAIR_SECOND_FLAG:
            return False
    if position == 0:
        return True
    previous = position - 1
    spaced = int(tokens.starts[previous] + tokens.lengths[previous]) < int(tokens.starts[position])
    return spaced or bool(int(codes[previous]) & SPACE_FLAG)


def _field(
    name: str, text: str, tokens: Tokens, words: Words, part: slice, char_offset: int
) -> FieldText:
    """One field's view of the words: `part` selects its words; `char_offset` is where
    the field's text begins in the tokens' character offsets."""
    positions = words.positions[part]
    if positions.shape[0] == 0:
        return _empty_field(name, text)
    starts, ends = words.starts[part], words.ends[part]
    if char_offset:
        starts, ends = starts - char_offset, ends - char_offset
    return FieldText(
        name=name,
        text=text,
        types=words.types[part],
        starts=starts,
        ends=ends,
        sentence=words.sentence[part],
        paragraph=words.paragraph[part],
        tokens=tokens,
        word_tokens=positions,
        char_offset=char_offset,
        token_leads=words.leads,
    )


def _batches(articles: Sequence[Article]) -> Iterator[list[Article]]:
    """Consecutive articles whose fields together stay within CHUNK_CHARS; an article
    longer than that alone (it is analysed in chunks)."""
    batch: list[Article] = []
    size = 0
    for article in articles:
        length = _length(article)
        if batch and size + length > CHUNK_CHARS:
            yield batch
            batch, size = [], 0
        batch.append(article)
        size += length
    if batch:
        yield batch


def _length(article: Article) -> int:
    return len(article.title) + len(article.body) + 2 * len(FIELD_SEPARATOR)


def _too_long(article: Article) -> bool:
    return _length(article) > CHUNK_CHARS


def _empty_field(name: str, text: str) -> FieldText:
    empty = np.zeros(0, dtype=np.int64)
    tokens = Tokens(empty, empty, empty, None)
    return FieldText(name, text, empty, empty, empty, empty, empty, tokens, empty)


def _sentence_char_starts(field: FieldText) -> list[int]:
    """Character offset where each sentence begins: after the last marker token before
    its first word (so an opening quote belongs to the sentence), white space skipped."""
    first_words = np.flatnonzero(np.diff(field.sentence, prepend=-1))
    first_tokens = field.word_tokens[first_words]
    leads = np.asarray(field.token_leads, dtype=np.intp)  # found by analysis: not again
    markers = np.concatenate(([-1], np.flatnonzero(_sentence_markers(field.tokens, leads))))
    marker = markers[np.searchsorted(markers, first_tokens, side="right") - 1]
    # A blank pipeline's marker is the break or mark before the sentence (skip it), or a
    # lead word that is the sentence's first word.
    if field.tokens.sentence_marks is None:
        after = np.where(marker == first_tokens, marker, marker + 1)
    else:
        after = marker
    previous_word = np.concatenate(([-1], field.word_tokens[first_words[1:] - 1]))
    begin = np.where(after > previous_word, after, first_tokens)
    # A white-space token may straddle the separator before the field: clamp to its start.
    result = np.maximum(field.tokens.starts[begin] - field.char_offset, 0).tolist()
    text = field.text
    for i, start in enumerate(result):
        while start < len(text) and text[start].isspace():
            start += 1
        result[i] = start
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


def pieces(text: str, size: int = PIECE_CHARS) -> Iterator[tuple[int, str]]:
    """Split text into (offset, piece) of about `size` characters or more, each cut at the
    first SAFE_CUT after `size` characters, so tokenizing the pieces one by one gives the
    tokens of the whole text."""
    start = 0
    while len(text) - start > size:
        cut = SAFE_CUT.search(text, start + size)
        if cut is None:
            break
        yield start, text[start:cut.end()]
        start = cut.end()
    yield start, text[start:]


def cuts_keep_tokens(nlp: Language) -> bool:
    """Whether no special case of the tokenizer can join tokens across a SAFE_CUT.

    spaCy matches special cases over a whole call's tokens too (those its affix rules would
    split, like `a.m.` or `:)`), ignoring the spaces between them. A pattern could span a cut
    only through two adjacent tokens of its own that look like the two sides of one: the
    first ending in a letter or digit and the second starting with one, or white space."""
    tokenizer = nlp.tokenizer
    bare = Tokenizer(
        nlp.vocab, rules={}, prefix_search=tokenizer.prefix_search,
        suffix_search=tokenizer.suffix_search, infix_finditer=tokenizer.infix_finditer,
        token_match=tokenizer.token_match, url_match=tokenizer.url_match,
    )
    for special in tokenizer.rules:
        pattern = [token.text for token in bare(special)]
        for first, second in zip(pattern, pattern[1:], strict=False):
            if (first[-1].isalnum() and second[0].isalnum()) or (
                first.isspace() or second.isspace()
            ):
                return False
    return True


def load_pipeline(name: str) -> Language:
    """The blank English tokenizer, or a named trained pipeline.

    Neither the lemma nor (for the blank pipeline) sentence boundaries come from a pipe:
    both are properties of word types, computed once per type, which keeps analysis
    close to the tokenizer's speed (see design.md).
    """
    check_pipeline(name)
    if name == BLANK_PIPELINE:
        nlp = spacy.blank("en")
    else:
        try:
            nlp = spacy.load(name)
        except (OSError, ValueError, ImportError) as error:  # not a pipeline, or too old
            raise unloadable(name, error) from None
    nlp.max_length = CHUNK_CHARS * 2
    infixes = [*nlp.Defaults.infixes, UNICODE_HYPHEN_INFIX]
    nlp.tokenizer.infix_finditer = compile_infix_regex(infixes).finditer
    nlp.tokenizer.max_cache_size = TOKENIZER_CACHE
    return nlp
