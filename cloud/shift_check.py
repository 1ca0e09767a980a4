"""The close-shift check: ask the agent for an X report now and reconcile against it.

``GET /api/v1/clubs/{club}/agents/{agent}/shifts/current/check`` (docs/contract.md, cloud
HTTP API) calls :func:`check_current_shift`:

1. it publishes ``{"id": <new uuid>, "action": "x_report"}`` on
   ``fiscal/v1/{club}/{agent}/cmd/shift`` (QoS 1);
2. it waits, up to ``timeout_s`` (10 s), for the ShiftReport on ``evt/shift`` whose
   ``request_id`` is that id. The ingest wakes it (cloud.ingest.waiters) once the report is
   stored; it also looks in the store every ``poll_s``, for the report may have reached
   another cloud instance of the shared subscription;
3. it reconciles the report's shift with the report's counters as the register side.

The answer is ``match`` (every row matched and a zero difference), ``discrepancy`` (with the
rows that explain it: ``crm_only`` and ``register_only``, adopted ones included) or
``register_unavailable`` (no answer in time, the broker did not take the command, or the
agent's outcome on ``evt/command`` was ``failed``, ``rejected`` or ``unknown``: ``reason``
says which).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

import structlog

from agent.contract import CommandOutcome, ShiftReport
from cloud.ingest.waiters import ShiftAnswer, ShiftWaiters
from cloud.reconcile_contract import row_to_contract, totals_to_contract
from cloud.reconcile_model import PaymentTotals, Reconciliation, RowStatus
from cloud.shift_reconciliation import load_reconciliation
from cloud.store import CloudStore

__all__ = [
    "DEFAULT_TIMEOUT_S",
    "CheckResult",
    "ShiftCheck",
    "check_current_shift",
    "shift_topic",
]

DEFAULT_TIMEOUT_S: Final = 10.0
_POLL_S: Final = 1.0
_EXPLAINING: Final = frozenset({RowStatus.CRM_ONLY, RowStatus.REGISTER_ONLY})
_log = structlog.get_logger("cloud.shift_check")

Publish = Callable[[str, bytes], Awaitable[None]]
"""Publish at QoS 1, or raise ``OSError`` when the broker cannot be reached."""


class CheckResult(StrEnum):
    """The check's answer."""

    MATCH = "match"
    DISCREPANCY = "discrepancy"
    REGISTER_UNAVAILABLE = "register_unavailable"


@dataclass(frozen=True, slots=True)
class ShiftCheck:
    """One check: the result, and the reconciliation behind it when the register answered."""

    result: CheckResult
    request_id: str
    reconciliation: Reconciliation | None = None
    reason: str | None = None

    def to_contract(self) -> dict[str, Any]:
        """``{"result", "difference", "rows", "request_id", "shift", "reason"?}``."""
        rec = self.reconciliation
        body: dict[str, Any] = {
            "result": self.result.value,
            "request_id": self.request_id,
            "difference": None,
            "rows": [],
            "shift": None,
        }
        if rec is not None:
            difference = rec.totals.difference or PaymentTotals()
            body["difference"] = totals_to_contract(difference)
            body["rows"] = [
                row_to_contract(row, rec.ofd_url_template)
                for row in rec.rows
                if row.status in _EXPLAINING
            ]
            body["shift"] = {"number": rec.shift.number, "fn": rec.shift.fn}
        if self.reason is not None:
            body["reason"] = self.reason
        return body


def shift_topic(club: str, agent: str) -> str:
    """``fiscal/v1/{club}/{agent}/cmd/shift``."""
    return f"fiscal/v1/{club}/{agent}/cmd/shift"


def _classify(rec: Reconciliation) -> CheckResult:
    difference = rec.totals.difference or PaymentTotals()
    explained = any(row.status in _EXPLAINING for row in rec.rows)
    zero = difference.cash == difference.card == difference.prepaid == 0
    return CheckResult.MATCH if zero and not explained else CheckResult.DISCREPANCY


async def _stored_report(
    store: CloudStore, club: str, agent: str, request_id: str
) -> ShiftReport | None:
    for record in reversed(await store.shift_reports(club, agent)):
        if record.report.request_id == request_id:
            return record.report
    return None


async def _await_answer(
    future: asyncio.Future[ShiftAnswer],
    store: CloudStore,
    club: str,
    agent: str,
    request_id: str,
    *,
    timeout_s: float,
    poll_s: float,
) -> ShiftAnswer | None:
    """The answer, from the ingest or found in the store; None when none came in time."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        left = deadline - loop.time()
        if left <= 0:
            return None
        done, _ = await asyncio.wait({future}, timeout=min(poll_s, left))
        if done:
            return future.result()
        found = await _stored_report(store, club, agent, request_id)
        if found is not None:
            return found


async def check_current_shift(
    store: CloudStore,
    publish: Publish,
    waiters: ShiftWaiters,
    club: str,
    agent: str,
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    poll_s: float = _POLL_S,
    ofd_url_template: str | None = None,
) -> ShiftCheck:
    """Ask ``agent`` for an X report and reconcile its current shift against it."""
    request_id = str(uuid.uuid4())
    log = _log.bind(club=club, agent=agent, id=request_id)
    payload = json.dumps({"id": request_id, "action": "x_report"}).encode("utf-8")
    with waiters.expect(club, agent, request_id) as future:
        try:
            await publish(shift_topic(club, agent), payload)
        except OSError as exc:
            log.warning("shift_check_not_sent", error=str(exc))
            return ShiftCheck(
                CheckResult.REGISTER_UNAVAILABLE,
                request_id,
                reason=f"the broker did not take the x_report command: {exc}",
            )
        answer = await _await_answer(
            future, store, club, agent, request_id, timeout_s=timeout_s, poll_s=poll_s
        )
    if answer is None:
        log.warning("shift_check_no_answer", timeout_s=timeout_s)
        return ShiftCheck(
            CheckResult.REGISTER_UNAVAILABLE,
            request_id,
            reason=f"no X report from the agent within {timeout_s:g} s",
        )
    if isinstance(answer, CommandOutcome):
        why = f"the agent's x_report ended {answer.status}"
        if answer.error is not None:
            why += f": {answer.error.code}: {answer.error.message}"
        log.warning("shift_check_failed", status=answer.status)
        return ShiftCheck(CheckResult.REGISTER_UNAVAILABLE, request_id, reason=why)
    rec = await load_reconciliation(
        store, club, agent, ofd_url_template=ofd_url_template, latest=answer
    )
    result = _classify(rec)
    log.info("shift_checked", result=result.value, shift=answer.shift)
    return ShiftCheck(result, request_id, reconciliation=rec)
