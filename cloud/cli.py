"""``fiscal-cloud``: the cloud reconciliation service (its own issue; not built yet)."""

from __future__ import annotations

import sys

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    """Say plainly that the cloud service is not part of this release yet."""
    del argv
    print(  # noqa: T201
        "fiscal-cloud: the reconciliation service is not part of this release yet; "
        "the agent runs fully on its own (see README.md)",
        file=sys.stderr,
    )
    return 2
