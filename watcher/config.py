"""Settings from watcher.yaml and WATCHER_* variables, validated once and passed down.

The command line wins over the environment, which wins over the file, which wins over
the defaults. `${NAME}` in a string is replaced by that environment variable.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from watcher.errors import ConfigError

DEFAULT_CONFIG = "watcher.yaml"
DEFAULT_DB = "sqlite:///watcher.db"
DEFAULT_RULES = "rules/"
DEFAULT_PIPELINE = "blank:en"
KNOWN_KEYS = ("db", "rules", "pipeline", "sources", "channels", "http")
STRING_KEYS = ("db", "rules", "pipeline")
STRING_TAG = "tag:yaml.org,2002:str"
ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class Settings:
    """The settings every command reads. `channels` holds only the channel names (for
    checking rules' `notify:`); the notifications issue gives channels their settings."""

    db: str = DEFAULT_DB
    rules: str = DEFAULT_RULES
    pipeline: str = DEFAULT_PIPELINE
    channels: tuple[str, ...] | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False)


def load_settings(
    config_path: str | None, overrides: Mapping[str, str | None], env: Mapping[str, str]
) -> Settings:
    """Settings from the file (explicit, or ./watcher.yaml when present), env and overrides.

    `overrides` are command-line values (None when not given); `env` is os.environ.
    """
    path = config_path or env.get("WATCHER_CONFIG")
    if path is None and Path(DEFAULT_CONFIG).is_file():
        path = DEFAULT_CONFIG
    values = _read_file(path, env) if path else {}
    merged: dict[str, Any] = dict(values)
    for key in STRING_KEYS:
        from_env = env.get(f"WATCHER_{key.upper()}")
        chosen = overrides.get(key) or from_env or values.get(key)
        if chosen is not None:
            merged[key] = chosen
    channels = merged.get("channels")
    return Settings(
        db=merged.get("db", DEFAULT_DB),
        rules=merged.get("rules", DEFAULT_RULES),
        pipeline=merged.get("pipeline", DEFAULT_PIPELINE),
        channels=tuple(channels) if isinstance(channels, dict) else None,
        raw=merged,
    )


def _read_file(path: str, env: Mapping[str, str]) -> dict[str, Any]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot read configuration: {error}") from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else path
        raise ConfigError(f"{where}: invalid YAML: {getattr(error, 'problem', error)}") from None
    if node is None:
        return {}
    if not isinstance(node, yaml.MappingNode):
        raise ConfigError(f"{path}:1:1: the configuration must be a mapping of settings")
    _check_keys(path, node)
    values = yaml.safe_load(text) or {}
    return {key: _substitute(value, env, path, key) for key, value in values.items()}


def _check_keys(path: str, node: yaml.MappingNode) -> None:
    seen: dict[str, int] = {}
    for key_node, value_node in node.value:
        key = key_node.value
        line = key_node.start_mark.line + 1
        where = f"{path}:{line}:{key_node.start_mark.column + 1}"
        if key not in KNOWN_KEYS:
            raise ConfigError(f"{where}: unknown key {key!r} (known: {', '.join(KNOWN_KEYS)})")
        if key in seen:
            raise ConfigError(f"{where}: duplicate key {key!r} (first on line {seen[key]})")
        seen[key] = line
        if key in STRING_KEYS and value_node.tag != STRING_TAG:
            raise ConfigError(f"{where}: {key!r} must be a string")
        if key == "channels" and not isinstance(value_node, yaml.MappingNode):
            raise ConfigError(f"{where}: 'channels' must be a mapping of channel names")


def _substitute(value: Any, env: Mapping[str, str], path: str, key: str) -> Any:
    """Replace ${NAME} in every string, so secrets can stay in the environment."""
    if isinstance(value, str):

        def lookup(found: re.Match[str]) -> str:
            name = found.group(1)
            if name not in env:
                raise ConfigError(f"{path}: {key}: environment variable {name} is not set")
            return env[name]

        return ENV_REFERENCE.sub(lookup, value)
    if isinstance(value, list):
        return [_substitute(v, env, path, key) for v in value]
    if isinstance(value, dict):
        return {k: _substitute(v, env, path, key) for k, v in value.items()}
    return value


def environment() -> Mapping[str, str]:
    """The process environment; a function so callers pass it in explicitly."""
    return os.environ
