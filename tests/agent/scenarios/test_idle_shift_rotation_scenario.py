"""The idle shift guard rotates a shift that ages while the agent runs, with no receipt at all.

The agent starts with a young shift, so its start-up guard has nothing to do; then the
register's own clock runs past ``shift.max_age`` while the outbox is empty. Only the idle
check (``[worker] idle_check_s``) can close that shift (Z) and open the next one (README,
"The 24-hour shift guard": rotation is a Z and a new shift; idle, the guard never opens a
shift that is closed when it looks). The clock is moved twice: the second rotation happens
long after start-up, so it cannot be the start-up guard's.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.support.payloads import receipt
from tests.support.processes import http, wait_until

pytestmark = [pytest.mark.sim, pytest.mark.timeout(60)]

IDLE_CHECK_S = 0.5
SLACK_S = 5.0
"""Room for a Z and an open over the pty on a loaded 2-core machine; far below the 30 s default."""
PAST_MAX_AGE_S = 23 * 3600 + 40 * 60  # max_age is 23h30m; the register locks at 24h


def _docs(sim: Any) -> list[tuple[str, int]]:
    return [(doc["type"], doc["shift"]) for doc in sim.tape()]


def _rotated_within(sim: Any, old_shift: int, *, what: str) -> float:
    """Wait for the close of ``old_shift`` and the open of the next; the seconds it took."""
    start = time.monotonic()

    def rotated() -> bool:
        return _docs(sim)[-2:] == [("close_shift", old_shift), ("open_shift", old_shift + 1)]

    wait_until(rotated, timeout_s=IDLE_CHECK_S + SLACK_S, interval_s=0.1, what=what)
    return time.monotonic() - start


def _health(agent: Any) -> dict[str, Any]:
    status, body = http("GET", f"{agent.base}/health")
    assert status == 200
    return dict(body)


def test_idle_guard_rotates_a_shift_that_ages_while_the_agent_runs(
    start_sim: Any, start_agent: Any
) -> None:
    """Young at start, past max_age later: Z and a new shift within idle_check_s, twice."""
    sim = start_sim("--shift-age", "3600")
    agent = start_agent(sim, settings={"worker": {"idle_check_s": IDLE_CHECK_S}})
    first = wait_until(
        lambda: (h := _health(agent))["shift"].get("number") == 1 and h,
        timeout_s=10,
        what="the agent's first look at the shift",
    )
    assert first["shift"]["open"]
    assert _docs(sim) == [("registration", 0), ("open_shift", 1)], "start-up touched the shift"

    sim.post("/clock/advance", {"seconds": PAST_MAX_AGE_S})
    _rotated_within(sim, 1, what="the idle guard to rotate shift 1")
    shift = sim.state()["shift"]
    assert shift["open"]
    assert shift["number"] == 2
    assert not shift["expired"]

    # The new shift is young: further idle checks leave it, and the tape, alone.
    tape = _docs(sim)
    checks_before = sim.state()["link"]["commands"]
    wait_until(
        lambda: sim.state()["link"]["commands"] > checks_before + 10,
        timeout_s=IDLE_CHECK_S * 4 + SLACK_S,
        what="several more idle checks",
    )
    assert _docs(sim) == tape

    sim.post("/clock/advance", {"seconds": PAST_MAX_AGE_S})
    took = _rotated_within(sim, 2, what="the idle guard to rotate shift 2")
    assert took < IDLE_CHECK_S + SLACK_S
    assert _docs(sim)[-4:] == [
        ("close_shift", 1),
        ("open_shift", 2),
        ("close_shift", 2),
        ("open_shift", 3),
    ]
    health = wait_until(
        lambda: (h := _health(agent))["shift"].get("number") == 3 and h,
        timeout_s=10,
        what="health to show shift 3",
    )
    assert health["shift"]["age_s"] < 600

    # The next receipt goes into the shift the idle guard opened.
    assert http("POST", f"{agent.base}/receipts", receipt("after-idle", 12300))[0] == 202
    result = wait_until(
        lambda: (
            (r := http("GET", f"{agent.base}/receipts/after-idle")[1])["status"] == "done" and r
        ),
        timeout_s=20,
        what="the receipt after the idle rotation",
    )
    assert result["fiscal"]["shift"] == 3
    assert _docs(sim)[-1] == ("receipt", 3)
