"""deploy/install.sh on the live system path, inside a mount namespace that throws it away.

Run as ``unshare --mount --propagation private python tests/support/host_sandbox.py OUT VENV``:
it lays a writable overlay (on a tmpfs) over /etc, /opt, /usr/local and /var, so the real
useradd, usermod, userdel and `systemctl enable` run against what look like the host's
files while the host's own stay untouched; when the process ends the overlays go with it.
It installs (no --root), installs again, uninstalls with --purge, and writes what it saw
to OUT/report.json for the test to judge. Exit status 77: mounting was refused (no
privilege), with the reason on stderr.
"""

from __future__ import annotations

import grp
import json
import pwd
import subprocess
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.support.scratch_root import INSTALL, snapshot

OVERLAID = ("/etc", "/opt", "/usr/local", "/var")
SKIP = 77


def _mount(*args: str) -> None:
    result = subprocess.run(["mount", *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        print(f"mount {' '.join(args)}: {result.stderr.strip()}", file=sys.stderr)  # noqa: T201
        sys.exit(SKIP)


def _overlay(work: Path) -> None:
    work.mkdir(parents=True, exist_ok=True)
    _mount("-t", "tmpfs", "tmpfs", str(work))
    for directory in OVERLAID:
        name = directory.strip("/").replace("/", "_")
        upper, scratch = work / f"upper-{name}", work / f"work-{name}"
        upper.mkdir()
        scratch.mkdir()
        _mount(
            "-t",
            "overlay",
            "overlay",
            "-o",
            f"lowerdir={directory},upperdir={upper},workdir={scratch}",
            directory,
        )


def _run(*args: str) -> dict[str, Any]:
    result = subprocess.run(
        ["bash", str(INSTALL), *args], capture_output=True, text=True, check=False, timeout=120
    )
    return {"rc": result.returncode, "stdout": result.stdout, "stderr": result.stderr}


def _owner(path: str) -> list[Any]:
    info = Path(path).lstat()
    return [
        pwd.getpwuid(info.st_uid).pw_name,
        grp.getgrgid(info.st_gid).gr_name,
        oct(info.st_mode & 0o7777),
    ]


def _state() -> dict[str, Any]:
    """What the live system holds now: the whole of /etc and the listings install writes to."""
    return {
        "etc": {path: list(entry) for path, entry in snapshot(Path("/etc")).items()},
        "opt": sorted(p.name for p in Path("/opt").iterdir()),
        "usr_local_bin": sorted(p.name for p in Path("/usr/local/bin").iterdir()),
        "var_lib": sorted(p.name for p in Path("/var/lib").iterdir()),
    }


def _installed_facts() -> dict[str, Any]:
    user = pwd.getpwnam("fiscal")
    help_run = subprocess.run(
        ["/usr/local/bin/fiscal-agent", "--help"], capture_output=True, text=True, check=False
    )
    return {
        "user": [user.pw_uid, user.pw_dir, user.pw_shell, grp.getgrgid(user.pw_gid).gr_name],
        "dialout": grp.getgrnam("dialout").gr_mem,
        "config_dir": _owner("/etc/fiscal-agent"),
        "config": _owner("/etc/fiscal-agent/agent.toml"),
        "state_dir": _owner("/var/lib/fiscal-agent"),
        "wants": str(
            Path("/etc/systemd/system/multi-user.target.wants/fiscal-agent.service").readlink()
        ),
        "cli_help_rc": help_run.returncode,
    }


def main() -> None:
    """Overlay, install twice, purge, report."""
    out, venv = Path(sys.argv[1]), sys.argv[2]
    _overlay(out / "overlay")
    report: dict[str, Any] = {"before": _state()}
    report["install"] = _run("--venv-from", venv)
    report["facts"] = _installed_facts() if report["install"]["rc"] == 0 else None
    report["installed"] = _state()
    report["again"] = _run("--venv-from", venv)
    report["installed_again"] = _state()
    report["purge"] = _run("--uninstall", "--purge")
    report["after"] = _state()
    (out / "report.json").write_text(json.dumps(report))


if __name__ == "__main__":
    main()
