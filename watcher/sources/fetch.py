"""Polite HTTP for polling feeds: deadlines, size caps, redirects, validators, Retry-After,
and no fetch from the local network for addresses taken from feeds.

The one module that imports httpx (connect.py is the network under it); callers get
FetchResult values or one-line FetchErrors.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from importlib.metadata import PackageNotFoundError, metadata, version
from types import MappingProxyType, TracebackType
from typing import Literal

import httpcore
import httpx
from pydantic import ByteSize

from watcher.errors import FetchError, FetchTimeout
from watcher.sources import connect
from watcher.sources.addresses import AddressPolicy, IPNetwork, Resolver, resolve
from watcher.sources.limits import DEFAULT_MAX_BYTES, DEFAULT_TIMEOUT, MAX_CONNECTIONS

FetchStatus = Literal["ok", "not_modified", "gone", "retry_later"]

REDIRECTS = frozenset({301, 302, 303, 307, 308})
PERMANENT_REDIRECTS = frozenset({301, 308})
RETRY_LATER = frozenset({429, 503})
# a Retry-After date years ahead is a server bug, not a request to stop polling for good
RETRY_AFTER_LIMIT = 7 * 24 * 3600.0
# inflate at most this much per step, so a gzip bomb is caught at the cap, not in RAM
DECODE_STEP = 64 * 1024
# only what we can inflate in bounded steps ourselves (see _Inflater); no br/zstd
ACCEPT_ENCODING = "gzip, deflate"
DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class Validators:
    """What the server said identifies this version; sent back, it earns a cheap 304."""

    etag: str | None = None
    last_modified: str | None = None

    def conditional_headers(self) -> dict[str, str]:
        """If-None-Match / If-Modified-Since for the validators we hold."""
        headers = {}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        return headers


@dataclass(frozen=True)
class FetchResult:
    """One fetch that reached an answer the caller acts on (errors are FetchError).

    status: "ok" (content holds the decoded body), "not_modified" (304, no body),
    "gone" (410: disable the source), "retry_later" (429/503: wait `retry_after` s or back off).
    permanent_url is the final URL when every redirect was 301/308: store it instead.
    validators are the ones to store for the next conditional GET. headers have lower-case names.
    """

    status: FetchStatus
    status_code: int
    url: str
    content: bytes = b""
    headers: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    permanent_url: str | None = None
    validators: Validators = Validators()
    retry_after: float | None = None


class Fetcher:
    """GETs one URL at a time, politely.

    timeout: seconds for the whole fetch (connect, headers, redirects and body), however
    slowly the server sends. max_bytes: cap on the decoded body. max_redirects: redirects
    followed before giving up. now: the clock for Retry-After dates. allow_private: address
    ranges that links and redirects from feeds may reach besides public addresses;
    resolver: host name to addresses (tests pass their own).
    """

    def __init__(
        self,
        *,
        now: Callable[[], datetime],
        timeout: float = DEFAULT_TIMEOUT,
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_redirects: int = 5,
        user_agent: str | None = None,
        allow_private: Sequence[IPNetwork] = (),
        resolver: Resolver = resolve,
    ) -> None:
        # Two pools, so a connection opened to a feed's own server (trusted: the operator
        # named it) is never reused for a link from a feed, which must be checked.
        self._configured = _client(connect.Backend(resolver=resolver))
        self._checked = _client(connect.Backend(AddressPolicy(tuple(allow_private)), resolver))
        self._now = now
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects
        self.user_agent = user_agent or default_user_agent()

    def close(self) -> None:
        """Close the connection pools; fetches in flight fail as cancelled."""
        self._configured.close()
        self._checked.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def fetch(
        self,
        url: str,
        validators: Validators = Validators(),
        *,
        max_bytes: int | None = None,
        configured: str | None = None,
    ) -> FetchResult:
        """GET `url` with the stored validators; FetchError says in one line why it failed.
        `max_bytes` caps this body instead of the fetcher's own cap (a source's max_size).

        `configured` is the feed URL the operator wrote in watcher.yaml: requests to its
        server (same host and port, or its https upgrade) go wherever it resolves, an
        intranet feed included. Every other request (a link from a feed, a redirect to
        another server, a moved feed's new home) reaches only public addresses and
        `allow_private`."""
        _check_url(url)
        deadline = time.monotonic() + self.timeout
        limit = self.max_bytes if max_bytes is None else max_bytes
        try:
            with connect.deadline(deadline):
                return self._follow(url, validators, deadline, limit, configured)
        except _TooLarge as error:  # a feed's cap is its source's to raise; a page's is not
            hint = " (a source's max_size raises the limit)" if max_bytes is not None else ""
            raise _fail(url, f"response larger than {error.size}{hint}") from None
        except httpx.TimeoutException as error:
            raise self._timed_out(url) from error
        except (httpx.HTTPError, httpx.InvalidURL) as error:
            raise _fail(url, _describe(error)) from error
        except RuntimeError as error:  # the client was closed (shutdown) before or during it
            raise _fail(url, "cancelled: the fetcher was closed") from error

    def _follow(
        self,
        url: str,
        validators: Validators,
        deadline: float,
        max_bytes: int,
        configured: str | None,
    ) -> FetchResult:
        """Follow redirects by hand: to cap them, spot loops, tell permanent ones apart and
        check where each one leads."""
        hops: list[int] = []
        seen = {url}
        current = url
        while True:
            trusted = configured is not None and _same_server(configured, current)
            try:
                response = self._send(url, current, validators, deadline, trusted=trusted)
            except connect.AddressRefused as refused:
                via = "" if current == url else f"redirected to {current}: "
                raise _fail(url, f"{via}{refused}") from None
            try:
                if response.status_code not in REDIRECTS:
                    return self._answer(url, response, hops, validators, deadline, max_bytes)
                if len(hops) == self.max_redirects:
                    raise _fail(url, f"more than {self.max_redirects} redirects")
                current = _redirect_target(url, response, seen)
                hops.append(response.status_code)
            finally:
                response.close()

    def _send(
        self, url: str, current: str, validators: Validators, deadline: float, *, trusted: bool
    ) -> httpx.Response:
        headers = {"User-Agent": self.user_agent, "Accept-Encoding": ACCEPT_ENCODING}
        headers.update(validators.conditional_headers())
        wait = httpx.Timeout(self._remaining(url, deadline))
        client = self._configured if trusted else self._checked
        request = client.build_request("GET", current, headers=headers, timeout=wait)
        return client.send(request, stream=True, follow_redirects=False)

    def _remaining(self, url: str, deadline: float) -> float:
        """Seconds left before the deadline; past it, the fetch has timed out."""
        left = deadline - time.monotonic()
        if left <= 0:
            raise self._timed_out(url)
        return left

    def _timed_out(self, url: str) -> FetchError:
        return _fail(url, f"timed out after {self.timeout:g} s", FetchTimeout)

    def _answer(
        self,
        url: str,
        response: httpx.Response,
        hops: list[int],
        sent: Validators,
        deadline: float,
        max_bytes: int,
    ) -> FetchResult:
        """Turn the last response of the chain into a result, or a FetchError."""
        code = response.status_code
        status = _status_of(code)
        if status is None:
            raise _fail(url, f"HTTP {code} {response.reason_phrase}{_via(url, response)}")
        content = self._read_body(url, response, deadline, max_bytes) if status == "ok" else b""
        return FetchResult(
            status=status,
            status_code=code,
            url=str(response.url),
            content=content,
            headers=MappingProxyType(dict(response.headers.items())),
            permanent_url=str(response.url) if _all_permanent(hops) else None,
            validators=_validators(response, sent, fresh=status == "ok"),
            retry_after=self._retry_after(response) if status == "retry_later" else None,
        )

    def _retry_after(self, response: httpx.Response) -> float | None:
        return parse_retry_after(response.headers.get("retry-after"), now=self._now())

    def _read_body(
        self, url: str, response: httpx.Response, deadline: float, max_bytes: int
    ) -> bytes:
        """Read and decode while counting, so neither a huge nor a slow body costs more
        than max_bytes of memory or the deadline."""
        encoding = response.headers.get("content-encoding", "identity").strip().lower()
        if encoding == "identity" and _declared_length(response) > max_bytes:
            raise _TooLarge(max_bytes)
        inflater = _inflater_for(url, encoding)
        body = bytearray()
        for chunk in response.iter_raw():
            self._remaining(url, deadline)
            for piece in inflater.feed(url, chunk):
                body += piece
                if len(body) > max_bytes:
                    raise _TooLarge(max_bytes)
        return bytes(body)


# httpx's default limits (httpcore's own pool has none); fetch.concurrency stays within them
LIMITS = httpx.Limits(max_connections=MAX_CONNECTIONS, max_keepalive_connections=20,
                      keepalive_expiry=5.0)


class _Transport(httpx.HTTPTransport):
    """httpx's transport (its request and response mapping, its exceptions) over
    connect.Backend. No proxy: through one, the address a request reaches could not be
    checked.

    HTTPTransport takes no network backend, so this depends on one httpx internal: it
    sends every request through its `_pool`, which is replaced here by a pool over our
    backend (sharing the one SSL context; the pool httpx built holds no connection). An
    httpx that keeps its pool elsewhere fails here at start-up, never fetches unchecked."""

    def __init__(self, backend: connect.Backend) -> None:
        tls = httpx.create_ssl_context()  # SSL_CERT_FILE and SSL_CERT_DIR still apply
        super().__init__(verify=tls, limits=LIMITS)
        if not isinstance(getattr(self, "_pool", None), httpcore.ConnectionPool):
            raise RuntimeError(f"httpx {httpx.__version__} keeps its transport's connection "
                               "pool elsewhere: watcher's network backend cannot be used")
        self._pool = httpcore.ConnectionPool(
            ssl_context=tls, network_backend=backend, max_connections=LIMITS.max_connections,
            max_keepalive_connections=LIMITS.max_keepalive_connections,
            keepalive_expiry=LIMITS.keepalive_expiry,
        )


def _client(backend: connect.Backend) -> httpx.Client:
    # An explicit transport also keeps httpx from routing through HTTP(S)_PROXY.
    return httpx.Client(transport=_Transport(backend))


def _same_server(configured: str, target: str) -> bool:
    """Whether `target` is on the configured feed's server: its host and port, or the
    https upgrade of an http feed on the default port."""
    ours, theirs = httpx.URL(configured), httpx.URL(target)
    if ours.host != theirs.host:
        return False
    port = ours.port or DEFAULT_PORTS.get(ours.scheme)
    other = theirs.port or DEFAULT_PORTS.get(theirs.scheme)
    return port == other or (port, theirs.scheme, other) == (80, "https", 443)


class _TooLarge(Exception):
    """A body past the cap; `fetch` says so with the URL."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(max_bytes)
        self.size = ByteSize(max_bytes).human_readable(separator=" ")


class _Inflater:
    """Decodes gzip/deflate in DECODE_STEP pieces; a plain body passes through as it came."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self._zlib = _decompressor(encoding)
        self._started = False

    def feed(self, url: str, data: bytes) -> Iterator[bytes]:
        if self._zlib is None:
            yield data
            return
        try:
            yield from self._inflate(data)
        except zlib.error as error:
            raise _fail(url, f"corrupt {self.encoding} body: {error}") from error

    def _inflate(self, data: bytes) -> Iterator[bytes]:
        assert self._zlib is not None
        if not self._started and self.encoding == "deflate" and not _has_zlib_header(data):
            # some servers send raw deflate without the zlib wrapper RFC 9110 asks for
            self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
        self._started = True
        while data and not self._zlib.eof:
            piece = self._zlib.decompress(data, DECODE_STEP)
            data = self._zlib.unconsumed_tail
            if piece:
                yield piece


def _decompressor(encoding: str) -> zlib._Decompress | None:
    if encoding in ("gzip", "x-gzip"):
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if encoding == "deflate":
        return zlib.decompressobj(zlib.MAX_WBITS)
    return None


def _has_zlib_header(data: bytes) -> bool:
    """RFC 1950: compression method 8 and a header checksum divisible by 31."""
    return len(data) >= 2 and data[0] & 0x0F == 8 and (data[0] << 8 | data[1]) % 31 == 0


def _inflater_for(url: str, encoding: str) -> _Inflater:
    if encoding not in ("identity", "", "gzip", "x-gzip", "deflate"):
        raise _fail(url, f"unsupported Content-Encoding {encoding!r}")
    return _Inflater(encoding)


def _status_of(code: int) -> FetchStatus | None:
    """The statuses a caller acts on; None means an error."""
    if 200 <= code < 300:
        return "ok"
    if code == 304:
        return "not_modified"
    if code == 410:
        return "gone"
    if code in RETRY_LATER:
        return "retry_later"
    return None


def _validators(response: httpx.Response, sent: Validators, *, fresh: bool) -> Validators:
    """A 200 replaces the validators; a 304 (or any other answer) keeps what it does not
    replace, so the next poll can still be conditional."""
    etag = response.headers.get("etag")
    last_modified = response.headers.get("last-modified")
    if fresh:
        return Validators(etag=etag, last_modified=last_modified)
    return Validators(etag=etag or sent.etag, last_modified=last_modified or sent.last_modified)


def _all_permanent(hops: list[int]) -> bool:
    """One 302/307 in the chain means the old URL may come back, so keep it."""
    return bool(hops) and all(code in PERMANENT_REDIRECTS for code in hops)


def _redirect_target(url: str, response: httpx.Response, seen: set[str]) -> str:
    location = response.headers.get("location")
    if not location:
        raise _fail(url, f"HTTP {response.status_code} redirect without a Location")
    target = str(response.url.join(location))
    if target in seen:
        raise _fail(url, f"redirect loop back to {target}")
    if httpx.URL(target).scheme not in ("http", "https"):
        raise _fail(url, f"redirected to {target}, which is not http(s)")
    seen.add(target)
    return target


def _declared_length(response: httpx.Response) -> int:
    value = response.headers.get("content-length", "")
    return int(value) if value.strip().isdigit() else 0


def _via(url: str, response: httpx.Response) -> str:
    final = str(response.url)
    return "" if final == url else f" (redirected to {final})"


def _check_url(url: str) -> None:
    """Only http and https: a feed URL of file:// or ftp:// is a configuration mistake."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as error:
        raise _fail(url, f"not a valid URL ({error})") from error
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise _fail(url, "only http:// and https:// URLs can be fetched")


def _describe(error: Exception) -> str:
    """httpx's exception, said for a person reading the sources list."""
    detail = str(error) or type(error).__name__
    if isinstance(error, httpx.ConnectError):
        return f"cannot connect: {detail}"
    if isinstance(error, httpx.RemoteProtocolError):
        return f"broken HTTP response: {detail}"
    if isinstance(error, httpx.UnsupportedProtocol):
        return "only http:// and https:// URLs can be fetched"
    return f"{type(error).__name__}: {detail}"


def _fail(url: str, reason: str, kind: type[FetchError] = FetchError) -> FetchError:
    """FetchError messages are one line naming the URL, whatever the server sent."""
    return kind(" ".join(f"{url}: {reason}".split()))


def parse_retry_after(value: str | None, *, now: datetime) -> float | None:
    """Retry-After as seconds from `now`: delta-seconds or an HTTP date; None if unusable."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, (_aware(when) - _aware(now)).total_seconds())


def _aware(moment: datetime) -> datetime:
    """HTTP dates are GMT; a naive time is taken as UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def next_attempt_delay(
    errors_in_a_row: int,
    *,
    base: float = 60.0,
    cap: float = 6 * 3600.0,
    retry_after: float | None = None,
) -> float:
    """Seconds to wait after `errors_in_a_row` failures: base, 2 base, 4 base… up to cap.

    A longer Retry-After wins (up to RETRY_AFTER_LIMIT). Never "give up": a feed that is
    down for a week is still tried every `cap` seconds and comes back on its own.
    """
    doublings = min(max(errors_in_a_row, 1) - 1, 64)
    delay = min(cap, base * 2.0**doublings)
    if retry_after is not None:
        delay = max(delay, min(retry_after, RETRY_AFTER_LIMIT))
    return delay


def default_user_agent(contact: str | None = None) -> str:
    """watcher/VERSION and who to reach, so a feed's operator can write before blocking:
    the configured `contact` (a URL, or an e-mail address as mailto:), else the project's
    home page when the package names one."""
    try:
        ours = version("watcher")
        urls = metadata("watcher").get_all("Project-URL") or []
    except PackageNotFoundError:
        ours, urls = "unknown", []
    home = next((entry.split(",", 1)[1].strip() for entry in urls if "," in entry), None)
    if contact is not None and "://" not in contact and not contact.startswith("mailto:"):
        contact = f"mailto:{contact}"
    reach = contact or home
    about = f"+{reach}" if reach else "conflict-news alert daemon"
    return f"watcher/{ours} ({about}; python-httpx/{httpx.__version__})"
