"""Rendering alerts, digests and test messages: subjects, bodies per format, user templates."""

from __future__ import annotations

import html
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from watcher.errors import ConfigError
from watcher.model import Alert, ContextLabel, MatchPlace, PlaceRef, Severity
from watcher.notify.digest import describe
from watcher.notify.message import Format
from watcher.notify.render import (
    DIGEST_BODY_MAX,
    SUBJECT_MAX,
    TITLE_MAX,
    Renderer,
    bounded,
    fit_subject,
    mark_snippet,
    markdown_url,
)

T0 = datetime(2026, 1, 15, 14, 3, tzinfo=UTC)
FORMATS: tuple[Format, ...] = ("text", "markdown", "html")
HOSTILE_TITLE = "*bold* _x_ [link](javascript:alert(1))"

ALEPPO = Alert(
    delivery_id=1,
    rule_id="aleppo-siege",
    rule_title="Siege of the Kurdish districts of Aleppo",
    severity=Severity.HIGH,
    query="siege NEAR/5 Aleppo",
    article_title="Kurdish-led forces withdraw",
    source="Reuters",
    url="https://example.org/aleppo",
    published=T0,
    snippet="The [siege] of [Aleppo] ended on Sunday.",
    other_outlets=(),
    matched_at=T0,
)


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer()


def alert(**changes: object) -> Alert:
    return replace(ALEPPO, **changes)  # type: ignore[arg-type]


# Subjects


def test_short_subject_is_severity_rule_and_title(renderer: Renderer) -> None:
    subject = renderer.render_alert(ALEPPO, "text").subject
    assert subject == "[HIGH] Siege of the Kurdish districts of Aleppo: Kurdish-led forces withdraw"


def test_long_subject_is_cut_on_a_word_with_an_ellipsis(renderer: Renderer) -> None:
    title = "Syrian Kurdish-led forces withdraw from Sheikh Maqsoud after weeks of shelling"
    subject = renderer.render_alert(alert(article_title=title), "text").subject
    assert subject == "[HIGH] Siege of the Kurdish districts of Aleppo: Syrian Kurdish-led forces…"
    assert len(subject) <= SUBJECT_MAX


def test_subject_is_one_line(renderer: Renderer) -> None:
    subject = renderer.render_alert(
        alert(article_title="Shelling\n  in\tKharkiv\r\n"), "html"
    ).subject
    assert subject == "[HIGH] Siege of the Kurdish districts of Aleppo: Shelling in Kharkiv"


def test_subject_without_a_space_to_cut_at_is_cut_hard() -> None:
    subject = fit_subject("x" * 100)
    assert subject == "x" * (SUBJECT_MAX - 1) + "…"


def test_subject_cut_drops_dangling_punctuation() -> None:
    assert fit_subject("Rule title: " + "word " * 20, limit=20) == "Rule title: word…"
    assert fit_subject("Rule title: averyveryverylongword", limit=20) == "Rule title…"


# Alert bodies


@pytest.mark.parametrize("fmt", FORMATS)
def test_body_shows_rule_article_source_time_snippet_and_query(
    renderer: Renderer, fmt: Format
) -> None:
    message = renderer.render_alert(ALEPPO, fmt)
    assert message.format == fmt
    for piece in (
        "HIGH",
        "Siege of the Kurdish districts of Aleppo",
        "Reuters",
        "https://example.org/aleppo",
        "2026-01-15 14:03 UTC",
        "ended on Sunday",
        "siege NEAR/5 Aleppo",
    ):
        assert piece in message.body.replace("\\", ""), (fmt, piece)


def test_text_body_reads_like_this(renderer: Renderer) -> None:
    assert renderer.render_alert(ALEPPO, "text").body == (
        "HIGH · Siege of the Kurdish districts of Aleppo\n"
        "\n"
        "Kurdish-led forces withdraw\n"
        "Source: Reuters\n"
        "Published: 2026-01-15 14:03 UTC\n"
        "Link: https://example.org/aleppo\n"
        "\n"
        "The [siege] of [Aleppo] ended on Sunday.\n"
        "\n"
        "Rule query: siege NEAR/5 Aleppo"
    )


@pytest.mark.parametrize("fmt", FORMATS)
def test_unknown_time_and_no_link(renderer: Renderer, fmt: Format) -> None:
    body = renderer.render_alert(alert(url=None, published=None), fmt).body
    assert "unknown" in body
    assert "example.org" not in body
    assert "<a " not in body


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_non_web_url_is_never_a_link(renderer: Renderer, fmt: Format) -> None:
    body = renderer.render_alert(alert(url="javascript:alert(1)"), fmt).body
    assert "javascript" not in body


@pytest.mark.parametrize(
    ("fmt", "marked"),
    [
        ("text", "The [siege] of [Aleppo] ended on Sunday."),
        ("markdown", "The **siege** of **Aleppo** ended on Sunday\\."),
        ("html", "The <b>siege</b> of <b>Aleppo</b> ended on Sunday."),
    ],
)
def test_matched_words_are_marked_per_format(renderer: Renderer, fmt: Format, marked: str) -> None:
    assert marked in renderer.render_alert(ALEPPO, fmt).body


def test_the_articles_own_brackets_are_text_not_marks() -> None:
    snippet = "\\[We\\] will hold the [siege], he said \\\\ twice."  # as snippets.py writes
    assert mark_snippet(snippet, "html") == "[We] will hold the <b>siege</b>, he said \\ twice."
    assert mark_snippet(snippet, "markdown") == (
        "\\[We\\] will hold the **siege**, he said \\\\ twice\\."
    )
    assert mark_snippet(snippet, "text") == "[We] will hold the [siege], he said \\ twice."


def test_only_innermost_bracket_pairs_are_marks() -> None:
    """Snippets stored before the article's brackets were escaped read as they did."""
    assert mark_snippet("a [[b]] c [", "html") == "a [<b>b</b>] c ["
    assert mark_snippet("a [[b]] c [", "markdown") == "a \\[**b**\\] c \\["
    assert mark_snippet("a [[b]] c [", "text") == "a [[b]] c ["


# Escaping


def test_markdown_escapes_a_hostile_title(renderer: Renderer) -> None:
    body = renderer.render_alert(alert(article_title=HOSTILE_TITLE), "markdown").body
    assert "\\*bold\\* \\_x\\_ \\[link\\]\\(javascript:alert\\(1\\)\\)" in body


def test_markdown_hostile_title_renders_as_literal_text(renderer: Renderer) -> None:
    markdown_it = pytest.importorskip("markdown_it")
    hostile = alert(article_title=HOSTILE_TITLE, source="_Wire_", query="a* AND b_")
    html = markdown_it.MarkdownIt().render(renderer.render_alert(hostile, "markdown").body)
    assert HOSTILE_TITLE in html
    assert 'href="javascript' not in html
    assert "<em>" not in html
    assert '<a href="https://example.org/aleppo">' in html


def test_markdown_link_escapes_parentheses_in_the_url(renderer: Renderer) -> None:
    body = renderer.render_alert(alert(url="https://en.example.org/wiki/Aleppo_(city)"), "markdown")
    assert "(https://en.example.org/wiki/Aleppo_%28city%29)" in body.body


def test_html_escapes_script_in_title_and_snippet(renderer: Renderer) -> None:
    hostile = alert(
        article_title="<script>alert(1)</script> Aleppo",
        snippet="<script>steal()</script> the [<siege>] & more",
    )
    body = renderer.render_alert(hostile, "html").body
    assert "<script" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Aleppo" in body
    assert "&lt;script&gt;steal()&lt;/script&gt; the <b>&lt;siege&gt;</b> &amp; more" in body


def test_html_link_is_an_anchor_with_escaped_href(renderer: Renderer) -> None:
    body = renderer.render_alert(alert(url='https://example.org/a?b=1&c="2"'), "html").body
    assert '<a href="https://example.org/a?b=1&amp;c=&#34;2&#34;">' in body


# Context labels (issue 17)


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_sent_alert_shows_its_context_labels_with_their_cues(
    renderer: Renderer, fmt: Format
) -> None:
    labels = (ContextLabel("hypothetical", ("could",)), ContextLabel("ended", ("lifted",)))
    line = 'Context: hypothetical ("could"); ended ("lifted")'
    body = renderer.render_alert(alert(context=labels), fmt).body
    assert line in html.unescape(body.replace("\\", ""))
    assert "Context:" not in renderer.render_alert(ALEPPO, fmt).body
    digest = renderer.render_digest([alert(context=labels)], fmt, period="1h").body
    assert line in html.unescape(digest.replace("\\", ""))
    grouped = (alert(context=labels, rule_id="held", severity=Severity.CRITICAL), ALEPPO)
    body = renderer.render_alerts(grouped, fmt).body
    assert line in html.unescape(body.replace("\\", ""))  # each rule's labels, by the rule


def test_context_cues_are_escaped_and_bounded(renderer: Renderer) -> None:
    """The cues are the article's words: escaped per format and cut like its other texts."""
    hostile = (ContextLabel("negated", ("<b>never</b>",)),)
    assert "&lt;b&gt;never&lt;/b&gt;" in renderer.render_alert(alert(context=hostile), "html").body
    many = (ContextLabel("historical", tuple(f"in {1900 + n}" for n in range(100))),)
    line = next(x for x in renderer.render_alert(alert(context=many), "text").body.splitlines()
                if x.startswith("Context:"))
    assert len(line) <= len("Context: ") + 300 and line.endswith("…")


# Places (issue 18)

SHEIKH_MAQSOUD = MatchPlace(
    "watcher:aleppo-sheikh-maqsoud", "Sheikh Maqsoud", "neighbourhood", 36.232, 37.153,
    (PlaceRef("geonames:170063", "Aleppo", "city"),
     PlaceRef("admin1:SY.09", "Aleppo Governorate", "governorate"),
     PlaceRef("geonames:163843", "Syria", "country")),
)
MANBIJ = MatchPlace("geonames:167357", "Manbij", "town", 36.5, 37.9, ())


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_located_alert_says_where_in_one_line(renderer: Renderer, fmt: Format) -> None:
    places = (SHEIKH_MAQSOUD, MANBIJ)
    line = "Places: Sheikh Maqsoud (Aleppo, Aleppo Governorate, Syria); Manbij"
    body = renderer.render_alert(alert(places=places), fmt).body
    assert line in html.unescape(body.replace("\\", ""))
    assert "Places:" not in renderer.render_alert(ALEPPO, fmt).body
    digest = renderer.render_digest([alert(places=places)], fmt, period="1h").body
    assert line in html.unescape(digest.replace("\\", ""))
    grouped = (alert(places=places, rule_id="other", severity=Severity.CRITICAL), ALEPPO)
    body = renderer.render_alerts(grouped, fmt).body
    assert line in html.unescape(body.replace("\\", ""))


def test_the_places_line_is_bounded(renderer: Renderer) -> None:
    many = tuple(replace(MANBIJ, id=f"p{n}", name=f"Place{n}") for n in range(200))
    line = next(x for x in renderer.render_alert(alert(places=many), "text").body.splitlines()
                if x.startswith("Places:"))
    assert len(line) <= len("Places: ") + 300 and line.endswith("…")


# Other outlets


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_other_outlets_line_when_there_are_none(renderer: Renderer, fmt: Format) -> None:
    assert "Also reported" not in renderer.render_alert(ALEPPO, fmt).body


@pytest.mark.parametrize("fmt", FORMATS)
def test_two_other_outlets_are_named(renderer: Renderer, fmt: Format) -> None:
    body = renderer.render_alert(alert(other_outlets=("AP", "AFP")), fmt).body
    assert "Also reported by 2 other outlets: AP, AFP" in body


@pytest.mark.parametrize("fmt", FORMATS)
def test_eight_other_outlets_show_five_names_and_a_count(renderer: Renderer, fmt: Format) -> None:
    outlets = ("AP", "AFP", "BBC", "DW", "NHK", "NPR", "RFI", "SVT")
    body = renderer.render_alert(alert(other_outlets=outlets), fmt).body
    assert "Also reported by 8 other outlets: AP, AFP, BBC, DW, NHK and 3 more" in body
    assert "NPR" not in body


def test_one_other_outlet_is_singular(renderer: Renderer) -> None:
    body = renderer.render_alert(alert(other_outlets=("AP",)), "text").body
    assert "Also reported by 1 other outlet: AP" in body


# Digests


def digest_alerts() -> list[Alert]:
    """Three rules, shuffled: two HIGH (by title) and one that was INFO once, then CRITICAL."""
    minute = timedelta(minutes=1)
    kyiv = alert(rule_id="kyiv", rule_title="Kyiv strikes", severity=Severity.INFO)
    return [
        alert(delivery_id=5, article_title="Aleppo two", matched_at=T0 + 5 * minute),
        alert(delivery_id=2, rule_id="t", rule_title="Tripoli", article_title="Tripoli one"),
        alert(delivery_id=3, article_title="Aleppo one", matched_at=T0 + 2 * minute),
        replace(kyiv, delivery_id=4, article_title="Kyiv one", matched_at=T0 + 3 * minute),
        replace(
            kyiv,
            delivery_id=6,
            article_title="Kyiv two",
            severity=Severity.CRITICAL,
            matched_at=T0 + 4 * minute,
        ),
    ]


def test_digest_subject_counts_alerts_and_rules(renderer: Renderer) -> None:
    message = renderer.render_digest(digest_alerts(), "text", period="1h")
    assert message.subject == "watcher digest: 5 alerts, 3 rules (last 1h)"


def test_a_digest_period_in_any_duration_form_reads_as_the_last_period(renderer: Renderer):
    """`every: 1h30m` is a duration in watcher.yaml, so the digest says "last 1h30m"."""
    subjects = [renderer.render_digest([ALEPPO], "text", period=describe(seconds)).subject
                for seconds in (5400, 90)]
    assert subjects == ["watcher digest: 1 alert, 1 rule (last 1h30m)",
                        "watcher digest: 1 alert, 1 rule (last 1m30s)"]


def test_digest_subject_with_a_cron_period_and_one_alert(renderer: Renderer) -> None:
    message = renderer.render_digest([ALEPPO], "markdown", period="0 8 * * *")
    assert message.subject == "watcher digest: 1 alert, 1 rule (0 8 * * *)"


@pytest.mark.parametrize("fmt", FORMATS)
def test_digest_groups_by_rule_most_severe_first_then_by_time(
    renderer: Renderer, fmt: Format
) -> None:
    body = renderer.render_digest(digest_alerts(), fmt, period="1h").body
    order = ["Kyiv one", "Kyiv two", "Aleppo one", "Aleppo two", "Tripoli one"]
    positions = [body.index(title) for title in order]
    assert positions == sorted(positions)
    assert body.index("Kyiv strikes") < body.index("Siege of the Kurdish") < body.index("Tripoli")
    assert body.count("siege NEAR/5 Aleppo") == 3  # once per rule


# Bounds: any article makes a message a server takes


HUGE = "Shelling near Kharkiv " * 300_000  # 6.6 MB, under the feeds' 10 MiB limit


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_huge_article_makes_a_small_alert_with_each_text_cut_at_a_word(
    renderer: Renderer, fmt: Format
) -> None:
    huge = alert(article_title=HUGE, source=HUGE, snippet=f"[siege] {HUGE}",
                 url="https://example.org/" + "a" * 6_000_000, other_outlets=(HUGE,) * 8,
                 rule_title=HUGE, query=HUGE)

    message = renderer.render_alert(huge, fmt)

    assert len(message.body) < 20_000 and len(message.subject) <= SUBJECT_MAX
    assert "aaaa" not in message.body  # a link that long is no link to follow
    title = message.body.split("Shelling", 1)[1].split("…")[0]
    assert len(title) < TITLE_MAX and HUGE.startswith("Shelling" + title)
    assert "siege" in message.body


def test_bounded_leaves_an_ordinary_alert_as_it_is() -> None:
    assert bounded(ALEPPO) == ALEPPO


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_digest_of_a_burst_lists_what_fits_and_says_the_rest_follow(
    renderer: Renderer, fmt: Format
) -> None:
    burst = [alert(delivery_id=n, article_title=f"Article {n} " + "word " * 100,
                   snippet="The [siege] " + "goes on " * 200, matched_at=T0 + timedelta(seconds=n))
             for n in range(1000, 0, -1)]  # newest first: the digest sorts them

    part = renderer.render_digest_part(burst, fmt, period="1h")

    message = part.message
    assert message.subject == "watcher digest: 1000 alerts, 1 rule (last 1h)"
    assert len(message.body) <= DIGEST_BODY_MAX
    listed = message.body.count("Article ")
    assert 10 < listed < 1000
    # what the sender records sent is exactly what the body shows: the earliest matched
    assert [a.delivery_id for a in part.listed] == list(range(1, listed + 1))
    assert all(f"Article {n} " in message.body for n in range(1, listed + 1))
    assert f"Continued in the next message: {1000 - listed} more alerts." in message.body
    assert renderer.render_digest(burst, fmt, period="1h") == message


def test_a_digest_that_fits_lists_every_alert_and_says_nothing_follows(
    renderer: Renderer,
) -> None:
    part = renderer.render_digest_part(digest_alerts(), "text", period="1h")
    assert sorted(a.delivery_id for a in part.listed) == sorted(
        a.delivery_id for a in digest_alerts())
    assert "Continued" not in part.message.body


def test_a_markdown_link_cannot_be_ended_or_broken_by_its_url() -> None:
    assert markdown_url("https://e.org/a) [x](http://evil/\\\n<b>\u2028") == (
        "https://e.org/a%29%20[x]%28http://evil/%5C%0A%3Cb%3E%E2%80%A8"
    )


# Test message


@pytest.mark.parametrize("fmt", FORMATS)
def test_test_message_names_the_channel(renderer: Renderer, fmt: Format) -> None:
    message = renderer.render_test("ops-phone", fmt)
    assert message.subject == "watcher test message for channel ops-phone"
    assert "if you can read this, alerts will arrive here" in message.body


def test_test_message_escapes_the_channel_name_in_html(renderer: Renderer) -> None:
    assert "ops&lt;b&gt;" in renderer.render_test("ops<b>", "html").body


# User templates


def test_user_template_overrides_one_and_keeps_the_others(tmp_path: Path) -> None:
    (tmp_path / "alert.text.j2").write_text("{{ alert.rule_title | upper }}: {{ alert.snippet }}")
    renderer = Renderer(tmp_path)
    assert renderer.render_alert(ALEPPO, "text").body == (
        "SIEGE OF THE KURDISH DISTRICTS OF ALEPPO: The [siege] of [Aleppo] ended on Sunday."
    )
    assert "**siege**" in renderer.render_alert(ALEPPO, "markdown").body
    assert renderer.render_alert(ALEPPO, "text").subject.startswith("[HIGH] Siege")


def test_user_template_with_a_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "alert.markdown.j2"
    path.write_text("**{{ alert.rule_title }}**\n{{ alert.snippet | marked }\n")
    with pytest.raises(ConfigError, match=rf"^{path}:2: "):
        Renderer(tmp_path)


def test_user_template_with_an_undefined_variable_fails_at_start_up(tmp_path: Path) -> None:
    path = tmp_path / "digest.html.j2"
    path.write_text("{% for group in groups %}\n{{ group.rule_name }}\n{% endfor %}\n")
    with pytest.raises(ConfigError, match=rf"^{path}:2: .*has no attribute 'rule_name'"):
        Renderer(tmp_path)


def test_user_template_undefined_only_without_a_url_is_found_too(tmp_path: Path) -> None:
    path = tmp_path / "alert.text.j2"
    path.write_text("{% if not alert.url %}{{ link }}{% endif %}")
    with pytest.raises(ConfigError, match=rf"^{path}:1: 'link' is undefined"):
        Renderer(tmp_path)


def test_sandbox_refuses_python_internals_at_start_up(tmp_path: Path) -> None:
    path = tmp_path / "alert.subject.j2"
    path.write_text("{{ alert.__class__.__mro__ }}")
    with pytest.raises(ConfigError, match=rf"^{path}:1: access to attribute '__class__'.*unsafe"):
        Renderer(tmp_path)


def test_missing_template_directory_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="template directory not found"):
        Renderer(tmp_path / "nowhere")


# One article that several rules matched: one message (issue 17)


THREE_RULES = (
    alert(delivery_id=11, rule_id="mention", rule_title="Aleppo in the news",
          severity=Severity.LOW, snippet="[Aleppo] again."),
    alert(delivery_id=12, rule_id="blast", rule_title="Blasts in *Aleppo*",
          severity=Severity.CRITICAL, snippet="A [blast] <script>x</script> hit."),
    ALEPPO,
)


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_articles_rules_make_one_message_most_severe_first(
    renderer: Renderer, fmt: Format
) -> None:
    message = renderer.render_alerts(THREE_RULES, fmt)
    assert message.subject == "[CRITICAL] 3 rules: Kurdish-led forces withdraw"
    body = message.body
    positions = [body.index(word) for word in ("Blasts", "Siege of the", "Aleppo in the news")]
    assert positions == sorted(positions)
    assert body.count("forces withdraw") == 1  # the article once, its rules each
    assert body.count("Rule query: ") == 3


def test_a_grouped_message_escapes_each_rules_text_for_its_format(renderer: Renderer) -> None:
    html = renderer.render_alerts(THREE_RULES, "html").body
    assert "&lt;script&gt;" in html and "<script>" not in html
    assert "<b>blast</b>" in html
    markdown = renderer.render_alerts(THREE_RULES, "markdown").body
    assert r"Blasts in \*Aleppo\*" in markdown and "**blast**" in markdown


def test_one_rule_on_an_article_is_the_single_alert_as_before(renderer: Renderer) -> None:
    for fmt in FORMATS:
        assert renderer.render_alerts([ALEPPO], fmt) == renderer.render_alert(ALEPPO, fmt)


def test_a_grouped_message_over_its_bound_lists_every_rule_briefly(renderer: Renderer) -> None:
    many = [alert(delivery_id=n, rule_id=f"r{n}", rule_title=f"Rule number {n}",
                  snippet="[Aleppo] " + "word " * 300) for n in range(20)]
    for fmt in FORMATS:
        full = renderer.render_alerts(many, fmt)
        brief = renderer.render_alerts(many, fmt, max_body=9_500)
        assert len(full.body) > 9_500 >= len(brief.body)
        assert full.subject == brief.subject == "[HIGH] 20 rules: Kurdish-led forces withdraw"
        for number in range(20):
            assert f"Rule number {number}" in brief.body
        assert brief.body.count("Rule query") == 1
