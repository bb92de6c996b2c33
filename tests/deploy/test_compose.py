"""deploy/docker/docker-compose.yml: valid against the compose-spec schema (shipped by
check-jsonschema), PostgreSQL up before a one-shot migration, then two workers, all
agreeing with the watcher.yaml they mount."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy.engine import make_url

from tests.deploy.files import DEPLOY, read_env_file
from watcher.config.settings import load_settings

COMPOSE = DEPLOY / "docker/docker-compose.yml"
HERE = COMPOSE.parent


def services() -> dict[str, dict[str, Any]]:
    return yaml.safe_load(COMPOSE.read_text())["services"]


def watcher_services() -> dict[str, dict[str, Any]]:
    return {name: s for name, s in services().items() if s.get("image", "").startswith("watcher")}


def test_valid_against_the_compose_spec_schema() -> None:
    pytest.importorskip("check_jsonschema", reason="pip install check-jsonschema")
    result = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec",
         str(COMPOSE)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_postgres_is_the_official_image_with_a_readiness_check_and_a_volume() -> None:
    postgres = services()["postgres"]
    assert postgres["image"].startswith("postgres:")
    assert postgres["healthcheck"]["test"][:2] == ["CMD", "pg_isready"]
    volume, _, target = postgres["volumes"][0].partition(":")
    assert volume in yaml.safe_load(COMPOSE.read_text())["volumes"]
    assert target == "/var/lib/postgresql/data"


def test_postgres_role_and_database_match_the_watcher_config() -> None:
    """The URL workers use names the compose service, user and database postgres creates."""
    environment = services()["postgres"]["environment"]
    settings = load_settings(str(HERE / "watcher.yaml"), {}, read_env_file(HERE / "env.example"))
    url = make_url(settings.db)
    assert url.host == "postgres" and url.username == environment["POSTGRES_USER"]
    assert url.database == environment["POSTGRES_DB"]
    assert environment["POSTGRES_PASSWORD"].startswith("${WATCHER_DB_PASSWORD")


def test_migration_runs_once_after_postgres_is_healthy() -> None:
    migrate = services()["migrate"]
    assert migrate["command"] == ["db", "upgrade"]
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert migrate["restart"] == "no"


def test_two_workers_start_after_the_migration() -> None:
    worker = services()["worker"]
    assert worker["command"] == ["run"]
    assert worker["deploy"]["replicas"] == 2
    assert worker["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert worker["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert "container_name" not in worker  # it would forbid a second replica


def test_workers_get_time_to_finish_the_article_in_hand() -> None:
    grace = services()["worker"]["stop_grace_period"]
    assert grace.endswith("s") and int(grace[:-1]) >= 60


def test_the_workspace_starts_after_the_migration_on_the_hosts_loopback_only() -> None:
    web = services()["web"]
    assert web["command"][0] == "web" and web["depends_on"]["migrate"]["condition"] == (
        "service_completed_successfully")
    assert web["ports"] == ["127.0.0.1:8080:8080"]
    assert "8080/signin" in " ".join(web["healthcheck"]["test"])  # not the workers' port
    assert web["read_only"] is True and web["cap_drop"] == ["ALL"]


@pytest.mark.parametrize("name", ["migrate", "worker", "web"])
def test_config_rules_and_secrets_reach_every_watcher_container(name: str) -> None:
    """Config at the image's WATCHER_CONFIG and rules at its `rules:`, read-only from
    files that exist; secrets from the env file env.example documents."""
    service = watcher_services()[name]
    mounts = {}
    for volume in service["volumes"]:
        source, target, mode = volume.split(":")
        assert mode == "ro" and (HERE / source).exists(), volume
        mounts[target] = (HERE / source).resolve()
    assert mounts["/etc/watcher/watcher.yaml"] == (HERE / "watcher.yaml").resolve()
    assert mounts["/etc/watcher/rules"] == (HERE / "../../rules").resolve()
    assert service["env_file"] == ".env" and (HERE / "env.example").exists()
    assert ".env" in (HERE / ".gitignore").read_text().split()


def test_workers_expose_the_health_port_and_run_locked_down() -> None:
    worker = services()["worker"]
    assert "9464" in worker["expose"]
    assert worker["read_only"] is True and worker["cap_drop"] == ["ALL"]
    assert "no-new-privileges:true" in worker["security_opt"]


def test_image_is_built_from_the_repository_dockerfile() -> None:
    build = watcher_services()["worker"]["build"]
    context = (HERE / build["context"]).resolve()
    assert (context / build["dockerfile"]).resolve() == (DEPLOY / "docker/Dockerfile").resolve()
    assert Path(context / ".dockerignore").exists()
