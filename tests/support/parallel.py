"""How the suite runs on several pytest-xdist workers (``make test``: ``pytest -n 3``).

Only a run with workers is touched; a plain ``pytest`` runs as it always did. Two rules:

- **The heaviest never run together.** The files in ``HEAVY`` each keep a core busy for a
  minute or more (hundreds of receipts through real processes, Mosquitto restarts under
  load, SIGKILL storms): two of them side by side on 2 cores would starve each other's
  timed waits. They form two groups (``HEAVY_GROUPS``: the CPU-bound storms, and the MQTT
  runs that mostly wait on a broker); a worker runs a group test after test while the others
  take the rest. A file in ``MODULE_GROUPS`` has a ``scope="module"`` fixture that starts
  something costly: it is a group of its own, so its tests share one start.
- **The longest start first.** Groups are handed out first (the largest first), then the
  single tests in collection order; each worker sorts its collection the same way, ``slow``
  and ``e2e`` first, then the other real-process tests (``sim``, ``broker``), then the
  in-process ones, which fill the gaps at the end instead of a long scenario running alone.

The groups are made here by a scheduler (xdist's ``--dist loadscope`` with these groups as
its scopes) rather than with ``xdist_group`` marks: ``--dist loadgroup`` renames a test's
node id to carry its group, which pytest 9.2 no longer allows (the marks are ignored).
"""

from __future__ import annotations

import os
from typing import Any

import pytest

__all__ = ["HEAVY", "HEAVY_GROUPS", "MODULE_GROUPS", "group_of", "start_rank"]

HEAVY_GROUPS: dict[str, tuple[str, ...]] = {
    # SIGKILL storms: agent processes restarted hundreds of times (CPU-bound start-ups).
    "heavy-storms": (
        "tests/agent/scenarios/test_kill_storm.py",
        "tests/agent/scenarios/test_kill_storm_late.py",
        "tests/agent/scenarios/test_kill_storm_atol.py",
        "tests/agent/scenarios/test_kill_storm_smartone.py",
    ),
    # Hundreds of payments through a real broker, restarted under load (mostly waiting).
    "heavy-mqtt": (
        "tests/agent/scenarios/test_mqtt_payments_scenario.py",
        "tests/agent/scenarios/test_mqtt_outage_scenario.py",
        "tests/agent/scenarios/test_mqtt_bad_input_scenario.py",
        "tests/e2e/test_cloud_reconciles_mqtt_payments.py",
    ),
}
"""Files whose tests run one at a time on one worker, group by group.

Two groups, not one: a single serial group of all seven was the suite's long pole (about
eight of its nine minutes on 2 cores). The storms are CPU-bound and the MQTT runs mostly
wait on the broker, so one of each side by side does not starve the other's timed waits.
"""
HEAVY = tuple(path for paths in HEAVY_GROUPS.values() for path in paths)
"""Every heavy file, whichever group it is in."""

MODULE_GROUPS = (
    "tests/deploy/test_install_host_mode.py",
    "tests/deploy/test_units_verify.py",
    "tests/deploy/test_mosquitto_acl.py",
    "tests/conformance/test_conformance_receipts.py",
    "tests/conformance/test_conformance_shifts.py",
    "tests/agent/outbox/test_worker_on_each_protocol.py",
)
"""Files with a costly ``scope="module"`` fixture: each file is a group of its own."""

WORKER_ENV = "PYTEST_XDIST_WORKER"


def group_of(nodeid: str) -> str | None:
    """The group a test belongs to, or None for a test the scheduler hands out on its own."""
    path = nodeid.split("::", 1)[0]
    for group, paths in HEAVY_GROUPS.items():
        if path in paths:
            return group
    if path in MODULE_GROUPS:
        return path
    return None


def start_rank(item: pytest.Item) -> int:
    """0 for the long scenarios, 1 for other real-process tests, 2 for the in-process rest."""
    if item.get_closest_marker("slow") or item.get_closest_marker("e2e"):
        return 0
    if item.get_closest_marker("sim") or item.get_closest_marker("broker"):
        return 1
    return 2


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """On a worker: the long tests first (a stable sort, the same on every worker)."""
    if os.environ.get(WORKER_ENV):
        items.sort(key=start_rank)


@pytest.hookimpl(optionalhook=True)  # a hook of pytest-xdist: absent under -p no:xdist
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``--dist load`` (what ``-n`` implies) and ``loadgroup`` hand out by the groups above."""
    if config.getvalue("dist") not in {"load", "loadgroup"}:
        return None
    from xdist.scheduler import LoadScopeScheduling  # noqa: PLC0415 - only with xdist

    class GroupScheduling(LoadScopeScheduling):
        """Scopes are the groups; every other test is a scope of its own."""

        def _split_scope(self, nodeid: str) -> str:
            return group_of(nodeid) or nodeid

    return GroupScheduling(config, log)
