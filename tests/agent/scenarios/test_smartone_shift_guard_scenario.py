"""The 24-hour shift guard on a SmartOne cashbox: rotation, the Z refused for cash, the cash-out.

The agent (``fiscal-agent run``) against ``firmware-sim serve --smartone``. The driver's clock is
the cashbox's (its replies' HTTP Date header), so moving the simulator's clock ages the shift
as the agent sees it. The guard closes a shift at ``[shift] max_age`` (23h30m by default), before
the 24-hour limit. The simulator refuses a Z while the drawer holds cash (code 27) and a Z of a
shift without transactions (code 26), as the cashbox is believed to (docs/smartone-sim.md).
"""

from __future__ import annotations

from typing import Any

import pytest

from agent.drivers.smartone.errors import DrawerNotEmpty
from tests.support.processes import Agent, http, wait_until
from tests.support.smartone_sim import SmartOneSimProcess
from tests.support.smartone_steps import (
    FAST_SMARTONE,
    FAST_WORKER,
    final,
    health,
    marked,
    sale,
    shift_reports,
    status,
)

pytestmark = [pytest.mark.sim, pytest.mark.timeout(90)]

PAST_MAX_AGE_S = 23 * 3600 + 40 * 60
"""Past the guard's 23h30m, short of the 24-hour limit."""
DAY_S = 24 * 3600
DRAWER_CODE = DrawerNotEmpty.public_code


def _settings(*, withdraw: bool) -> dict[str, Any]:
    return {
        "worker": FAST_WORKER,
        "smartone": {**FAST_SMARTONE, "withdraw_before_z": withdraw},
    }


def _docs(sim: SmartOneSimProcess) -> list[tuple[str, int]]:
    return [(doc["type"], doc["shift"]) for doc in sim.tape()]


def test_guard_rotates_an_aged_shift_with_an_empty_drawer(
    start_smartone_sim: Any, start_agent: Any
) -> None:
    """A card-only shift aged past max_age on the cashbox's clock: Z, a new shift, the receipt."""
    sim: SmartOneSimProcess = start_smartone_sim()
    agent: Agent = start_agent(sim, settings=_settings(withdraw=False))
    assert http("POST", f"{agent.base}/receipts", sale("day-1", 1500, pay="card"))[0] == 202
    first = final(agent, "day-1")
    assert first["status"] == "done", first
    old = first["fiscal"]["shift"]
    assert sim.state()["cash_in_drawer"] in (0, "0.00"), sim.state()

    sim.post("/clock/advance", {"seconds": PAST_MAX_AGE_S})
    assert http("POST", f"{agent.base}/receipts", sale("day-2", 2500, pay="card"))[0] == 202
    second = final(agent, "day-2")
    assert second["status"] == "done", second
    assert second["fiscal"]["shift"] == old + 1
    assert _docs(sim)[-3:] == [("close_shift", old), ("open_shift", old + 1), ("receipt", old + 1)]
    assert [len(marked(sim, mark)) for mark in ("day-1", "day-2")] == [1, 1]
    assert not [doc for doc in sim.tape_all() if doc["type"] == "cash_out"], "nothing to collect"
    shift = sim.state()["shift"]
    assert shift["open"]
    assert shift["number"] == old + 1
    assert shift["age_s"] < 600
    seen = wait_until(
        lambda: (h := health(agent))["shift"].get("number") == old + 1 and h,
        timeout_s=10,
        what="health to show the new shift",
    )
    assert seen["shift"]["age_s"] < 600
    # The agent's Z report of the old shift: its sale by card, no cash out.
    z = [report for report in shift_reports(agent) if report["kind"] == "z"]
    assert [report["shift"] for report in z] == [old]
    sales = z[0]["counters"]["sales"]
    assert (sales["card"], sales["cash"], z[0]["counters"]["cash_out"]) == ("15.00", "0.00", "0.00")


def test_z_refused_for_cash_waits_then_the_drawer_is_withdrawn_when_allowed(
    start_smartone_sim: Any, start_agent: Any
) -> None:
    """27 with withdraw_before_z off: receipts wait, health says why; on: cash out, Z, printed."""
    sim: SmartOneSimProcess = start_smartone_sim()
    agent: Agent = start_agent(sim, settings=_settings(withdraw=False))
    assert http("POST", f"{agent.base}/receipts", sale("cash-1", 2500))[0] == 202
    first = final(agent, "cash-1")
    assert first["status"] == "done", first
    old = first["fiscal"]["shift"]

    sim.post("/clock/advance", {"seconds": PAST_MAX_AGE_S})
    waiting_ids = ("wait-1", "wait-2")
    for number, request_id in enumerate(waiting_ids):
        assert http("POST", f"{agent.base}/receipts", sale(request_id, 1000 + number))[0] == 202
    # Health shows the shift once it has read the register between two tries (an agent that
    # went straight to work may not have yet: its health then has no shift to show).
    degraded = wait_until(
        lambda: (
            (h := health(agent))["register"].get("error") == DRAWER_CODE
            and h["shift"]["open"]
            and h
        ),
        timeout_s=15,
        what="health to say the Z was refused for cash in the drawer",
    )
    assert degraded["state"] == "degraded"
    assert "withdraw_before_z" in degraded["last_error"]["message"]
    # The shift is past the time the guard closes it, short of the 24-hour limit.
    assert degraded["shift"]["number"] == old
    assert PAST_MAX_AGE_S <= degraded["shift"]["age_s"] < DAY_S
    assert degraded["shift"]["closes_at"] < degraded["register"]["clock"]
    # The line stops behind the refused Z: nothing printed, nothing lost.
    assert degraded["outbox"]["pending"] == len(waiting_ids)
    head = status(agent, "wait-1")
    assert head["status"] == "pending"
    assert head["error"]["code"] == DRAWER_CODE
    assert status(agent, "wait-2")["status"] == "pending"
    assert "close_shift" not in [kind for kind, _ in _docs(sim)]
    assert [doc.get("mark") for doc in sim.tape() if doc["type"] == "receipt"] == ["cash-1"]
    assert sim.state()["shift"]["open"]

    agent.stop()
    agent.settings["smartone"]["withdraw_before_z"] = True
    agent.start()
    results = [final(agent, request_id) for request_id in waiting_ids]
    assert [result["status"] for result in results] == ["done", "done"], results
    assert [result["fiscal"]["shift"] for result in results] == [old + 1, old + 1]
    for request_id in ("cash-1", *waiting_ids):
        assert len(marked(sim, request_id)) == 1, request_id
    # The drawer was collected once, under the shift's key, then the Z was taken.
    cash_outs = [doc for doc in sim.tape_all() if doc["type"] == "cash_out"]
    assert [(doc["total"], doc["shift"], doc["mark"]) for doc in cash_outs] == [
        ("25.00", old, f"z-withdraw-{old}")
    ]
    closes = [doc for doc in sim.tape() if doc["type"] == "close_shift"]
    assert [doc["shift"] for doc in closes] == [old]
    assert closes[0]["counters"]["cash_out"] == "25.00"
    assert closes[0]["counters"]["cash_in_drawer"] == "0.00"
    assert _docs(sim)[-4:] == [
        ("close_shift", old),
        ("open_shift", old + 1),
        ("receipt", old + 1),
        ("receipt", old + 1),
    ]
    # The agent's own Z report (what it publishes on evt/shift) shows the cash out.
    z = [report for report in shift_reports(agent) if report["kind"] == "z"]
    assert len(z) == 1, z
    assert z[0]["shift"] == old
    assert z[0]["counters"]["cash_out"] == "25.00"
    # No archive by FD on this cashbox: after the Z the agent reads no document back.
    assert "fn_document_unreadable" not in agent.events()
    recovered = wait_until(
        lambda: (h := health(agent))["register"].get("error") != DRAWER_CODE and h,
        timeout_s=10,
        what="health to drop the refused Z",
    )
    assert recovered["outbox"]["pending"] == 0
    assert recovered["shift"]["number"] == old + 1


def test_a_shift_past_closes_at_warns_in_health_before_the_limit(
    start_smartone_sim: Any, start_agent: Any
) -> None:
    """A Z that keeps failing (code 5): health says shift_overdue while the shift is under 24 h."""
    sim: SmartOneSimProcess = start_smartone_sim("--shift-age", str(PAST_MAX_AGE_S))
    old = sim.state()["shift"]["number"]
    sim.post("/settings", {"refuse_empty_z": False})
    sim.post("/faults/refuse", {"on_task": "close_shift", "code": 5, "count": 1000})
    agent: Agent = start_agent(sim, settings=_settings(withdraw=False))
    overdue = wait_until(
        lambda: (h := health(agent))["register"].get("error") == "shift_overdue" and h,
        timeout_s=15,
        what="health to warn of the overdue shift",
    )
    assert overdue["state"] == "degraded"
    assert overdue["shift"]["open"]
    assert overdue["shift"]["number"] == old
    assert PAST_MAX_AGE_S <= overdue["shift"]["age_s"] < DAY_S
    assert overdue["shift"]["closes_at"] < overdue["register"]["clock"]
    assert abs(overdue["register"]["clock_skew_s"]) < 60  # the cashbox's clock is right
    assert "close_shift" not in [kind for kind, _ in _docs(sim)]
    # The refused idle Z is in the journal once, not once per idle tick.
    failed = [r for r in agent.log_records() if r.get("event") == "idle_check_failed"]
    assert [r["error"] for r in failed] == ["register_internal_error"], failed

    sim.post("/faults/clear")
    rotated = wait_until(
        lambda: (h := health(agent))["shift"].get("number") == old + 1 and h,
        timeout_s=15,
        what="the idle guard to rotate the shift once the Z works",
    )
    assert rotated["register"].get("error") is None
    assert rotated["state"] == "online"
    assert _docs(sim)[-2:] == [("close_shift", old), ("open_shift", old + 1)]


def test_an_empty_aged_shift_lets_the_next_sale_print_then_rotates(
    start_smartone_sim: Any, start_agent: Any
) -> None:
    """A shift with no sales past the rotation time: its Z is refused (26) and nothing waits.

    The guard leaves the empty shift open (no dummy sale, ever) instead of holding the next
    payment behind a Z that cannot come; health warns (shift_overdue). The sale prints in the
    old shift, which is then no longer empty: the guard closes it and opens a new one.
    """
    sim: SmartOneSimProcess = start_smartone_sim("--shift-age", str(PAST_MAX_AGE_S))
    old = sim.state()["shift"]["number"]
    agent: Agent = start_agent(sim, settings=_settings(withdraw=False))
    overdue = wait_until(
        lambda: (h := health(agent))["register"].get("error") == "shift_overdue" and h,
        timeout_s=15,
        what="health to warn of the empty shift left open",
    )
    assert overdue["shift"]["number"] == old
    assert "close_shift" not in [kind for kind, _ in _docs(sim)]
    assert http("POST", f"{agent.base}/receipts", sale("first-sale", 1500, pay="card"))[0] == 202
    done = final(agent, "first-sale")
    assert done["status"] == "done", done
    assert done["fiscal"]["shift"] == old  # printed at once, in the shift the Z left open
    rotated = wait_until(
        lambda: (h := health(agent))["shift"].get("number") == old + 1 and h,
        timeout_s=15,
        what="the guard to close the shift once it has a sale",
    )
    assert rotated["register"].get("error") is None
    assert _docs(sim)[-3:] == [("receipt", old), ("close_shift", old), ("open_shift", old + 1)]
    assert len(marked(sim, "first-sale")) == 1
