"""What every deployment under deploy/ shares: its YAML parses, its watcher.yaml loads
with watcher's own loader given only the variables its secrets example defines, and the
migration command it runs works against a real database."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.deploy.files import DEPLOY, REPO, read_env_file
from watcher.config.settings import Settings, load_settings
from watcher.rules.load import load_rules
from watcher.store.repo import Store

# Each deployment's watcher.yaml and the file that carries its secrets (None: needs none).
CONFIGS = {
    "systemd": (DEPLOY / "systemd/watcher.yaml", DEPLOY / "systemd/watcher.env.example"),
    "compose": (DEPLOY / "docker/watcher.yaml", DEPLOY / "docker/env.example"),
    "image": (DEPLOY / "docker/watcher.image.yaml", None),
    "kubernetes": (DEPLOY / "kubernetes/watcher.yaml", DEPLOY / "kubernetes/secrets.env.example"),
}
CONTAINER_CONFIGS = ("compose", "image", "kubernetes")
WATCHER = str(Path(sys.executable).parent / "watcher")


def deploy_settings(name: str) -> Settings:
    config, secrets = CONFIGS[name]
    env = read_env_file(secrets) if secrets else {}
    return load_settings(str(config), {}, env)


@pytest.mark.parametrize("path", sorted(DEPLOY.rglob("*.y*ml")), ids=lambda p: str(p.name))
def test_every_yaml_file_parses(path: Path) -> None:
    documents = [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]
    assert documents, f"{path} is empty"


@pytest.mark.parametrize("name", CONFIGS)
def test_config_loads_with_only_its_example_secrets(name: str) -> None:
    """The key check: watcher's loader, which rejects unknown keys and unset ${NAME},
    accepts the config with exactly the variables the deployment provides."""
    settings = deploy_settings(name)
    assert settings.rules == "/etc/watcher/rules"
    assert settings.http is not None and settings.http.port == 9464


@pytest.mark.parametrize("name", [n for n, (_, secrets) in CONFIGS.items() if secrets])
def test_every_example_secret_is_used_by_its_config(name: str) -> None:
    """A secret the config never names is a sign the two drifted apart."""
    config, secrets = CONFIGS[name]
    used = set(re.findall(r"\$\{(\w+)\}", config.read_text()))
    assert set(read_env_file(secrets)) <= used


@pytest.mark.parametrize("name", CONTAINER_CONFIGS)
def test_containers_serve_health_on_every_interface(name: str) -> None:
    """Probes, HEALTHCHECK and Prometheus reach the container from outside its loopback."""
    settings = deploy_settings(name)
    assert settings.http is not None and settings.http.host == "0.0.0.0"


def test_systemd_health_stays_on_the_host() -> None:
    settings = deploy_settings("systemd")
    assert settings.http is not None and settings.http.host == "127.0.0.1"


@pytest.mark.parametrize("name", ["systemd", "compose", "kubernetes"])
def test_workers_share_postgresql(name: str) -> None:
    """Several workers per database need PostgreSQL with the driver the image installs."""
    assert deploy_settings(name).db.startswith("postgresql+psycopg://watcher:")


@pytest.mark.parametrize("name", CONFIGS)
def test_shipped_rules_load_with_the_configured_channels(name: str) -> None:
    """Every channel a rule's `notify:` names must exist in the deployment's config."""
    settings = deploy_settings(name)
    assert len(load_rules(REPO / "rules", channels=settings.channel_names).rules) > 0


def _migrate(config: Path, db: str, secrets: Path | None) -> subprocess.Popen[str]:
    env = {"PATH": "/usr/bin:/bin", "WATCHER_DB": db}
    env |= read_env_file(secrets) if secrets else {}
    return subprocess.Popen([WATCHER, "--config", str(config), "db", "upgrade"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


@pytest.mark.parametrize("name", CONFIGS)
def test_migrate_runs_with_the_deploy_config(name: str, tmp_path: Path) -> None:
    """`watcher db upgrade` (ExecStartPre, the compose job, the init container) starts
    from the deploy config, the example secrets and WATCHER_DB."""
    config, secrets = CONFIGS[name]
    process = _migrate(config, f"sqlite:///{tmp_path / 'watcher.db'}", secrets)
    output, _ = process.communicate(timeout=120)
    assert process.returncode == 0, output
    assert "database at revision" in output


def test_two_workers_migrating_at_once_both_succeed(postgres_url: str) -> None:
    """Every pod runs the migrate init container: two starting together must take turns
    on the advisory lock, not fail on each other's tables."""
    with Store.open(postgres_url) as store:
        store.downgrade("base")
    config, secrets = CONFIGS["kubernetes"]
    try:
        processes = [_migrate(config, postgres_url, secrets) for _ in range(2)]
        outputs = [process.communicate(timeout=120)[0] for process in processes]
        assert [process.returncode for process in processes] == [0, 0], outputs
        with Store.open(postgres_url) as store:
            assert store.current_revision() is not None
    finally:
        with Store.open(postgres_url) as store:
            store.downgrade("base")
