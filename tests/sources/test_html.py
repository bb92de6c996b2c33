"""HTML to text: paragraphs at block elements, line breaks at <br>, nothing a reader cannot see."""

from __future__ import annotations

import pytest

from watcher.sources.html import fallback_text, html_to_text, normalise_text


@pytest.mark.parametrize(
    ("markup", "text"),
    [
        ("<p>One   two\nthree</p><p>Four</p>", "One two three\n\nFour"),
        ("<div>Intro<p>Inside</p>after</div>", "Intro\n\nInside\n\nafter"),
        ("<ul><li>first</li><li>second</li></ul>", "first\n\nsecond"),
        ("<h1>Head</h1><h6>Small</h6>Text", "Head\n\nSmall\n\nText"),
        ("<blockquote>Quoted</blockquote>said he", "Quoted\n\nsaid he"),
        ("<section>s</section><article>a</article>", "s\n\na"),
        ("<table><tr><td>a</td><td>b</td></tr><tr><th>c</th></tr></table>", "a b\n\nc"),
        ("<span>Qami</span><b>shli</b> <em>town</em>", "Qamishli town"),
    ],
)
def test_block_elements_become_paragraphs(markup: str, text: str) -> None:
    assert html_to_text(markup) == text


def test_br_is_a_line_break_and_two_are_a_paragraph() -> None:
    assert html_to_text("Line one<br>line two<br/><br />New paragraph") == (
        "Line one\nline two\n\nNew paragraph"
    )


def test_pre_keeps_its_lines() -> None:
    assert html_to_text("<pre>a  b\n  c\n\nd</pre>after") == "a b\nc\n\nd\n\nafter"


def test_entities_are_decoded() -> None:
    assert html_to_text("<p>Tom &amp; Jerry&nbsp;&eacute;&#8217;s &lt;b&gt; &#x41;</p>") == (
        "Tom & Jerry é’s <b> A"
    )
    assert html_to_text("AT&amp;T &quot;quoted&quot;") == 'AT&T "quoted"'


def test_scripts_styles_and_frames_are_dropped() -> None:
    markup = (
        "<script>alert('x')</script><style>p { color: red }</style><p>Visible</p>"
        "<noscript>Enable JavaScript</noscript><iframe src='https://ads.example'>frame</iframe>"
        "<!-- a comment --><template>hidden</template>end"
    )
    assert html_to_text(markup) == "Visible\n\nend"


def test_a_whole_page_gives_its_body_text() -> None:
    page = (
        '<!DOCTYPE html><html><head><meta charset="iso-8859-1"><title>Tab title</title></head>'
        "<body><p>Évacuation à l’est</p></body></html>"
    )
    assert html_to_text(page) == "Évacuation à l’est"


def test_plain_text_passes_with_whitespace_normalised() -> None:
    text = "  First paragraph,\nhard-wrapped   here.\n\n\n  Second\tone. 5 > 3 \n"
    assert html_to_text(text) == "First paragraph, hard-wrapped here.\n\nSecond one. 5 > 3"
    assert normalise_text("a \r\n\r\n b") == "a\n\nb"


@pytest.mark.parametrize(
    "markup",
    [
        "",
        "   ",
        "<",
        "<p",
        "</p></div>",
        "<!-- never closed",
        "<p<<>>>x</p><a href='",
        "a\x00b<p>c\x00d</p>\x07",
        "\ud800 lone surrogate <p>x</p>",
        '<?xml version="1.0" encoding="latin-1"?><p>é</p>',
        "<div>" * 100_000 + "deep" + "</div>" * 100_000,
        "<b>" * 50_000 + "x<script>hidden()</script>y",
        "<script>" * 100_000,
        "<!--" * 100_000,
        "<p>word</p> " * 50_000,
        "x" * 1_000_000,
        bytes(range(256)).decode("latin-1") * 1000,
    ],
    ids=lambda markup: repr(markup[:24]),
)
def test_garbage_never_raises_and_leaves_no_tags(markup: str) -> None:
    text = html_to_text(markup)
    assert isinstance(text, str)
    assert "\x00" not in text
    assert "<p>" not in text and "<script" not in text and "<div>" not in text


def test_what_survives_garbage() -> None:
    assert html_to_text("<div>" * 100_000 + "deep text" + "</div>" * 100_000) == "deep text"
    assert html_to_text("<b>" * 50_000 + "x<script>hidden()</script>y") == "xy"
    assert html_to_text("a\x00b<p>c\x00d</p>") == "ab\n\ncd"


def test_a_megabyte_of_text_comes_through_whole() -> None:
    assert len(html_to_text("<p>" + "word " * 200_000 + "</p>")) == 999_999


def test_the_fallback_strips_tags_by_pattern() -> None:
    markup = "<div>One<br>two<!-- c --><script>x()</script></div><p>Three &amp; four</p><p"
    assert fallback_text(markup) == "One\ntwo\n\nThree & four"
    assert fallback_text("<p>a</p><script>never closed<p>b</p>") == "a"
