"""The 24-hour shift guard against firmware-sim's own clock and lock, through the agent.

Every test runs on each protocol's simulator (the Shtrih wire, ATOL's web server): the guard
works on the register's clock and the driver interface only, so it must hold on both.
"""

from __future__ import annotations

import functools
import time
from typing import Any

import pytest

from tests.support.payloads import receipt
from tests.support.processes import PROTOCOLS, http, wait_until

pytestmark = [pytest.mark.sim, pytest.mark.timeout(60)]


@pytest.fixture(params=PROTOCOLS)
def start_sim_of(request: pytest.FixtureRequest, start_register: Any) -> Any:
    """Start a simulator of this run's protocol: ``start_sim_of(*args)``."""
    return functools.partial(start_register, request.param)


def _done(agent: Any, request_id: str) -> dict[str, Any]:
    def result() -> dict[str, Any] | None:
        status, body = http("GET", f"{agent.base}/receipts/{request_id}")
        return (
            body
            if status == 200 and body["status"] in {"done", "rejected", "failed", "unknown"}
            else None
        )

    return wait_until(result, timeout_s=30, what=f"a final result for {request_id}")


def _types(tape: list[dict[str, Any]]) -> list[tuple[str, int]]:
    return [(doc["type"], doc["shift"]) for doc in tape]


@pytest.mark.parametrize(
    ("shift_age_s", "why"),
    [
        (23 * 3600 + 59 * 60, "23h59m: past max_age"),
        (23 * 3600 + 35 * 60, "23h35m: past max_age"),
        (90_000, "25h: register locked"),
    ],
)
def test_guard_closes_an_old_shift_before_the_receipt(
    start_sim_of: Any, start_agent: Any, shift_age_s: int, why: str
) -> None:
    """A shift past max_age, or one that locked the register, is closed (Z) and reopened first."""
    sim = start_sim_of("--shift-age", str(shift_age_s))
    before = sim.state()
    assert before["shift"]["open"], why
    agent = start_agent(sim)
    status, _ = http("POST", f"{agent.base}/receipts", receipt("guard-1", 15000))
    assert status == 202
    result = _done(agent, "guard-1")
    assert result["status"] == "done", result
    old_shift = before["shift"]["number"]
    new_shift = result["fiscal"]["shift"]
    assert new_shift == old_shift + 1
    tape = sim.tape()
    assert _types(tape)[-3:] == [
        ("close_shift", old_shift),
        ("open_shift", new_shift),
        ("receipt", new_shift),
    ]
    after = sim.state()
    assert after["shift"]["open"]
    assert not after["shift"]["expired"]
    assert after["shift"]["age_s"] < 600


def test_guard_leaves_a_young_shift_open(start_sim_of: Any, start_agent: Any) -> None:
    """A 10-hour shift is not touched: the receipt goes into it."""
    sim = start_sim_of("--shift-age", str(10 * 3600))
    shift = sim.state()["shift"]["number"]
    agent = start_agent(sim)
    assert http("POST", f"{agent.base}/receipts", receipt("young-1", 20000))[0] == 202
    result = _done(agent, "young-1")
    assert result["status"] == "done"
    assert result["fiscal"]["shift"] == shift
    assert [doc["type"] for doc in sim.tape()].count("close_shift") == 0


def test_guard_rotates_an_idle_shift_when_the_clock_runs_past_max_age(
    start_sim_of: Any, start_agent: Any
) -> None:
    """The register clock moves past max_age between receipts: the next receipt gets a new shift."""
    sim = start_sim_of()
    agent = start_agent(sim)
    assert http("POST", f"{agent.base}/receipts", receipt("day-1", 10000))[0] == 202
    first = _done(agent, "day-1")
    sim.post("/clock/advance", {"seconds": 23 * 3600 + 40 * 60})
    assert http("POST", f"{agent.base}/receipts", receipt("day-2", 10001))[0] == 202
    second = _done(agent, "day-2")
    assert second["status"] == "done"
    assert second["fiscal"]["shift"] == first["fiscal"]["shift"] + 1


def test_shift_commands_are_idempotent(start_sim_of: Any, start_agent: Any) -> None:
    """Open on an open shift and close on a closed one are success, not errors."""
    sim = start_sim_of()
    agent = start_agent(sim)
    opened = http("POST", f"{agent.base}/shift", {"action": "open"})
    again = http("POST", f"{agent.base}/shift", {"action": "open"})
    assert opened[0] == again[0] == 200
    assert opened[1]["shift"] == again[1]["shift"]
    closed = http("POST", f"{agent.base}/shift", {"action": "close"})
    assert closed[0] == 200
    assert closed[1]["kind"] == "z"
    closed_again = http("POST", f"{agent.base}/shift", {"action": "close"})
    assert closed_again[0] == 200
    assert [doc["type"] for doc in sim.tape()].count("close_shift") == 1


def test_guard_rotates_an_old_shift_with_no_receipts_at_all(
    start_sim_of: Any, start_agent: Any
) -> None:
    """An idle club: the agent closes a 23h40m shift and opens a new one by itself."""
    sim = start_sim_of("--shift-age", str(23 * 3600 + 40 * 60))
    old_shift = sim.state()["shift"]["number"]
    agent = start_agent(sim, settings={"worker": {"idle_check_s": 0.5}})

    def rotated() -> dict[str, Any] | None:
        shift = sim.state()["shift"]
        return shift if shift["open"] and shift["number"] == old_shift + 1 else None

    shift = wait_until(rotated, timeout_s=20, what="the idle guard to rotate the shift")
    assert shift["age_s"] < 600
    assert _types(sim.tape())[-2:] == [("close_shift", old_shift), ("open_shift", old_shift + 1)]
    # Health shows the new shift from the worker's next reading of the register (right after
    # the guard's, in the same idle tick): wait for it rather than race it.
    health = wait_until(
        lambda: (
            (h := http("GET", f"{agent.base}/health")[1])["shift"].get("number") == old_shift + 1
            and h
        ),
        timeout_s=5,
        what="health to show the new shift",
    )
    assert health["shift"]["age_s"] < 600


def test_idle_guard_does_not_reopen_a_shift_closed_by_staff(
    start_sim_of: Any, start_agent: Any
) -> None:
    """A Z at closing time stays closed while idle; the next receipt opens a shift."""
    sim = start_sim_of()
    agent = start_agent(sim, settings={"worker": {"idle_check_s": 0.2}})
    assert http("POST", f"{agent.base}/shift", {"action": "open"})[0] == 200
    assert http("POST", f"{agent.base}/shift", {"action": "close"})[0] == 200
    closed_at = sim.state()["last_fd"]
    wait_until(
        lambda: http("GET", f"{agent.base}/health")[1]["shift"]["open"] is False,
        timeout_s=10,
        what="health to show the closed shift",
    )
    time_to_tick = 1.0
    deadline = time.monotonic() + time_to_tick
    while time.monotonic() < deadline:  # several idle ticks pass
        assert sim.state()["shift"]["open"] is False
        time.sleep(0.1)
    assert sim.state()["last_fd"] == closed_at
    assert http("POST", f"{agent.base}/receipts", receipt("after-z", 9900))[0] == 202
    assert _done(agent, "after-z")["fiscal"]["shift"] == 2
