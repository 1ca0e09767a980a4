"""Two test modules may not share a file name: pytest imports them by basename (rootdir mode)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent


def test_every_test_module_has_a_name_of_its_own() -> None:
    """A second tests/**/test_x.py stops the whole suite at collection; catch it here by name."""
    names = Counter(path.name for path in ROOT.rglob("test_*.py"))
    clashes = {
        name: [str(p.relative_to(ROOT)) for p in ROOT.rglob(name)]
        for name, n in names.items()
        if n > 1
    }
    assert not clashes, f"rename one of each: {clashes}"
