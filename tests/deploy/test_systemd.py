"""deploy/systemd: the unit's directives a deployer relies on, `systemd-analyze verify`
and its security score, and the install script's syntax and paths."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.deploy.files import DEPLOY, read_unit

UNIT = DEPLOY / "systemd/watcher.service"
WEB_UNIT = DEPLOY / "systemd/watcher-web.service"
INSTALL = DEPLOY / "systemd/install.sh"
VENV = "/opt/watcher/venv"
CONFIG = "/etc/watcher/watcher.yaml"


def service() -> dict[str, list[str]]:
    """[Service] key -> every value it was given, in order."""
    values: dict[str, list[str]] = {}
    for key, value in read_unit(UNIT)["Service"]:
        values.setdefault(key, []).append(value)
    return values


def one(key: str) -> str:
    given = service().get(key, [])
    assert len(given) == 1, f"{key}= given {len(given)} times"
    return given[0]


def test_runs_the_daemon_after_migrating() -> None:
    assert one("ExecStartPre") == f"{VENV}/bin/watcher --config {CONFIG} db upgrade"
    assert one("ExecStart") == f"{VENV}/bin/watcher --config {CONFIG} run"
    assert one("EnvironmentFile") == "/etc/watcher/watcher.env"


def test_runs_as_its_own_user_with_a_state_directory() -> None:
    assert one("User") == "watcher" and one("Group") == "watcher"
    assert "DynamicUser" not in service()
    assert one("StateDirectory") == "watcher"
    assert one("WorkingDirectory") == "/var/lib/watcher"
    assert one("ReadWritePaths") == "/var/lib/watcher"


def test_stops_gracefully_and_restarts_on_failure() -> None:
    assert one("KillSignal") == "SIGTERM"
    # notify.timeout (30s by default) bounds a send in flight; leave room beyond it.
    assert one("TimeoutStopSec").removesuffix("s").isdigit()
    assert int(one("TimeoutStopSec").removesuffix("s")) >= 60
    assert one("Restart") == "on-failure"
    assert one("RestartSec")


@pytest.mark.parametrize(("key", "value"), [
    ("ProtectSystem", "strict"),
    ("ProtectHome", "yes"),
    ("PrivateTmp", "yes"),
    ("NoNewPrivileges", "yes"),
    ("CapabilityBoundingSet", ""),
    ("RestrictAddressFamilies", "AF_INET AF_INET6 AF_UNIX"),
])
def test_hardening(key: str, value: str) -> None:
    assert one(key) == value


def test_system_calls_limited_to_a_system_service() -> None:
    assert service()["SystemCallFilter"][0] == "@system-service"


def _verifiable_copy(tmp_path: Path, unit: Path = UNIT) -> Path:
    """The unit with /opt/watcher/venv pointing at this venv: verify checks that
    ExecStart's binary exists, and this one does."""
    venv = str(Path(sys.executable).parent.parent)
    copy = tmp_path / unit.name
    copy.write_text(unit.read_text().replace(VENV, venv))
    return copy


def _analyze() -> str:
    found = shutil.which("systemd-analyze")
    if found is None:
        pytest.skip("systemd-analyze is not installed (apt-get install systemd)")
    return found


@pytest.mark.parametrize("unit", [UNIT, WEB_UNIT], ids=lambda unit: unit.name)
def test_systemd_analyze_verify_is_silent(tmp_path: Path, unit: Path) -> None:
    """verify exits 0 even for an unknown key; any output is a mistake in the unit."""
    result = subprocess.run([_analyze(), "verify", str(_verifiable_copy(tmp_path, unit))],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout + result.stderr == ""


@pytest.mark.parametrize("unit", [UNIT, WEB_UNIT], ids=lambda unit: unit.name)
def test_systemd_analyze_security_exposure_is_low(tmp_path: Path, unit: Path) -> None:
    """`systemd-analyze security` rates 0 (locked down) to 10; these units score 1.2."""
    result = subprocess.run(
        [_analyze(), "security", "--offline=yes", "--threshold=20", "--no-pager",
         str(_verifiable_copy(tmp_path, unit))], capture_output=True, text=True, timeout=60)
    if "--offline" in result.stderr:
        pytest.skip("this systemd-analyze has no --offline (systemd < 250)")
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr


def test_the_workspace_unit_serves_web_hardened_as_the_daemons() -> None:
    """The same hardening, user and secrets as the daemon's unit; only what it runs and
    what it says of itself differ."""
    web = dict(read_unit(WEB_UNIT)["Service"])
    assert web["ExecStart"] == f"{VENV}/bin/watcher --config {CONFIG} web"
    daemon_lines = [line for line in read_unit(UNIT)["Service"]
                    if line[0] not in ("ExecStart",)]
    web_lines = [line for line in read_unit(WEB_UNIT)["Service"] if line[0] != "ExecStart"]
    assert web_lines == daemon_lines


def test_install_script_parses_and_installs_what_the_unit_uses() -> None:
    subprocess.run(["bash", "-n", str(INSTALL)], check=True)
    script = INSTALL.read_text()
    for installed in ("$CONF/watcher.env", "$CONF/watcher.yaml", "$CONF/rules",
                      '"$PREFIX/venv"', "/etc/systemd/system/watcher.service", "[postgresql]",
                      "/etc/systemd/system/watcher-web.service"):
        assert installed in script
    # The secrets file is root's alone: systemd reads it before dropping privileges.
    assert 'install -m 0600 -o root -g root "$HERE/watcher.env.example" "$CONF/watcher.env"' \
        in script
