"""Scratch roots for deploy/install.sh: a skeleton that looks like a system, and snapshots.

A snapshot records every path under a root with its type, mode, owner and content (the
target of a symlink), so "the same tree" and "no stray files" are whole-tree comparisons.
"""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
import sys
from pathlib import Path

__all__ = [
    "INSTALL",
    "REPO",
    "STANDARD_DIRS",
    "install",
    "make_root",
    "snapshot",
    "venv_of_this_checkout",
]

REPO = Path(__file__).resolve().parents[2]
INSTALL = REPO / "deploy" / "install.sh"

STANDARD_DIRS = (
    "etc/systemd/system/multi-user.target.wants",
    "etc/udev/rules.d",
    "opt",
    "usr/local/bin",
    "var/lib",
)
"""Directories every Debian has: the skeleton has them, and uninstall leaves them."""

PASSWD = "root:x:0:0:root:/root:/bin/bash\npi:x:1000:1000:,,,:/home/pi:/bin/bash\n"  # noqa: S105 - etc/passwd, no password
GROUP = "root:x:0:\ndialout:x:20:pi\npi:x:1000:\n"


def make_root(root: Path) -> Path:
    """A scratch root with etc/passwd, etc/group (dialout with a member) and STANDARD_DIRS."""
    (root / "etc").mkdir(parents=True, exist_ok=True)
    (root / "etc" / "passwd").write_text(PASSWD)
    (root / "etc" / "group").write_text(GROUP)
    for directory in STANDARD_DIRS:
        (root / directory).mkdir(parents=True, exist_ok=True)
    return root


def venv_of_this_checkout() -> Path:
    """The venv the tests run in: it has fiscal-edge installed (``--venv-from``)."""
    return Path(sys.prefix)


def install(
    root: Path, *args: str, check: bool = True, timeout_s: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run deploy/install.sh --root ROOT ARGS; raises with its output when it fails.

    ``timeout_s`` guards against a hang; a run that builds a venv with pip needs more.
    """
    result = subprocess.run(
        ["bash", str(INSTALL), "--root", str(root), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout_s,
    )
    if check and result.returncode != 0:
        msg = f"install.sh {' '.join(args)} exited {result.returncode}:\n{result.stdout}{result.stderr}"
        raise AssertionError(msg)
    return result


Entry = tuple[str, int, int, int, str]
"""(type, permission bits, uid, gid, sha256 of the content or the symlink's target)."""


def snapshot(root: Path) -> dict[str, Entry]:
    """Every path under ``root`` (relative), without following symlinks."""
    entries: dict[str, Entry] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in [*dirnames, *filenames]:
            path = Path(dirpath) / name
            info = path.lstat()
            if stat.S_ISLNK(info.st_mode):
                kind, content = "link", str(path.readlink())
            elif stat.S_ISDIR(info.st_mode):
                kind, content = "dir", ""
            else:
                kind, content = "file", hashlib.sha256(path.read_bytes()).hexdigest()
            entries[path.relative_to(root).as_posix()] = (
                kind,
                stat.S_IMODE(info.st_mode),
                info.st_uid,
                info.st_gid,
                content,
            )
    return entries
