"""deploy/install.sh without --root: real useradd and systemctl, on overlays that vanish.

tests/support/host_sandbox.py runs the installer in a private mount namespace with
throw-away overlays over /etc, /opt, /usr/local and /var, so the live path (the one
`sudo deploy/install.sh` takes on a Pi) runs for real while this machine stays untouched.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from typing import Any

import pytest

from tests.support.scratch_root import REPO, STANDARD_DIRS, venv_of_this_checkout

pytestmark = [
    pytest.mark.timeout(180),
    pytest.mark.skipif(os.geteuid() != 0, reason="mount namespaces and useradd need root"),
    pytest.mark.skipif(shutil.which("unshare") is None, reason="unshare is not installed"),
]

SHADOW_BACKUPS = {"passwd-", "group-", "shadow-", "gshadow-"}
"""useradd and userdel keep the previous passwd, group, shadow and gshadow as these."""
STANDARD_ETC_DIRS = {
    path.removeprefix("etc/")
    for directory in STANDARD_DIRS
    if directory.startswith("etc/")
    for path in ("/".join(directory.split("/")[:i]) for i in range(2, directory.count("/") + 2))
}
"""etc/udev, etc/udev/rules.d, etc/systemd, ...: the installer makes them where missing."""


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Install, install again, uninstall --purge on the live path; what each step saw."""
    out = tmp_path_factory.mktemp("host")
    result = subprocess.run(
        [
            "unshare",
            "--mount",
            "--propagation",
            "private",
            sys.executable,
            str(REPO / "tests/support/host_sandbox.py"),
            str(out),
            str(venv_of_this_checkout()),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=170,
    )
    if result.returncode == 77 or "unshare failed" in result.stderr:
        pytest.skip(f"no private mount namespace here: {result.stderr.strip()}")
    assert result.returncode == 0, result.stdout + result.stderr
    report: dict[str, Any] = json.loads((out / "report.json").read_text())
    return report


def test_host_install_creates_a_system_user_in_dialout_and_enables_the_unit(
    report: dict[str, Any],
) -> None:
    """useradd made fiscal a system user without login in dialout; systemctl enabled the unit."""
    assert report["install"]["rc"] == 0, report["install"]
    facts = report["facts"]
    uid, home, shell, group = facts["user"]
    assert uid < 1000
    assert (home, shell, group) == ("/var/lib/fiscal-agent", "/usr/sbin/nologin", "fiscal")
    assert "fiscal" in facts["dialout"]
    assert facts["config_dir"] == ["root", "fiscal", "0o750"]
    assert facts["config"] == ["root", "fiscal", "0o640"]
    assert facts["state_dir"] == ["fiscal", "fiscal", "0o750"]
    assert facts["wants"] == "/etc/systemd/system/fiscal-agent.service"
    assert facts["cli_help_rc"] == 0  # fiscal-agent is on the PATH of a person on site


def test_host_install_twice_changes_nothing(report: dict[str, Any]) -> None:
    """The second run exits 0 and leaves /etc and the other listings exactly as the first did."""
    assert report["again"]["rc"] == 0, report["again"]
    assert report["installed_again"] == report["installed"]


def test_host_uninstall_purge_leaves_the_system_as_before(report: dict[str, Any]) -> None:
    """After --uninstall --purge, /etc is as it was but for the shadow tools' own backups."""
    assert report["purge"]["rc"] == 0, report["purge"]
    before, after = report["before"], report["after"]
    for listing in ("opt", "usr_local_bin", "var_lib"):
        assert after[listing] == before[listing], listing
    changed = {
        path
        for path in set(before["etc"]) | set(after["etc"])
        if before["etc"].get(path) != after["etc"].get(path)
    }
    made = {path for path in changed if path not in before["etc"]}
    # A standard directory this machine lacked (no udev here, say) is made and stays.
    assert {path for path in made if after["etc"][path][0] == "dir"} <= STANDARD_ETC_DIRS
    assert changed - STANDARD_ETC_DIRS <= SHADOW_BACKUPS | {".pwd.lock"}, sorted(changed)
    for name in ("passwd", "group", "shadow", "gshadow"):
        if name in before["etc"]:
            assert after["etc"][name] == before["etc"][name], name
