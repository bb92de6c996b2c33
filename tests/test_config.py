"""watcher.yaml and WATCHER_* settings: precedence, substitution and one-line errors."""

from __future__ import annotations

import pytest

from watcher.config import DEFAULT_RULES, load_settings
from watcher.errors import ConfigError


def _write(tmp_path, text: str) -> str:
    path = tmp_path / "watcher.yaml"
    path.write_text(text)
    return str(path)


def test_command_line_beats_environment_beats_file(tmp_path):
    path = _write(tmp_path, "rules: from-file/\npipeline: file-pipe\n")
    env = {"WATCHER_RULES": "from-env/"}
    settings = load_settings(path, {"pipeline": "cli-pipe"}, env)
    assert (settings.rules, settings.pipeline) == ("from-env/", "cli-pipe")
    assert load_settings(path, {}, {}).rules == "from-file/"


def test_defaults_without_a_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = load_settings(None, {}, {})
    assert settings.rules == DEFAULT_RULES and settings.channels is None


def test_environment_references_are_substituted(tmp_path):
    path = _write(tmp_path, "db: postgresql+psycopg://u:${PW}@localhost/w\n")
    assert load_settings(path, {}, {"PW": "s3cret"}).db == "postgresql+psycopg://u:s3cret@localhost/w"
    with pytest.raises(ConfigError, match="PW is not set"):
        load_settings(path, {}, {})


def test_channel_names_are_known_for_rule_checks(tmp_path):
    path = _write(tmp_path, "channels:\n  ops-email:\n    urls: ['json://localhost']\n")
    assert load_settings(path, {}, {}).channels == ("ops-email",)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("rulez: x\n", "watcher.yaml:1:1: unknown key 'rulez'"),
        ("rules: a/\nrules: b/\n", "watcher.yaml:2:1: duplicate key 'rules' (first on line 1)"),
        ("rules: 2024\n", "watcher.yaml:1:1: 'rules' must be a string"),
        ("pipeline: [a]\n", "watcher.yaml:1:1: 'pipeline' must be a string"),
        ("channels: [a]\n", "watcher.yaml:1:1: 'channels' must be a mapping"),
        ("rules: [a\n", "watcher.yaml:2:1: invalid YAML"),
        ("- a\n", "watcher.yaml:1:1: the configuration must be a mapping"),
    ],
)
def test_bad_configuration_is_one_line_naming_the_key(tmp_path, text, message):
    with pytest.raises(ConfigError) as caught:
        load_settings(_write(tmp_path, text), {}, {})
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)
