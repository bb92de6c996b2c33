"""Settings from watcher.yaml and WATCHER_* variables, validated once and passed down.

Command line > environment > file > defaults; pydantic checks every value, and every
problem becomes one `WHERE: key.path: message` line (docs/configuration.md).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ByteSize,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    ValidationError,
    WrapSerializer,
    field_validator,
)
from pydantic_core import ErrorDetails, PydanticCustomError

from watcher.config.document import Document, Loc, read_document
from watcher.errors import ConfigError
from watcher.model import ContextLabelName, Severity
from watcher.notify.constants import DEFAULT_LEASE
from watcher.sources.addresses import parse_ranges
from watcher.sources.limits import DEFAULT_MAX_BYTES, DEFAULT_TIMEOUT, MAX_CONNECTIONS
from watcher.when import parse_duration

DEFAULT_CONFIG = "watcher.yaml"
DEFAULT_DB = "sqlite:///watcher.db"
DEFAULT_RULES = "rules/"
DEFAULT_PIPELINE = "blank:en"
DEFAULT_EVERY = 15 * 60
MIN_EVERY = 30  # polling one feed more often gains nothing and gets the poller blocked
MAX_MAX_SIZE = 2**30  # a feed is held in memory whole while parsed
MIN_DIGEST = 60
DEFAULT_DRAIN_EVERY = 10
DEFAULT_SEND_CONCURRENCY = 8
DEFAULT_MAX_ATTEMPTS = 10
DEFAULT_RETRY_DELAY = 60
DEFAULT_MAX_RETRY_DELAY = 3600
DEFAULT_SEND_TIMEOUT = 30
# The one default of each lease, in seconds: the settings' and that of a Poller or an Outbox
# built without settings (tests, bench), so the two can never disagree.
DEFAULT_POLL_LEASE = 600  # a worker's claim on a source's poll (poll_lease)
DEFAULT_FETCH_TIMEOUT = int(DEFAULT_TIMEOUT)
MAX_FETCH_TIMEOUT = 600  # seconds; a poll slot is held this long at most per fetch
# Polls (each its feed's fetch, then its pages one at a time) in flight at once. 8 keeps a
# few stalled servers from holding up the rest, and more buys nothing on a small machine,
# where polling is CPU-bound (bench/RESULTS.md, "Polling at scale"); many sources on slow
# servers need more. At most the fetcher's connection pool (sources/limits.py), so every
# slot gets its connection at once.
DEFAULT_POLL_CONCURRENCY = 8
DEFAULT_HTTP_PORT = 9464  # the port Prometheus exporters conventionally take
DEFAULT_WEB_PORT = 8080
DEFAULT_WEB_SESSION = 12 * 3600  # a working day: sign in once per shift
# Probes may come every second from several places; /healthz asks the database at most
# this often (seconds) by default.
DEFAULT_DATABASE_CHECK = 5
# Articles published longer ago than this are stored and matched but not alerted (old
# news); the settings' default and that of a Poller built without settings (seconds).
DEFAULT_MAX_AGE = 3 * 86400
MAX_AGE_OFF = ("0", "none", "off")  # what turns max_age off (0 seconds)
# The shortest retention window: feeds list an item for days, and an article pruned while
# its feed still lists it is stored again as new (docs/storage.md, "Retention").
MIN_RETENTION = 7 * 86400
OPTION_KEYS = ("db", "rules", "pipeline")  # the settings with a command-line option
# Every setting has a variable WATCHER_<KEY>: plain ones take the text as it is; lists and
# mappings take YAML (`WATCHER_SOURCES='[{name: a, url: "https://…"}]'`), and each key of
# a mapping section has its own, as text: WATCHER_<SECTION>__<KEY> (`WATCHER_HTTP__PORT=9000`).
# mappings of plain values, one variable per key too
SECTION_KEYS = ("notify", "http", "fetch", "context", "web")
NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")
DB_URL = re.compile(r"[A-Za-z][A-Za-z0-9+._-]*://\S*")
CHANNEL_URL = re.compile(r"[A-Za-z][A-Za-z0-9+._-]*://\S+")
# Who runs this watcher, for feed operators: an http(s) URL or an e-mail address, in
# printable ASCII (it goes into an HTTP header) without the parentheses that delimit it.
CONTACT = re.compile(
    r"(?i:https?://[!-'*-~]+|(?:mailto:)?[!-'*-9;-?A-~]+@[!-'*-?A-~]+\.[!-'*-?A-~]+)"
)


def _matching(pattern: re.Pattern[str], message: str) -> AfterValidator:
    """A check that a whole string matches `pattern`; the message never holds the value."""

    def check(value: str) -> str:
        if not pattern.fullmatch(value):
            raise ValueError(message)
        return value

    return AfterValidator(check)


def _duration(minimum: int) -> Callable[[object], int]:
    """Seconds from `90`, `"90"`, `30s`, `10m`, `1h` or `1h30m`, at least `minimum`."""

    def parse(value: object) -> int:
        seconds = parse_duration(value)
        if seconds < minimum:
            raise ValueError(f"must be at least {minimum}s")
        return seconds

    return parse


def _is_off(value: object) -> bool:
    """`0`, `none`, `off` as text, or YAML's false (what an unquoted `off` is read as)."""
    return value is False or (isinstance(value, str) and value.strip().lower() in MAX_AGE_OFF)


def _max_age(value: object) -> int:
    """How old an article may be to alert, in seconds: a duration, or 0 (also `none`,
    `off`) for no limit."""
    if _is_off(value):
        return 0
    try:
        return parse_duration(value)
    except ValueError:
        raise ValueError("must be a duration such as 3d, 12h or 90m, or 0 (also none or "
                         "off) for no limit") from None


def parse_retention(value: object) -> int | None:
    """How long stored articles are kept, in seconds: a duration of at least MIN_RETENTION,
    or None (absent, empty, `0`, `none`, `off`): kept for ever."""
    if value is None or _is_off(value):
        return None
    try:
        seconds = parse_duration(value)
    except ValueError:
        seconds = -1
    if seconds == 0:
        return None
    if seconds < MIN_RETENTION:
        raise ValueError("must be a duration of at least 7d, such as 180d, or off (the "
                         "default: nothing is deleted)")
    return seconds


def _digest(value: object) -> int | str:
    """A digest schedule: a duration of at least MIN_DIGEST, or a five-field cron line."""
    if isinstance(value, str) and len(value.split()) > 1:
        from watcher.notify.digest import check_cron  # APScheduler, for cron lines only

        try:
            return check_cron(value.strip())
        except ValueError as error:
            raise ValueError(
                f"{error}; use a duration such as 1h or a cron line such as '0 8 * * *'"
            ) from None
    return _duration(MIN_DIGEST)(value)


def _feed_url(value: str) -> str:
    """An http(s) URL whose scheme, host and port are checked now, not at the first poll."""
    try:
        parts = urlsplit(value)
        port = parts.port  # raises for a port out of range or not a number
    except ValueError as error:
        raise ValueError(f"must be an http:// or https:// URL ({str(error).lower()})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http:// or https:// URL")
    if port == 0:
        raise ValueError("must be an http:// or https:// URL (port 0)")
    if any(ch.isspace() for ch in parts.hostname):
        raise ValueError("must be an http:// or https:// URL: its host has a space")
    return value


def _feed_size(value: int) -> int:
    if not 1 <= value <= MAX_MAX_SIZE:
        raise ValueError("must be from 1 byte to 1GiB, e.g. 20MiB")
    return value


def _fetch_timeout(value: object) -> int:
    """A fetch's deadline: a duration from 1s to MAX_FETCH_TIMEOUT."""
    seconds = _duration(1)(value)
    if seconds > MAX_FETCH_TIMEOUT:
        raise ValueError("must be at most 10m (a fetch holds a poll slot this long)")
    return seconds


def _address_range(value: str) -> str:
    """A CIDR range (or one address) in its normal form: `10.0.0.0/8`, `fd00::/8`."""
    try:
        return str(parse_ranges([value])[0])
    except ValueError:
        raise ValueError("must be an address range such as 10.0.0.0/8 or fd00::/8") from None


def _listed(value: object) -> object:
    """A list, or (from WATCHER_FETCH__ALLOW_PRIVATE) text of items split by commas or
    spaces."""
    if isinstance(value, str):
        return [item for item in re.split(r"[\s,]+", value) if item]
    return value


def _not_bool(value: object) -> object:
    """YAML's `true` would otherwise pass as the number 1."""
    if isinstance(value, bool):
        raise ValueError("must be a whole number")
    return value


def _severity(value: object) -> Severity:
    """A severity by name; the message lists the names and leaves the value to the caller."""
    if isinstance(value, Severity):
        return value
    if isinstance(value, str) and value.upper() in Severity.__members__:
        return Severity.parse(value)
    raise ValueError(f"must be one of: {', '.join(str(s) for s in Severity)}")


Name = Annotated[str, _matching(NAME, "must be lower-case letters, digits, '-' or '_', "
                                      "starting with a letter or digit")]  # fmt: skip
NonEmpty = Annotated[str, Field(min_length=1)]
DatabaseUrl = Annotated[str, _matching(DB_URL, "must be a database URL such as "
                                               "sqlite:///watcher.db")]  # fmt: skip
Contact = Annotated[str, _matching(CONTACT, "must be an http(s) URL or an e-mail address "
                                           "such as ops@example.org")]  # fmt: skip
ChannelUrl = Annotated[str, _matching(CHANNEL_URL, "must be an apprise URL such as "
                                                   "mailtos://user:pass@host")]  # fmt: skip
FeedUrl = Annotated[str, AfterValidator(_feed_url)]
PollInterval = Annotated[int, BeforeValidator(_duration(MIN_EVERY))]
FeedSize = Annotated[ByteSize, AfterValidator(_feed_size)]
DigestSchedule = Annotated[int | str, PlainValidator(_digest)]
Seconds = Annotated[int, BeforeValidator(_duration(1))]
AddressRange = Annotated[str, AfterValidator(_address_range)]
WholeNumber = Annotated[int, BeforeValidator(_not_bool)]
MaxAge = Annotated[int, BeforeValidator(_max_age)]
Retention = Annotated[int | None, BeforeValidator(parse_retention)]
SeverityName = Annotated[Severity, PlainValidator(_severity), PlainSerializer(str)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SourceSettings(_Frozen):
    """One feed to poll; `every` is in seconds, `max_size` in bytes. `first_poll: baseline`
    stores and matches the entries of the source's first successful poll without alerting
    them (its backlog is old news); `max_age` (seconds, 0 for no limit) replaces the
    top-level one for this source when set."""

    name: Name
    url: FeedUrl
    every: PollInterval = DEFAULT_EVERY
    tags: tuple[NonEmpty, ...] = ()
    full_text: bool = False
    max_size: FeedSize = ByteSize(DEFAULT_MAX_BYTES)  # bytes, decoded
    first_poll: Literal["baseline", "alert"] = "baseline"
    max_age: MaxAge | None = None


class ChannelSettings(_Frozen):
    """Where alerts go: apprise URLs; `digest` (seconds, or a cron line) batches alerts."""

    urls: tuple[ChannelUrl, ...]
    default: bool = False
    min_severity: SeverityName = Severity.INFO
    digest: DigestSchedule | None = None

    @field_validator("urls")
    @classmethod
    def _some_url(cls, urls: tuple[str, ...]) -> tuple[str, ...]:
        """Checked after the items (not min_length), so a bad URL is not also "empty"."""
        if not urls:
            raise ValueError("must not be empty")
        return urls


class NotifySettings(_Frozen):
    """How the outbox sends: timer, parallel sends, retries, timeouts and the claim's
    lease (seconds), user templates."""

    every: Seconds = DEFAULT_DRAIN_EVERY
    concurrency: WholeNumber = Field(default=DEFAULT_SEND_CONCURRENCY, ge=1, le=64)
    max_attempts: WholeNumber = Field(default=DEFAULT_MAX_ATTEMPTS, ge=1, le=1000)
    retry_delay: Seconds = DEFAULT_RETRY_DELAY
    max_retry_delay: Seconds = DEFAULT_MAX_RETRY_DELAY
    timeout: Seconds = DEFAULT_SEND_TIMEOUT
    lease: Seconds = DEFAULT_LEASE
    templates: NonEmpty | None = None


class HttpSettings(_Frozen):
    """The health and metrics endpoint; absent from Settings means it is off."""

    host: NonEmpty = "127.0.0.1"
    port: WholeNumber = Field(default=DEFAULT_HTTP_PORT, ge=1, le=65535)
    # How often /healthz may ask the database (seconds; 0: at every probe).
    database_check: Annotated[int, BeforeValidator(_duration(0))] = DEFAULT_DATABASE_CHECK


class WebSettings(_Frozen):
    """`watcher web`, the team's workspace (docs/web.md): where it listens, how long a
    sign-in lasts, and the reverse proxy whose header names the signed-in user (accepted
    only from `trusted_proxies`; off without `proxy_header`)."""

    host: NonEmpty = "127.0.0.1"
    port: WholeNumber = Field(default=DEFAULT_WEB_PORT, ge=1, le=65535)
    session: Annotated[int, BeforeValidator(_duration(60))] = DEFAULT_WEB_SESSION
    proxy_header: NonEmpty | None = None
    trusted_proxies: Annotated[tuple[AddressRange, ...], BeforeValidator(_listed)] = ()


class FetchSettings(_Frozen):
    """How feeds and full-text pages are fetched: the deadline of one fetch (seconds), how
    many sources are polled at once, and the address ranges, besides public ones, that
    links and redirects from feeds reach."""

    timeout: Annotated[int, BeforeValidator(_fetch_timeout)] = DEFAULT_FETCH_TIMEOUT
    concurrency: WholeNumber = Field(default=DEFAULT_POLL_CONCURRENCY, ge=1, le=MAX_CONNECTIONS)
    allow_private: Annotated[tuple[AddressRange, ...], BeforeValidator(_listed)] = ()


class ContextSettings(_Frozen):
    """Context labels of matches: `triggers` names a file of trigger phrases that adds to
    the shipped lists (watcher/engine/data/context.yaml), read when the rules load;
    `exclude` the labels that hold back the matches of rules without their own `exclude:`
    (by default page furniture: no analyst wants an alert on another page's headline)."""

    triggers: NonEmpty | None = None
    exclude: Annotated[tuple[ContextLabelName, ...], BeforeValidator(_listed)] = (
        "boilerplate",
    )


# read-only, so no stage can change another's view of the channels
Channels = Annotated[
    Mapping[Name, ChannelSettings],
    AfterValidator(MappingProxyType),
    WrapSerializer(lambda channels, serialize: serialize(dict(channels))),
]


class Settings(_Frozen):
    """Everything the commands read. `channels` is None when watcher.yaml has no
    `channels:`, which tells the rule loader not to check rules' `notify:`."""

    db: DatabaseUrl = DEFAULT_DB
    rules: NonEmpty = DEFAULT_RULES
    pipeline: NonEmpty = DEFAULT_PIPELINE
    sources: tuple[SourceSettings, ...] = ()
    poll_lease: Seconds = DEFAULT_POLL_LEASE
    max_age: MaxAge = DEFAULT_MAX_AGE
    retention: Retention = None
    contact: Contact | None = None
    channels: Channels | None = None
    notify: NotifySettings = NotifySettings()
    http: HttpSettings | None = None
    fetch: FetchSettings = FetchSettings()
    context: ContextSettings = ContextSettings()
    web: WebSettings = WebSettings()

    @property
    def channel_names(self) -> tuple[str, ...] | None:
        """Names rules' `notify:` may use; None when no channels are configured."""
        return None if self.channels is None else tuple(self.channels)

    @field_validator("sources", mode="before")
    @classmethod
    def _no_sources(cls, value: object) -> object:
        """`sources:` with every entry commented out means no sources, not an error."""
        return () if value is None else value

    @field_validator("sources")
    @classmethod
    def _unique_names(cls, sources: tuple[SourceSettings, ...]) -> tuple[SourceSettings, ...]:
        """Source names identify stored articles and rules' `sources:`, so they must differ."""
        first: dict[str, int] = {}
        pairs = []
        for index, source in enumerate(sources):
            if source.name in first:
                pairs.append((first[source.name], index, source.name))
            first.setdefault(source.name, index)
        if pairs:
            raise PydanticCustomError("duplicate_source", "duplicate names", {"pairs": pairs})
        return sources


def load_settings(
    config_path: str | None, overrides: Mapping[str, str | None], env: Mapping[str, str]
) -> Settings:
    """Settings from the file (explicit, WATCHER_CONFIG, or ./watcher.yaml when present),
    env and overrides; ConfigError with one line per problem found.

    `overrides` are command-line values (None when not given); `env` is os.environ.
    """
    path = config_path or env.get("WATCHER_CONFIG") or _default_config()
    document = read_document(path, env) if path else None
    values, origins = _merge(document.values if document else {}, overrides, env)
    report = _Report(document, origins)
    report.add_document_problems()
    try:
        settings: Settings | None = Settings.model_validate(values)
    except ValidationError as error:
        settings = None
        report.add_validation_errors(error.errors())
    if settings is None or report.lines:
        raise report.error()
    return settings


def environment() -> Mapping[str, str]:
    """The process environment; a function so callers pass it in explicitly."""
    return os.environ


def _default_config() -> str | None:
    return DEFAULT_CONFIG if Path(DEFAULT_CONFIG).is_file() else None


def _merge(
    file_values: Mapping[str, Any], overrides: Mapping[str, str | None], env: Mapping[str, str]
) -> tuple[dict[str, Any], dict[Loc, str]]:
    """The file's values with WATCHER_* values, then command-line values, laid over them,
    and for each overridden key (or section key) where its value came from."""
    merged, origins = dict(file_values), {}
    for key in Settings.model_fields:  # every setting, so a new one gets its variable too
        variable = _variable(key)
        if env.get(variable):
            merged[key] = _yaml_value(env[variable]) if key in SECTIONS else env[variable]
            origins[(key,)] = variable
    for section in SECTION_KEYS:
        prefix = _variable(section) + "__"
        for variable in sorted(name for name in env if name.startswith(prefix) and env[name]):
            values = merged.get(section)
            if values is not None and not isinstance(values, Mapping):
                break  # the section itself is wrong: that is what gets reported
            key = variable[len(prefix):].lower()
            # As text: pydantic reads numbers and durations from it, and `::` stays a host.
            merged[section] = {**(values or {}), key: env[variable]}
            origins[(section, key)] = variable
    for key in OPTION_KEYS:
        if overrides.get(key):
            merged[key], origins[(key,)] = overrides[key], f"--{key}"
    return merged, origins


def _variable(key: str) -> str:
    """The environment variable of a top-level key: `poll_lease` -> WATCHER_POLL_LEASE."""
    return f"WATCHER_{key.upper()}"


def _yaml_value(text: str) -> Any:
    """A variable's value read as YAML (`9000` a number, `[a, b]` a list); text that is not
    valid YAML stays text, for the settings check to refuse with the variable's name."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def key_path(loc: Loc) -> str:
    """`sources[2].every` for pydantic's ("sources", 2, "every")."""
    text = ""
    for step in loc:
        if step == "[key]":  # pydantic's marker for a bad mapping key: the key is the path
            continue
        text += f"[{step}]" if isinstance(step, int) else f".{step}" if text else str(step)
    return text


MESSAGES = {
    "missing": "is required",
    "string_type": "must be a string",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "dict_type": "must be a mapping of names to settings",
    "model_type": "must be a mapping of settings (key: value)",
    "model_attributes_type": "must be a mapping of settings (key: value)",
    "tuple_type": "must be a list",
    "list_type": "must be a list",
    "too_short": "must not be empty",
    "string_too_short": "must not be empty",
    "greater_than_equal": "must be at least {ge}",
    "less_than_equal": "must be at most {le}",
    "literal_error": "must be {expected}",
}
SECTIONS: dict[str, type[BaseModel]] = {
    "sources": SourceSettings,
    "channels": ChannelSettings,
    "notify": NotifySettings,
    "http": HttpSettings,
    "fetch": FetchSettings,
    "context": ContextSettings,
    "web": WebSettings,
}
_HIDDEN = object()


def _message(detail: ErrorDetails) -> str:
    """A human wording for one pydantic error, without its value."""
    kind, ctx = detail["type"], detail.get("ctx", {})
    if kind == "value_error":
        return str(ctx["error"])
    if detail["input"] is None and kind.endswith("_type"):
        return "has no value"
    if kind in MESSAGES:
        return MESSAGES[kind].format(**ctx)
    return detail["msg"][:1].lower() + detail["msg"][1:]


@dataclass
class _Report:
    """Problems as `WHERE: key.path: message` lines: WHERE is FILE:LINE:COL, or the
    variable or option a value came from; substituted values are never echoed."""

    document: Document | None
    origins: Mapping[Loc, str]  # key (or section, key) -> the variable or option it came from
    lines: dict[str, tuple[int, int, int]] = field(default_factory=dict)  # line -> sort key

    def add_document_problems(self) -> None:
        if self.document is None:
            return
        for loc, first_line in self.document.duplicates:
            text = f"duplicate key {key_path(loc)!r} (first on line {first_line})"
            self.add_line(loc, text, in_file=True)
        for loc in self.unset_values():
            names = [name for at, name in self.document.unset if at == loc]
            said = f"variable {names[0]} is" if len(names) == 1 else \
                f"variables {', '.join(names)} are"  # fmt: skip
            self.add_line(loc, f"{key_path(loc)}: environment {said} not set")

    def unset_values(self) -> list[Loc]:
        """Values naming an unset variable; overridden ones need not resolve."""
        unset = self.document.unset if self.document else ()
        return list(dict.fromkeys(loc for loc, _ in unset if self.origin(loc) is None))

    def add_validation_errors(self, details: list[ErrorDetails]) -> None:
        unset = self.unset_values()
        for detail in details:
            loc = tuple(detail["loc"])
            if any(loc[: len(at)] == at for at in unset):
                continue  # already reported as the variable that is not set
            if detail["type"] == "extra_forbidden":
                known = ", ".join((SECTIONS[loc[0]] if len(loc) > 1 else Settings).model_fields)
                self.add_line(loc, f"unknown key {key_path(loc)!r} (known: {known})")
            elif detail["type"] == "duplicate_source":
                self.add_duplicate_sources(detail["ctx"]["pairs"])
            else:
                self.add(loc, _message(detail), detail["input"])

    def add_duplicate_sources(self, pairs: list[tuple[int, int, str]]) -> None:
        for first, again, name in pairs:
            line = self.document.position(("sources", first, "name"))[0] if self.document else 0
            self.add(("sources", again, "name"), f"duplicate source name, first on line {line}",
                     name)

    def add(self, loc: Loc, message: str, value: object = _HIDDEN) -> None:
        self.add_line(loc, f"{key_path(loc)}: {message}{self.shown(loc, value)}")

    def add_line(self, loc: Loc, text: str, *, in_file: bool = False) -> None:
        where, order = self.where(loc, in_file)
        self.lines.setdefault(f"{where}: {text}", order)

    def where(self, loc: Loc, in_file: bool = False) -> tuple[str, tuple[int, int, int]]:
        """FILE:LINE:COL, or the variable or option that set the value instead of the file."""
        origin = self.origin(loc) if not in_file else None
        if origin or self.document is None:
            return origin or "configuration", (1, 0, 0)
        line, column = self.document.position(loc)
        return f"{self.document.path}:{line}:{column}", (0, line, column)

    def shown(self, loc: Loc, value: object) -> str:
        """The offending value, unless it may be a secret: from a variable (named instead),
        from the environment or command line, or a database or channel URL."""
        if self.origin(loc) is not None:
            return ""
        variables = self.document.variables_under(loc) if self.document else ()
        if variables:
            return " (from " + ", ".join(f"${{{name}}}" for name in variables) + ")"
        secret = loc[:1] == ("db",) or (loc[:1] == ("channels",) and "urls" in loc)
        if value is _HIDDEN or secret or not isinstance(value, str | int | float | bool):
            return ""
        text = repr(value)
        return f" (got {text if len(text) <= 60 else text[:57] + '...'})"

    def origin(self, loc: Loc) -> str | None:
        """The variable or option that set this value (or its section key), if one did."""
        return self.origins.get(tuple(loc[:2])) or self.origins.get(tuple(loc[:1]))

    def error(self) -> ConfigError:
        """One line per problem: the file's in file order, then the environment's."""
        ordered = sorted(self.lines, key=lambda line: (self.lines[line], line))
        return ConfigError("\n".join(ordered))

