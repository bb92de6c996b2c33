"""The fetcher against a real HTTP server on 127.0.0.1: validators, redirects, Retry-After,
timeouts, size caps and encodings, each as a feed operator's server would do it."""

from __future__ import annotations

import gzip
import ssl
import subprocess
import threading
import tracemalloc
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest

from tests.support.helpers import PATIENCE
from tests.support.http_server import (
    Framing,
    Reply,
    ScriptedServer,
    TricklingServer,
    closed_port,
)
from watcher.errors import FetchError, FetchTimeout
from watcher.sources.addresses import AddressPolicy, parse_ranges
from watcher.sources.fetch import (
    Fetcher,
    Validators,
    default_user_agent,
    next_attempt_delay,
    parse_retry_after,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
FEED = b"<rss><channel><title>Aleppo</title></channel></rss>"
ETAG = '"v1"'
LAST_MODIFIED = "Sun, 01 Mar 2026 11:00:00 GMT"
# These tests play a feed's server on 127.0.0.1, which links from feeds may not reach
# unless allowed (the address policy has tests of its own below).
LOOPBACK = parse_ranges(["127.0.0.0/8"])


def loopback_fetcher(**options: Any) -> Fetcher:
    return Fetcher(now=lambda: NOW, allow_private=LOOPBACK, **options)


@pytest.fixture
def fetcher() -> Iterator[Fetcher]:
    with loopback_fetcher(timeout=5) as fetcher:
        yield fetcher


def redirect(status: int, to: str) -> Reply:
    return Reply(status=status, headers={"Location": to})


# conditional GET


def test_etag_round_trip_then_304_costs_no_body(http_server: ScriptedServer, fetcher: Fetcher):
    http_server.route("/feed", Reply(body=FEED, headers={"ETag": ETAG}), Reply(status=304))
    first = fetcher.fetch(http_server.url("/feed"))
    second = fetcher.fetch(http_server.url("/feed"), first.validators)

    assert (first.status, first.content, first.validators) == ("ok", FEED, Validators(etag=ETAG))
    assert (second.status, second.content) == ("not_modified", b"")
    assert second.validators == Validators(etag=ETAG)
    sent = http_server.requests_to("/feed")
    assert "if-none-match" not in sent[0].headers
    assert sent[1].headers["if-none-match"] == ETAG


def test_last_modified_round_trip(http_server: ScriptedServer, fetcher: Fetcher):
    http_server.route("/feed", Reply(body=FEED, headers={"Last-Modified": LAST_MODIFIED}),
                      Reply(status=304))  # fmt: skip
    first = fetcher.fetch(http_server.url("/feed"))
    second = fetcher.fetch(http_server.url("/feed"), first.validators)

    assert first.validators == Validators(last_modified=LAST_MODIFIED)
    assert second.status == "not_modified"
    assert http_server.requests_to("/feed")[1].headers["if-modified-since"] == LAST_MODIFIED


def test_a_304_with_a_new_etag_replaces_only_that(http_server: ScriptedServer, fetcher: Fetcher):
    http_server.route("/feed", Reply(status=304, headers={"ETag": '"v2"'}))
    stored = Validators(etag=ETAG, last_modified=LAST_MODIFIED)
    result = fetcher.fetch(http_server.url("/feed"), stored)
    assert result.validators == Validators(etag='"v2"', last_modified=LAST_MODIFIED)


# redirects


@pytest.mark.parametrize("status", [301, 308])
def test_permanent_redirects_give_the_url_to_store(
    http_server: ScriptedServer, fetcher: Fetcher, status: int
):
    http_server.route("/old", redirect(status, "/older"))
    http_server.route("/older", redirect(301, "/new"))
    http_server.route("/new", Reply(body=FEED))
    result = fetcher.fetch(http_server.url("/old"))
    assert (result.status, result.content) == ("ok", FEED)
    assert result.url == result.permanent_url == http_server.url("/new")


@pytest.mark.parametrize("status", [302, 307])
def test_temporary_redirects_keep_the_stored_url(
    http_server: ScriptedServer, fetcher: Fetcher, status: int
):
    http_server.route("/old", redirect(301, "/moved"))
    http_server.route("/moved", redirect(status, "/today"))
    http_server.route("/today", Reply(body=FEED))
    result = fetcher.fetch(http_server.url("/old"))
    assert result.url == http_server.url("/today")
    assert result.permanent_url is None


def test_a_redirect_loop_is_an_error(http_server: ScriptedServer, fetcher: Fetcher):
    http_server.route("/a", redirect(302, "/b"))
    http_server.route("/b", redirect(302, "/a"))
    with pytest.raises(FetchError, match="redirect loop"):
        fetcher.fetch(http_server.url("/a"))


def test_too_many_redirects_is_an_error(http_server: ScriptedServer):
    for hop in range(6):
        http_server.route(f"/{hop}", redirect(302, f"/{hop + 1}"))
    http_server.route("/6", Reply(body=FEED))
    with loopback_fetcher(max_redirects=5) as fetcher:
        with pytest.raises(FetchError, match="more than 5 redirects"):
            fetcher.fetch(http_server.url("/0"))
        http_server.route("/1", redirect(302, "/6"))
        assert fetcher.fetch(http_server.url("/0")).content == FEED


def test_a_redirect_off_http_is_an_error(http_server: ScriptedServer, fetcher: Fetcher):
    http_server.route("/feed", redirect(302, "file:///etc/passwd"))
    with pytest.raises(FetchError, match="not http"):
        fetcher.fetch(http_server.url("/feed"))


# statuses the caller acts on


def test_410_means_gone(http_server: ScriptedServer, fetcher: Fetcher):
    http_server.route("/feed", Reply(status=410, body=b"this feed is no more"))
    result = fetcher.fetch(http_server.url("/feed"))
    assert (result.status, result.status_code, result.content) == ("gone", 410, b"")


def test_429_with_retry_after_seconds(http_server: ScriptedServer, fetcher: Fetcher):
    http_server.route("/feed", Reply(status=429, headers={"Retry-After": "120"}))
    result = fetcher.fetch(http_server.url("/feed"))
    assert (result.status, result.status_code, result.retry_after) == ("retry_later", 429, 120.0)


def test_429_with_retry_after_date(http_server: ScriptedServer, fetcher: Fetcher):
    later = format_datetime(NOW + timedelta(minutes=15), usegmt=True)
    http_server.route("/feed", Reply(status=429, headers={"Retry-After": later}))
    assert fetcher.fetch(http_server.url("/feed")).retry_after == 900.0


def test_503_with_retry_after(http_server: ScriptedServer, fetcher: Fetcher):
    http_server.route("/feed", Reply(status=503, headers={"Retry-After": "3600"}))
    result = fetcher.fetch(http_server.url("/feed"))
    assert (result.status, result.status_code, result.retry_after) == ("retry_later", 503, 3600.0)


def test_503_without_retry_after_leaves_it_to_backoff(
    http_server: ScriptedServer, fetcher: Fetcher
):
    http_server.route("/feed", Reply(status=503))
    assert fetcher.fetch(http_server.url("/feed")).retry_after is None


def test_retry_after_parsing():
    assert parse_retry_after(" 30 ", now=NOW) == 30.0
    assert parse_retry_after("Sun, 01 Mar 2026 11:00:00 GMT", now=NOW) == 0.0  # in the past
    assert parse_retry_after("soon", now=NOW) is None
    assert parse_retry_after(None, now=NOW) is None


def test_a_run_of_500s_fails_each_time_and_backs_off_to_the_cap(
    http_server: ScriptedServer, fetcher: Fetcher
):
    http_server.route("/feed", Reply(status=500, body=b"Traceback (most recent call last):\n"))
    delays = []
    for errors_in_a_row in range(1, 11):
        with pytest.raises(FetchError) as raised:
            fetcher.fetch(http_server.url("/feed"))
        assert str(raised.value) == f"{http_server.url('/feed')}: HTTP 500 Internal Server Error"
        delays.append(next_attempt_delay(errors_in_a_row, base=60, cap=3600))
    assert delays == [60, 120, 240, 480, 960, 1920, 3600, 3600, 3600, 3600]


def test_backoff_honours_a_longer_retry_after():
    assert next_attempt_delay(1, base=60, retry_after=900) == 900
    assert next_attempt_delay(3, base=60, retry_after=10) == 240
    assert next_attempt_delay(50, cap=6 * 3600, retry_after=24 * 3600) == 24 * 3600
    assert next_attempt_delay(10_000) == 6 * 3600  # never gives up, never overflows


def test_a_404_names_the_status_and_the_redirect(http_server: ScriptedServer, fetcher: Fetcher):
    http_server.route("/old", redirect(301, "/missing"))
    with pytest.raises(FetchError) as raised:
        fetcher.fetch(http_server.url("/old"))
    assert str(raised.value) == (
        f"{http_server.url('/old')}: HTTP 404 Not Found (redirected to "
        f"{http_server.url('/missing')})"
    )


# slow servers


def test_a_server_that_stalls_mid_body_times_out(http_server: ScriptedServer):
    http_server.route("/feed", Reply(body=FEED, chunk_size=10, pause=30))
    with loopback_fetcher(timeout=0.5) as fetcher, pytest.raises(FetchError) as raised:
        fetcher.fetch(http_server.url("/feed"))
    assert str(raised.value) == f"{http_server.url('/feed')}: timed out after 0.5 s"


def test_a_trickle_is_cut_off_at_the_deadline(http_server: ScriptedServer):
    """Every byte arrives well within the read timeout; only the total deadline stops it."""
    http_server.route("/feed", Reply(body=b"x" * 100, framing="chunked", chunk_size=1, pause=0.05))
    with loopback_fetcher(timeout=0.5) as fetcher, pytest.raises(FetchError) as raised:
        fetcher.fetch(http_server.url("/feed"))
    assert str(raised.value) == f"{http_server.url('/feed')}: timed out after 0.5 s"


def test_headers_that_trickle_are_cut_off_at_the_deadline():
    """httpx's read timeout starts again on every byte: a server sending its headers a
    byte at a time held a fetch (and a poll slot) for minutes."""
    with TricklingServer(pause=0.05) as slow, loopback_fetcher(timeout=0.5) as fetcher:
        with pytest.raises(FetchError) as raised:
            fetcher.fetch(slow.url("/feed"))
        assert str(raised.value) == f"{slow.url('/feed')}: timed out after 0.5 s"
        assert slow.requests == 1


def test_a_feeds_trickling_headers_are_cut_off_too():
    """The deadline holds for the operator's own feed URLs as for links."""
    with TricklingServer(pause=0.05) as slow, Fetcher(now=lambda: NOW, timeout=0.5) as fetcher, \
            pytest.raises(FetchError, match=r"timed out after 0.5 s$"):
        fetcher.fetch(slow.url("/feed"), configured=slow.url("/feed"))


class NameServerThatNeverAnswers:
    """A resolver that blocks until released (at most `limit` seconds, so that a fetcher
    waiting for it fails the test instead of hanging it); records what it was asked and
    whether it has answered."""

    def __init__(self, limit: float = PATIENCE) -> None:
        self.limit, self.asked, self.answered = limit, [], False
        self.released = threading.Event()

    def __call__(self, host: str, port: int) -> list[str]:
        self.asked.append(host)
        self.released.wait(self.limit)
        self.answered = True
        return ["127.0.0.1"]


def test_a_name_server_that_never_answers_is_cut_off_at_the_deadline():
    """getaddrinfo takes no timeout: a feed's name whose name server never answers held a
    fetch, and a poll slot, past fetch.timeout. The lookup now ends by the deadline, for a
    link and for the operator's own feed, as a timeout (a stall: the poll then skips the
    other pages of that host)."""
    resolver = NameServerThatNeverAnswers()
    link, feed = f"http://stalled.example:{closed_port()}/page", "http://feed.example/feed"
    try:
        with loopback_fetcher(timeout=0.5, resolver=resolver) as fetcher:
            for url, configured in ((link, None), (feed, feed)):
                with pytest.raises(FetchTimeout) as raised:
                    fetcher.fetch(url, configured=configured)
                assert str(raised.value) == f"{url}: timed out after 0.5 s"
                assert not resolver.answered  # given up on while the lookup still waits
    finally:
        resolver.released.set()
    assert resolver.asked == ["stalled.example", "feed.example"]


# size caps and encodings


@pytest.mark.parametrize("framing", ["length", "chunked", "close"])
def test_a_body_past_the_cap_is_refused(http_server: ScriptedServer, framing: Framing):
    http_server.route("/feed", Reply(body=b"x" * 5000, framing=framing, chunk_size=512))
    fetcher = loopback_fetcher(max_bytes=4096)
    with fetcher, pytest.raises(FetchError, match=r"larger than 4.0 KiB$"):
        fetcher.fetch(http_server.url("/feed"))  # a page for full text: no max_size to raise


def test_a_fetch_may_allow_more_than_the_fetchers_cap(http_server: ScriptedServer):
    """A source's `max_size` for a large full-content feed."""
    http_server.route("/feed", Reply(body=b"x" * 5000))
    with loopback_fetcher(max_bytes=4096) as fetcher:
        assert len(fetcher.fetch(http_server.url("/feed"), max_bytes=8192).content) == 5000
        with pytest.raises(FetchError, match=r"larger than 1.0 KiB \(a source's max_size raises"):
            fetcher.fetch(http_server.url("/feed"), max_bytes=1024)


def test_a_body_at_the_cap_is_fine(http_server: ScriptedServer):
    http_server.route("/feed", Reply(body=b"x" * 4096, framing="close"))
    with loopback_fetcher(max_bytes=4096) as fetcher:
        assert len(fetcher.fetch(http_server.url("/feed")).content) == 4096


def test_a_short_body_under_a_longer_content_length_is_an_error(
    http_server: ScriptedServer, fetcher: Fetcher
):
    http_server.route("/feed", Reply(body=FEED, content_length=len(FEED) + 100))
    with pytest.raises(FetchError, match="broken HTTP response") as raised:
        fetcher.fetch(http_server.url("/feed"))
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize(
    ("encoding", "compress"),
    [("gzip", gzip.compress), ("deflate", zlib.compress), ("deflate", lambda data: raw(data))],
)
def test_compressed_bodies_are_decoded(
    http_server: ScriptedServer, fetcher: Fetcher, encoding: str, compress
):
    http_server.route("/feed", Reply(body=compress(FEED), headers={"Content-Encoding": encoding}))
    assert fetcher.fetch(http_server.url("/feed")).content == FEED
    assert http_server.requests[0].headers["accept-encoding"] == "gzip, deflate"


def raw(data: bytes) -> bytes:
    """Raw deflate, without the zlib wrapper, as some servers send it."""
    packer = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


def test_a_gzip_bomb_stops_at_the_cap_without_inflating(http_server: ScriptedServer):
    bomb = gzip.compress(b"\0" * (200 * 2**20))  # 200 MiB that travel as about 200 kB
    http_server.route("/feed", Reply(body=bomb, headers={"Content-Encoding": "gzip"}))
    with loopback_fetcher(max_bytes=2**20) as fetcher:
        tracemalloc.start()
        try:
            with pytest.raises(FetchError, match="larger than 1.0 MiB"):
                fetcher.fetch(http_server.url("/feed"))
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert peak < 16 * 2**20


def test_an_unknown_content_encoding_is_an_error(http_server: ScriptedServer, fetcher: Fetcher):
    http_server.route("/feed", Reply(body=FEED, headers={"Content-Encoding": "br"}))
    with pytest.raises(FetchError, match="unsupported Content-Encoding 'br'"):
        fetcher.fetch(http_server.url("/feed"))


def test_corrupt_gzip_is_an_error(http_server: ScriptedServer, fetcher: Fetcher):
    http_server.route("/feed", Reply(body=b"not gzip at all", headers={"Content-Encoding": "gzip"}))
    with pytest.raises(FetchError, match="corrupt gzip body"):
        fetcher.fetch(http_server.url("/feed"))


# who we are, and where we go


def test_the_user_agent_names_watcher_and_its_version(
    http_server: ScriptedServer, fetcher: Fetcher
):
    http_server.route("/feed", Reply(body=FEED))
    fetcher.fetch(http_server.url("/feed"))
    agent = http_server.requests[0].headers["user-agent"]
    assert agent == default_user_agent()
    assert agent.startswith("watcher/0.") and "(" in agent


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.org/feed", "feed.xml",
                                 "http://"])  # fmt: skip
def test_only_http_urls_are_fetched(fetcher: Fetcher, url: str):
    with pytest.raises(FetchError) as raised:
        fetcher.fetch(url)
    assert str(raised.value).startswith(f"{url}: ")


def test_connection_refused_is_one_line():
    url = f"http://127.0.0.1:{closed_port()}/feed"
    with loopback_fetcher() as fetcher, pytest.raises(FetchError) as raised:
        fetcher.fetch(url)
    message = str(raised.value)
    assert message.startswith(f"{url}: cannot connect: ")
    assert "refused" in message.lower() and "\n" not in message


# where links and redirects from feeds may lead (SSRF)

SECRET = b"db_password=hunter2"


def refused(url: str, address: str, kind: str) -> str:
    return (f"{url}: refused to connect to {address} ({kind}): only public addresses are "
            "fetched for links and redirects from feeds (fetch.allow_private allows ranges)")


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"), ("::1", "loopback"), ("10.1.2.3", "private"),
        ("172.16.0.9", "private"), ("192.168.1.1", "private"), ("fc00::1", "private"),
        ("fd12:3456::1", "private"), ("169.254.169.254", "link-local"),
        ("fe80::1%eth0", "link-local"), ("fec0::1", "site-local"),
        ("224.0.0.251", "multicast"), ("ff02::1", "multicast"),
        ("0.0.0.0", "unspecified"), ("::", "unspecified"), ("100.64.0.1", "not public"),
        ("240.0.0.1", "reserved"),
        # IPv4 inside IPv6: mapped, NAT64 and 6to4 all end up at the IPv4 address
        ("::ffff:127.0.0.1", "loopback"), ("::ffff:169.254.169.254", "link-local"),
        ("64:ff9b::7f00:1", "loopback"), ("64:ff9b::a00:1", "private"),
        ("2002:7f00:1::", "loopback"), ("2002:a9fe:a9fe::", "link-local"),
        ("93.184.215.14", None), ("2606:4700::1111", None), ("64:ff9b::5db8:d70e", None),
    ],
)
def test_only_public_addresses_pass_the_policy(address: str, kind: str | None):
    assert AddressPolicy().refusal(address) == kind


def test_allowed_ranges_pass_and_nothing_else_does():
    policy = AddressPolicy(parse_ranges(["10.0.0.0/8", "fd00::/8", "169.254.169.254"]))
    assert [policy.refusal(a) for a in ("10.9.8.7", "fd00::5", "::ffff:10.0.0.1",
                                        "169.254.169.254")] == [None] * 4
    assert policy.refusal("169.254.169.253") == "link-local"
    assert policy.refusal("192.168.1.1") == "private"
    assert policy.refusal("127.0.0.1") == "loopback"


def test_a_bad_range_is_named():
    with pytest.raises(ValueError, match="'10.0.0.0/33' is not an address range"):
        parse_ranges(["10.0.0.0/8", "10.0.0.0/33"])


def test_a_link_to_this_machine_is_not_fetched(http_server: ScriptedServer):
    http_server.route("/secret", Reply(body=SECRET))
    url = http_server.url("/secret")
    with Fetcher(now=lambda: NOW) as fetcher, pytest.raises(FetchError) as raised:
        fetcher.fetch(url)
    assert str(raised.value) == refused(url, "127.0.0.1", "loopback")
    assert http_server.requests == []


def test_a_name_that_resolves_to_this_machine_is_not_fetched(http_server: ScriptedServer):
    http_server.route("/secret", Reply(body=SECRET))
    url = f"http://news.example:{http_server.port}/secret"
    answers = {"news.example": ["93.184.215.14", "127.0.0.1"]}  # one bad answer is enough
    fetcher = Fetcher(now=lambda: NOW, resolver=lambda host, port: answers[host])
    with fetcher, pytest.raises(FetchError) as raised:
        fetcher.fetch(url)
    assert str(raised.value) == refused(url, "news.example at 127.0.0.1", "loopback")
    assert http_server.requests == []


def test_the_connection_goes_to_the_address_that_was_checked(http_server: ScriptedServer):
    """DNS rebinding: a name that answers an allowed address to the check and another one
    to the connect. The name is resolved once; the request still names its host."""
    http_server.route("/page", Reply(body=FEED))
    lookups: list[str] = []

    def rebinding(host: str, port: int) -> list[str]:
        lookups.append(host)
        return ["127.0.0.1"] if len(lookups) == 1 else ["169.254.169.254"]

    allow = parse_ranges(["127.0.0.1/32"])
    with Fetcher(now=lambda: NOW, allow_private=allow, resolver=rebinding) as fetcher:
        result = fetcher.fetch(f"http://rebind.example:{http_server.port}/page")
    assert result.content == FEED
    assert lookups == ["rebind.example"]
    assert http_server.requests[0].headers["host"] == f"rebind.example:{http_server.port}"


def test_https_to_the_checked_address_still_verifies_the_certificate_for_the_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """Connecting to the address checked must not weaken TLS: the certificate is verified
    for the host name in the URL (SNI too), not for the address."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-keyout", str(key), "-out", str(cert), "-subj", "/CN=news.example",
                    "-addext", "subjectAltName=DNS:news.example"],
                   check=True, capture_output=True)  # fmt: skip
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the only certificate trusted
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    answers = {"news.example": ["127.0.0.1"], "other.example": ["127.0.0.1"]}
    with ScriptedServer(tls) as server:
        server.route("/page", Reply(body=FEED))
        fetcher = loopback_fetcher(resolver=lambda host, port: answers[host])
        with fetcher:
            page = fetcher.fetch(f"https://news.example:{server.port}/page")
            with pytest.raises(FetchError, match="CERTIFICATE_VERIFY_FAILED"):
                fetcher.fetch(f"https://other.example:{server.port}/page")
    assert page.content == FEED
    assert server.requests[0].headers["host"] == f"news.example:{server.port}"


def test_a_redirect_from_an_allowed_page_to_loopback_is_refused(http_server: ScriptedServer):
    target = f"http://[::1]:{closed_port()}/secret"
    http_server.route("/page", redirect(302, target))
    url = http_server.url("/page")
    fetcher = Fetcher(now=lambda: NOW, allow_private=parse_ranges(["127.0.0.1/32"]))
    with fetcher, pytest.raises(FetchError) as raised:
        fetcher.fetch(url)
    assert str(raised.value) == refused(url, "::1", "loopback").replace(
        "refused", f"redirected to {target}: refused", 1)


def test_allow_private_lets_links_reach_those_ranges(http_server: ScriptedServer):
    http_server.route("/page", Reply(body=FEED))
    with loopback_fetcher() as fetcher:
        assert fetcher.fetch(http_server.url("/page")).content == FEED


def test_a_configured_feed_on_this_machine_is_polled_and_may_redirect_on_its_server(
    http_server: ScriptedServer,
):
    """The operator named the server (an intranet feed): it and its own redirects are
    reached; a redirect to another server on this machine is not, unless allowed."""
    with ScriptedServer() as other:
        other.route("/secret", Reply(body=SECRET))
        elsewhere = other.url("/secret")
        http_server.route("/feed", redirect(301, "/feed.xml"))
        http_server.route("/feed.xml", Reply(body=FEED))
        http_server.route("/moved", redirect(302, elsewhere))
        feed, moved = http_server.url("/feed"), http_server.url("/moved")
        with Fetcher(now=lambda: NOW) as fetcher:
            assert fetcher.fetch(feed, configured=feed).content == FEED
            with pytest.raises(FetchError) as raised:
                fetcher.fetch(moved, configured=moved)
            # the feed's server, yes; a link that happens to point at it, no
            with pytest.raises(FetchError, match="refused to connect to 127.0.0.1"):
                fetcher.fetch(http_server.url("/feed.xml"), configured=None)
        assert str(raised.value) == refused(moved, "127.0.0.1", "loopback").replace(
            "refused", f"redirected to {elsewhere}: refused", 1)
        assert other.requests == []
        with loopback_fetcher() as fetcher:
            assert fetcher.fetch(moved, configured=moved).content == SECRET
