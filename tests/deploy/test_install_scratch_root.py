"""deploy/install.sh into a scratch root: what it makes, twice the same, and gone again.

``--root`` writes the user to the root's etc/passwd and etc/group and enables the unit with
the symlink `systemctl enable` makes; ``--venv-from`` links the tests' own venv instead of
building one (tests/deploy/test_install_real_venv.py builds a real one).
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from agent.config import load_config
from tests.support.scratch_root import (
    INSTALL,
    REPO,
    STANDARD_DIRS,
    install,
    make_root,
    snapshot,
    venv_of_this_checkout,
)

pytestmark = pytest.mark.timeout(120)

VENV = venv_of_this_checkout()
IS_ROOT = os.geteuid() == 0


def _installed(tmp_path: Path) -> Path:
    root = make_root(tmp_path / "root")
    install(root, "--venv-from", str(VENV))
    return root


def _user_line(root: Path, file: str, name: str) -> list[str]:
    lines = (root / "etc" / file).read_text().splitlines()
    return next(line.split(":") for line in lines if line.startswith(f"{name}:"))


def test_install_makes_the_user_venv_config_state_unit_and_udev_rule(tmp_path: Path) -> None:
    """Every piece is where the unit and the README say, with the owner and mode it needs."""
    root = _installed(tmp_path)

    user = _user_line(root, "passwd", "fiscal")
    uid, gid = int(user[2]), int(user[3])
    assert 100 <= uid <= 999
    assert user[5:] == ["/var/lib/fiscal-agent", "/usr/sbin/nologin"]
    assert _user_line(root, "group", "fiscal")[2] == str(gid)
    assert _user_line(root, "group", "dialout")[3] == "pi,fiscal"

    venv = root / "opt/fiscal-edge/.venv"
    assert venv.is_symlink()
    assert venv.readlink() == VENV
    link = root / "usr/local/bin/fiscal-agent"
    assert str(link.readlink()) == "/opt/fiscal-edge/.venv/bin/fiscal-agent"
    assert (root / "opt/fiscal-edge/README.md").read_bytes() == (REPO / "README.md").read_bytes()

    unit = root / "etc/systemd/system/fiscal-agent.service"
    assert unit.read_bytes() == (REPO / "deploy/systemd/fiscal-agent.service").read_bytes()
    wants = root / "etc/systemd/system/multi-user.target.wants/fiscal-agent.service"
    assert str(wants.readlink()) == "/etc/systemd/system/fiscal-agent.service"
    rule = root / "etc/udev/rules.d/99-fiscal-register.rules"
    assert rule.read_bytes() == (REPO / "deploy/udev/99-fiscal-register.rules").read_bytes()
    assert stat.S_IMODE(unit.stat().st_mode) == stat.S_IMODE(rule.stat().st_mode) == 0o644

    config_dir = root / "etc/fiscal-agent"
    config = config_dir / "agent.toml"
    state = root / "var/lib/fiscal-agent"
    assert stat.S_IMODE(config_dir.stat().st_mode) == 0o750
    assert stat.S_IMODE(config.stat().st_mode) == 0o640  # it may hold the broker's password
    assert stat.S_IMODE(state.stat().st_mode) == 0o750
    if IS_ROOT:
        assert (config_dir.stat().st_uid, config_dir.stat().st_gid) == (0, gid)
        assert (config.stat().st_uid, config.stat().st_gid) == (0, gid)
        assert (state.stat().st_uid, state.stat().st_gid) == (uid, gid)


def test_installed_config_is_the_example_with_the_register_at_its_stable_name(
    tmp_path: Path,
) -> None:
    """agent.toml loads as it is, and its register is the udev rule's /dev/fiscal-register."""
    root = _installed(tmp_path)
    config = load_config(root / "etc/fiscal-agent/agent.toml", {})
    example = load_config(REPO / "examples/agent.toml", {})
    assert config.register.url == "/dev/fiscal-register"
    assert config.model_dump(exclude={"register"}) == example.model_dump(exclude={"register"})
    assert config.register.model_dump(exclude={"url"}) == example.register.model_dump(
        exclude={"url"}
    )


@pytest.mark.skipif(shutil.which("systemctl") is None, reason="no systemctl on this machine")
def test_install_enables_the_unit_as_systemctl_enable_would(tmp_path: Path) -> None:
    """systemctl itself, offline on the scratch root, calls the unit enabled."""
    root = _installed(tmp_path)
    result = subprocess.run(
        ["systemctl", f"--root={root}", "is-enabled", "fiscal-agent.service"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.stdout.strip() == "enabled", result.stdout + result.stderr


def test_install_twice_changes_nothing_and_keeps_an_edited_config(tmp_path: Path) -> None:
    """A second run leaves the same tree; an admin's config is never overwritten."""
    root = _installed(tmp_path)
    first = snapshot(root)
    install(root, "--venv-from", str(VENV))
    assert snapshot(root) == first

    config = root / "etc/fiscal-agent/agent.toml"
    edited = config.read_text().replace('club = "club-1"', 'club = "club-7"')
    config.write_text(edited)
    result = install(root, "--venv-from", str(VENV))
    assert config.read_text() == edited
    assert "kept as it is" in result.stdout


def test_install_brings_back_a_piece_that_went_missing(tmp_path: Path) -> None:
    """Run again after a file was deleted by hand: it is there again, the rest untouched."""
    root = _installed(tmp_path)
    first = snapshot(root)
    (root / "etc/systemd/system/fiscal-agent.service").unlink()
    (root / "etc/systemd/system/multi-user.target.wants/fiscal-agent.service").unlink()
    install(root, "--venv-from", str(VENV))
    assert snapshot(root) == first


def test_uninstall_purge_leaves_the_root_as_it_was(tmp_path: Path) -> None:
    """--uninstall --purge: the same paths, modes, owners and contents as before the install."""
    root = make_root(tmp_path / "root")
    before = snapshot(root)
    install(root, "--venv-from", str(VENV))
    (root / "var/lib/fiscal-agent/agent.sqlite3").write_bytes(b"the outbox")
    install(root, "--uninstall", "--purge")
    assert snapshot(root) == before
    assert (VENV / "bin" / "fiscal-agent").exists()  # a --venv-from venv is never removed


def test_uninstall_keeps_the_outbox_its_user_and_an_edited_config(tmp_path: Path) -> None:
    """--uninstall: the state directory, the user owning it and the admin's edits stay."""
    root = make_root(tmp_path / "root")
    before = snapshot(root)
    install(root, "--venv-from", str(VENV))
    outbox = root / "var/lib/fiscal-agent/agent.sqlite3"
    outbox.write_bytes(b"the outbox")
    config = root / "etc/fiscal-agent/agent.toml"
    config.write_text(config.read_text().replace('agent = "desk-1"', 'agent = "desk-2"'))

    result = install(root, "--uninstall")
    left = set(snapshot(root)) - set(before)
    assert left == {
        "etc/fiscal-agent",
        "etc/fiscal-agent/agent.toml",
        "var/lib/fiscal-agent",
        "var/lib/fiscal-agent/agent.sqlite3",
    }
    assert outbox.read_bytes() == b"the outbox"
    assert 'agent = "desk-2"' in config.read_text()
    assert _user_line(root, "passwd", "fiscal")
    assert "kept /etc/fiscal-agent/agent.toml" in result.stdout

    install(root, "--uninstall", "--purge")
    assert snapshot(root) == before


def test_uninstall_removes_a_config_nobody_edited(tmp_path: Path) -> None:
    """The config as install wrote it holds nothing of the admin's: uninstall removes it."""
    root = make_root(tmp_path / "root")
    before = snapshot(root)
    install(root, "--venv-from", str(VENV))
    install(root, "--uninstall")
    assert set(snapshot(root)) - set(before) == {"var/lib/fiscal-agent"}


def test_install_into_a_bare_root_makes_the_standard_directories_and_leaves_them(
    tmp_path: Path,
) -> None:
    """A root with only etc/passwd and etc/group: after a purge only standard, empty dirs stay."""
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc/passwd").write_text("root:x:0:0:root:/root:/bin/bash\n")
    (root / "etc/group").write_text("root:x:0:\ndialout:x:20:\n")
    before = snapshot(root)
    install(root, "--venv-from", str(VENV))
    install(root, "--uninstall", "--purge")
    after = snapshot(root)
    standard = {
        "/".join(parts[:i])
        for parts in (directory.split("/") for directory in STANDARD_DIRS)
        for i in range(1, len(parts) + 1)
    }
    assert {path: after.get(path) for path in before} == before
    new = set(after) - set(before)
    assert new <= standard
    assert {after[path][0] for path in new} == {"dir"}


def test_install_from_a_venv_then_building_one_replaces_only_the_link(tmp_path: Path) -> None:
    """A reinstall with another --venv-from repoints the link; the old target is untouched."""
    root = _installed(tmp_path)
    other = tmp_path / "other-venv"
    (other / "bin").mkdir(parents=True)
    script = other / "bin" / "fiscal-agent"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    install(root, "--venv-from", str(other))
    assert (root / "opt/fiscal-edge/.venv").readlink() == other
    assert (VENV / "bin" / "fiscal-agent").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--purge"], "--purge goes with --uninstall"),
        (["--bogus"], "unknown argument: --bogus"),
        (["--venv-from", "/nonexistent"], "/nonexistent/bin/fiscal-agent is not there"),
    ],
)
def test_install_refuses_bad_arguments(tmp_path: Path, args: list[str], message: str) -> None:
    """A wrong argument stops it before it changes anything, saying what is wrong."""
    root = make_root(tmp_path / "root")
    before = snapshot(root)
    result = install(root, *args, check=False)
    assert result.returncode != 0
    assert message in result.stderr
    assert snapshot(root) == before


def test_install_refuses_a_root_without_a_dialout_group(tmp_path: Path) -> None:
    """The serial port's group must exist: no half-made user in a root without it."""
    root = make_root(tmp_path / "root")
    (root / "etc/group").write_text("root:x:0:\n")
    before = snapshot(root)
    result = install(root, "--venv-from", str(VENV), check=False)
    assert result.returncode != 0
    assert "no dialout group" in result.stderr
    assert snapshot(root) == before


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck is not installed")
def test_install_script_is_shellcheck_clean() -> None:
    """shellcheck finds nothing in deploy/install.sh."""
    result = subprocess.run(
        ["shellcheck", "--shell=bash", str(INSTALL)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout
