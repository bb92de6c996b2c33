"""watcher.yaml and WATCHER_* settings: precedence, substitution, every key's checks, and
one `WHERE: key.path: message` line per problem that never echoes a secret."""

from __future__ import annotations

from pathlib import Path

import pydantic
import pytest
import yaml

from tests.support.alias_bomb import alias_bomb
from watcher.config.settings import (
    DEFAULT_EVERY,
    DEFAULT_RULES,
    ChannelSettings,
    ContextSettings,
    FetchSettings,
    HttpSettings,
    NotifySettings,
    Settings,
    SourceSettings,
    load_settings,
)
from watcher.errors import ConfigError
from watcher.model import Severity

EXAMPLE = Path(__file__).resolve().parent.parent / "watcher.example.yaml"
FEED = "https://english.aawsat.com/feed/syria"


def _write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "watcher.yaml"
    path.write_text(text)
    return str(path)


def _errors(tmp_path: Path, text: str, env: dict | None = None, **overrides: str) -> list[str]:
    """The error lines for a file, with the file named relative to tmp_path."""
    with pytest.raises(ConfigError) as caught:
        load_settings(_write(tmp_path, text), overrides, env or {})
    return str(caught.value).replace(f"{tmp_path}/", "").splitlines()


def _source(text: str) -> str:
    return f"sources:\n  - name: asharq-syria\n    url: {FEED}\n{text}"


# where the file comes from, and precedence


def test_command_line_beats_environment_beats_file(tmp_path):
    path = _write(tmp_path, "rules: from-file/\npipeline: file-pipe\n")
    env = {"WATCHER_RULES": "from-env/"}
    settings = load_settings(path, {"pipeline": "cli-pipe"}, env)
    assert (settings.rules, settings.pipeline) == ("from-env/", "cli-pipe")
    assert load_settings(path, {}, {}).rules == "from-file/"


def test_every_environment_variable_overrides_its_key(tmp_path):
    path = _write(tmp_path, "db: sqlite:///file.db\nrules: file/\npipeline: file-pipe\n")
    env = {"WATCHER_DB": "sqlite:///env.db", "WATCHER_RULES": "env/", "WATCHER_PIPELINE": "p"}
    settings = load_settings(path, {"db": None}, env)
    assert (settings.db, settings.rules, settings.pipeline) == ("sqlite:///env.db", "env/", "p")
    assert load_settings(path, {"db": "sqlite:///cli.db"}, env).db == "sqlite:///cli.db"


def test_every_setting_has_a_variable_plain_lists_and_mappings_as_yaml(tmp_path):
    path = _write(tmp_path, _source("notify:\n  every: 20s\n  max_attempts: 3\n"))
    env = {
        "WATCHER_POLL_LEASE": "5m",
        "WATCHER_CONTACT": "ops@example.org",
        "WATCHER_SOURCES": f"[{{name: from-env, url: '{FEED}', every: 60}}]",
        "WATCHER_CHANNELS": "{ops: {urls: ['mailto://a:b@example.org'], default: true}}",
        "WATCHER_NOTIFY__EVERY": "30",
        "WATCHER_HTTP__PORT": "9000",
        "WATCHER_HTTP__HOST": "::",  # as text, not YAML (where it would be a mapping)
    }
    settings = load_settings(path, {}, env)
    assert (settings.poll_lease, settings.contact) == (300, "ops@example.org")
    assert [(s.name, s.every) for s in settings.sources] == [("from-env", 60)]
    assert settings.channel_names == ("ops",) and settings.channels["ops"].default
    # a section key's variable replaces that key only; the file's other keys stay
    assert (settings.notify.every, settings.notify.max_attempts) == (30, 3)
    assert settings.http is not None and (settings.http.host, settings.http.port) == ("::", 9000)


def test_a_bad_variable_is_named_and_the_file_keeps_its_own_lines(tmp_path):
    text = _source("notify:\n  concurrency: 0\n")
    env = {"WATCHER_NOTIFY__EVERY": "soon", "WATCHER_SOURCES": "[unclosed",
           "WATCHER_HTTP__PORT": "99999"}
    assert _errors(tmp_path, text, env) == [
        "watcher.yaml:5:3: notify.concurrency: must be at least 1 (got 0)",
        "WATCHER_HTTP__PORT: http.port: must be at most 65535",
        "WATCHER_NOTIFY__EVERY: notify.every: " + DURATION_HELP,
        "WATCHER_SOURCES: sources: must be a list",
    ]


def test_a_bad_section_variable_is_reported_not_hidden_by_its_key_variable(tmp_path):
    env = {"WATCHER_HTTP": "on", "WATCHER_HTTP__PORT": "9000"}
    assert _errors(tmp_path, "", env) == [
        "WATCHER_HTTP: http: must be a mapping of settings (key: value)"
    ]


def test_defaults_without_a_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = load_settings(None, {}, {})
    assert settings.rules == DEFAULT_RULES and settings.channels is None
    assert (settings.sources, settings.http, settings.channel_names) == ((), None, None)


def test_the_file_is_explicit_or_from_watcher_config_or_in_the_working_directory(
    tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "watcher.yaml").write_text("rules: here/\n")
    (tmp_path / "other.yaml").write_text("rules: other/\n")
    (tmp_path / "explicit.yaml").write_text("rules: explicit/\n")
    assert load_settings(None, {}, {}).rules == "here/"
    assert load_settings(None, {}, {"WATCHER_CONFIG": "other.yaml"}).rules == "other/"
    assert load_settings("explicit.yaml", {}, {"WATCHER_CONFIG": "other.yaml"}).rules == "explicit/"


def test_a_missing_explicit_file_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="nope.yaml: cannot read configuration"):
        load_settings(str(tmp_path / "nope.yaml"), {}, {})


def test_an_empty_file_gives_the_defaults(tmp_path):
    assert load_settings(_write(tmp_path, "# nothing yet\n"), {}, {}) == Settings()


# ${NAME} substitution and secrets


def test_environment_references_are_substituted(tmp_path):
    path = _write(tmp_path, "db: postgresql+psycopg://u:${PW}@localhost/w\n")
    assert load_settings(path, {}, {"PW": "s3cret"}).db == "postgresql+psycopg://u:s3cret@localhost/w"
    unset = "watcher.yaml:1:1: db: environment variable PW is not set"
    with pytest.raises(ConfigError, match=unset):
        load_settings(path, {}, {})


def test_an_unset_variable_in_an_overridden_value_does_not_matter(tmp_path):
    path = _write(tmp_path, "db: postgresql+psycopg://u:${PW}@localhost/w\n")
    assert load_settings(path, {}, {"WATCHER_DB": "sqlite:///x.db"}).db == "sqlite:///x.db"


def test_every_unset_variable_is_named(tmp_path):
    lines = _errors(tmp_path, "db: postgresql+psycopg://${USER}:${PW}@localhost/w\n")
    assert lines == ["watcher.yaml:1:1: db: environment variables USER, PW are not set"]


def test_a_repeated_key_is_an_error_even_when_the_environment_overrides_it(tmp_path):
    lines = _errors(tmp_path, "db: sqlite:///a.db\ndb: sqlite:///b.db\n", {"WATCHER_DB": "x://"})
    assert lines == ["watcher.yaml:2:1: duplicate key 'db' (first on line 1)"]


def test_substituted_numbers_and_durations_are_parsed(tmp_path):
    text = _source("    every: ${POLL}\nhttp:\n  port: ${PORT}\n")
    settings = load_settings(_write(tmp_path, text), {}, {"POLL": "2m", "PORT": "8080"})
    assert (settings.sources[0].every, settings.http.port) == (120, 8080)


def test_a_bad_substituted_value_names_the_variable_not_the_value(tmp_path):
    text = "http:\n  port: ${PORT}\nchannels:\n  ops:\n    urls: ${HOOK}\n"
    lines = _errors(tmp_path, text, {"PORT": "hunter2", "HOOK": "json://u:hunter2@h"})
    assert lines == [
        "watcher.yaml:2:3: http.port: must be a whole number (from ${PORT})",
        "watcher.yaml:5:5: channels.ops.urls: must be a list (from ${HOOK})",
    ]


def test_database_and_channel_urls_are_never_echoed(tmp_path):
    text = "db: postgres-with-pw-hunter2\nchannels:\n  ops:\n    urls: ['pw-hunter2']\n"
    lines = _errors(tmp_path, text)
    assert lines == [
        "watcher.yaml:1:1: db: must be a database URL such as sqlite:///watcher.db",
        "watcher.yaml:4:12: channels.ops.urls[0]: must be an apprise URL such as "
        "mailtos://user:pass@host",
    ]


def test_a_bad_value_from_the_environment_or_command_line_names_its_origin(tmp_path):
    path = _write(tmp_path, "rules: rules/\n")
    for overrides, env, where in [
        ({}, {"WATCHER_DB": "hunter2"}, "WATCHER_DB"),
        ({"db": "hunter2"}, {}, "--db"),
    ]:
        with pytest.raises(ConfigError) as caught:
            load_settings(path, overrides, env)
        assert str(caught.value) == f"{where}: db: must be a database URL such as sqlite:///watcher.db"


# sources


def test_a_source_with_every_key(tmp_path):
    text = _source("    every: 1h30m\n    tags: [syria, press]\n    full_text: true\n")
    (source,) = load_settings(_write(tmp_path, text), {}, {}).sources
    assert source == SourceSettings(
        name="asharq-syria", url=FEED, every=5400, tags=("syria", "press"), full_text=True
    )


def test_a_source_with_only_name_and_url_gets_the_defaults(tmp_path):
    (source,) = load_settings(_write(tmp_path, _source("")), {}, {}).sources
    assert (source.every, source.tags, source.full_text) == (DEFAULT_EVERY, (), False)
    assert DEFAULT_EVERY == 15 * 60


@pytest.mark.parametrize(
    ("every", "seconds"),
    [("30", 30), ("90", 90), ("'90'", 90), ("30s", 30), ("10m", 600), ("1h", 3600),
     ("1h30m", 5400), ("2h0m15s", 7215), ("' 5m '", 300)],
)  # fmt: skip
def test_durations_are_parsed(tmp_path, every, seconds):
    settings = load_settings(_write(tmp_path, _source(f"    every: {every}\n")), {}, {})
    assert settings.sources[0].every == seconds


DURATION_HELP = "must be a duration such as 90 (seconds), 30s, 10m, 1h, 1h30m or 1d"


@pytest.mark.parametrize(
    ("every", "message"),
    [
        ("10s", "must be at least 30s (got '10s')"),
        ("0", "must be at least 30s (got 0)"),
        ("5x", f"{DURATION_HELP} (got '5x')"),
        ("1.5h", f"{DURATION_HELP} (got '1.5h')"),
        ("30m1h", f"{DURATION_HELP} (got '30m1h')"),
        ("true", f"{DURATION_HELP} (got True)"),
    ],
)
def test_bad_durations(tmp_path, every, message):
    lines = _errors(tmp_path, _source(f"    every: {every}\n"))
    assert lines == [f"watcher.yaml:4:5: sources[0].every: {message}"]


@pytest.mark.parametrize(
    ("line", "error"),
    [
        ("    tags: syria\n", "4:5: sources[0].tags: must be a list (got 'syria')"),
        ("    tags: ['']\n", "4:12: sources[0].tags[0]: must not be empty (got '')"),
        ("    full_text: maybe\n", "4:5: sources[0].full_text: must be true or false "
                                   "(got 'maybe')"),
        ("    urll: x\n", "4:5: unknown key 'sources[0].urll' (known: name, url, every, tags, "
                          "full_text, max_size, first_poll, max_age)"),
        ("    first_poll: skip\n", "4:5: sources[0].first_poll: must be 'baseline' or 'alert' "
                                  "(got 'skip')"),
        ("    max_age: soon\n", "4:5: sources[0].max_age: must be a duration such as 3d, 12h "
                               "or 90m, or 0 (also none or off) for no limit (got 'soon')"),
        ("    url: https://b.example/f\n", "4:5: duplicate key 'sources[0].url' (first on line 3)"),
    ],
)  # fmt: skip
def test_bad_source_keys(tmp_path, line, error):
    assert _errors(tmp_path, _source(line)) == [f"watcher.yaml:{error}"]


def test_source_name_url_and_shape_are_checked(tmp_path):
    text = "sources:\n  - name: Asharq\n    url: ftp://x.org/f\n  - url: https://x.org/\n  - x\n"
    assert _errors(tmp_path, text) == [
        "watcher.yaml:2:5: sources[0].name: must be lower-case letters, digits, '-' or '_', "
        "starting with a letter or digit (got 'Asharq')",
        "watcher.yaml:3:5: sources[0].url: must be an http:// or https:// URL (got 'ftp://x.org/f')",
        "watcher.yaml:4:5: sources[1].name: is required",
        "watcher.yaml:5:5: sources[2]: must be a mapping of settings (key: value) (got 'x')",
    ]


def test_duplicate_source_names_name_both_lines(tmp_path):
    text = (
        "sources:\n"
        "  - {name: asharq, url: 'https://a.example/feed'}\n"
        "  - {name: other, url: 'https://b.example/feed'}\n"
        "  - name: asharq\n"
        "    url: https://c.example/feed\n"
    )
    assert _errors(tmp_path, text) == [
        "watcher.yaml:4:5: sources[2].name: duplicate source name, first on line 2 (got 'asharq')"
    ]


def test_sources_may_be_empty(tmp_path):
    assert load_settings(_write(tmp_path, "sources:\n"), {}, {}).sources == ()
    assert _errors(tmp_path, "sources: {a: 1}\n") == ["watcher.yaml:1:1: sources: must be a list"]


# channels


def test_channels_with_every_key(tmp_path):
    text = (
        "channels:\n"
        "  ops-email:\n"
        "    urls: ['mailtos://u:${SMTP_PASSWORD}@smtp.example.org']\n"
        "    default: true\n"
        "    min_severity: medium\n"
        "    digest: 1h\n"
        "  field:\n"
        "    urls: ['json://localhost/hook']\n"
    )
    settings = load_settings(_write(tmp_path, text), {}, {"SMTP_PASSWORD": "pw"})
    assert settings.channel_names == ("ops-email", "field")
    assert settings.channels["ops-email"] == ChannelSettings(
        urls=("mailtos://u:pw@smtp.example.org",), default=True,
        min_severity=Severity.MEDIUM, digest=3600,
    )  # fmt: skip
    assert settings.channels["field"] == ChannelSettings(urls=("json://localhost/hook",))
    assert settings.channels["field"].min_severity is Severity.INFO


def test_channel_names_are_known_for_rule_checks(tmp_path):
    path = _write(tmp_path, "channels:\n  ops-email:\n    urls: ['json://localhost']\n")
    assert load_settings(path, {}, {}).channel_names == ("ops-email",)
    assert load_settings(_write(tmp_path, "channels: {}\n"), {}, {}).channel_names == ()


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ("  Ops Mail:\n    urls: ['json://h']\n", "2:3: channels.Ops Mail: must be lower-case "
         "letters, digits, '-' or '_', starting with a letter or digit (got 'Ops Mail')"),
        ("  ops:\n    urls: []\n", "3:5: channels.ops.urls: must not be empty"),
        ("  ops:\n    default: true\n", "2:3: channels.ops.urls: is required"),
        ("  ops:\n", "2:3: channels.ops: has no value"),
        ("  ops:\n    urls: ['json://h']\n    min_severity: urgent\n",
         "4:5: channels.ops.min_severity: must be one of: info, low, medium, high, critical "
         "(got 'urgent')"),
        ("  ops:\n    urls: ['json://h']\n    digest: 30s\n",
         "4:5: channels.ops.digest: must be at least 60s (got '30s')"),
        ("  ops:\n    urls: ['json://h']\n    digest: '0 99 * * *'\n",
         "4:5: channels.ops.digest: is not a cron expression (Error validating expression "
         "'99': the last value (99) is higher than the maximum value (23)); use a duration "
         "such as 1h or a cron line such as '0 8 * * *' (got '0 99 * * *')"),
        ("  ops:\n    urls: ['json://h']\n    url: x\n",
         "4:5: unknown key 'channels.ops.url' (known: urls, default, min_severity, digest)"),
    ],
)  # fmt: skip
def test_bad_channels(tmp_path, body, error):
    assert _errors(tmp_path, "channels:\n" + body) == [f"watcher.yaml:{error}"]


def test_a_digest_is_a_duration_or_a_cron_line(tmp_path):
    text = ("channels:\n  a:\n    urls: ['json://h']\n    digest: 1h30m\n"
            "  b:\n    urls: ['json://h']\n    digest: '0 8 * * 1-5'\n")
    channels = load_settings(_write(tmp_path, text), {}, {}).channels
    assert (channels["a"].digest, channels["b"].digest) == (5400, "0 8 * * 1-5")


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ("  concurrency: 0\n", "2:3: notify.concurrency: must be at least 1 (got 0)"),
        ("  every: 0s\n", "2:3: notify.every: must be at least 1s (got '0s')"),
        ("  max_attempts: true\n", "2:3: notify.max_attempts: must be a whole number (got True)"),
        ("  retry_delay: soon\n", f"2:3: notify.retry_delay: {DURATION_HELP} (got 'soon')"),
        ("  retries: 3\n", "2:3: unknown key 'notify.retries' (known: every, concurrency, "
                            "max_attempts, retry_delay, max_retry_delay, timeout, lease, "
                            "templates)"),
    ],
)  # fmt: skip
def test_bad_notify_settings(tmp_path, body, error):
    assert _errors(tmp_path, "notify:\n" + body) == [f"watcher.yaml:{error}"]


def test_notify_durations_are_seconds(tmp_path):
    text = "notify:\n  retry_delay: 2m\n  max_retry_delay: 1h\n  lease: 90\n"
    notify = load_settings(_write(tmp_path, text), {}, {}).notify
    assert (notify.retry_delay, notify.max_retry_delay, notify.lease) == (120, 3600, 90)


def test_channels_are_read_only(tmp_path):
    settings = load_settings(_write(tmp_path, "channels:\n  a:\n    urls: ['json://h']\n"), {}, {})
    with pytest.raises(TypeError):
        settings.channels["b"] = settings.channels["a"]  # type: ignore[index]
    with pytest.raises(pydantic.ValidationError):
        settings.rules = "elsewhere/"  # type: ignore[misc]


# http


def test_http(tmp_path):
    path = _write(tmp_path, "http:\n  host: 0.0.0.0\n  port: 9100\n")
    assert load_settings(path, {}, {}).http == HttpSettings(host="0.0.0.0", port=9100)
    assert load_settings(_write(tmp_path, "http: {}\n"), {}, {}).http == HttpSettings()
    assert HttpSettings() == HttpSettings(host="127.0.0.1", port=9464)
    assert load_settings(_write(tmp_path, "http:\n"), {}, {}).http is None


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ("  port: 0\n", "2:3: http.port: must be at least 1 (got 0)"),
        ("  port: 70000\n", "2:3: http.port: must be at most 65535 (got 70000)"),
        ("  port: web\n", "2:3: http.port: must be a whole number (got 'web')"),
        ("  port: true\n", "2:3: http.port: must be a whole number (got True)"),
        ("  host: ''\n", "2:3: http.host: must not be empty (got '')"),
        ("  prot: 1\n", "2:3: unknown key 'http.prot' (known: host, port, database_check)"),
        ("  database_check: soon\n", "2:3: http.database_check: must be a duration such as 90 "
         "(seconds), 30s, 10m, 1h, 1h30m or 1d (got 'soon')"),
    ],
)
def test_bad_http(tmp_path, body, error):
    assert _errors(tmp_path, "http:\n" + body) == [f"watcher.yaml:{error}"]


# fetch


def test_fetch(tmp_path):
    path = _write(tmp_path, "fetch:\n  timeout: 5s\n  concurrency: 64\n  allow_private: "
                            "[10.0.0.0/8, 'fd00::/8', 127.0.0.1]\n")
    assert load_settings(path, {}, {}).fetch == FetchSettings(
        timeout=5, concurrency=64, allow_private=("10.0.0.0/8", "fd00::/8", "127.0.0.1/32"))
    assert load_settings(None, {}, {}).fetch == FetchSettings(timeout=20, concurrency=8,
                                                              allow_private=())
    env = {"WATCHER_FETCH__ALLOW_PRIVATE": "10.0.0.0/8, 192.168.0.0/16",
           "WATCHER_FETCH__TIMEOUT": "1m", "WATCHER_FETCH__CONCURRENCY": "32"}
    assert load_settings(None, {}, env).fetch == FetchSettings(
        timeout=60, concurrency=32, allow_private=("10.0.0.0/8", "192.168.0.0/16"))


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ("  allow_private: [10.0.0.0/8, 10.0.0.0/33]\n", "2:31: fetch.allow_private[1]: must be an "
         "address range such as 10.0.0.0/8 or fd00::/8 (got '10.0.0.0/33')"),
        ("  allow_private: [intranet]\n", "2:19: fetch.allow_private[0]: must be an address range "
         "such as 10.0.0.0/8 or fd00::/8 (got 'intranet')"),
        ("  timeout: 0\n", "2:3: fetch.timeout: must be at least 1s (got 0)"),
        ("  timeout: 11m\n", "2:3: fetch.timeout: must be at most 10m (a fetch holds a poll slot "
         "this long) (got '11m')"),
        ("  concurrency: 0\n", "2:3: fetch.concurrency: must be at least 1 (got 0)"),
        ("  concurrency: 101\n", "2:3: fetch.concurrency: must be at most 100 (got 101)"),
        ("  concurrency: true\n", "2:3: fetch.concurrency: must be a whole number (got True)"),
        ("  concurrency: many\n", "2:3: fetch.concurrency: must be a whole number (got 'many')"),
        ("  allow: []\n", "2:3: unknown key 'fetch.allow' (known: timeout, concurrency, "
         "allow_private)"),
    ],
)
def test_bad_fetch(tmp_path, body, error):
    assert _errors(tmp_path, "fetch:\n" + body) == [f"watcher.yaml:{error}"]


@pytest.mark.parametrize(
    "contact",
    ["ops@example.org", "mailto:ops@example.org", "https://newsroom.example/watcher",
     "HTTPS://newsroom.example/"],
)
def test_a_contact_is_a_url_or_an_e_mail_address(tmp_path, contact):
    assert load_settings(_write(tmp_path, f"contact: {contact}\n"), {}, {}).contact == contact


@pytest.mark.parametrize(
    "contact",
    ["ops", "ops at example.org", "ftp://x.org", "a@b", "(x)@y.org", "françois@example.org",
     "https://exämple.org/ops"],
)
def test_a_bad_contact_is_one_line(tmp_path, contact):
    assert _errors(tmp_path, f"contact: {contact}\n") == [
        "watcher.yaml:1:1: contact: must be an http(s) URL or an e-mail address such as "
        f"ops@example.org (got {contact!r})"
    ]


# the top level, and reporting


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("rulez: x\n", "watcher.yaml:1:1: unknown key 'rulez' (known: db, rules, pipeline, "
                       "sources, poll_lease, max_age, retention, contact, channels, notify, "
                       "http, fetch, context, web)"),
        ("rules: a/\nrules: b/\n", "watcher.yaml:2:1: duplicate key 'rules' (first on line 1)"),
        ("rules: 2024\n", "watcher.yaml:1:1: rules: must be a string (got 2024)"),
        ("rules: ''\n", "watcher.yaml:1:1: rules: must not be empty (got '')"),
        ("rules:\n", "watcher.yaml:1:1: rules: has no value"),
        ("pipeline: [a]\n", "watcher.yaml:1:1: pipeline: must be a string"),
        ("channels: [a]\n", "watcher.yaml:1:1: channels: must be a mapping of names to settings"),
        ("http: 9464\n", "watcher.yaml:1:1: http: must be a mapping of settings (key: value) "
                         "(got 9464)"),
        ("rules: [a\n", "watcher.yaml:1:8: invalid YAML"),  # where the '[' opens
        ('db: "x\n\nrules: r/\n', "watcher.yaml:1:5: invalid YAML"),  # the quote never closed
        ("- a\n", "watcher.yaml:1:1: the configuration must be a mapping"),
    ],
)  # fmt: skip
def test_bad_configuration_is_one_line_naming_the_key(tmp_path, text, message):
    with pytest.raises(ConfigError) as caught:
        load_settings(_write(tmp_path, text), {}, {})
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_every_problem_is_reported_in_file_order(tmp_path):
    text = "http:\n  port: 0\nrulez: 1\nsources:\n  - {name: a, url: 'https://x.org/', every: 1s}\n"
    assert _errors(tmp_path, text, {"WATCHER_DB": "nope"}) == [
        "watcher.yaml:2:3: http.port: must be at least 1 (got 0)",
        "watcher.yaml:3:1: unknown key 'rulez' (known: db, rules, pipeline, sources, poll_lease, "
        "max_age, retention, contact, channels, notify, http, fetch, context, web)",
        "watcher.yaml:5:38: sources[0].every: must be at least 30s (got '1s')",
        "WATCHER_DB: db: must be a database URL such as sqlite:///watcher.db",
    ]


@pytest.mark.parametrize("levels", [5, 9])  # 111,111 values, just past the bound; 10**9
def test_an_alias_bomb_is_one_line_at_the_alias_that_passes_the_bound(tmp_path, levels):
    """Without the loader's bound, nine levels are minutes and gigabytes of building values;
    the bound refuses the file while it is composed, in time linear in its length."""
    text = "sources:\n  - name: wire\n    url: https://x.org/feed\n" + alias_bomb(levels)
    assert len(text) < 500
    # 12,356 values before line 8's list, 11,111 per `*d`: the 8th one passes 100,000
    assert _errors(tmp_path, text) == [
        f"watcher.yaml:8:{len('e: &e [') + 1 + 4 * 7}: invalid YAML: aliases "
        "expand to more than 100,000 values (aliases of aliases?); write the values out or use "
        "fewer aliases"]


def test_an_alias_inside_its_own_anchor_is_one_line(tmp_path):
    assert _errors(tmp_path, "rules: &r [a, *r]\n") == [
        "watcher.yaml:1:15: invalid YAML: an alias inside its own anchor would repeat it "
        "endlessly"]


def test_aliases_within_the_bound_load(tmp_path):
    text = ("sources:\n  - {name: a, url: 'https://x.org/a', tags: &tags [syria, aleppo]}\n"
            "  - {name: b, url: 'https://x.org/b', tags: *tags}\n")
    settings = load_settings(_write(tmp_path, text), {}, {})
    assert [s.tags for s in settings.sources] == [("syria", "aleppo")] * 2


# retention


@pytest.mark.parametrize(("text", "seconds"), [
    ("", None), ("retention:\n", None), ("retention: off\n", None), ("retention: 0\n", None),
    ("retention: 180d\n", 180 * 86400), ("retention: 7d\n", 7 * 86400),
])  # fmt: skip
def test_retention_is_off_unless_set_to_a_window_of_at_least_a_week(tmp_path, text, seconds):
    assert load_settings(_write(tmp_path, text), {}, {}).retention == seconds
    assert load_settings(None, {}, {"WATCHER_RETENTION": "180d"}).retention == 180 * 86400


def test_max_age_off_unquoted_in_the_file_is_no_limit(tmp_path):
    """YAML reads an unquoted `off` as false; the documented `off` must still mean off."""
    assert load_settings(_write(tmp_path, "max_age: off\n"), {}, {}).max_age == 0


@pytest.mark.parametrize("value", ["1h", "6d", "soon", "1.5d"])
def test_a_retention_too_short_or_no_duration_is_one_line_naming_where(tmp_path, value):
    assert _errors(tmp_path, f"db: sqlite:///w.db\nretention: {value}\n") == [
        "watcher.yaml:2:1: retention: must be a duration of at least 7d, such as 180d, or off "
        f"(the default: nothing is deleted) (got {value!r})"]


# the shipped example


def test_the_example_configuration_loads_and_shows_every_key(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # rules: rules/ is a path; nothing here reads it
    settings = load_settings(str(EXAMPLE), {}, {"SMTP_PASSWORD": "pw"})
    assert [s.name for s in settings.sources] == ["asharq-syria", "enab-baladi", "syriahr"]
    assert settings.channels["ops-email"].urls[0].startswith("mailtos://alerts:pw@")
    assert settings.http == HttpSettings()
    written = yaml.safe_load(EXAMPLE.read_text())
    assert set(written) == set(Settings.model_fields)
    assert set(written["sources"][0]) == set(SourceSettings.model_fields)
    assert set(written["channels"]["ops-email"]) == set(ChannelSettings.model_fields)
    assert set(written["http"]) == set(HttpSettings.model_fields)
    assert set(written["notify"]) == set(NotifySettings.model_fields)
    assert set(written["fetch"]) == set(FetchSettings.model_fields)
    assert set(written["context"]) == set(ContextSettings.model_fields)
    assert (settings.notify, settings.fetch) == (NotifySettings(), FetchSettings())


def test_the_example_needs_its_password_variable():
    with pytest.raises(ConfigError, match=r"channels.ops-email.urls\[0\]: environment variable "
                                          "SMTP_PASSWORD is not set"):  # fmt: skip
        load_settings(str(EXAMPLE), {}, {})


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://127.0.0.1:99999/feed", "sources[0].url: must be an http:// or https:// URL "
                                        "(port out of range 0-65535)"),
        ("http://x.org:0/feed", "sources[0].url: must be an http:// or https:// URL (port 0)"),
        ("'http://exa mple.org/feed'", "sources[0].url: must be an http:// or https:// URL: "
                                       "its host has a space"),
    ],
)
def test_a_feed_url_that_cannot_be_fetched_is_refused_when_loaded(tmp_path, url, says):
    """Not a `Connection refused` or an invalid-URL error at the first poll."""
    [error] = _errors(tmp_path, f"sources:\n  - name: wire\n    url: {url}\n")
    assert error.startswith(f"watcher.yaml:3:5: {says}"), error


def test_a_feed_url_with_a_space_in_its_path_is_kept_for_the_client_to_encode(tmp_path):
    text = "sources:\n  - {name: w, url: 'https://x.org/a b'}\n"
    settings = load_settings(_write(tmp_path, text), {}, {})
    assert settings.sources[0].url == "https://x.org/a b"


@pytest.mark.parametrize(
    ("size", "expected"),
    [("20MiB", 20 * 2**20), ("20 MB", 20_000_000), ("65536", 65536), (None, 10 * 2**20)],
)
def test_a_source_max_size_takes_units(tmp_path, size, expected):
    line = "" if size is None else f", max_size: '{size}'"
    text = f"sources:\n  - {{name: w, url: 'https://x.org/f'{line}}}\n"
    assert load_settings(_write(tmp_path, text), {}, {}).sources[0].max_size == expected


@pytest.mark.parametrize("size", ["2GiB", "0", "big"])
def test_a_source_max_size_out_of_range_or_unreadable_is_one_line(tmp_path, size):
    text = f"sources:\n  - {{name: w, url: 'https://x.org/f', max_size: '{size}'}}\n"
    [error] = _errors(tmp_path, text)
    assert error.startswith("watcher.yaml:2:39: sources[0].max_size: "), error  # the value
