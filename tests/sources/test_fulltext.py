"""Main-text extraction on a news page with navigation, ads, comments and a sidebar around it."""

from __future__ import annotations

from pathlib import Path

import pytest

from watcher.sources.fulltext import extract_text

PAGE = Path(__file__).resolve().parents[1] / "data" / "pages" / "news-article.html"
URL = "https://frontline.example/middle-east/aid-convoy-reaches-besieged-district"

ARTICLE_SENTENCES = [
    "A convoy of twenty-two trucks carrying flour, medicine and fuel entered the besieged district"
    " on Tuesday morning",
    "“People have been baking bread from animal feed,” said a nurse at the district’s only clinic",
    "Fuel for the clinic",
    "Three of the trucks carried diesel for the clinic’s generator",
    "Previous attempts to reach the district in January were turned back at the checkpoint",
]
BOILERPLATE = [
    "cookie",  # banner
    "Subscribe for unlimited access",  # navigation
    "Advertisement",
    "Luxury holidays",  # ads: top, inline, sidebar
    "SmartPhone X",
    "Online degree",
    "propaganda",  # reader comments
    "Thank you for the reporting",
    "cheap followers",
    "Post comment",
    "Related stories",  # boxes and sidebar
    "Winter storms",
    "morning briefing",
    "Celebrity chef",
    "All rights reserved",  # footer
    "Privacy policy",
    "Share on social media",
    "dataLayer",  # script and style
    "min-height",
]


@pytest.fixture(scope="module")
def text() -> str:
    extracted = extract_text(PAGE.read_bytes(), url=URL)
    assert extracted is not None
    return extracted


def test_the_article_text_comes_out(text: str) -> None:
    for sentence in ARTICLE_SENTENCES:
        assert sentence in text


@pytest.mark.parametrize("phrase", BOILERPLATE)
def test_the_boilerplate_does_not(text: str, phrase: str) -> None:
    assert phrase.lower() not in text.lower()


def test_paragraphs_are_separated_by_blank_lines(text: str) -> None:
    paragraphs = text.split("\n\n")
    assert "Fuel for the clinic" in paragraphs
    assert all(p.strip() == p and p for p in paragraphs)
    assert (
        sum(
            p.startswith(("A convoy", "The convoy", "Three of", "The humanitarian"))
            for p in paragraphs
        )
        == 4
    )


def test_text_and_bytes_give_the_same_text(text: str) -> None:
    assert extract_text(PAGE.read_text(encoding="utf-8"), url=URL) == text


@pytest.mark.parametrize(
    "page",
    [
        b"",
        "",
        "just a few words",
        b"\x00\x00<p>x</p>",
        "<html><body></body></html>",
        bytes(range(256)),
    ],
    ids=repr,
)
def test_nothing_useful_is_none(page: bytes | str) -> None:
    assert extract_text(page, url=URL) is None


def test_a_headline_that_repeats_the_title_is_dropped(text: str) -> None:
    """The feed entry's title is the article's title: the page's <h1> saying it again
    would be matched and highlighted twice."""
    headline = "Aid convoy reaches besieged district after weeks of talks"
    assert text.startswith(headline + "\n\n")
    without = extract_text(PAGE.read_bytes(), url=URL, title="AID CONVOY reaches  besieged district"
                           " after weeks of talks")
    assert without == text.removeprefix(headline + "\n\n")
    other = extract_text(PAGE.read_bytes(), url=URL, title="A different headline")
    assert other == text
