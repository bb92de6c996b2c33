"""Tokenizing in pieces (PIECE_CHARS, so spaCy's cache keeps filling) gives exactly the
analysis of tokenizing each text in one call: the same words, offsets, word types, sentence
and paragraph numbers."""

from __future__ import annotations

import spacy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.corpus import load_corpus
from watcher.model import Article
from watcher.text.analysis import (
    CHUNK_CHARS,
    PIECE_CHARS,
    AnalysedText,
    Analyzer,
    cuts_keep_tokens,
    pieces,
)

# FA-KES-like material: special cases of the English tokenizer, affixes, abbreviated
# ranks, furniture leads, list bars, Unicode hyphens and odd white space.
WORDS = [
    "Aleppo", "siege", "U.S.", "Syria's", "'s", "don't", "a.m.", "p.m.", "e.g.", ":)", "(:",
    "Col.", "Gen.", "Mr.", "Jan.", "al-Hasaka", "al\u2011Bab", "(Reuters)", '"quoted,"', "--",
    "10km", "5a.m.", "Related", "Read", "more", "Tags", "|", "The", "A", "...", "St.", "'em",
    "o.O", "<3", "evac\u00aduation", "1,200", "http://example.com/a?b=1", "x@y.org", "Lt.-Gen.",
]
SPACES = [" ", " ", " ", " ", "  ", "\n", "\n\n", "\t", "\xa0", " \n", ". ", ", "]
TEXTS = st.lists(
    st.tuples(st.sampled_from(WORDS), st.sampled_from(SPACES)), max_size=60
).map(lambda pairs: "".join(word + space for word, space in pairs))


def _reference(analyzer: Analyzer) -> Analyzer:
    return Analyzer(lexicon=analyzer.lexicon, piece_chars=None)


def _in_pieces(analyzer: Analyzer, size: int) -> Analyzer:
    return Analyzer(lexicon=analyzer.lexicon, piece_chars=size)


def _field_view(analyzer: Analyzer, analysed: AnalysedText) -> list[object]:
    """Everything a field's analysis tells, word types by their strings (type indexes are
    the analyser's own numbering)."""
    view: list[object] = []
    for field in analysed.fields():
        view.append((
            field.name, field.text, [analyzer.types[t] for t in field.types.tolist()],
            field.starts.tolist(), field.ends.tolist(), field.sentence.tolist(),
            field.paragraph.tolist(), field.sentence_starts,
            [field.lead_at(w) for w in range(len(field))],
        ))
    return view


def _same(reference: Analyzer, other: Analyzer, articles: list[Article]) -> None:
    expected = [_field_view(reference, a) for a in reference.analyse_many(articles)]
    got = [_field_view(other, a) for a in other.analyse_many(articles)]
    assert got == expected


def test_pieces_cover_the_text_and_cut_only_between_words_or_after_white_space():
    text = "Siege of Aleppo. U.S. forces\n\nleft  al-Bab, (Reuters) said. " * 30
    cut = list(pieces(text, size=40))
    assert "".join(p for _, p in cut) == text
    assert [o for o, _ in cut] == [sum(len(p) for _, p in cut[:i]) for i in range(len(cut))]
    for _, piece in cut[:-1]:
        assert len(piece) >= 40
        assert (piece[-1] == " " and piece[-2].isalnum()) or (piece[-1].isspace() and (
            piece[-2:] != " " or not piece[-2].isalnum()))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(titles=st.lists(TEXTS, min_size=1, max_size=4), bodies=st.lists(TEXTS, min_size=1,
       max_size=4), size=st.integers(min_value=1, max_value=60))
def test_analysis_in_pieces_equals_analysis_in_one_call(analyzer, titles, bodies, size):
    articles = [Article(f"a{n}", title, body)
                for n, (title, body) in enumerate(zip(titles, bodies, strict=False))]
    _same(_reference(analyzer), _in_pieces(analyzer, size), articles)


def test_fakes_analysed_in_pieces_equals_one_call_also_over_chunks(analyzer):
    """Every FA-KES article; then bodies over CHUNK_CHARS (several chunks, each in pieces)
    and a batch of many articles tokenized together."""
    articles = list(load_corpus().articles)
    long_body = " ".join(a.body for a in articles[:150])
    assert len(long_body) > 2 * CHUNK_CHARS
    articles += [Article("long", "A long one", long_body), Article("lines", "Lines", "\n".join(
        a.body for a in articles[150:260]))]
    _same(_reference(analyzer), Analyzer(lexicon=analyzer.lexicon), articles)


def test_words_after_a_special_case_are_tokenized_from_the_cache(analyzer):
    """spaCy caches no string after a call meets a special case as a whole string ("I'm",
    "don't", ":)"): in pieces, a text analysed again is tokenized from the cache, its affix
    rules never searched again (but in the piece the special case opens)."""
    fresh = Analyzer(lexicon=analyzer.lexicon)
    searched: list[str] = []
    suffix_search = fresh.nlp.tokenizer.suffix_search

    def counting(text: str) -> object:
        searched.append(text)
        return suffix_search(text)

    fresh.nlp.tokenizer.suffix_search = counting  # flushes the cache: set before analysing
    body = "I'm sure. " + " ".join(f"word{n}" for n in range(3000))
    fresh.analyse(Article("a", "Title", body))
    searched.clear()
    fresh.analyse(Article("a", "Title", body))
    again = [text for text in searched if text.startswith("word")]
    assert all(body.index(text + " ") < 2 * PIECE_CHARS for text in again)
    assert len(again) < 3000 / 10


def test_a_special_case_that_could_span_a_cut_turns_pieces_off(tmp_path):
    assert cuts_keep_tokens(spacy.blank("en"))
    nlp = spacy.blank("en")
    nlp.tokenizer.add_special_case("5km", [{"ORTH": "5km"}])  # its affix split: 5 | km
    assert not cuts_keep_tokens(nlp)
    nlp.to_disk(tmp_path / "pipeline")
    analyzer = Analyzer(str(tmp_path / "pipeline"), piece_chars=4)
    field = analyzer.analyse(Article("a", "", "It is 5km away, 5 km from 5km.")).body
    assert [field.surface(w) for w in range(len(field))] == [
        "It", "is", "5km", "away", "5", "km", "from", "5km"]
