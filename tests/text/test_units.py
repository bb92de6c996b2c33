"""Text units: page furniture that a flattened page runs into the story (related headlines,
tags, read-more links, link lists) starts a sentence of its own; real sentences stay whole.

The texts are verbatim FA-KES excerpts (tests/data/units/SOURCE.txt)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import spacy

from watcher.model import Article
from watcher.text.analysis import Analyzer, FieldText

EXCERPTS = Path(__file__).parent.parent / "data" / "units" / "fakes_units.jsonl"
CASES = [json.loads(line) for line in EXCERPTS.read_text(encoding="utf-8").splitlines()]


def _sentences(field: FieldText) -> list[str]:
    bounds = (field.sentence_bounds(i) for i in range(len(field.sentence_starts)))
    return [field.text[start:end] for start, end in bounds]


@pytest.mark.parametrize("case", CASES, ids=[f"{c['article']}-{c['note']}" for c in CASES])
def test_fakes_furniture_is_a_sentence_of_its_own(analyzer: Analyzer, case: dict) -> None:
    field = analyzer.analyse(Article("a", "", case["text"])).body
    assert _sentences(field) == case["units"]
    # The words' sentence numbers agree with the snippets' sentences.
    assert len(set(field.sentence.tolist())) == len(case["units"])


def test_a_lead_word_needs_its_capital_and_a_space_before_it(analyzer: Analyzer) -> None:
    body = ("Deaths related to the siege rose and Ukraine-Related talks stalled in Aleppo while "
            "the tags were read more often")
    field = analyzer.analyse(Article("a", "", body)).body
    assert _sentences(field) == [body]


def test_a_pair_lead_needs_its_second_word(analyzer: Analyzer) -> None:
    body = "Officials said Read more about it here. See the map Follow us on Instagram"
    field = analyzer.analyse(Article("a", "", body)).body
    assert _sentences(field) == [
        "Officials said", "Read more about it here.", "See the map", "Follow us on Instagram",
    ]


def test_a_lead_word_starts_a_sentence_across_extra_spaces_and_in_the_title(
    analyzer: Analyzer,
) -> None:
    text = analyzer.analyse(Article("a", "Siege of Aleppo | Reuters", "Talks failed  Tags Aleppo"))
    assert _sentences(text.title) == ["Siege of Aleppo |", "Reuters"]
    assert _sentences(text.body) == ["Talks failed", "Tags Aleppo"]


def test_near_s_holds_inside_a_real_sentence_not_across_related_headlines(fires) -> None:
    """FA-KES 1923848281 and 1924058093: alerts an analyst judged boilerplate
    (bench/data/quality/labels.jsonl), made by NEAR/s pairing a caption or the story with a
    list of related headlines."""
    caption = next(c["text"] for c in CASES if c["article"] == "1923848281")
    peace = "(Astana OR Sochi OR Geneva) NEAR/s (talks OR round OR congress OR negotiation)"
    assert not fires(peace, caption)
    assert fires(peace, "Russia will host talks on Syria in Sochi next month. Related News")
    related = next(c["text"] for c in CASES if c["article"] == "1924058093")
    sdf = "(talks OR deal OR dialogue) NEAR/s (SDF OR YPG)"
    story = "Turkey and the US reached a deal on the YPG on Monday."
    assert not fires(sdf, "Officials held talks in Ankara " + related)
    assert fires(sdf, story + " Source TRTWorld and agencies " + related)


def test_a_lead_word_starts_a_sentence_with_a_pipeline_of_its_own_too(tmp_path: Path) -> None:
    """`--pipeline` names a trained pipeline whose splitter decides the rest; here a
    sentencizer that splits at ';' only, so the cut before `Related` is the units' own."""
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer", config={"punct_chars": [";"]})
    nlp.to_disk(tmp_path / "pipeline")
    analyzer = Analyzer(str(tmp_path / "pipeline"))
    body = "Talks were held in Sochi. Print Tweet Related Russia FM hosts talks with Syria; End"
    field = analyzer.analyse(Article("a", "", body)).body
    assert _sentences(field) == [
        "Talks were held in Sochi. Print Tweet", "Related Russia FM hosts talks with Syria;", "End",
    ]


def test_a_tweets_picture_link_starts_a_sentence(analyzer: Analyzer) -> None:
    """A flattened embedded tweet ends with its picture link and the account's signature:
    the link starts a sentence, so NEAR/s never pairs the tweet's words with the byline's."""
    signed = "pic.twitter.comQw3Er Aid Desk (aiddesk) June 1 2016 Roads shut."
    field = analyzer.analyse(Article("a", "", f"Shelling resumed at dawn {signed}")).body
    assert _sentences(field) == ["Shelling resumed at dawn", signed]
    linked = "pic.twitter.com/Qw3Er — Aid Desk (@aiddesk) June 1, 2016"
    field = analyzer.analyse(Article("a", "", f"Roads shut https://t.co/x1 {linked}")).body
    assert _sentences(field) == ["Roads shut https://t.co/x1", linked]
