"""Text analysis: words, offsets, sentences, paragraphs, chunking, and the pipeline choice."""

from __future__ import annotations

import numpy as np
import pytest
import spacy

from watcher.errors import ConfigError
from watcher.model import Article
from watcher.text import analysis
from watcher.text.analysis import Analyzer, check_pipeline, chunks


def _words(analyzer: Analyzer, field) -> list[str]:
    pairs = zip(field.starts.tolist(), field.ends.tolist(), strict=True)
    return [field.text[s:e] for s, e in pairs]


def _units(numbers) -> list[int]:
    """Sentence or paragraph numbers renumbered 0, 1, 2 ... in order of appearance."""
    return np.unique(numbers, return_inverse=True)[1].tolist()


def test_words_exclude_punctuation_and_keep_offsets(analyzer):
    body = "Siege, in al-Hasaka! (Qamişlo)"
    field = analyzer.analyse(Article("a", "", body)).body
    assert _words(analyzer, field) == ["Siege", "in", "al", "Hasaka", "Qamişlo"]


def test_sentences_and_paragraphs(analyzer):
    body = "One two. Three four.\nFive six\n\nSeven."
    field = analyzer.analyse(Article("a", "", body)).body
    sentence = field.sentence.tolist()
    paragraph = field.paragraph.tolist()
    # words: One two | Three four | Five six | Seven
    assert sentence[0] == sentence[1] != sentence[2] == sentence[3] != sentence[4]
    assert sentence[4] == sentence[5] != sentence[6]
    assert paragraph[:4] == [paragraph[0]] * 4
    assert paragraph[0] < paragraph[4] == paragraph[5] < paragraph[6]
    assert field.sentence_bounds(1) == (9, 20)  # the second sentence: Three four.


def test_the_full_stop_of_an_abbreviated_rank_ends_no_sentence(analyzer):
    """spaCy splits `Col.` into `Col` and `.`: news names officers that way all the time."""
    body = ("The siege was ordered by Col. Hassan, Lt.-Gen. Ali and Brig. Gen. Omar in "
            "Aleppo. Sgt. Karim stayed.")
    field = analyzer.analyse(Article("a", "", body)).body
    sentence = field.sentence.tolist()
    assert len(set(sentence[:15])) == 1  # "The siege ... Aleppo."
    assert sentence[15] == sentence[16] == sentence[17] != sentence[0]  # "Sgt. Karim stayed."
    assert field.sentence_bounds(1) == (body.index("Sgt."), len(body))
    spaced = analyzer.analyse(Article("a", "", "Smith is a col . Then he left.")).body
    assert len(set(spaced.sentence.tolist())) == 2  # a full stop apart is a full stop


def test_word_types_are_computed_once(analyzer):
    article = Article("a", "", "The rare word zyxwvut appears; zyxwvut again.")
    analyzer.analyse(article)
    known = len(analyzer.types)
    analyzer.analyse(article)
    assert len(analyzer.types) == known
    assert sum(t.lower == "zyxwvut" for t in analyzer.types) == 1


def test_chunks_cut_at_line_breaks_and_cover_the_text():
    text = ("word " * 30 + "\n") * 100
    pieces = list(chunks(text, size=1000))
    assert "".join(p for _, p in pieces) == text
    assert all(p.endswith("\n") for _, p in pieces[:-1])
    offsets = [sum(len(p) for _, p in pieces[:i]) for i in range(len(pieces))]
    assert [o for o, _ in pieces] == offsets


def test_long_text_offsets_survive_chunking(analyzer):
    body = "filler words here. " * 20_000 + "Aleppo"
    field = analyzer.analyse(Article("a", "", body)).body
    assert field.text[int(field.starts[-1]) : int(field.ends[-1])] == "Aleppo"


def test_a_named_pipeline_is_used_instead_of_the_blank_one(tmp_path):
    nlp = spacy.blank("en")
    nlp.tokenizer.add_special_case("xyzabc", [{"ORTH": "xyz"}, {"ORTH": "abc"}])
    nlp.to_disk(tmp_path / "pipeline")
    assert Analyzer(str(tmp_path / "pipeline")).words("xyzabc") == ["xyz", "abc"]
    assert Analyzer().words("xyzabc") == ["xyzabc"]


def test_one_pass_analysis_equals_field_by_field(analyzer):
    article = Article(
        "a", "Siege ends. U.S. reacts", "Forces left Qamishli.\nTalks resume. Next!\n\nEnd"
    )
    together = analyzer.analyse(article)
    for name, field in (("title", together.title), ("body", together.body)):
        alone = analyzer.analyse_field(name, getattr(article, name))
        for attr in ("types", "starts", "ends"):
            assert getattr(field, attr).tolist() == getattr(alone, attr).tolist(), (name, attr)
        assert field.sentence_starts == alone.sentence_starts, name
        for attr in ("sentence", "paragraph"):  # the same units, whatever their numbers
            assert _units(getattr(field, attr)) == _units(getattr(alone, attr)), (name, attr)


def test_sentences_do_not_merge_at_a_chunk_boundary(analyzer):
    sentence = "Aleppo is calm today. "
    body = sentence * 6000 + "Siege ends."  # over 100,000 characters: several chunks
    field = analyzer.analyse(Article("a", "", body)).body
    per_sentence = len(analyzer.words(sentence))
    units = _units(field.sentence)
    assert units[-1] == 6000  # 6000 sentences before the last
    assert units[: 2 * per_sentence] == [0] * per_sentence + [1] * per_sentence


def test_a_chunk_never_cuts_a_word_when_a_space_follows_soon():
    text = "a" * 150_000 + " tail"
    pieces = [p for _, p in chunks(text, size=100_000)]
    assert pieces == ["a" * 150_000 + " ", "tail"]


def test_a_pipeline_with_its_own_sentence_splitter_decides_sentences(tmp_path):
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer", config={"punct_chars": [";"]})  # splits at ';' only
    nlp.to_disk(tmp_path / "pipeline")
    analyzer = Analyzer(str(tmp_path / "pipeline"))
    field = analyzer.analyse(Article("a", "Title here", 'One two; "Three four. Five\nSix')).body
    # words: One two | Three four Five | Six  (';' and the line break end sentences, '.' not)
    assert _units(field.sentence) == [0, 0, 1, 1, 1, 2]
    start, end = field.sentence_bounds(1)
    assert field.text[start:end] == "Three four. Five"  # where the sentencizer put the start


def test_an_opening_quote_belongs_to_its_sentence(analyzer):
    field = analyzer.analyse(Article("a", "", 'One two. "Three four," he said.')).body
    start, end = field.sentence_bounds(1)
    assert field.text[start:end] == '"Three four," he said.'


def _same_analysis(one, other) -> None:
    for name in ("title", "body"):
        a, b = getattr(one, name), getattr(other, name)
        for attr in ("types", "starts", "ends"):
            assert getattr(a, attr).tolist() == getattr(b, attr).tolist(), (name, attr)
        assert a.sentence_starts == b.sentence_starts, name
        for attr in ("sentence", "paragraph"):
            assert _units(getattr(a, attr)) == _units(getattr(b, attr)), (name, attr)


def test_articles_analysed_together_equal_articles_analysed_alone(analyzer):
    long_body = "Aleppo is calm today. " * 5000  # over CHUNK_CHARS: analysed on its own
    articles = [
        Article("a", "Siege ends. U.S. reacts", "Forces left Qamishli.\nTalks resume. Next!"),
        Article("b", "Title with trailing space ", " body with a leading space."),
        Article("c", "", "Body without a title."),
        Article("d", "Title without a body", ""),
        Article("e", "Long", long_body),
        Article("f", '"Quoted," he said.', '"Another quote." Then more.\n\n\nEnd'),
    ] + [Article(f"g{n}", f"Title {n}", "Filler words here. " * 400) for n in range(20)]
    together = analyzer.analyse_many(articles)
    assert [t.article.id for t in together] == [a.id for a in articles]
    for analysed, article in zip(together, articles, strict=True):
        _same_analysis(analysed, analyzer.analyse(article))
        title = analyzer.analyse_field("title", article.title)
        assert analysed.title.starts.tolist() == title.starts.tolist()


def test_articles_analysed_together_report_only_their_own_page_furniture(analyzer):
    """A batch's fields share their tokens; a lead word (`Related`) in one article's body
    is no other field's, so the others keep the reader's fast path (no furniture)."""
    articles = [
        Article("a", "Troops advance", "Shells hit Homs. Related News Oil prices fall"),
        Article("b", "A calm day", "Nothing happened in Hama."),
    ]
    together = analyzer.analyse_many(articles)
    assert [[field.has_leads() for field in text.fields()] for text in together] == [
        [False, True], [False, False]
    ]


def test_an_installed_pipeline_package_for_another_language_is_refused(tmp_path, monkeypatch):
    """A package's language is read from its meta.json, as spaCy reads it, before loading.
    (No second-language package is installed here: spaCy is told this folder is one.)"""
    spacy.blank("de").to_disk(tmp_path / "de_news")
    monkeypatch.setattr(spacy.util, "is_package", lambda name: name == "de_news")
    monkeypatch.setattr(spacy.util, "get_package_path", lambda name: tmp_path / name)
    with pytest.raises(ConfigError, match=r"'de_news' is for language 'de', not 'en'"):
        check_pipeline("de_news")
    spacy.blank("en").to_disk(tmp_path / "en_news")
    monkeypatch.setattr(spacy.util, "is_package", lambda name: name == "en_news")
    check_pipeline("en_news")


def test_a_field_finds_its_page_furniture_among_its_own_tokens_only(analyzer, monkeypatch):
    """Context asks each field of a batch whether it has a lead word: each answers from the
    leads the analyser found in the batch (two bisections into them), looking at no token
    again and at no other article's lead (a batch of 30 articles with a `Related` list each
    made each field look at every lead of the batch, then at its own tokens' leads)."""
    articles = [Article(f"a{n}", f"Title {n}", f"Shells hit Homs. Related News Item {n}")
                for n in range(30)]
    together = analyzer.analyse_many(articles)
    looked: list[int] = []
    is_lead = analysis._is_lead

    def counted(tokens, position: int) -> bool:
        looked.append(position)
        return is_lead(tokens, position)

    monkeypatch.setattr(analysis, "_is_lead", counted)
    assert [field.has_leads() for field in together[7].fields()] == [False, True]
    assert [field.lead_at(3) for field in together[7].fields()[1:]] == [True]
    assert looked == []
