"""Shift reports and health: the fiscal service's facts as docs/contract.md v1 messages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from agent.contract import (
    FnHealth,
    Health,
    LastError,
    LineHealth,
    OutboxHealth,
    PaymentCounters,
    RegisterHealth,
    RegisterStateName,
    ShiftCounters,
    ShiftHealth,
    ShiftReport,
    SyncHealth,
    kopecks_to_money,
)
from agent.drivers.clock_zone import format_utc_offset
from agent.drivers.interface import PaymentTotals, ShiftState
from agent.intake.receipt_mapping import vat_to_contract

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import timedelta

    from agent.domain.money import Kopecks
    from agent.domain.receipt import VatRate
    from agent.fiscal.reports import ShiftReportData
    from agent.fiscal.service import RegisterSnapshot
    from agent.outbox.store import OutboxStats
    from agent.outbox.worker import Condition, LineStop

__all__ = [
    "MAX_CLOCK_SKEW_S",
    "HealthInputs",
    "health_to_contract",
    "shift_report_json",
    "shift_report_to_contract",
]

MAX_CLOCK_SKEW_S = 300.0
"""The FN refuses a document whose time is more than 5 minutes off (docs/fiscal-law-notes.md §3)."""


def _totals(
    totals: PaymentTotals, vat: Mapping[VatRate, Kopecks], change: Kopecks | None
) -> PaymentCounters:
    """One sign's counters; received = cash + change when the change is known (v1.1)."""
    return PaymentCounters(
        cash=kopecks_to_money(totals.cash),
        card=kopecks_to_money(totals.card),
        prepaid=kopecks_to_money(totals.prepaid),
        count=totals.count,
        vat=vat_to_contract(vat),
        cash_received=None if change is None else kopecks_to_money(totals.cash + change),
        change=None if change is None else kopecks_to_money(change),
    )


def shift_report_to_contract(
    report: ShiftReportData, *, request_id: str | None = None
) -> ShiftReport:
    """A ShiftReport for ``evt/shift`` and ``POST /api/v1/shift``.

    ``request_id`` is the ``cmd/shift`` id that asked for the report (v1.1); None for one
    the agent made itself or an HTTP command without an id. ``sales.cash_received`` and
    ``sales.change`` (and the refunds') are there when the report knows its shift's change.
    """
    counters = report.counters
    change = report.change
    return ShiftReport(
        kind=report.kind.value,
        shift=report.shift,
        fn=report.fn,
        # The open-shift document can be unreadable (an FN archive error): then the report's
        # own time stands in, so the field the contract requires is never invented as empty.
        opened_at=report.opened_at or report.at,
        closed_at=report.closed_at,
        counters=ShiftCounters(
            sales=_totals(
                counters.sales, counters.sales_vat, None if change is None else change.sales
            ),
            refunds=_totals(
                counters.refunds, counters.refunds_vat, None if change is None else change.refunds
            ),
            cash_in=kopecks_to_money(counters.cash_in),
            cash_out=kopecks_to_money(counters.cash_out),
            cash_in_drawer=kopecks_to_money(counters.cash_in_drawer),
            first_fd=report.first_fd,
            last_fd=report.last_fd,
        ),
        auto=report.auto,
        request_id=request_id,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class HealthInputs:
    """What health is built from: the last register snapshot, the worker's state, queues."""

    version: str
    uptime_s: float  # from the monotonic clock, so a host clock jump does not show here
    now: datetime
    is_link_up: bool
    snapshot: RegisterSnapshot | None
    snapshot_at: datetime | None  # host clock at the snapshot, for the register clock's skew
    condition: Condition | None
    last_error: Condition | None
    outbox: OutboxStats
    line: LineStop | None = None
    unknown_ids: tuple[str, ...] = ()
    sync_pending: int
    sync_oldest_age_s: float | None
    rotate_at: timedelta
    is_broker_up: bool | None = None  # None: no MQTT link
    boot: int | None = None  # v1.1: the agent's start count, kept on disk
    seq: int | None = None  # v1.1: this health's number within the boot


def _register_problem(snap: RegisterSnapshot | None, *, is_clock_off: bool) -> str | None:
    """What the register itself shows is wrong, even when no command has failed yet."""
    if snap is None:
        return None
    if not snap.state.has_paper:
        return "paper_out"
    if snap.state.is_cover_open:
        return "cover_open"
    valid_until = snap.fn.valid_until
    if valid_until is not None and snap.state.clock.date() > valid_until:
        return "fn_failure"  # past its expiry the FN refuses every document
    zone = snap.info.clock_zone
    if zone is not None and zone.is_mismatch:
        return "tz_mismatch"  # the configured zone or the register's clock is wrong
    return "clock_skew" if is_clock_off else None


def _closes_at(snap: RegisterSnapshot, rotate_at: timedelta) -> datetime | None:
    """When the guard closes the open shift (health's ``shift.closes_at``); None if none."""
    opened = snap.shift_opened_at
    if snap.state.shift is ShiftState.CLOSED or opened is None:
        return None
    return opened + rotate_at


def _is_shift_overdue(snap: RegisterSnapshot, rotate_at: timedelta) -> bool:
    """An open shift past the time the guard closes it: its Z has not been taken.

    The guard closes a shift at ``rotate_at`` (before the 24-hour limit): a shift still open
    after it means the Z was refused or keeps failing (a SmartOne cashbox that wants its
    drawer emptied first, a register off line). Health says so while there is still time
    before the limit.
    """
    closes_at = _closes_at(snap, rotate_at)
    return closes_at is not None and snap.state.clock >= closes_at


def _register_state(snap: RegisterSnapshot) -> RegisterStateName:
    """v1.1 ``register.state``: the register's mode in words no protocol owns."""
    state = snap.state
    if state.is_receipt_open:
        return "receipt_open"
    if state.shift is ShiftState.EXPIRED:
        return "shift_expired"
    if not state.has_paper:
        return "paper_out"
    if state.is_printing:
        return "printing"
    return "shift_closed" if state.shift is ShiftState.CLOSED else "ready"


def health_to_contract(inputs: HealthInputs) -> Health:
    """Health for ``GET /api/v1/health`` and the retained ``health`` topic."""
    snap = inputs.snapshot
    condition = inputs.condition
    skew = None
    if snap is not None and inputs.snapshot_at is not None:
        skew = round((snap.state.clock - inputs.snapshot_at).total_seconds(), 1)
    is_clock_off = skew is not None and abs(skew) > MAX_CLOCK_SKEW_S
    error = condition.code if condition else _register_problem(snap, is_clock_off=is_clock_off)
    if error is None and snap is not None and _is_shift_overdue(snap, inputs.rotate_at):
        error = "shift_overdue"
    zone = snap.info.clock_zone if snap else None
    register = RegisterHealth(
        link="up" if inputs.is_link_up else "down",
        mode=snap.state.device_mode if snap else None,
        model=snap.info.model if snap else None,
        serial=snap.info.serial if snap else None,
        error=error,
        state=_register_state(snap) if snap and inputs.is_link_up else None,
        clock=snap.state.clock if snap else None,
        clock_skew_s=skew,
        utc_offset=format_utc_offset(zone.utc_offset) if zone else None,
        tz_source=zone.source.value if zone else None,
        measured_utc_offset=format_utc_offset(zone.measured) if zone else None,
    )
    shift = ShiftHealth(open=False)
    fn = FnHealth()
    if snap is not None:
        state = snap.state
        is_open = state.shift is not ShiftState.CLOSED
        opened = snap.shift_opened_at if is_open else None
        shift = ShiftHealth(
            open=is_open,
            number=state.shift_number,
            opened_at=opened,
            age_s=(state.clock - opened).total_seconds() if opened else None,
            closes_at=_closes_at(snap, inputs.rotate_at),
        )
        valid_until = snap.fn.valid_until
        fn = FnHealth(
            serial=snap.fn.serial,
            valid_until=valid_until,
            days_left=(valid_until - state.clock.date()).days if valid_until else None,
            unsent_docs=snap.fn.unsent_docs,
            oldest_unsent_at=snap.fn.oldest_unsent_at,
        )
    stats = inputs.outbox
    line = inputs.line
    is_healthy = (
        inputs.is_link_up
        and error is None
        and stats.failed == 0
        and stats.unknown == 0
        and line is None
    )
    last = inputs.last_error
    return Health(
        state="online" if is_healthy else "degraded",
        boot=inputs.boot,
        seq=inputs.seq,
        version=inputs.version,
        uptime_s=round(inputs.uptime_s, 3),
        at=inputs.now,
        register=register,
        shift=shift,
        fn=fn,
        outbox=OutboxHealth(
            pending=stats.pending + stats.printing,
            oldest_pending_age_s=stats.oldest_pending_age_s,
            failed=stats.failed,
            unknown=stats.unknown,
            unknown_ids=list(inputs.unknown_ids) or None,
        ),
        line=LineHealth(stopped=True, row=line.row, since=line.since, reason=line.reason)
        if line
        else LineHealth(stopped=False),
        sync=SyncHealth(
            pending=inputs.sync_pending,
            oldest_pending_age_s=inputs.sync_oldest_age_s,
            broker=None
            if inputs.is_broker_up is None
            else ("up" if inputs.is_broker_up else "down"),
        ),
        last_error=LastError(code=last.code, message=last.message, at=last.since) if last else None,
    )


def shift_report_json(report: ShiftReportData, *, request_id: str | None = None) -> str:
    """A shift report as the JSON published on ``evt/shift`` (with the asking command's id)."""
    contract = shift_report_to_contract(report, request_id=request_id)
    return contract.model_dump_json(by_alias=True, exclude_none=True)
