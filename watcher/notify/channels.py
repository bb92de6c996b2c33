"""Channels and their apprise targets: parsing, masking, sending one message to one target.

The only module that imports apprise; it also keeps apprise's logs free of secrets.
"""

from __future__ import annotations

import base64
import email.utils
import hashlib
import inspect
import json
import logging
import re
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

import apprise

from watcher.errors import ConfigError, NotifyError
from watcher.masking import MASK, forms, mask
from watcher.model import Severity
from watcher.notify.message import Format, Message, Payload
from watcher.notify.render import DIGEST_BODY_MAX, text_as

log = logging.getLogger(__name__)

_FORMATS: dict[str, Format] = {"text": "text", "markdown": "markdown", "html": "html"}
_SCHEME = re.compile(r"^\s*([A-Za-z][A-Za-z0-9+.-]*)://")
_USERINFO_PASSWORD = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://[^:/\s@]*:)[^@\s/]+@")
_REASON_LIMIT = 300
# Services that render Markdown in whatever apprise sends them (Discord and Guilded's
# message content, Mattermost's post text, Zulip's message content, Revolt and Ryver's
# message body): watcher writes escaped Markdown for them even where apprise says "text".
# Services apprise itself sends Markdown to (Rocket.Chat, Google Chat, Teams' workflows)
# get it anyway; the rest get apprise's format, and a URL's `format=markdown` opts in.
_RENDERS_MARKDOWN = frozenset(
    {"discord", "guilded", "mmost", "mmosts", "zulip", "revolt", "ryver"}
)
# Services that show the title as markup of the body's format without escaping it
# (apprise escapes it for Slack and Matrix, and sends it plain to mail, ntfy, webhooks and
# Zulip's topic); any service whose title apprise blends into the body (title_maxlen <= 0,
# Telegram, Mattermost) too.
_TITLE_AS_MARKUP = frozenset({"discord", "guilded", "revolt", "ryver", "workflow", "workflows"})
# Where text goes as it is, in one message: mail has no mentions and takes 100 kB, and
# webhooks feed programs, not people. Every other service is a chat of some kind.
_MAIL_AND_WEBHOOKS = frozenset(
    {"mailto", "mailtos", "json", "jsons", "form", "forms", "xml", "xmls"}
)
# apprise's notification type per severity: services colour, tag or prioritise by it (a
# critical alert is not an `info`).
NOTIFY_TYPES: dict[Severity, apprise.NotifyType] = {
    Severity.CRITICAL: apprise.NotifyType.FAILURE,
    Severity.HIGH: apprise.NotifyType.WARNING,
    Severity.MEDIUM: apprise.NotifyType.INFO,
    Severity.LOW: apprise.NotifyType.INFO,
    Severity.INFO: apprise.NotifyType.INFO,
}
# A digest on a chat service is at most this many messages' worth (apprise splits it).
CHAT_DIGEST_PARTS = 5
_PART_HEAD = 100  # what apprise repeats in each part: the subject and `[2/5]`
_ZWSP = "\u200b"
# A broadcast (`@everyone`, `@here`, `@room`, `@channel`, `@all`), wherever it is.
_BROADCAST = re.compile(r"@(?=(?:everyone|here|room|channel|all)\b)", re.IGNORECASE)
# A link, where only broadcasts are made inert (a changed https://medium.com/@author breaks);
# a broadcast; a mention at a word's start (`@name`, Discord's `<@id>`, `<@&id>`, `<@!id>`,
# Zulip's `@**name**`, `@**all**`, `@*group*`, also with their `*` escaped: an `@` inside a
# word, a mail address, is left alone); `<#id>`, `<!channel>`.
_MENTION = re.compile(
    r"(?P<link>https?://[^\s<>()\[\]\"'`]+)"
    rf"|{_BROADCAST.pattern}"
    r"|(?<![\w.+-])@(?=[\w&!]|\\?\*)"
    r"|(?<=<)\\?[#!](?=\w)",
    re.IGNORECASE,
)


# watcher's own JSON webhook (notify/payload.py), posted by watcher itself, not by apprise:
# `watcher://host/path` over HTTP, `watchers://` over HTTPS.
WATCHER_SCHEMES = {"watcher": "http", "watchers": "https"}
WEBHOOK_TIMEOUT = 60.0  # seconds, when the caller names none


@dataclass(frozen=True)
class Target:
    """One URL of a channel; `url` is the secret, `masked` what people may see. `kind`
    says who sends to it: apprise, or watcher itself (its own JSON webhook)."""

    url: str = field(repr=False)
    masked: str
    key: str
    format: Format
    max_body: int = DIGEST_BODY_MAX  # characters: a longer digest lists fewer alerts
    kind: Literal["apprise", "watcher"] = "apprise"


@dataclass(frozen=True)
class Channel:
    """A named set of targets that all get every message sent to the channel."""

    name: str
    targets: tuple[Target, ...]

    @classmethod
    def from_urls(cls, name: str, urls: Iterable[str]) -> Channel:
        """Parse every URL now, so a typo fails at config load and not at the first alert."""
        return cls(name, tuple(_target(name, i, url) for i, url in enumerate(urls, start=1)))


def send(
    target: Target, message: Message | Payload, *, timeout: float | None = None,
    identity: str | None = None,
) -> None:
    """Deliver `message` to one target, or raise NotifyError with a one-line, secret-free reason.

    A `watcher://` target takes a Payload (watcher's own JSON, see `_post`), every other
    target a rendered Message, which apprise sends.

    The reason is apprise's own account ("...: [Errno 111] Connection refused", "...error=500");
    the caller adds which channel and target (`masked`, `key`) it was.

    `timeout` (seconds) bounds each socket connect and read: it becomes the plugin's
    `cto`/`rto` (SMTP uses `cto` for every socket operation) and, on apprise 2.x, also
    the whole call's limit. None keeps apprise's own limits (4 s for HTTP, 15 s for SMTP,
    and 2.x's 60 s per service), so a server that accepts and stalls never hangs a sender.
    `identity` names the message the same way at every attempt (see `_identify`), so a
    receiver can drop a resend. A message longer than a chat service takes (Discord's 2000
    characters) goes in several parts (apprise's `overflow=split`) rather than be refused,
    unless the URL sets `overflow=`; mail and webhooks get it whole (apprise's 32768 for
    them is no server's limit). Safe from many threads at once: each call builds its own
    plugin and apprise object.
    """
    if target.kind == "watcher" or isinstance(message, Payload):
        if target.kind != "watcher" or not isinstance(message, Payload):
            raise TypeError("a watcher:// target takes a Payload, any other a Message")
        _post(target, message, timeout, identity)
        return
    _guard_apprise_logging()
    with _send_log(target.url) as lines, _message_id(identity):
        plugin = _instantiate(target.url)
        if plugin is None:
            raise NotifyError("apprise can no longer parse this target's URL")
        if timeout is not None:
            plugin.socket_connect_timeout = timeout
            plugin.socket_read_timeout = timeout
        if identity is not None:
            _identify(plugin, identity)
        scheme = _scheme(target.url) or ""
        if scheme not in _MAIL_AND_WEBHOOKS and "overflow" not in _query_keys(target.url):
            plugin.overflow_mode = apprise.OverflowMode.SPLIT
        delivered = _notify(plugin, message, timeout, scheme)
    if not delivered:
        raise NotifyError(_reason(lines))


def mask_url(url: str) -> str:
    """The form of a configured URL that CLI output and logs may show (apprise's privacy URL)."""
    if _scheme(url) in WATCHER_SCHEMES:
        return redact(url, url)
    _guard_apprise_logging()
    with _send_log(url, forward=True):
        plugin = _instantiate(url)
    if plugin is None:
        return f"{_scheme(url) or 'unknown'}://{MASK}"
    return _privacy_url(plugin, url)


def redact(text: str, url: str) -> str:
    """`text` with every secret-looking part of `url` replaced by `****`.

    Secrets are the userinfo password, a host without a dot (apprise puts tokens there,
    e.g. `discord://id/token`), and every path segment and query value of six characters
    or more, each as written, decoded and percent-encoded; any other `user:password@`.
    """
    return _USERINFO_PASSWORD.sub(rf"\g<1>{MASK}@", mask(text, _secrets_of(url)))


def _target(channel: str, index: int, url: str) -> Target:
    if _scheme(url) in WATCHER_SCHEMES:
        return _watcher_target(channel, index, url)
    _guard_apprise_logging()
    with _send_log(url) as lines:  # apprise logs (redacted) which argument it rejected
        plugin = _instantiate(url)
    if plugin is None:
        scheme = _scheme(url) or "none"
        said = [text for level, text in lines if level >= logging.WARNING]
        # what apprise rejected, without the URL it quotes (short tokens escape redact)
        detail = f": {_ANY_URL.sub(f'{scheme}://{MASK}', said[-1]).rstrip('.')}" if said else ""
        raise ConfigError(f"channel {channel}: URL #{index} is not a URL apprise can send to "
                          f"(scheme '{scheme}'){detail}")
    return Target(
        url=url,
        masked=_privacy_url(plugin, url),
        key=hashlib.blake2b(url.encode(), digest_size=8).hexdigest(),
        format=_render_format(plugin, _scheme(url) or ""),
        max_body=_max_body(plugin, _scheme(url) or ""),
    )


# --- watcher's own JSON webhook -----------------------------------------------------------


def _watcher_target(channel: str, index: int, url: str) -> Target:
    """A `watcher://` or `watchers://` URL: checked now (a host is needed), never echoed."""
    endpoint, _ = _webhook_request(url)
    try:
        host = urlsplit(endpoint).hostname
    except ValueError:
        host = None
    if not host:
        raise ConfigError(f"channel {channel}: URL #{index} is not a URL a watcher webhook "
                          f"can post to (scheme '{_scheme(url)}', no host)")
    return Target(
        url=url,
        masked=redact(url, url),
        key=hashlib.blake2b(url.encode(), digest_size=8).hexdigest(),
        format="text",
        kind="watcher",
    )


def _webhook_request(url: str) -> tuple[str, dict[str, str]]:
    """The http(s) URL to post to, and the headers the URL adds with `+Name=value` (as
    apprise's json:// does: `?+Authorization=Bearer%20…`); other query keys stay. A
    `user:password@` is HTTP basic auth, unless the URL names its own Authorization."""
    scheme, _, rest = url.strip().partition("://")
    base, _, query = rest.partition("?")
    netloc, slash, path = base.partition("/")
    userinfo, at, host = netloc.rpartition("@")
    base = f"{host}{slash}{path}" if at else base
    headers: dict[str, str] = {}
    kept: list[tuple[str, str]] = []
    # a `+` is itself here (it starts a header's name), not a form-encoded space
    for key, value in parse_qsl(query.replace("+", "%2B"), keep_blank_values=True):
        if key.startswith("+") and len(key) > 1:
            headers[key[1:]] = value
        else:
            kept.append((key, value))
    if at:
        login = ":".join(unquote(part) for part in userinfo.split(":", 1))
        _set_unless_named(headers, "Authorization",
                          "Basic " + base64.b64encode(login.encode()).decode())
    endpoint = f"{WATCHER_SCHEMES[scheme.lower()]}://{base.partition('#')[0]}"
    return (f"{endpoint}?{urlencode(kept)}" if kept else endpoint), headers


def _post(target: Target, payload: Payload, timeout: float | None, identity: str | None) -> None:
    """POST the document as JSON with an `Idempotency-Key` (unless the URL names its own);
    any 2xx is delivered, anything else (a redirect too: never followed, it could lead the
    document and its headers elsewhere) a NotifyError without the URL's secrets."""
    endpoint, headers = _webhook_request(target.url)
    if identity is not None:
        _set_unless_named(headers, IDEMPOTENCY_HEADER, identity)
    request = urllib.request.Request(
        endpoint, data=json.dumps(dict(payload.document)).encode(), method="POST",
        headers={"Content-Type": "application/json", "User-Agent": "watcher", **headers})
    try:
        with _NO_REDIRECTS.open(request, timeout=WEBHOOK_TIMEOUT if timeout is None
                                else timeout) as response:
            response.read()
    except urllib.error.HTTPError as answer:
        raise NotifyError(f"the webhook answered {answer.code} {answer.reason}".rstrip()) from None
    except (OSError, ValueError) as problem:  # refused, timed out, TLS, a bad URL
        reason = getattr(problem, "reason", problem)
        text = " ".join(f"{type(reason).__name__}: {reason}".split())
        raise NotifyError(redact(text, target.url)[:_REASON_LIMIT]) from None


class _Refuse(urllib.request.HTTPRedirectHandler):
    """A redirect is the webhook's answer, not a way on: it fails the send."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_NO_REDIRECTS = urllib.request.build_opener(_Refuse)


# --- message identity ---------------------------------------------------------------------
#
# Webhooks (json://, form://, xml://) get an `Idempotency-Key` header and an `id` field
# (unless the URL sets its own, `+Idempotency-Key=` or `:id=`). E-mail gets the Message-ID
# `<IDENTITY@SMTP-HOST>`: apprise 2.x builds it with `make_msgid` after the headers a URL
# may add (so a header would make a second Message-ID); its module's `make_msgid` is
# wrapped to answer the current send's identity, and apprise's own value otherwise.

IDEMPOTENCY_HEADER = "Idempotency-Key"
_current_message_id: ContextVar[str | None] = ContextVar("watcher_message_id", default=None)


@contextmanager
def _message_id(identity: str | None) -> Iterator[None]:
    """The identity e-mail plugins name their message with during this send (apprise 2.x
    copies the context into its worker threads)."""
    token = _current_message_id.set(identity)
    try:
        yield
    finally:
        _current_message_id.reset(token)


def _identify(plugin: Any, identity: str) -> None:
    if isinstance(getattr(plugin, "payload_extras", None), dict):  # json, form, xml
        _set_unless_named(plugin.headers, IDEMPOTENCY_HEADER, identity)
        # xml:// names an XSD of its fields unless the URL added fields: not one more then
        if getattr(plugin, "xsd_url", None) is None:
            _set_unless_named(plugin.payload_extras, "id", identity)
    else:
        _wrap_make_msgid(plugin)


def _set_unless_named(fields: dict[str, Any], name: str, value: str) -> None:
    """Add `name` unless the URL already has it in any case: requests merges header names
    case-insensitively with the last one winning, and `ID` next to `id` is one field twice."""
    if name.lower() not in {key.lower() for key in fields}:
        fields[name] = value


def _stable_msgid(idstring: str | None = None, domain: str | None = None) -> str:
    identity = _current_message_id.get()
    if identity is None:
        return email.utils.make_msgid(idstring, domain)
    return f"<{identity}@{domain or 'watcher.invalid'}>"


def _wrap_make_msgid(plugin: Any) -> None:
    """Point the `make_msgid` of the module that builds this plugin's e-mail at
    `_stable_msgid`, once; plugins that send no e-mail have none."""
    for cls in type(plugin).__mro__:
        module = sys.modules.get(cls.__module__)
        found = getattr(module, "make_msgid", None)
        if found is None or found is _stable_msgid:
            continue
        with _guard_lock:
            module.make_msgid = _stable_msgid  # type: ignore[union-attr]


def _instantiate(url: str) -> Any:
    """A fresh plugin for `url`, or None when apprise does not know it."""
    return apprise.Apprise.instantiate(url, suppress_exceptions=True)


def _privacy_url(plugin: Any, url: str) -> str:
    """apprise masks what each plugin declares private, but not e.g. a webhook's path token."""
    return redact(str(plugin.url(privacy=True)), url)


def _render_format(plugin: Any, scheme: str) -> Format:
    """The format watcher writes for this target: Markdown where the service renders it
    anyway; else the one apprise sends in (the URL's `format=`, or the plugin's first)."""
    if scheme in _RENDERS_MARKDOWN:
        return "markdown"
    return _apprise_format(plugin, None)


def _max_body(plugin: Any, scheme: str) -> int:
    """How long a digest may be here: 100,000 characters for mail and webhooks, a few
    messages' worth on a chat service (Discord takes 2,000 characters a message)."""
    if scheme in _MAIL_AND_WEBHOOKS or plugin.body_maxlen <= 0:
        return DIGEST_BODY_MAX
    return min(DIGEST_BODY_MAX, (plugin.body_maxlen - _PART_HEAD) * CHAT_DIGEST_PARTS)


def _apprise_format(plugin: Any, wanted: Format | None) -> Format:
    """The format apprise sends `wanted` in: 2.x resolves it per call from the formats a
    plugin lists (a URL's `format=` first); 1.x names a single format."""
    if hasattr(plugin, "resolve_format"):
        resolved = plugin.resolve_format(apprise.NotifyFormat(wanted) if wanted else None)
    else:
        resolved = plugin.notify_format
    value = getattr(resolved, "value", resolved)
    return _FORMATS.get(str(value), "text")


def _notify(plugin: Any, message: Message, timeout: float | None, scheme: str) -> bool:
    sender = apprise.Apprise()
    sender.add(plugin)
    options: dict[str, Any] = {}
    if timeout is not None and _takes_call_timeout(sender):
        options["timeout"] = timeout
    subject, body = _as_sent(plugin, message, scheme)
    result = sender.notify(
        body=body,
        title=subject,
        # What apprise will send anyway, so it converts nothing: a conversion to text
        # would undo the escapes of a body Discord renders as Markdown all the same.
        body_format=apprise.NotifyFormat(_apprise_format(plugin, message.format)),
        notify_type=NOTIFY_TYPES[message.severity],
        **options,
    )
    return bool(result)


def _as_sent(plugin: Any, message: Message, scheme: str) -> tuple[str, str]:
    """Subject and body as this service should get them: the (plain) subject escaped where
    the service shows it as markup, and mentions made inert where a person reads them."""
    subject, body = message.subject, message.body
    if scheme in _TITLE_AS_MARKUP or plugin.title_maxlen <= 0:
        subject = text_as(subject, message.format)
    if scheme not in _MAIL_AND_WEBHOOKS:
        subject, body = inert_mentions(subject), inert_mentions(body)
    return subject, body


def inert_mentions(text: str) -> str:
    """`text` with a zero-width space after the `@`, `<#` or `<!` of every mention, so that
    `@everyone` or `<@123>` in an article reads the same and pings nobody."""
    return _MENTION.sub(_inert, text)


def _inert(found: re.Match[str]) -> str:
    if found.group("link"):
        return _BROADCAST.sub("@" + _ZWSP, found.group())
    return found.group() + _ZWSP


def _query_keys(url: str) -> set[str]:
    return {key.lower() for key, _ in parse_qsl(url.partition("?")[2])}


def _takes_call_timeout(sender: Any) -> bool:
    """apprise 2.x can bound the whole call; 1.x only knows socket timeouts."""
    return "timeout" in inspect.signature(sender.notify).parameters


def _reason(lines: list[tuple[int, str]]) -> str:
    """apprise's warnings for this call, plus the low-level error it only logs at debug."""
    warnings = [text for level, text in lines if level >= logging.WARNING]
    causes = [text for level, text in lines if text.startswith("Socket Exception:")]
    parts = warnings[-2:] + [
        cause.removeprefix("Socket Exception:").strip() for cause in causes[-1:]
    ]
    reason = ": ".join(part.rstrip(".") for part in parts) or "apprise reported a failure"
    reason = " ".join(reason.split())
    if len(reason) <= _REASON_LIMIT:
        return reason
    # The start and the cause (at the end), each cut at a space so no word is split.
    head = reason[:101].rsplit(" ", 1)[0]  # one more character: a space there ends a word
    tail = reason[-(_REASON_LIMIT - 102) :].split(" ", 1)[-1]
    return f"{head} … {tail}"


def _secrets_of(url: str) -> set[str]:
    rest = _SCHEME.sub("", url, count=1)
    rest, _, query = rest.partition("?")
    netloc, _, path = rest.partition("/")
    userinfo, _, host = netloc.rpartition("@")
    password = userinfo.partition(":")[2]
    candidates = [password] + [segment for segment in path.split("/") if len(segment) >= 6]
    # Header (`+X-Key=...`) and payload (`-a=...`, `:a=...`) arguments are secrets at any
    # length; other query values when they look like tokens.
    candidates += [value for key, value in parse_qsl(query.replace("+", "%2B"))
                   if len(value) >= 6 or key[:1] in ("+", "-", ":")]
    if host and "." not in host and host.lower() != "localhost" and len(host) >= 6:
        candidates.append(host)
    return {form for secret in candidates if secret for form in forms(secret)}


_ANY_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://\S+")


def _scheme(url: str) -> str | None:
    match = _SCHEME.match(url)
    return match.group(1).lower() if match else None


# --- apprise's logging ---------------------------------------------------------------------
#
# Measured with apprise 2.2: at TRACE (below DEBUG) it logs every URL it parses in full,
# `password="..."` included; at DEBUG it logs webhook URLs with their path tokens ("JSON
# POST URL: ...") and socket errors that repeat them; requests' urllib3 logs the request
# line, path token included, at DEBUG too. INFO and above were clean for mailto. So both
# loggers pass through `_Redact` (drops TRACE, masks the current URL's secrets); apprise's
# records reach our handlers only at WARNING and up, and only outside `send`, whose failures
# come back as NotifyError with those same lines as the reason instead.


@dataclass
class _CallLog:
    """What apprise logged during one call in this context (threads each have their own)."""

    url: str
    forward: bool
    lines: list[tuple[int, str]] = field(default_factory=list)


_current_call: ContextVar[_CallLog | None] = ContextVar("watcher_apprise_call", default=None)
_guard_lock = threading.Lock()


@contextmanager
def _send_log(url: str, *, forward: bool = False) -> Iterator[list[tuple[int, str]]]:
    """Collect apprise's (redacted) lines for this call; apprise 2.x copies the context
    into its worker threads, 1.x sends from this thread, so the lines land here either way."""
    call = _CallLog(url, forward)
    token = _current_call.set(call)
    try:
        yield call.lines
    finally:
        _current_call.reset(token)


class _Redact(logging.Filter):
    """Drop apprise's TRACE records and mask secrets in the rest, for every handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.DEBUG:
            return False
        call = _current_call.get()
        text = record.getMessage()
        text = redact(text, call.url) if call else _USERINFO_PASSWORD.sub(rf"\g<1>{MASK}@", text)
        record.msg, record.args, record.exc_info, record.exc_text = text, None, None, None
        if call is not None:
            call.lines.append((record.levelno, text))
        return True


class _Forward(logging.Handler):
    """Hand apprise's warnings to our loggers, except those a NotifyError will carry."""

    def emit(self, record: logging.LogRecord) -> None:
        call = _current_call.get()
        if record.levelno >= logging.WARNING and (call is None or call.forward):
            log.handle(record)


def _guard_apprise_logging() -> None:
    """Route apprise's logger through `_Redact` and `_Forward`, once per process.

    Its level goes to DEBUG so that failure reasons can name the socket error even when
    our own log level is INFO; `propagate` goes off so those lines stop at `_Forward`.
    urllib3 keeps its level and handlers and only gets `_Redact`.
    """
    apprise_log = logging.getLogger("apprise")
    with _guard_lock:
        if any(isinstance(f, _Redact) for f in apprise_log.filters):
            return
        logging.getLogger("urllib3.connectionpool").addFilter(_Redact())
        apprise_log.addFilter(_Redact())
        apprise_log.addHandler(_Forward())
        apprise_log.setLevel(logging.DEBUG)
        apprise_log.propagate = False
