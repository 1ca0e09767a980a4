"""Deliberate crashes at named points, for the exactly-once tests only.

``FISCAL_EDGE_CRASH_POINTS="after_issue=0.1,after_mark_printing=0.05"`` makes the process
SIGKILL itself with that probability each time the worker passes the named point: the window
between "the register answered" and "the outbox stored it" is a few microseconds wide, and
a kill from outside would almost never land in it. Unset (as in production) it does nothing.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sys

__all__ = ["ENV_VAR", "crash_point"]

ENV_VAR = "FISCAL_EDGE_CRASH_POINTS"


def _parse(spec: str) -> dict[str, float]:
    points: dict[str, float] = {}
    for part in spec.split(","):
        name, _, probability = part.strip().partition("=")
        if name:
            points[name] = float(probability or "1")
    return points


_POINTS = _parse(os.environ.get(ENV_VAR, ""))


def crash_point(name: str) -> None:
    """SIGKILL this process with the configured probability at ``name``.

    One JSON line on stderr names the point first, so a test can count each point's kills.
    """
    probability = _POINTS.get(name)
    if probability and random.random() < probability:  # noqa: S311 - not cryptographic
        sys.stderr.write(json.dumps({"event": "crash_point", "point": name}) + "\n")
        sys.stderr.flush()
        os.kill(os.getpid(), signal.SIGKILL)
