"""The repository stands on its own: no tracked file points at notes outside it.

Code, docs, tests and configs cite the repository's own docs/ (docs/contract.md,
docs/design.md, ...). A path into a sibling directory of the checkout means nothing to a
reader of a clone, so any tracked file naming one fails here, with the file and line.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
THIS = Path(__file__).resolve().relative_to(REPO).as_posix()
# Spelled in pieces, so that a search of the repository for them finds only real citations.
OUTSIDE = ("../" + "shared", "/work/" + "shared")


def _tracked() -> list[str]:
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z"],
            cwd=REPO,
            capture_output=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"not a git checkout ({exc}): nothing tracked to check")
    return [name for name in listed.stdout.decode().split("\0") if name]


def citations(text: str) -> list[tuple[int, str]]:
    """(line number, line) of every line naming a path outside the repository."""
    return [
        (number, line.strip())
        for number, line in enumerate(text.splitlines(), start=1)
        if any(needle in line for needle in OUTSIDE)
    ]


def test_no_tracked_file_cites_a_path_outside_the_repository() -> None:
    tracked = _tracked()
    assert tracked, "git lists no files"
    found: list[str] = []
    for name in tracked:
        path = REPO / name
        if name == THIS or not path.is_file():
            continue
        text = path.read_bytes().decode("utf-8", errors="replace")
        found.extend(f"{name}:{number}: {line}" for number, line in citations(text))
    assert not found, "cite docs/ inside the repository instead:\n" + "\n".join(found)


def test_the_check_sees_both_spellings() -> None:
    """Not vacuous: each spelling is caught, a plain docs/ citation is not."""
    text = f"see docs/contract.md\nsee {OUTSIDE[0]}/notes.md\nread {OUTSIDE[1]}/x.md\n"
    assert [number for number, _ in citations(text)] == [2, 3]
