"""Seed-format splitting pinned on the repo's seeds/ and on small synthetic pages."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from watcher.errors import InputError
from watcher.model import Article
from watcher.sources.seeds import read_seed_file, read_seed_text

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
FRENCH_FM = "French FM Says Iraq Should Not Be Dragged into Regional Conflicts"

TITLES = {
    "000_ea334c6b3ea67e35": [
        "Russia Mediates to End Siege on Kurdish Neighborhoods in Aleppo",
        FRENCH_FM,
    ],
    "001_a458cd11a7b1be15": [
        "Syrian Kurdish-led forces withdraw from government zones in Qamishlo",
    ],
    "002_f1b182a00dc1175e": ["Moscow, Washington Prepare for ‘Post-Aleppo’ Phase"],
    "003_62d23f3d9c69c146": [
        "New Round of Negotiations on Syria to Kick Off in Astana",
        FRENCH_FM,
    ],
    "004_10471c499198fc54": [
        "Major powers seek to hold Sochi congress for Syria in late January",
        "Syrian military tells civilians to evacuate contested area east of Aleppo amid rising"
        " tensions",
    ],
}

BOILERPLATE_LINES = {
    "TT",
    "20",
    "Follow",
    "captcha",
    "Your Comment",
    "You are replying to: .",
    "Select Page",
    "Caption:",
    "Middle-east Arab News Opinion | Asharq Al-awsat",
}
BOILERPLATE_PATTERNS = [
    r"\d+",
    r"Reporter.s code.*",
    r"News Code.*",
    r"Media ID.*",
    r"(Updated|Published) .*",
]
CAPTIONS = [
    "A security region in al-Hasaka (Asharq Al-Awsat)",
    "Iraqi Foreign Minister Fouad Hussein, right, shakes hands",
    "Russian Foreign Ministry Sergey Lavrov and UN envoy to Syria Geir Pedersen (AFP)",
    "Syrian residents fleeing the violence",
    "Syrian regime representatives and opposition delegates",
]


@pytest.fixture(scope="module")
def by_file() -> dict[str, list[Article]]:
    return {path.stem: read_seed_file(path) for path in sorted(SEEDS.glob("*.txt"))}


@pytest.fixture(scope="module")
def articles(by_file: dict[str, list[Article]]) -> list[Article]:
    return [article for stem in sorted(by_file) for article in by_file[stem]]


def by_id(articles: list[Article], article_id: str) -> Article:
    return next(a for a in articles if a.id == article_id)


def test_titles_file_by_file(by_file: dict[str, list[Article]]) -> None:
    assert {stem: [a.title for a in found] for stem, found in by_file.items()} == TITLES


def test_eight_articles_seven_distinct(articles: list[Article]) -> None:
    assert len(articles) == 8
    assert len({(a.title, a.body) for a in articles}) == 7


def test_ids_are_file_stem_and_place(by_file: dict[str, list[Article]]) -> None:
    for stem, found in by_file.items():
        assert [a.id for a in found] == [f"{stem}#{n}" for n in range(1, len(found) + 1)]


def test_french_fm_appears_twice_identically(articles: list[Article]) -> None:
    copies = [a for a in articles if a.title == FRENCH_FM]
    assert [a.id for a in copies] == ["000_ea334c6b3ea67e35#2", "003_62d23f3d9c69c146#2"]
    assert copies[0].body == copies[1].body
    assert copies[0].body.startswith("France's foreign minister said on Wednesday")
    assert copies[0].body.endswith("between Palestinians and Israel.")


def test_no_boilerplate_or_caption_in_bodies(articles: list[Article]) -> None:
    for article in articles:
        for paragraph in article.body.split("\n\n"):
            assert paragraph not in BOILERPLATE_LINES, (article.id, paragraph)
            for pattern in BOILERPLATE_PATTERNS:
                assert not re.fullmatch(pattern, paragraph), (article.id, paragraph)
        for caption in CAPTIONS:
            assert caption not in article.body, (article.id, caption)


def test_paragraphs_separated_by_one_blank_line(articles: list[Article]) -> None:
    for article in articles:
        paragraphs = article.body.split("\n\n")
        assert len(paragraphs) > 5
        assert all(p and p == p.strip() and "\n" not in p for p in paragraphs), article.id


def test_body_starts_and_ends(articles: list[Article]) -> None:
    expected = {
        "000_ea334c6b3ea67e35#1": ("Russia is mediating in the crisis", "inside Aleppo city."),
        "001_a458cd11a7b1be15#1": (
            "The Syrian Democratic Forces and Asayish have withdrawn",
            "in control of different regions.",
        ),
        "002_f1b182a00dc1175e#1": ("Beirut – Moscow is still holding", "Ayman al-Zawahiri."),
        "003_62d23f3d9c69c146#1": ("The parties involved in the Astana", "settlement in Syria."),
        "004_10471c499198fc54#1": ("ASTANA: Major powerbrokers", "for Human Rights."),
        "004_10471c499198fc54#2": ("• Syria’s military has announced", "Al-Sharaa’s comments."),
    }
    for article_id, (start, end) in expected.items():
        body = by_id(articles, article_id).body
        assert body.startswith(start), article_id
        assert body.endswith(end), article_id


def test_body_characters_kept_exactly(articles: list[Article]) -> None:
    moscow = by_id(articles, "002_f1b182a00dc1175e#1").body
    assert "named “Taliban Asham” to announce" in moscow
    syria = by_id(articles, "004_10471c499198fc54#2").body
    assert "\n\nAl-Sharaa blasts the SDF\n\n" in syria  # a subheading stays a paragraph
    assert "\n\n• This follows several days of intense clashes" in syria  # bullet summary kept
    astana = by_id(articles, "003_62d23f3d9c69c146#1").body
    assert "\n\n- Ending the process\n\n" in astana
    assert "Türkiye" in astana


def test_published_only_from_updated_lines(articles: list[Article]) -> None:
    dates = {a.id: a.published for a in articles}
    assert dates == {
        "000_ea334c6b3ea67e35#1": None,
        "000_ea334c6b3ea67e35#2": None,  # the caption's "April 23, 2025" is no publish date
        "001_a458cd11a7b1be15#1": None,
        "002_f1b182a00dc1175e#1": None,
        "003_62d23f3d9c69c146#1": None,
        "003_62d23f3d9c69c146#2": None,
        "004_10471c499198fc54#1": datetime(2017, 12, 22, tzinfo=UTC),
        "004_10471c499198fc54#2": datetime(2026, 1, 15, tzinfo=UTC),
    }


def test_source_and_url(articles: list[Article]) -> None:
    assert {(a.source, a.url) for a in articles} == {("seeds", None)}


def test_crlf_and_cr_line_ends_give_same_articles() -> None:
    text = (SEEDS / "000_ea334c6b3ea67e35.txt").read_text(encoding="utf-8")
    plain = read_seed_text(text, file_id="x")
    assert read_seed_text(text.replace("\n", "\r\n"), file_id="x") == plain
    assert read_seed_text(text.replace("\n", "\r"), file_id="x") == plain  # old Mac files
    assert read_seed_text(text.replace("\n", "\r\r\n"), file_id="x") == plain  # CRLF twice
    assert read_seed_text("\ufeff" + text, file_id="x") == plain


def test_file_id_and_source_arguments() -> None:
    found = read_seed_text("Headline\n\nA sentence of body.\n", file_id="feed-7", source="mine")
    assert found == [
        Article(id="feed-7#1", title="Headline", body="A sentence of body.", source="mine")
    ]


def test_split_without_repeated_headline() -> None:
    text = "First title\n\nBody one.\nMore one.\n\n\n\n\nSecond title\nBody two.\n"
    found = read_seed_text(text, file_id="f")
    assert [(a.id, a.title, a.body) for a in found] == [
        ("f#1", "First title", "Body one.\n\nMore one."),
        ("f#2", "Second title", "Body two."),
    ]


def test_gap_before_a_sentence_is_no_boundary() -> None:
    text = "Title here\n\nFirst paragraph.\n\n\nSecond paragraph after a gap.\n"
    found = read_seed_text(text, file_id="f")
    assert [a.body for a in found] == ["First paragraph.\n\nSecond paragraph after a gap."]


def test_gap_after_header_is_no_boundary() -> None:
    text = "Title here\nA photo of a street (Reuters)\n\n\nShort dateline\nThe body sentence.\n"
    found = read_seed_text(text, file_id="f")
    assert [(a.title, a.body) for a in found] == [
        ("Title here", "Short dateline\n\nThe body sentence.")
    ]


def test_caption_repeated_without_headline_repeat_is_dropped() -> None:
    text = "Title\n\nTwo men talk in a room\nTwo men talk in a room\nTT\n\nThe body.\n"
    assert read_seed_text(text, file_id="f")[0].body == "The body."


def test_paragraph_quoted_again_later_is_kept() -> None:
    text = "Title\n\nThe opening sentence.\nMiddle.\nThe opening sentence.\n"
    body = read_seed_text(text, file_id="f")[0].body
    assert body == "The opening sentence.\n\nMiddle.\n\nThe opening sentence."


def test_headline_repeated_after_text_is_no_header() -> None:
    text = "Short story\n\nFirst paragraph.\nSecond paragraph.\nShort story\nThird one.\n"
    body = read_seed_text(text, file_id="f")[0].body
    assert body == "First paragraph.\n\nSecond paragraph.\n\nThird one."


def test_generic_furniture_dropped() -> None:
    text = (
        "News | Arab News\nHeadline here | Arab News\nPosted on: 2 Feb 2024\nShare\n"
        "Photo caption: Smoke rises over the city\n\nBody text.\n1234\nAdvertisement\n"
        "More text.\nRead more\nNews ID: 99\n"
    )
    (article,) = read_seed_text(text, file_id="f")
    assert (article.title, article.body) == ("Headline here", "Body text.\n\nMore text.")
    assert article.published == datetime(2024, 2, 2, tzinfo=UTC)


def test_caption_label_drops_following_caption() -> None:
    text = "Title\nCaption:\n\nA crowd gathers in the square\n\nThe body.\n"
    assert read_seed_text(text, file_id="f")[0].body == "The body."


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Updated 22 December 2017", datetime(2017, 12, 22, tzinfo=UTC)),
        ("Published: March 3, 2024 10:15 GMT", datetime(2024, 3, 3, 10, 15, tzinfo=UTC)),
        ("Published on Friday, 5 Jan 2024, 3:05 pm", datetime(2024, 1, 5, 15, 5, tzinfo=UTC)),
        ("Updated 2024-02-01T09:30:00+02:00", datetime(2024, 2, 1, 7, 30, tzinfo=UTC)),
    ],
)
def test_published_formats(line: str, expected: datetime) -> None:
    article = read_seed_text(f"Title\n{line}\n\nThe body.\n", file_id="f")[0]
    assert article.published == expected
    assert article.body == "The body."


def test_published_wins_over_updated() -> None:
    text = "Title\nUpdated 2 May 2024\nPublished 1 May 2024\n\nThe body.\n"
    assert read_seed_text(text, file_id="f")[0].published == datetime(2024, 5, 1, tzinfo=UTC)


def test_impossible_date_is_not_a_date() -> None:
    article = read_seed_text("Title\n\nUpdated 31 February 2020\n", file_id="f")[0]
    assert article.published is None
    assert article.body == "Updated 31 February 2020"


def test_boilerplate_only_text_has_no_article() -> None:
    assert read_seed_text("", file_id="f") == []
    assert read_seed_text("\n\nTT\n20\nFollow\n\n\ncaptcha\n", file_id="f") == []


def test_headline_less_page_keeps_long_line_as_body() -> None:
    line = "word " * 100_000 + "end."
    article = read_seed_text(line, file_id="f")[0]
    assert (article.title, article.body) == ("", line.strip())


def test_long_lines_are_linear() -> None:
    hostile = "Title\n\n" + ("a |" * 40_000) + "\n\n\n" + ("Updated " + "1" * 100_000) + "\n"
    article = read_seed_text(hostile, file_id="f")[0]
    assert article.title == "Title"
    assert len(article.body) > 200_000


def test_read_seed_file_errors(tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"Title\0\n")
    latin = tmp_path / "latin.txt"
    latin.write_bytes("Caf\xe9 title\n".encode("latin-1"))
    blank = tmp_path / "blank.txt"
    blank.write_text("\n\n  \n")
    reasons = {
        empty: "empty file",
        binary: "binary file",
        latin: "invalid UTF-8 at byte 3",
        blank: "no article found",
        tmp_path / "missing.txt": "cannot read",
    }
    for path, reason in reasons.items():
        with pytest.raises(InputError) as caught:
            read_seed_file(path)
        assert caught.value.path == str(path)
        assert caught.value.reason.startswith(reason)
