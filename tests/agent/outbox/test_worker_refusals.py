"""Every driver error class, injected as a refusal of the close, before and after it ran.

Whatever the register answers, a receipt ends with exactly one FN document carrying its mark
(done) or none (rejected, for a refusal of the data before it ran). A refusal *after* the
close ran is a lie about a receipt that exists: the mark proves it, and it is recorded, never
printed again. Also every branch of the worker's give-up: rejected before printing, failed
before printing, and left in printing (the line stops; see test_worker_line.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from agent.outbox.states import RowState
from tests.support.agent_rig import FAST_WORKER, AgentRig, running_agent, until
from tests.support.payloads import receipt

pytestmark = pytest.mark.timeout(20)

CLOSE = 0xFF45
FN_STATUS = 0xFF01

# (register error code, the error class the driver maps it to, its public code, disposition)
CASES = [
    (0x33, "InvalidArgument", "invalid_argument", "reject"),
    (0x37, "CommandNotSupported", "not_supported", "reject"),
    # Not bad input: the drawer is short now, so the row fails and is taken again when resent.
    (0x46, "NotEnoughCash", "refund_exceeds_drawer", "reject"),
    (0x20, "DeviceError", "register_error_0x20", "reject"),
    (0x50, "PrinterBusy", "printer_busy", "retry"),
    (0x4E, "ShiftExpired", "shift_expired", "retry"),
    (0x3D, "ShiftNotOpen", "shift_not_open", "retry"),
    (0x4A, "ReceiptAlreadyOpen", "receipt_already_open", "retry"),
    (0x55, "ReceiptNotOpen", "receipt_not_open", "retry"),
    (0x6B, "PaperOut", "paper_out", "wait"),
    (0x4F, "WrongPassword", "wrong_password", "wait"),
    (0x03, "FnFailure", "fn_failure", "wait"),
]


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[AgentRig]:
    """An agent whose worker runs, idle check off, on a register with an open shift."""
    # wait_ready: the start-up check is done
    async with running_agent(
        tmp_path, params=replace(FAST_WORKER, idle_tick_s=3600), wait_ready=True
    ) as made:
        yield made


def _refuse_once(rig: AgentRig, command: int, code: int, *, after: bool) -> None:
    """The next ``command`` for the receipt answers ``code``; ``after``: the register ran it.

    The worker's idle check is off in these tests (see the fixture), so once the receipt is
    in the outbox every command is the worker's work on it.
    """

    def refuse(payload: bytes) -> bytes | None:
        if rig.outbox.get("coffee") is None:
            return None
        del rig.register.intercept[command]
        if after:
            rig.register.device.handle(payload, datetime.now(UTC))
        return payload[: 2 if payload[0] == 0xFF else 1] + bytes([code])

    rig.register.intercept[command] = refuse


def _receipts_marked(rig: AgentRig, mark: str) -> list[int]:
    return [
        d.fd
        for d in rig.register.device.state.documents
        if d.tags.mark is not None and d.tags.mark.value == mark
    ]


def _final(rig: AgentRig, request_id: str) -> Any:
    row = rig.outbox.get(request_id)
    return (
        row if row is not None and row.state not in {RowState.PENDING, RowState.PRINTING} else None
    )


@pytest.mark.parametrize("after", [False, True], ids=["before", "after"])
@pytest.mark.parametrize(("code", "cls", "public", "disposition"), CASES, ids=[c[1] for c in CASES])
async def test_refusal_of_the_close_ends_with_one_document_or_none(
    rig: AgentRig, code: int, cls: str, public: str, disposition: str, *, after: bool
) -> None:
    """One refusal of FF45 of each error class, before or after it ran: one receipt or none."""
    _refuse_once(rig, CLOSE, code, after=after)
    response = await rig.client.post("/api/v1/receipts", json=receipt("coffee", 15000))
    assert response.status == 202
    row = await until(lambda: _final(rig, "coffee"))
    marked = _receipts_marked(rig, "coffee")
    if disposition == "reject" and not after:
        expected = RowState.FAILED if cls == "NotEnoughCash" else RowState.REJECTED
        assert row.state is expected, (cls, row)
        assert row.error_code == public
        assert marked == [], "a refused receipt left a document"
    else:
        assert row.state is RowState.DONE, (cls, row)
        assert row.fiscal is not None
        assert marked == [row.fiscal.fd], "exactly one document, and it is the row's"
    if disposition != "reject" and not after and cls != "PrinterBusy":
        assert row.attempts >= 1  # the worker retried it or waited it out, then printed
    # PrinterBusy (0x50) is waited out and sent again by the driver itself: no attempt fails.


async def test_give_up_rejects_a_row_refused_before_printing(rig: AgentRig) -> None:
    """A REJECT before the intent (the FN status refused) rejects the row; nothing printed."""
    _refuse_once(rig, FN_STATUS, 0x37, after=False)
    await rig.client.post("/api/v1/receipts", json=receipt("coffee", 15000))
    row = await until(lambda: _final(rig, "coffee"))
    assert (row.state, row.error_code) == (RowState.REJECTED, "not_supported")
    assert row.fn_serial is None, "no intent was recorded"
    assert _receipts_marked(rig, "coffee") == []


async def test_give_up_fails_a_row_that_kept_failing_before_printing(rig: AgentRig) -> None:
    """RETRY refusals before the intent, as many as the attempts: failed, then taken again."""
    failures = {"left": 2}  # the rig's retry_attempts

    def refuse(payload: bytes) -> bytes | None:
        if failures["left"] == 0 or rig.outbox.get("coffee") is None:
            return None
        failures["left"] -= 1
        return payload[:2] + bytes([0x55])

    rig.register.intercept[FN_STATUS] = refuse
    body = receipt("coffee", 15000)
    await rig.client.post("/api/v1/receipts", json=body)
    row = await until(lambda: _final(rig, "coffee"))
    assert (row.state, row.error_code) == (RowState.FAILED, "retries_exhausted")
    assert _receipts_marked(rig, "coffee") == []
    again = await rig.client.post("/api/v1/receipts", json=body)
    assert again.status == 202, "a failed request sent again is taken again"
    done = await until(lambda: _final(rig, "coffee"))
    assert done.state is RowState.DONE
    assert _receipts_marked(rig, "coffee") == [done.fiscal.fd]


async def test_wait_refusals_never_use_up_the_attempts(rig: AgentRig) -> None:
    """WAIT refusals (paper out) beyond ``retry_attempts`` are waited out: the row prints."""
    failures = {"left": 5}  # more than the rig's retry_attempts (2)

    def refuse(payload: bytes) -> bytes | None:
        if failures["left"] == 0 or rig.outbox.get("coffee") is None:
            return None
        failures["left"] -= 1
        return payload[:2] + bytes([0x6B])  # paper out, before the intent

    rig.register.intercept[FN_STATUS] = refuse
    await rig.client.post("/api/v1/receipts", json=receipt("coffee", 15000))
    row = await until(lambda: _final(rig, "coffee"))
    assert row.state is RowState.DONE, row
    assert row.attempts == 5, "each WAIT refusal was one attempt, none the last"
    assert _receipts_marked(rig, "coffee") == [row.fiscal.fd]
