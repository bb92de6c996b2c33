"""Rendering alerts, digests and test messages into subject and body, in text, Markdown or HTML.

Owns the Jinja2 sandbox, the shipped templates and the filters that escape per format.
"""

from __future__ import annotations

import re
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    FileSystemLoader,
    PackageLoader,
    StrictUndefined,
    Template,
    TemplateError,
    TemplateSyntaxError,
    pass_context,
)
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup, escape

from watcher.errors import ConfigError
from watcher.marks import plain, restyled
from watcher.model import Alert, ContextLabel, MatchPlace, Severity
from watcher.notify.message import Format, Message
from watcher.when import parse_duration

SUBJECT_MAX = 78
OUTLETS_SHOWN = 5
# Bounds on what an article or rule puts in a message, so that any article yields a
# deliverable alert (a 6 MB title made a mail no server would take): docs/alerts.md.
TITLE_MAX = 300
SOURCE_MAX = 100
RULE_TITLE_MAX = 200
QUERY_MAX = 500
SNIPPET_MAX = 1500
CONTEXT_MAX = 300  # the context labels line of an alert
PLACES_MAX = 300  # the places line of an alert
URL_MAX = 2048
DIGEST_BODY_MAX = 100_000
FORMATS: tuple[Format, ...] = ("text", "markdown", "html")
TEMPLATE_NAMES: tuple[str, ...] = (
    "alert.subject.j2",
    *(f"alert.{fmt}.j2" for fmt in FORMATS),
    "grouped.subject.j2",
    *(f"grouped.{fmt}.j2" for fmt in FORMATS),
    "digest.subject.j2",
    *(f"digest.{fmt}.j2" for fmt in FORMATS),
    "test.subject.j2",
    "test.text.j2",
)

# CommonMark's punctuation that can open or close formatting, plus `<` (raw HTML, autolinks)
# and `&` only where it would start an entity; the same set apprise escapes for text.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~=]|&(?=#?[0-9A-Za-z]{1,32};))")
# Whatever could end a Markdown link's destination or start markup after it.
_URL_UNSAFE = re.compile(r"[()<>\\\s\x00-\x1f\x7f]")


@dataclass(frozen=True)
class DigestGroup:
    """One rule's alerts in a digest; title and query are the latest alert's (rules change)."""

    rule_id: str
    rule_title: str
    severity: Severity
    query: str
    alerts: tuple[Alert, ...]


@dataclass(frozen=True)
class DigestPart:
    """A digest message and the alerts it lists (the earliest matched of those given, as
    bounded copies: `delivery_id` names each); the others follow in the next message."""

    message: Message
    listed: tuple[Alert, ...]


class Renderer:
    """Shipped templates, each overridable by a file of the same name in `template_dir`.

    Every template is compiled and rendered once with sample alerts here, so a broken user
    template is a ConfigError at start-up rather than a lost alert at 3 a.m.
    """

    def __init__(self, template_dir: Path | None = None) -> None:
        user_loader = _user_loader(template_dir)
        self._user_names = frozenset(user_loader.list_templates()) if user_loader else frozenset()
        self._env = _environment(user_loader)
        self._templates = {name: self._compile(name) for name in TEMPLATE_NAMES}
        self._check_with_samples()

    def render_alert(self, alert: Alert, fmt: Format) -> Message:
        """One alert: severity, rule and article in the subject, the evidence in the body."""
        return self._message("alert", fmt, alert.severity, alert=bounded(alert))

    def render_alerts(
        self, alerts: Sequence[Alert], fmt: Format, *, max_body: int = DIGEST_BODY_MAX,
    ) -> Message:
        """One article's alerts to one channel in one message: a single alert as
        `render_alert` makes it; several (rules that fired on the article together) in the
        `grouped` form, most severe rule first, the subject naming its severity and the count.

        A grouped body over `max_body` characters (many rules on a chat service) is made
        `brief`: every rule is still listed, but only the first with its snippet and query,
        so the message stays a few chat messages' worth rather than dozens of parts.
        """
        if len(alerts) == 1:
            return self.render_alert(alerts[0], fmt)
        ordered = by_severity(bounded(alert) for alert in alerts)
        context = {"alert": ordered[0], "alerts": ordered}
        message = self._message("grouped", fmt, ordered[0].severity, brief=False, **context)
        if len(message.body) <= max_body:
            return message
        return self._message("grouped", fmt, ordered[0].severity, brief=True, **context)

    def render_digest(
        self, alerts: Sequence[Alert], fmt: Format, *, period: str,
        max_body: int = DIGEST_BODY_MAX,
    ) -> Message:
        """Several alerts in one message (those that fit: see `render_digest_part`)."""
        return self.render_digest_part(alerts, fmt, period=period, max_body=max_body).message

    def render_digest_part(
        self, alerts: Sequence[Alert], fmt: Format, *, period: str,
        max_body: int = DIGEST_BODY_MAX,
    ) -> DigestPart:
        """Several alerts in one message, grouped by rule, most severe rule first.

        A body over `max_body` characters lists fewer alerts (the earliest matched) and
        says how many more follow in the next message (`more`), so a burst of matches
        still makes messages that arrive (a mail of 100 kB, a few Discord messages);
        `listed` says which, so the sender records only those sent and sends the rest next.
        """
        ordered = tuple(sorted((bounded(a) for a in alerts), key=_matched_order))
        context = {"format": fmt, "alerts": ordered, "period": period}
        groups = group_by_rule(ordered)
        subject = self._render("digest.subject.j2", groups=groups, more=0, **context)
        shown = len(ordered)
        while True:
            body = self._render(f"digest.{fmt}.j2", groups=groups, more=len(ordered) - shown,
                                **context).strip()
            if len(body) <= max_body or shown <= 1:
                message = Message(subject=fit_subject(subject), body=body, format=fmt,
                                  severity=max(a.severity for a in ordered[:shown]))
                return DigestPart(message, ordered[:shown])
            shown = max(1, shown * max_body // len(body) - 1, shown // 2)
            groups = group_by_rule(ordered[:shown])

    def render_test(self, channel: str, fmt: Format) -> Message:
        """The `watcher notify test CHANNEL` message; one plain template serves every format."""
        subject = fit_subject(self._render("test.subject.j2", channel=channel, format=fmt))
        body = self._render("test.text.j2", channel=channel, format=fmt)
        return Message(subject=subject, body=text_as(body, fmt), format=fmt)

    def _message(self, kind: str, fmt: Format, severity: Severity, **context: Any) -> Message:
        subject = self._render(f"{kind}.subject.j2", format=fmt, **context)
        body = self._render(f"{kind}.{fmt}.j2", format=fmt, **context)
        return Message(subject=fit_subject(subject), body=body.strip(), format=fmt,
                       severity=severity)

    def _compile(self, name: str) -> Template:
        try:
            return self._env.get_template(name)
        except TemplateSyntaxError as error:
            raise ConfigError(f"{error.filename or name}:{error.lineno}: {error.message}") from None

    def _render(self, name: str, **context: Any) -> str:
        template = self._templates[name]
        if name not in self._user_names:
            return template.render(**context)  # a failure in our own template is our bug
        try:
            return template.render(**context)
        except Exception as error:  # anything a user's template does wrong is theirs to fix
            raise _template_error(error, template.filename or name) from None

    def _check_with_samples(self) -> None:
        """Render every template with a full and a bare alert so both branches are tried."""
        samples = _sample_alerts()
        for fmt in FORMATS:
            for alert in samples:
                self.render_alert(alert, fmt)
            self.render_alerts(samples, fmt)
            self.render_alerts(samples, fmt, max_body=1)  # the brief form
            self.render_digest(samples, fmt, period="1h")
            self.render_test("example", fmt)


def group_by_rule(alerts: Sequence[Alert]) -> tuple[DigestGroup, ...]:
    """Alerts (in matched_at order) per rule; rules by highest severity, then title."""
    by_rule: dict[str, list[Alert]] = {}
    for alert in alerts:
        by_rule.setdefault(alert.rule_id, []).append(alert)
    groups = [_group(rule_id, members) for rule_id, members in by_rule.items()]
    return tuple(sorted(groups, key=lambda g: (-g.severity, g.rule_title.casefold(), g.rule_id)))


def by_severity(alerts: Iterable[Alert]) -> tuple[Alert, ...]:
    """Alerts most severe first, then by rule title: the order a grouped message lists them."""
    return tuple(sorted(alerts, key=lambda a: (-a.severity, a.rule_title.casefold(), a.rule_id)))


def _group(rule_id: str, alerts: list[Alert]) -> DigestGroup:
    latest = alerts[-1]
    severity = max(a.severity for a in alerts)
    return DigestGroup(rule_id, latest.rule_title, severity, latest.query, tuple(alerts))


def bounded(alert: Alert) -> Alert:
    """The alert with every text it shows cut to its bound (at a word, with `…`) and a link
    too long to be real left out, so no article can make a message a server refuses."""
    url = alert.url if alert.url is None or len(alert.url) <= URL_MAX else None
    return replace(
        alert,
        rule_title=_fit(alert.rule_title, RULE_TITLE_MAX),
        query=_fit(alert.query, QUERY_MAX),
        article_title=_fit(alert.article_title, TITLE_MAX),
        source=_fit(alert.source, SOURCE_MAX),
        url=url,
        snippet=_fit(alert.snippet, SNIPPET_MAX),
        other_outlets=tuple(_fit(name, SOURCE_MAX) for name in alert.other_outlets),
    )


def _fit(text: str, limit: int) -> str:
    """`text` as it is when short enough (most are: no copy), else cut by fit_subject; only
    its head is looked at, so a 6 MB title costs no more than a short one."""
    if len(text) <= limit:
        return text
    fitted = fit_subject(text[: 4 * limit], limit)
    return fitted if fitted.endswith("…") else fitted[: limit - 1] + "…"


def _matched_order(alert: Alert) -> tuple[datetime, int]:
    return alert.matched_at, alert.delivery_id


def fit_subject(text: str, limit: int = SUBJECT_MAX) -> str:
    """One line of at most `limit` characters, cut on a word boundary with `…`."""
    line = " ".join(text.split())
    if len(line) <= limit:
        return line
    cut = line[: limit - 1]
    if line[limit - 1] != " ":
        head, space, _ = cut.rpartition(" ")
        cut = head if space and head else cut
    return cut.rstrip(" ,;:-–—·") + "…"


def markdown_escape(value: object) -> str:
    """Backslash-escape what Markdown would read as formatting, so article text stays text."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(value))


def markdown_url(url: object) -> str:
    """A URL safe inside `[...](...)`: parentheses, angle brackets, backslashes,
    white space and control characters percent-encoded, so a feed's link cannot end the
    link early and inject markup after it."""
    return _URL_UNSAFE.sub(lambda char: _percent_encoded(char.group()), str(url))


def _percent_encoded(char: str) -> str:
    return "".join(f"%{byte:02X}" for byte in char.encode())


def mark_snippet(snippet: str, fmt: Format) -> str:
    """The stored snippet with each `[word]` mark shown, and the rest escaped, for `fmt`."""
    if fmt == "text":
        return plain(snippet)
    escape_text, strong = _MARK_STYLES[fmt]
    joined = restyled(snippet, lambda words: strong(escape_text(words)), escape_text)
    return Markup(joined) if fmt == "html" else joined  # safe: every piece was escaped above


_MARK_STYLES: dict[str, tuple[Callable[[str], str], Callable[[str], str]]] = {
    "markdown": (markdown_escape, lambda word: f"**{word}**"),
    "html": (lambda text: str(escape(text)), lambda word: f"<b>{word}</b>"),
}


def format_utc(moment: datetime | None) -> str:
    """`2026-01-15 14:03 UTC`; naive times are taken as UTC (the store keeps UTC)."""
    if moment is None:
        return "unknown"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def outlet_list(outlets: Sequence[str]) -> str:
    """The first OUTLETS_SHOWN names, then `and N more`, so a big story fits on a phone."""
    shown = ", ".join(outlets[:OUTLETS_SHOWN])
    rest = len(outlets) - OUTLETS_SHOWN
    return f"{shown} and {rest} more" if rest > 0 else shown


def plural(count: int, noun: str) -> str:
    """`1 alert`, `2 alerts`: English plural by `s`, enough for our own nouns."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def is_web_url(url: object) -> bool:
    """Only http(s) links are shown: a `javascript:` or `file:` link is never worth a tap."""
    if not isinstance(url, str):
        return False
    try:
        parts = urlsplit(url.strip())
    except ValueError:  # "http://[::1": no link at all
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


def is_duration(period: object) -> bool:
    """Whether a digest period is a duration (`1h`, `1h30m`: when.py's one syntax) rather
    than a cron expression."""
    try:
        parse_duration(period)
    except ValueError:
        return False
    return True


def context_labels(labels: object) -> str:
    """A match's context labels with their cue words, `hypothetical ("could"); historical
    ("2013")`, cut to CONTEXT_MAX: the cues are the article's words, so bounded too."""
    if not isinstance(labels, tuple | list):
        return ""
    text = "; ".join(
        f"{label.label} ({', '.join(f'{chr(34)}{cue}{chr(34)}' for cue in label.cues)})"
        for label in labels if isinstance(label, ContextLabel)
    )
    return _fit(text, CONTEXT_MAX)


def place_list(places: object) -> str:
    """`places_text` for templates, cut to PLACES_MAX."""
    if not isinstance(places, tuple | list):
        return ""
    return _fit(places_text([p for p in places if isinstance(p, MatchPlace)]), PLACES_MAX)


def places_text(places: Iterable[MatchPlace]) -> str:
    """A match's places with the places they lie in, for people: `Sheikh Maqsoud (Aleppo,
    Mount Simeon District, Aleppo Governorate, Syria); Manbij (…)`."""
    return "; ".join(
        place.name + (f" ({', '.join(p.name for p in place.parents)})" if place.parents else "")
        for place in places
    )


@pass_context
def _marked_filter(context: Context, snippet: object) -> str:
    return mark_snippet(str(snippet), context["format"])


def _user_loader(template_dir: Path | None) -> FileSystemLoader | None:
    if template_dir is None:
        return None
    if not template_dir.is_dir():
        raise ConfigError(f"{template_dir}: template directory not found")
    return FileSystemLoader(template_dir)


def _environment(user_loader: FileSystemLoader | None) -> SandboxedEnvironment:
    shipped = PackageLoader("watcher.notify", "templates")
    loaders: list[BaseLoader] = [user_loader, shipped] if user_loader else [shipped]
    env = SandboxedEnvironment(
        loader=ChoiceLoader(loaders),
        undefined=StrictUndefined,
        autoescape=lambda name: bool(name and name.endswith(".html.j2")),
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.filters.update(
        marked=_marked_filter,
        md=markdown_escape,
        md_url=markdown_url,
        utc=format_utc,
        outlet_list=outlet_list,
        plural=plural,
        context_labels=context_labels,
        place_list=place_list,
    )
    env.tests.update(web_url=is_web_url, duration=is_duration)
    return env


def _template_error(error: Exception, filename: str) -> ConfigError:
    """`FILE:LINE: message` for a failure while rendering a user's template."""
    if isinstance(error, TemplateSyntaxError):  # in an included file: it knows where
        return ConfigError(f"{error.filename or filename}:{error.lineno}: {error.message}")
    where = filename
    for frame in traceback.extract_tb(error.__traceback__):
        if frame.filename == filename or frame.filename.endswith(".j2"):
            where = f"{frame.filename}:{frame.lineno}"
    message = str(error) if isinstance(error, TemplateError) else f"{type(error).__name__}: {error}"
    return ConfigError(f"{where}: {message}")


def text_as(text: str, fmt: Format) -> str:
    """Plain text made safe for a Markdown or HTML body (or a title shown as one)."""
    text = text.strip()
    if fmt == "markdown":
        return markdown_escape(text)
    if fmt == "html":
        return str(escape(text)).replace("\n", "<br>\n")
    return text


def _sample_alerts() -> tuple[Alert, ...]:
    """A full alert and a bare one (no link, time or other outlets), for start-up checks."""
    when = datetime(2026, 1, 15, 14, 3, tzinfo=UTC)
    full = Alert(
        delivery_id=1,
        rule_id="sample",
        rule_title="Sample rule",
        severity=Severity.HIGH,
        query="siege NEAR/5 Aleppo",
        article_title="Sample article",
        source="Example News",
        url="https://example.org/article",
        published=when,
        snippet="The [siege] of [Aleppo] continues.",
        other_outlets=("Other Wire", "Third Daily"),
        matched_at=when,
    )
    bare = replace(full, delivery_id=2, rule_id="bare", severity=Severity.INFO, source="")
    bare = replace(bare, url=None, published=None, snippet="No marks.", other_outlets=())
    return full, bare
