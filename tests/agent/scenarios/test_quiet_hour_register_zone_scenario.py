"""``shift.quiet_hour`` is the register's hour: a Moscow register behind an agent on a UTC host.

firmware-sim keeps Moscow time (UTC+3) and the agent says so (``[register] tz``); the agent's
process runs with ``TZ=UTC``. A quiet hour ten minutes ago on the register's clock rotates a
two-hour-old shift; the same wall time ten minutes ago on the host's clock does not.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from tests.support.processes import http, wait_until

if TYPE_CHECKING:
    from collections.abc import Callable

pytestmark = [pytest.mark.sim, pytest.mark.timeout(60)]

IDLE_CHECK_S = 0.3
HOST_IN_UTC = {"TZ": "UTC"}


def _start(
    start_sim: Any, start_agent: Any, quiet_hour: Callable[[datetime], str]
) -> tuple[Any, Any]:
    """A two-hour-old shift; the agent's quiet hour computed from the register's clock now."""
    sim = start_sim("--shift-age", str(2 * 3600))
    register_now = datetime.fromisoformat(sim.state()["clock"])
    assert register_now.utcoffset() == timedelta(hours=3)
    agent = start_agent(
        sim,
        settings={
            "shift": {"quiet_hour": quiet_hour(register_now)},
            "worker": {"idle_check_s": IDLE_CHECK_S},
        },
        env=HOST_IN_UTC,
    )
    return sim, agent


def _ten_minutes_before(clock: datetime) -> str:
    return (clock - timedelta(minutes=10)).strftime("%H:%M")


def test_quiet_hour_on_the_register_clock_rotates_the_shift(
    start_sim: Any, start_agent: Any
) -> None:
    """The register passed its quiet hour since the shift opened: Z and a new shift."""
    sim, _ = _start(start_sim, start_agent, _ten_minutes_before)

    def rotated() -> bool:
        return [doc["type"] for doc in sim.tape()][-2:] == ["close_shift", "open_shift"]

    wait_until(rotated, timeout_s=10, what="the guard to rotate at the register's quiet hour")
    assert sim.state()["shift"]["number"] == 2


def test_quiet_hour_on_the_host_clock_is_not_the_register_quiet_hour(
    start_sim: Any, start_agent: Any
) -> None:
    """Ten minutes past the hour on the UTC host is 02:50 earlier on the register: no rotation."""
    sim, agent = _start(
        start_sim, start_agent, lambda register: _ten_minutes_before(register.astimezone(UTC))
    )
    wait_until(
        lambda: http("GET", f"{agent.base}/health")[1]["shift"].get("number") == 1,
        timeout_s=10,
        what="the agent's first look at the shift",
    )
    commands = sim.state()["link"]["commands"]
    wait_until(
        lambda: sim.state()["link"]["commands"] > commands + 20,
        timeout_s=10,
        what="several idle checks",
    )
    assert [doc["type"] for doc in sim.tape()] == ["registration", "open_shift"]
