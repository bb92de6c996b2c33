"""Feed bytes to Articles: feedparser's own test corpus, real publishers' feeds, hostile input."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import feedparser
import pytest

from watcher.identity import content_hash, identity_keys
from watcher.model import Article
from watcher.sources.feeds import ParsedFeed, parse_feed

DATA = Path(__file__).resolve().parents[1] / "data"
FEEDPARSER = DATA / "feeds" / "feedparser"
REALWORLD = DATA / "feeds" / "realworld"
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
# feedparser's test files name the HTTP headers its test server sent in a leading comment.
HEADER_LINE = re.compile(rb"^\s*Header:\s*([^:\r\n]+):[ \t]*(.*?)\s*$", re.MULTILINE)


def corpus(root: Path, *suffixes: str) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in suffixes)


def parse(content: bytes, url: str = "https://example.org/feed.xml", **options) -> ParsedFeed:
    return parse_feed(content, source="test", url=url, now=NOW, **options)


def read(name: str, url: str = "https://example.org/feed.xml", **options) -> ParsedFeed:
    return parse((REALWORLD / name).read_bytes(), url, **options)


def rss(items: str, *, prolog: str = "") -> bytes:
    """A small RSS 2.0 document around `items`."""
    return (
        f'<?xml version="1.0" encoding="utf-8"?>{prolog}\n<rss version="2.0"><channel>'
        f"<title>Test feed</title>{items}</channel></rss>"
    ).encode()


@pytest.fixture
def entries_read(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many entries feedparser found in each document parse_feed gave it (the real
    parse, counted on its way back)."""
    counts: list[int] = []
    real_parse = feedparser.parse

    def counted(*args, **options):
        result = real_parse(*args, **options)
        counts.append(len(result.entries))
        return result

    monkeypatch.setattr(feedparser, "parse", counted)
    return counts


def assert_valid(result: ParsedFeed, entries_read: list[int]) -> None:
    """Every entry of the document is an article or counted as skipped (none is lost
    without a word), and every article is one a user can be shown."""
    [read] = entries_read or [0]  # none when the bytes could not be read at all
    assert len(result.entries) + result.skipped == read
    assert entries_read or result.not_a_feed
    for article in result.entries:
        assert isinstance(article, Article)
        assert article.id and article.source == "test"
        assert article.title or article.body or article.url or article.guid
        assert article.published is None or article.published.tzinfo is UTC
        assert article.published is None or article.published <= NOW
        assert article.url is None or urlsplit(article.url).scheme.lower() in ("http", "https")


FEEDPARSER_FILES = corpus(FEEDPARSER, ".xml")
REALWORLD_FILES = corpus(REALWORLD, ".xml", ".rss", ".atom", ".json")


def test_the_copied_corpora_are_all_here() -> None:
    assert len(FEEDPARSER_FILES) > 2000
    assert len(REALWORLD_FILES) > 90


@pytest.mark.parametrize(
    "path", FEEDPARSER_FILES, ids=[str(p.relative_to(FEEDPARSER)) for p in FEEDPARSER_FILES]
)
def test_every_feedparser_test_file_parses(path: Path, entries_read: list[int]) -> None:
    content = path.read_bytes()
    headers = {k.decode(): v.decode("latin-1") for k, v in HEADER_LINE.findall(content[:2000])}
    assert_valid(parse(content, headers=headers), entries_read)


@pytest.mark.parametrize(
    "path", REALWORLD_FILES, ids=[str(p.relative_to(REALWORLD)) for p in REALWORLD_FILES]
)
def test_every_real_world_feed_parses(path: Path, entries_read: list[int]) -> None:
    assert_valid(parse(path.read_bytes()), entries_read)


# Read off the files: entry count, then the first entry's title, link and publication time.
REAL_FEEDS = [
    (
        "rss-parser/input/guardian.rss",
        "The Guardian",
        55,
        "Trump State of the Union address promised unity but emphasized discord",
        "https://www.theguardian.com/us-news/2018/jan/31/"
        "donald-trump-state-of-the-union-address-unity-discord",
        datetime(2018, 1, 31, 7, 26, 5, tzinfo=UTC),  # Wed, 31 Jan 2018 07:26:05 GMT
    ),
    (
        "rss-parser/input/heise.atom",
        "heise developer neueste Meldungen",
        15,
        "Java-Anwendungsserver: Red Hat gibt WildFly 10 frei",
        "http://www.heise.de/developer/meldung/"
        "Java-Anwendungsserver-Red-Hat-gibt-WildFly-10-frei-3088438.html"
        "?wt_mc=rss.developer.beitrag.atom",
        datetime(2016, 2, 1, 16, 22, tzinfo=UTC),  # published 17:22+01:00, not updated 17:54
    ),
    (
        "feed-rs/fixture/atom/atom_example_2.xml",
        "The Register - Science",
        2,
        "Will someone plz dump our shizz on the Moon, NASA begs as one of the space biz vendors"
        " drops out",
        "http://go.theregister.com/feed/www.theregister.co.uk/2019/07/31/"
        "orbitbeyond_drops_nasa_moon_contract/",
        datetime(2019, 7, 31, 11, 54, 28, tzinfo=UTC),  # only <updated>
    ),
    (
        "feed-rs/fixture/rss1/rss_1.0_iso8859.xml",
        "Golem.de",
        1,
        "Digitalministerium: Neue Glasfaserförderung mit Schnellkasse",
        "https://www.golem.de/news/"
        "digitalministerium-neue-glasfaserfoerderung-mit-schnellkasse-2301-171451.html",
        datetime(2023, 1, 25, 18, 3, 2, tzinfo=UTC),  # dc:date 19:03:02+01:00, ISO-8859-1 bytes
    ),
]


@pytest.mark.parametrize(("name", "feed_title", "count", "title", "link", "published"), REAL_FEEDS)
def test_real_feeds_give_their_entries(
    name: str, feed_title: str, count: int, title: str, link: str, published: datetime
) -> None:
    result = read(name)
    assert (result.title, len(result.entries), result.malformed, result.not_a_feed) == (
        feed_title,
        count,
        None,
        None,
    )
    first = result.entries[0]
    assert (first.title, first.url, first.published) == (title, link, published)


def test_html_descriptions_become_paragraphs() -> None:
    first = read("rss-parser/input/guardian.rss").entries[0]
    assert first.body.startswith(
        "The president’s ‘new American moment’ speech stirred Republican applause while Democrats"
        " showed thinly disguised contempt\n\nDonald Trump has promised"
    )
    assert "<" not in first.body and "&lt;" not in first.body


def test_the_body_is_the_longest_of_content_and_summary() -> None:
    # The first item's content:encoded is "...", its description a sentence.
    first = read("feed-rs/fixture/rss2/rss_2.0_relurl_1.xml").entries[0]
    assert first.body == (
        "Everyone wants good compression. But what exactly is good compression?"
        " Time for a closer look."
    )
    atom = b"""<feed xmlns="http://www.w3.org/2005/Atom"><entry><title>t</title>
      <summary>Short summary.</summary>
      <content type="html">&lt;p&gt;Full text, first paragraph.&lt;/p&gt;
        &lt;p&gt;Second.&lt;/p&gt;</content>
    </entry></feed>"""
    assert parse(atom).entries[0].body == "Full text, first paragraph.\n\nSecond."


def test_html_titles_lose_their_markup_and_plain_titles_keep_their_text() -> None:
    atom = b"""<feed xmlns="http://www.w3.org/2005/Atom">
      <entry><title type="html">&lt;b&gt;Siege&lt;/b&gt; lifted &amp;amp; convoy in</title></entry>
      <entry><title type="text">Why 5 &lt; 6 &lt;b&gt; matters</title></entry>
    </feed>"""
    assert [a.title for a in parse(atom).entries] == [
        "Siege lifted & convoy in",
        "Why 5 < 6 <b> matters",
    ]


def test_a_malformed_feed_keeps_its_entries_and_says_why() -> None:
    # db-engines.com put an HTML entity (&nbsp;) into XML: undefined there.
    result = read("feed-rs/fixture/rss2/rss_2.0_dbengines.xml")
    assert result.malformed == "undefined entity at line 8, column 104"
    assert result.not_a_feed is None
    assert [a.url for a in result.entries] == ["https://db-engines.com/en/blog_post/103"]
    assert "popularity in our DB-Engines Ranking within the last year" in result.entries[0].body


def test_a_truncated_feed_says_where() -> None:
    content = rss(
        "<item><title>Clashes near Qamishli</title><link>https://example.org/1</link></item>"
    )
    result = parse(content[:-10])
    assert result.malformed == "unclosed token at line 2, column 136"
    assert [a.title for a in result.entries] == ["Clashes near Qamishli"]


def test_an_html_page_is_not_a_feed() -> None:
    page = (DATA / "pages" / "news-article.html").read_bytes()
    for headers in (None, {"Content-Type": "text/html; charset=utf-8"}):
        result = parse(page, headers=headers)
        assert result.not_a_feed == "the response is an HTML page, not a feed"
        assert result.entries == ()
    # A server's error page, as served in place of a feed (rss-parser's test input).
    moved = read("rss-parser/input/unrecognized.rss")
    assert moved.not_a_feed == "the response is an HTML page, not a feed"


def test_an_empty_response_is_not_a_feed() -> None:
    for content in (b"", b"  \r\n\t"):
        result = parse(content)
        assert (result.entries, result.not_a_feed) == ((), "the response is empty")


def test_json_and_other_xml_are_not_feeds() -> None:
    assert read("feed-rs/fixture/jsonfeed/jsonfeed_spec_1.json").not_a_feed == (
        "the response is JSON, not an RSS or Atom feed"
    )
    assert read("feed-rs/fixture/xml/xml_sample_1.xml").not_a_feed == (
        "the response is not an RSS, Atom or RDF feed"
    )


def test_an_empty_feed_is_a_feed() -> None:
    result = parse(rss(""))
    assert (result.entries, result.title, result.malformed, result.not_a_feed) == (
        (),
        "Test feed",
        None,
        None,
    )


def test_the_content_type_charset_wins_over_a_wrong_xml_declaration() -> None:
    title = "اشتباكات قرب القامشلي"  # "clashes near Qamishli"
    content = (
        '<?xml version="1.0" encoding="iso-8859-1"?><rss version="2.0"><channel><item>'
        f"<title>{title}</title><link>https://example.org/1</link></item></channel></rss>"
    ).encode("windows-1256")
    served = parse(content, headers={"Content-Type": "application/rss+xml; charset=windows-1256"})
    assert served.entries[0].title == title
    declared = parse(content)  # without the header, the declaration is all there is to go by
    assert declared.entries[0].title != title and "القامشلي" not in declared.entries[0].title


def test_a_charset_header_decodes_a_feed_without_declaration() -> None:
    # UOL serves ISO-8859-1 without an XML declaration; only the header can say so.
    headers = {"Content-Type": "text/xml; charset=ISO-8859-1"}
    result = read("rss-parser/input/uolNoticias.rss", headers=headers)
    assert result.entries[4].title == "Rival de Putin é condenado a mais 20 dias de prisão"


def test_a_charset_header_that_cannot_be_right_is_reported() -> None:
    headers = {"Content-Type": "text/xml; charset=utf-8"}  # the bytes are ISO-8859-1
    result = read("feed-rs/fixture/rss1/rss_1.0_iso8859.xml", headers=headers)
    assert result.malformed == "document declared as utf-8, but parsed as iso-8859-1"
    assert result.entries[0].title == "Digitalministerium: Neue Glasfaserförderung mit Schnellkasse"


# lol9 stands for 10^9 "lol"s.
LAUGHS = ['<!ENTITY lol0 "lol">'] + [
    f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 10)
]


@pytest.mark.parametrize("separator", ["", "\n"], ids=["one line", "one per line"])
def test_an_entity_bomb_is_not_expanded(separator: str) -> None:
    content = rss(
        "<item><title>&lol9;</title><description>&lol9;</description>"
        "<link>https://example.org/1</link></item>",
        prolog=f"<!DOCTYPE rss [{separator.join(LAUGHS)}]>",
    )
    result = parse(content)
    assert result.malformed is not None and "undefined entity" in result.malformed
    (article,) = result.entries
    assert len(article.title) + len(article.body) < 100


def test_an_entity_bomb_in_utf_16_is_not_expanded() -> None:
    document = (
        f'<?xml version="1.0" encoding="utf-16"?><!DOCTYPE rss [{"".join(LAUGHS)}]>'
        '<rss version="2.0"><channel><item><title>&lol9;</title></item></channel></rss>'
    )
    for encoding in ("utf-16", "utf-16-be", "utf-32"):  # with a byte order mark, without, 32
        result = parse(document.encode(encoding))
        assert result.malformed is not None and "undefined entity" in result.malformed
        assert [a.title for a in result.entries] == ["&lol9;"]


def test_external_entities_are_never_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-VALUE")
    for separator in ("", "\n"):
        prolog = f'<!DOCTYPE rss [{separator}<!ENTITY xxe SYSTEM "{secret.as_uri()}">{separator}]>'
        content = rss(
            "<item><title>x &xxe;</title><link>https://example.org/1</link></item>", prolog=prolog
        )
        result = parse(content)
        assert "TOP-SECRET" not in repr(result)


def test_content_naming_a_file_is_not_opened(tmp_path: Path) -> None:
    feed = tmp_path / "feed.xml"
    feed.write_bytes(rss("<item><title>From the file</title></item>"))
    result = parse(str(feed).encode())
    assert result.entries == ()
    assert result.not_a_feed == "the response is not an RSS, Atom or RDF feed"


def test_harmless_entity_declarations_still_work() -> None:
    item = "<item><title>Clashes near &place;</title></item>"
    for separator in ("", "\n"):
        prolog = f'<!DOCTYPE rss [{separator}<!ENTITY place "Qamishli">{separator}]>'
        result = parse(rss(item, prolog=prolog))
        assert (result.malformed, result.entries[0].title) == (None, "Clashes near Qamishli")


def test_whitespace_before_the_xml_declaration_is_forgiven() -> None:
    result = parse(b"\n\n" + rss("<item><title>t</title></item>"))
    assert (result.malformed, [a.title for a in result.entries]) == (None, ["t"])


def test_relative_links_are_resolved_against_the_feed_url() -> None:
    relative = read(
        "feed-rs/fixture/atom/atom_relative.xml", url="https://example.com/blog/feed.xml"
    )
    assert relative.entries[0].url == "https://example.com/blog/2003/12/13/atom03"
    content = rss("<item><title>t</title><link>../news/1?x=1&amp;y=2</link></item>")
    result = parse(content, url="https://example.org/feeds/world/all.xml")
    assert result.entries[0].url == "https://example.org/feeds/news/1?x=1&y=2"


def test_content_location_is_the_base_when_the_server_sends_it() -> None:
    content = rss("<item><title>t</title><link>story/7</link></item>")
    headers = {"Content-Location": "/mirror/feed.xml"}
    result = parse(content, url="https://example.org/feeds/all.xml", headers=headers)
    assert result.entries[0].url == "https://example.org/mirror/story/7"


def test_only_web_links_are_kept() -> None:
    content = rss("<item><title>t</title><link>javascript:alert(1)</link></item>")
    (article,) = parse(content).entries
    assert article.url is None and article.id.startswith("sha256:")


def test_published_is_utc_and_falls_back_to_updated() -> None:
    atom = b"""<feed xmlns="http://www.w3.org/2005/Atom">
      <entry><title>a</title><published>2025-03-10T16:05:00+03:00</published>
        <updated>2025-03-11T00:00:00Z</updated></entry>
      <entry><title>b</title><updated>2025-03-10T08:00:00-05:00</updated></entry>
      <entry><title>c</title></entry>
      <entry><title>d</title><published>not a date</published></entry>
    </feed>"""
    assert [a.published for a in parse(atom).entries] == [
        datetime(2025, 3, 10, 13, 5, tzinfo=UTC),
        datetime(2025, 3, 10, 13, 0, tzinfo=UTC),
        None,
        None,
    ]


def test_a_date_in_the_future_is_taken_as_now() -> None:
    content = rss("<item><title>t</title><pubDate>Fri, 01 Jan 2100 00:00:00 GMT</pubDate></item>")
    assert parse(content).entries[0].published == NOW


def test_a_placeholder_date_is_no_date_as_in_every_other_input() -> None:
    content = rss("<item><title>t</title><pubDate>Thu, 01 Jan 1970 00:00:00 GMT</pubDate></item>")
    assert parse(content).entries[0].published is None


def test_an_entry_without_guid_or_link_is_named_by_its_content_hash() -> None:
    """Its id and its stored hash key agree: copies differing in case or spacing are one."""
    first = rss("<item><title>Siege of Aleppo</title><description>Shelling.</description></item>")
    second = rss("<item><title>SIEGE  of aleppo</title><description>shelling.</description></item>")
    a, b = parse(first).entries[0], parse(second).entries[0]
    assert a.id == b.id == "sha256:" + content_hash("Siege of Aleppo", "Shelling.")[:32]


def test_ids_come_from_guid_then_link_then_text() -> None:
    content = rss(
        "<item><title>a</title><guid isPermaLink='false'> tag:example.org,2025:1 </guid>"
        "<link>https://example.org/a</link></item>"
        "<item><title>b</title><link>https://example.org/b</link></item>"
        "<item><title>c</title><description>Only text.</description></item>"
    )
    a, b, c = parse(content).entries
    assert (a.id, a.guid) == ("tag:example.org,2025:1", "tag:example.org,2025:1")
    assert (b.id, b.guid) == ("https://example.org/b", None)
    assert (c.id, c.guid, c.url) == (parse(content).entries[2].id, None, None)
    assert re.fullmatch(r"sha256:[0-9a-f]{32}", c.id)
    other = rss("<item><title>c</title><description>Other text.</description></item>")
    assert parse(other).entries[0].id != c.id


def test_only_entries_nothing_identifies_are_skipped_and_counted() -> None:
    """An entry with an id is kept, to be refused by name by the one rule of what an article
    must hold (identity.refusal_reason); one with nothing at all can only be counted."""
    content = rss(
        "<item><guid isPermaLink='false'>only-an-id</guid></item>"
        "<item><description>  </description></item>"
        "<item><link>https://example.org/link-only</link></item>"
    )
    result = parse(content)
    assert result.skipped == 1
    assert [a.id for a in result.entries] == ["only-an-id", "https://example.org/link-only"]


# --- guids reused for different entries ----------------------------------------------------


def guid_items(*items: tuple[str, str, str]) -> bytes:
    """RSS items of (guid, title, link)."""
    return rss("".join(
        f"<item><guid isPermaLink='false'>{guid}</guid><title>{title}</title>"
        f"<link>{link}</link></item>" for guid, title, link in items
    ))


def test_a_real_feed_reusing_a_guid_and_a_link_keeps_every_entry() -> None:
    """Taverncast gave two episodes one guid, and 124 entries its home page as link."""
    result = read("rss-parser/input/itunes-missing-image.rss")
    reused = [a for a in result.entries if a.guid is None]
    assert [a.title for a in reused] == ["Geekistry: You Can See the Strings",
                                         "Geekistry: Lowatus of Borg (extended version)"]
    assert all(re.fullmatch(r"sha256:[0-9a-f]{32}", a.id) for a in reused)
    assert all(a.url == "http://taverncast.com/" and not a.url_identifies for a in reused)
    assert result.reused_guids == (
        "feed reuses guid 'http://taverncast.com/shows/geekistry-2.mp3' for 2 different "
        "entries; told apart by content"
    )
    assert result.shared_links == (
        "feed reuses 2 links for different entries ('http://taverncast.com/' for 17, "
        "'http://www.taverncast.com/' for 105); told apart by guid"
    )
    assert result.warning == f"{result.reused_guids}; {result.shared_links}"
    others = [a for a in result.entries if a.guid is not None]
    assert len(others) == 129 and all(a.id == a.guid for a in others)
    home_linked = [a for a in others if not a.url_identifies]
    assert len(home_linked) == 122
    assert {a.url for a in home_linked} == {"http://taverncast.com/", "http://www.taverncast.com"}
    keys = [identity_keys(a) for a in result.entries]
    assert len({k[0] for k in keys}) == len(keys)  # no two entries meet on their first key
    assert not any(k.startswith("url:") for a in home_linked for k in identity_keys(a))


def test_entries_sharing_a_front_page_link_are_told_apart_by_guid_else_content() -> None:
    result = parse(guid_items(
        ("g-1", "Shelling resumes", "https://example.org/"),
        ("g-2", "Crossing reopens", "https://example.org/"),
        ("g-3", "Convoy arrives", "https://example.org/a/3"),
    ))
    assert [(a.id, a.url_identifies) for a in result.entries] == [
        ("g-1", False), ("g-2", False), ("g-3", True)]
    assert result.warning == ("feed reuses link 'https://example.org/' for 2 different "
                              "entries; told apart by guid")
    no_guids = rss("".join(f"<item><title>{t}</title><link>https://example.org/</link></item>"
                           for t in ("Shelling resumes", "Crossing reopens")))
    first, second = parse(no_guids).entries
    assert first.id.startswith("sha256:") and second.id.startswith("sha256:")
    assert first.id != second.id and not first.url_identifies and not second.url_identifies


def test_an_article_link_shared_by_three_entries_identifies_none_but_by_two_stays_one_article(
) -> None:
    """Three different entries on one page are a live blog or anchors of one page; two
    are most often an update listed beside its first version under a new guid, which
    must not alert again."""
    page = "https://example.org/live/aleppo"
    three = parse(guid_items(*((f"g-{n}", f"Update {n}", page) for n in range(3))))
    assert [a.url_identifies for a in three.entries] == [False, False, False]
    assert three.warning == (f"feed reuses link '{page}' for 3 different entries; "
                             "told apart by guid")
    two = parse(guid_items(("g-1", "Clashes near Manbij", page),
                           ("g-1-v2", "Clashes near Manbij: 12 dead", page)))
    assert [a.url_identifies for a in two.entries] == [True, True]
    assert len({identity_keys(a)[1] for a in two.entries}) == 1  # one URL key: one article
    assert two.warning == (f"feed reuses link '{page}' for 2 different entries; taken as one "
                           "article (an update beside its first version)")


def test_the_feeds_own_link_is_a_front_page() -> None:
    items = "".join(f"<item><guid>g-{n}</guid><title>Report {n}</title>"
                    "<link>https://example.org/news</link></item>" for n in range(2))
    result = parse(rss(items).replace(b"<channel>", b"<channel><link>https://example.org/news"
                                                    b"</link>", 1))
    assert [a.url_identifies for a in result.entries] == [False, False]


def test_entries_sharing_a_guid_are_told_apart_by_link() -> None:
    result = parse(guid_items(
        ("https://example.org/", "Shelling resumes", "https://example.org/a/1"),
        ("https://example.org/", "Crossing reopens", "https://example.org/a/2"),
        ("tag:example.org,2026:3", "Convoy arrives", "https://example.org/a/3"),
    ))
    assert [(a.id, a.guid, a.url_identifies) for a in result.entries] == [
        ("https://example.org/a/1", None, True),
        ("https://example.org/a/2", None, True),
        ("tag:example.org,2026:3", "tag:example.org,2026:3", True),
    ]
    assert result.warning == ("feed reuses guid 'https://example.org/' for 2 different "
                              "entries; told apart by link")


def test_a_link_only_a_fragment_apart_does_not_tell_entries_apart() -> None:
    """Links compare as the URL key does (no fragment): else one key would drop an entry."""
    result = parse(guid_items(
        ("day-29", "First note", "https://example.org/2002/09/29#a"),
        ("day-29", "Second note", "https://example.org/2002/09/29#b"),
        ("day-29", "Third note", "https://example.org/2002/09/30"),
    ))
    first, second, third = result.entries
    assert first.id.startswith("sha256:") and second.id.startswith("sha256:")
    assert not first.url_identifies and not second.url_identifies
    assert (third.id, third.url_identifies) == ("https://example.org/2002/09/30", True)
    assert result.reused_guids == ("feed reuses guid 'day-29' for 3 different entries; "
                                   "told apart by link and content")
    assert result.shared_links is None  # only entries told apart by guid share it


def test_an_entry_repeated_word_for_word_is_no_reused_guid() -> None:
    item = ("g-1", "Shelling resumes", "https://example.org/a/1")
    result = parse(guid_items(item, item))
    assert [a.id for a in result.entries] == ["g-1", "g-1"]  # the repeat: a duplicate
    assert result.reused_guids is None and result.warning is None


def test_several_reused_guids_are_one_line_naming_the_first_three() -> None:
    items = [(f"g{n}", f"Report {n}{side}", f"https://example.org/{n}{side}")
             for n in range(5) for side in "ab"]
    result = parse(guid_items(*items))
    assert len({a.id for a in result.entries}) == 10
    assert result.warning == (
        "feed reuses 5 guids for different entries ('g0' for 2, 'g1' for 2, 'g2' for 2, ...); "
        "told apart by link"
    )


def test_a_long_or_multiline_guid_is_shown_on_one_short_line() -> None:
    guid = "x" * 100 + "&#10;y"
    result = parse(guid_items((guid, "One", "https://example.org/1"),
                              (guid, "Two", "https://example.org/2")))
    assert result.warning is not None and "\n" not in result.warning
    assert f"'{'x' * 79}\u2026' for 2" in result.warning


def test_a_malformed_feed_reusing_a_guid_says_both() -> None:
    content = guid_items(("g", "One", "https://example.org/1"),
                         ("g", "Two", "https://example.org/2")).replace(b"One", b"One &bogus;")
    result = parse(content)
    assert result.malformed and result.reused_guids
    assert result.warning == f"{result.malformed}; {result.reused_guids}"


@pytest.mark.parametrize(
    ("entry", "url"),
    [
        ("<guid>1001</guid>", None),  # a permalink by RSS's default, but no URL
        ('<guid>1001</guid><enclosure url="https://cdn.example.org/a.mp3" length="1" '
         'type="audio/mpeg"/>', None),  # an enclosure is no link of the entry
        ("<guid>/news/2</guid>", "https://example.org/news/2"),  # a path is a link
        ("<guid>https://example.org/a/3</guid>", "https://example.org/a/3"),
        ('<guid isPermaLink="false">1004</guid><link>/a/4</link>', "https://example.org/a/4"),
    ],
)
def test_a_guid_is_a_link_only_when_it_is_a_url_or_a_path(entry, url):
    [article] = parse(rss(f"<item>{entry}<title>Siege</title></item>")).entries
    assert article.url == url
    assert article.id == article.guid  # as the feed wrote it, never resolved into a URL


def test_an_atom_id_that_is_no_url_is_no_link():
    atom = (b'<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>'
            b"<entry><id>42</id><title>Siege</title></entry></feed>")
    [article] = parse(atom, "https://example.org/f/feed.atom").entries
    assert (article.id, article.url) == ("42", None)
