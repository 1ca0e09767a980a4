"""The systemd units: systemd-analyze verify and security on an installed root, and their rules.

verify resolves ExecStart= inside the root, so the verify root (a copy of an installed
scratch root, plus the host's own units for the targets they name) gets real console
scripts at /opt/fiscal-edge/.venv/bin: the ones of the tests' venv, copied in.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.scratch_root import REPO, install, make_root, venv_of_this_checkout

SYSTEMD_ANALYZE = shutil.which("systemd-analyze")
HOST_UNITS = Path("/usr/lib/systemd/system")
UNITS = ("fiscal-agent.service", "fiscal-cloud.service")

pytestmark = [
    pytest.mark.timeout(120),
    pytest.mark.skipif(SYSTEMD_ANALYZE is None, reason="systemd-analyze is not installed"),
]


@pytest.fixture(scope="module")
def verify_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An installed scratch root with both units, the host's targets and the ExecStart scripts."""
    root = make_root(tmp_path_factory.mktemp("verify") / "root")
    install(root, "--venv-from", str(venv_of_this_checkout()))
    units = root / "etc/systemd/system"
    shutil.copy(REPO / "deploy/systemd/fiscal-cloud.service", units)
    if not (HOST_UNITS / "multi-user.target").exists():
        pytest.skip(f"no systemd units in {HOST_UNITS} for the targets the units name")
    shutil.copytree(HOST_UNITS, root / "usr/lib/systemd/system", symlinks=True)
    venv = root / "opt/fiscal-edge/.venv"
    venv.unlink()
    (venv / "bin").mkdir(parents=True)
    for script in ("fiscal-agent", "fiscal-cloud"):
        shutil.copy2(venv_of_this_checkout() / "bin" / script, venv / "bin" / script)
    return root


def _analyze(*args: str) -> subprocess.CompletedProcess[str]:
    assert SYSTEMD_ANALYZE is not None
    return subprocess.run(
        [SYSTEMD_ANALYZE, *args], capture_output=True, text=True, check=False, timeout=60
    )


@pytest.mark.parametrize("unit", UNITS)
def test_unit_passes_systemd_analyze_verify(verify_root: Path, unit: str) -> None:
    """verify --root: exit 0 and not one warning (an unknown key or a bad value is one)."""
    result = _analyze("verify", f"--root={verify_root}", unit)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_verify_would_catch_a_broken_unit(verify_root: Path, tmp_path: Path) -> None:
    """The check above can fail: a misspelt key and a missing binary are both reported."""
    root = tmp_path / "broken"
    shutil.copytree(verify_root, root, symlinks=True)
    unit = root / "etc/systemd/system/fiscal-agent.service"
    unit.write_text(unit.read_text().replace("WatchdogSec=", "WatchdogSecs="))
    (root / "opt/fiscal-edge/.venv/bin/fiscal-agent").unlink()
    result = _analyze("verify", f"--root={root}", "fiscal-agent.service")
    assert result.returncode != 0
    assert "Unknown key 'WatchdogSecs'" in result.stderr
    assert "fiscal-agent is not executable" in result.stderr


@pytest.mark.parametrize("unit", UNITS)
def test_unit_exposure_is_low(verify_root: Path, unit: str) -> None:
    """systemd-analyze security rates each unit's exposure 2.0 or less (of 10: "OK")."""
    result = _analyze("security", "--offline=yes", f"--root={verify_root}", "--threshold=20", unit)
    assert result.returncode == 0, result.stdout[-600:]


def _settings(unit: str) -> list[tuple[str, str, str]]:
    """(section, key, value) of every setting, in order; a key may repeat."""
    section = ""
    settings: list[tuple[str, str, str]] = []
    for raw in (REPO / "deploy/systemd" / unit).read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        settings.append((section, key, value))
    return settings


def _one(settings: list[tuple[str, str, str]], key: str) -> str:
    values = [value for _, name, value in settings if name == key]
    assert len(values) == 1, (key, values)
    return values[0]


def test_agent_unit_is_notify_with_watchdog_restarts_and_directories() -> None:
    """Type=notify from the main process, a watchdog, restarts that never give up on their own."""
    settings = _settings("fiscal-agent.service")
    assert _one(settings, "Type") == "notify"
    assert _one(settings, "NotifyAccess") == "main"
    assert _one(settings, "WatchdogSec") == "30"
    assert _one(settings, "Restart") == "always"
    assert _one(settings, "RestartPreventExitStatus") == "2"  # a config error waits for an edit
    assert _one(settings, "StateDirectory") == "fiscal-agent"
    assert _one(settings, "ConfigurationDirectory") == "fiscal-agent"
    assert _one(settings, "ExecStart") == (
        "/opt/fiscal-edge/.venv/bin/fiscal-agent run --config /etc/fiscal-agent/agent.toml"
    )
    # Restarts at RestartSec never reach the start limit: the agent is tried again forever.
    interval = int(_one(settings, "StartLimitIntervalSec"))
    burst = int(_one(settings, "StartLimitBurst"))
    assert burst > interval / int(_one(settings, "RestartSec"))
    assert ("Unit", "StartLimitIntervalSec", str(interval)) in settings


def test_agent_unit_allows_only_the_register_s_serial_devices() -> None:
    """DevicePolicy=closed, and the devices allowed are the register's name and serial classes."""
    settings = _settings("fiscal-agent.service")
    assert _one(settings, "DevicePolicy") == "closed"
    allowed = {value for _, key, value in settings if key == "DeviceAllow"}
    assert {"/dev/fiscal-register rw", "char-ttyACM rw", "char-ttyUSB rw"} <= allowed
    assert all(v.startswith(("/dev/fiscal-register", "char-tty", "char-pts")) for v in allowed)
    assert _one(settings, "User") == "fiscal"
    assert _one(settings, "SupplementaryGroups") == "dialout"


def test_cloud_unit_runs_the_cloud_with_its_own_user_and_no_restart_loop_on_exit_2() -> None:
    """The cloud's unit: its config path, a dynamic user, and exit 2 (not built yet) not retried."""
    settings = _settings("fiscal-cloud.service")
    assert _one(settings, "ExecStart") == (
        "/opt/fiscal-edge/.venv/bin/fiscal-cloud run --config /etc/fiscal-cloud/cloud.toml"
    )
    assert _one(settings, "DynamicUser") == "yes"
    assert _one(settings, "RestartPreventExitStatus") == "2"
    assert _one(settings, "PrivateDevices") == "yes"
    result = subprocess.run(
        [str(venv_of_this_checkout() / "bin/fiscal-cloud"), "run", "--config", "/nonexistent"],
        capture_output=True,
        check=False,
    )
    assert result.returncode == 2
