"""deploy/install.sh building its venv for real: pip installs this checkout, not editable.

Slow (about 20 s: a venv and the agent's dependencies, from pip's cache or its index), so
the other install tests link the tests' own venv with --venv-from instead. pip builds the
source tree it is given in place (a build/ directory, an egg-info), so the test hands
install.sh a copy of the checkout in its tmp_path with --source, and the checkout stays
as it was.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.scratch_root import REPO, install, make_root, snapshot

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

PIP_INSTALL_S = 300
"""One install.sh run that builds the venv with pip: about 20 s alone, minutes on a busy host."""


NOT_SOURCE = shutil.ignore_patterns(
    ".git",
    ".venv",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
    ".*_cache",
    ".hypothesis",
    "demo-state",
)
"""What a checkout holds beside its source: venvs, build output and caches."""


def _copy_of_the_checkout(into: Path) -> Path:
    """The checkout's source tree, copied: pip may build in it."""
    return Path(shutil.copytree(REPO, into, ignore=NOT_SOURCE, symlinks=True))


def _outside_the_venv(root: Path) -> dict[str, tuple[str, int, int, int, str]]:
    return {
        path: entry
        for path, entry in snapshot(root).items()
        if not path.startswith("opt/fiscal-edge/.venv")
    }


def test_install_builds_a_venv_that_runs_the_agent_and_purge_removes_it(tmp_path: Path) -> None:
    """The venv's fiscal-agent runs from its own copy of the code; a purge leaves no trace."""
    source = _copy_of_the_checkout(tmp_path / "source")
    root = make_root(tmp_path / "root")
    before = snapshot(root)
    install(root, "--python", sys.executable, "--source", str(source), timeout_s=PIP_INSTALL_S)
    venv = root / "opt/fiscal-edge/.venv"
    assert not venv.is_symlink()

    help_run = subprocess.run(
        [str(venv / "bin/fiscal-agent"), "--help"], capture_output=True, text=True, check=False
    )
    assert help_run.returncode == 0, help_run.stderr
    assert "run" in help_run.stdout
    located = subprocess.run(
        [str(venv / "bin/python"), "-c", "import agent.app, cloud; print(agent.app.__file__)"],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    )
    assert Path(located.stdout.strip()).is_relative_to(venv)  # a copy, not the checkout

    first = _outside_the_venv(root)
    install(
        root, "--python", sys.executable, "--source", str(source)
    )  # an upgrade: pip runs again, the rest is as it was
    assert _outside_the_venv(root) == first

    install(root, "--uninstall", "--purge")
    assert snapshot(root) == before
