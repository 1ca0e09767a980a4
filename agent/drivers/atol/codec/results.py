"""ATOL's answers as the interface's dataclasses (docs/atol-driver.md §4). Pure.

:func:`parse_results` reads a request's ``results`` (v2: ``error: {code, description}``; v1:
flat ``errorCode``/``errorDescription``). The rest turn one task's ``result`` object into
:mod:`agent.drivers.interface` values. Times come with their offset; one without is read in
the zone the driver was given.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from enum import Enum
from typing import Any, Final

from agent.domain.money import Kopecks
from agent.domain.receipt import VatRate
from agent.drivers.atol.codec.tasks import VAT_TYPES
from agent.drivers.atol.codec.values import (
    MalformedResult,
    as_date,
    as_dict,
    as_int,
    as_kopecks,
    as_str,
    as_time,
    field,
)
from agent.drivers.interface import (
    CashMovement,
    DeviceInfo,
    FnState,
    FnWarning,
    LedgerState,
    PaymentTotals,
    RegisterState,
    ShiftCounters,
    ShiftDocument,
    ShiftState,
)

__all__ = [
    "FINAL_STATUSES",
    "SHIFT_HOURS",
    "FiscalParams",
    "ShiftStatus",
    "TaskResult",
    "TaskStatus",
    "cash_movement",
    "device_info",
    "fiscal_params",
    "fn_state",
    "last_fd",
    "ledger_state",
    "ofd_backlog",
    "parse_results",
    "register_state",
    "shift_counters",
    "shift_document",
    "shift_status",
]

SHIFT_HOURS: Final = 24


class TaskStatus(Enum):
    """A task's status in the web server's queue."""

    WAIT = "wait"
    IN_PROGRESS = "inProgress"
    READY = "ready"
    ERROR = "error"
    INTERRUPTED = "interrupted"
    BLOCKED = "blocked"  # the outcome is unknown; the server is finding out: not final
    CANCELED = "canceled"


FINAL_STATUSES: Final = frozenset(
    {TaskStatus.READY, TaskStatus.ERROR, TaskStatus.INTERRUPTED, TaskStatus.CANCELED}
)


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskResult:
    """One entry of ``results``: the status, the error (0 when none) and the result object."""

    status: TaskStatus
    code: int
    description: str
    result: dict[str, Any] | None

    @property
    def is_final(self) -> bool:
        """Nothing about this task can change any more."""
        return self.status in FINAL_STATUSES


def _entry(raw: object) -> TaskResult:
    entry = as_dict(raw, "a results entry")
    try:
        status = TaskStatus(entry.get("status"))
    except ValueError as exc:
        raise MalformedResult(f"unknown task status {entry.get('status')!r}") from exc
    error = entry.get("error")
    if isinstance(error, dict):
        code, description = error.get("code", 0), error.get("description", "")
    else:  # v1: flat fields
        code, description = entry.get("errorCode", 0), entry.get("errorDescription", "")
    result = entry.get("result")
    return TaskResult(
        status=status,
        code=as_int(code or 0, "error.code"),
        description=str(description or ""),
        result=result if isinstance(result, dict) else None,
    )


def parse_results(body: object) -> tuple[TaskResult, ...]:
    """The ``results`` of a GET of a request, one per task, in order."""
    entries = body.get("results") if isinstance(body, dict) else body
    if not isinstance(entries, list) or not entries:
        raise MalformedResult(f"no results in {body!r}")
    return tuple(_entry(raw) for raw in entries)


@dataclass(frozen=True, slots=True, kw_only=True)
class FiscalParams:
    """``fiscalParams`` of a fiscal task: everything but the FD may be missing.

    A task the server recovered after a block may carry the FD only; the driver then reads
    the rest back from the FN.
    """

    fd: int
    fp: int | None
    issued_at: datetime | None
    number: int | None
    shift: int | None
    fn: str | None
    total: Kopecks | None
    not_printed: bool

    @property
    def is_complete(self) -> bool:
        """Every field a receipt's result needs is there."""
        return None not in (self.fp, self.issued_at, self.number, self.shift, self.fn)


def _optional(params: dict[str, Any], key: str) -> object:
    value = params.get(key)
    return None if value in (None, "") else value


def fiscal_params(result: dict[str, Any] | None, zone: tzinfo | None) -> FiscalParams:
    """``{"fiscalParams": {...}, "warnings": {"notPrinted": bool}}`` of a fiscal task."""
    params = as_dict(field(result, "fiscalParams"), "fiscalParams")
    fp = _optional(params, "fiscalDocumentSign")
    issued = _optional(params, "fiscalDocumentDateTime")
    number = _optional(params, "fiscalReceiptNumber")
    shift = _optional(params, "shiftNumber")
    fn = _optional(params, "fnNumber")
    total = _optional(params, "total")
    warnings = (result or {}).get("warnings")
    return FiscalParams(
        fd=as_int(field(params, "fiscalDocumentNumber"), "fiscalDocumentNumber"),
        fp=None if fp is None else as_int(fp, "fiscalDocumentSign"),
        issued_at=None if issued is None else as_time(issued, "fiscalDocumentDateTime", zone),
        number=None if number is None else as_int(number, "fiscalReceiptNumber"),
        shift=None if shift is None else as_int(shift, "shiftNumber"),
        fn=None if fn is None else as_str(fn, "fnNumber"),
        total=None if total is None else as_kopecks(total, "total"),
        not_printed=isinstance(warnings, dict) and bool(warnings.get("notPrinted")),
    )


def shift_document(result: dict[str, Any] | None, zone: tzinfo | None) -> ShiftDocument:
    """``openShift``/``closeShift``'s fiscal params as a ShiftDocument."""
    params = fiscal_params(result, zone)
    if params.shift is None or params.fp is None or params.issued_at is None:
        raise MalformedResult("a shift document's fiscalParams lack shift, sign or time")
    return ShiftDocument(shift=params.shift, fd=params.fd, fp=params.fp, issued_at=params.issued_at)


_SHIFT_STATES: Final = {
    "closed": ShiftState.CLOSED,
    "opened": ShiftState.OPEN,
    "expired": ShiftState.EXPIRED,
}


def _shift_state(value: object, what: str) -> ShiftState:
    try:
        return _SHIFT_STATES[as_str(value, what)]
    except KeyError as exc:
        raise MalformedResult(f"{what} is no shift state: {value!r}") from exc


@dataclass(frozen=True, slots=True, kw_only=True)
class ShiftStatus:
    """``getShiftStatus``: the state, the shift's number, and when an open one expires."""

    state: ShiftState
    number: int
    expires_at: datetime | None

    @property
    def opened_at(self) -> datetime | None:
        """When the open shift was opened: its expiry minus 24 hours."""
        if self.expires_at is None or self.state is ShiftState.CLOSED:
            return None
        return self.expires_at - timedelta(hours=SHIFT_HOURS)


def shift_status(result: dict[str, Any] | None, zone: tzinfo | None) -> ShiftStatus:
    """``{"shiftStatus": {"state", "number", "expiredTime"?, "documentsCount"?}}``."""
    status = as_dict(field(result, "shiftStatus"), "shiftStatus")
    expires = _optional(status, "expiredTime")
    return ShiftStatus(
        state=_shift_state(field(status, "state"), "shiftStatus.state"),
        number=as_int(field(status, "number"), "shiftStatus.number"),
        expires_at=None if expires is None else as_time(expires, "expiredTime", zone),
    )


def last_fd(result: dict[str, Any] | None) -> int:
    """``getFnStatus``: ``fnStatus.fiscalDocumentNumber``, the FN's last FD."""
    return as_int(
        field(result, "fnStatus", "fiscalDocumentNumber"), "fnStatus.fiscalDocumentNumber"
    )


def register_state(
    device: dict[str, Any] | None,
    shift: dict[str, Any] | None,
    fn: dict[str, Any] | None,
    zone: tzinfo | None,
) -> RegisterState:
    """``getDeviceStatus`` + ``getShiftStatus`` + ``getFnStatus`` as one RegisterState.

    No receipt stays open between two tasks (the server opens and closes one within its
    task), and the status has no printing flag: both read False. The shift's state is
    ``getShiftStatus``'s (``expired`` there is the 24-hour lock).
    """
    status = as_dict(field(device, "deviceStatus"), "deviceStatus")
    shift_now = shift_status(shift, zone)
    return RegisterState(
        device_mode=None,
        shift=shift_now.state,
        shift_number=shift_now.number,
        is_receipt_open=False,
        is_printing=False,
        has_paper=bool(status.get("paperPresent", True)),
        is_cover_open=bool(status.get("coverOpened", False)),
        clock=as_time(field(status, "currentDateTime"), "currentDateTime", zone),
        last_fd=last_fd(fn),
    )


def ledger_state(
    fn_serial: str,
    device: dict[str, Any] | None,
    shift: dict[str, Any] | None,
    fn: dict[str, Any] | None,
    zone: tzinfo | None,
) -> LedgerState:
    """What a receipt's intent needs, from the same three reads as :func:`register_state`."""
    state = register_state(device, shift, fn, zone)
    return LedgerState(
        fn_serial=fn_serial,
        last_fd=state.last_fd,
        shift=state.shift,
        shift_number=state.shift_number,
        is_receipt_open=False,
        clock=state.clock,
    )


_FN_WARNINGS: Final = {
    "needReplacement": FnWarning.URGENT_REPLACEMENT,
    "resourceExhausted": FnWarning.RESOURCE_ENDING,
    "memoryOverflow": FnWarning.MEMORY_90_PERCENT,
    "ofdTimeout": FnWarning.OFD_TIMEOUT,
    "criticalError": FnWarning.CRITICAL,
}


def fn_state(
    info: dict[str, Any] | None,
    fn: dict[str, Any] | None,
    ofd: dict[str, Any] | None,
    zone: tzinfo | None,
) -> FnState:
    """``getFnInfo`` + ``getFnStatus`` + ``ofdExchangeStatus`` as one FnState."""
    fn_info = as_dict(field(info, "fnInfo"), "fnInfo")
    flags = FnWarning(0)
    warnings = fn_info.get("warnings")
    if isinstance(warnings, dict):
        for key, flag in _FN_WARNINGS.items():
            if warnings.get(key):
                flags |= flag
    unsent, oldest = ofd_backlog(ofd, zone)
    validity = _optional(fn_info, "validityDate")
    return FnState(
        serial=as_str(field(fn_info, "serial"), "fnInfo.serial"),
        last_fd=last_fd(fn),
        valid_until=None if validity is None else as_date(validity, "validityDate"),
        unsent_docs=unsent,
        oldest_unsent_at=oldest,
        warnings=flags,
    )


def ofd_backlog(ofd: dict[str, Any] | None, zone: tzinfo | None) -> tuple[int, datetime | None]:
    """``ofdExchangeStatus``: documents not yet sent to the OFD, and the first one's time."""
    status = as_dict(field(ofd, "status"), "status")
    unsent = as_int(status.get("notSentCount", 0) or 0, "notSentCount")
    oldest = _optional(status, "notSentFirstDocDateTime")
    if oldest is None or unsent == 0:
        return unsent, None
    return unsent, as_time(oldest, "notSentFirstDocDateTime", zone)


def device_info(device: dict[str, Any] | None, fn_info: dict[str, Any] | None) -> DeviceInfo:
    """``getDeviceInfo`` + ``getFnInfo``: model, serial, FN serial.

    No clock zone: ATOL's times carry their offset.
    """
    info = as_dict(field(device, "deviceInfo"), "deviceInfo")
    model = info.get("modelName") or f"ATOL model {info.get('model', '?')}"
    return DeviceInfo(
        model=as_str(model, "deviceInfo.modelName"),
        serial=as_str(info.get("serial", ""), "deviceInfo.serial"),
        fn_serial=as_str(field(fn_info, "fnInfo", "serial"), "fnInfo.serial"),
    )


def _payment_totals(receipts: dict[str, Any], kind: str) -> PaymentTotals:
    totals = as_dict(field(receipts, kind), f"receipts.{kind}")
    payments = as_dict(totals.get("payments", {}), f"receipts.{kind}.payments")
    return PaymentTotals(
        cash=as_kopecks(payments.get("cash", 0), "cash"),
        card=as_kopecks(payments.get("electronically", 0), "electronically"),
        prepaid=as_kopecks(payments.get("prepaid", 0), "prepaid"),
        count=as_int(totals.get("count", 0), f"receipts.{kind}.count"),
    )


def _vat_by_rate(receipts: dict[str, Any], kind: str) -> dict[VatRate, Kopecks]:
    """``receipts.<kind>.taxes``: VAT by ATOL tax type; empty (not read) when it is absent.

    A rate the register lists is read (0 included); a tax type the agent does not know is
    left out. With ``taxes`` present, a rate it does not list had no turnover: 0.
    """
    taxes = as_dict(field(receipts, kind), f"receipts.{kind}").get("taxes")
    if taxes is None:
        return {}
    taxes = as_dict(taxes, f"receipts.{kind}.taxes")
    out: dict[VatRate, Kopecks] = {rate: Kopecks(0) for rate in VAT_TYPES}
    for rate, name in VAT_TYPES.items():
        entry = taxes.get(name)
        if entry is not None:
            vat = as_dict(entry, f"taxes.{name}").get("sum", 0)
            out[rate] = as_kopecks(vat, f"taxes.{name}.sum")
    return out


def shift_counters(result: dict[str, Any] | None) -> ShiftCounters:
    """``getShiftTotals`` as ShiftCounters (docs/atol-driver.md §4.5).

    ``{"shiftTotals": {"shiftNumber", "cashDrawer": {"sum"}, "income": {"sum"},
    "outcome": {"sum"}, "receipts": {"sell"|"sellReturn": {"count", "sum", "payments":
    {"cash", "electronically", "prepaid", ...}, "taxes"?: {"vat22": {"sum", "turnover"},
    ...}}}}}``. Without ``taxes`` the VAT maps are empty: "not read", never 0
    (:class:`~agent.drivers.interface.ShiftCounters`). The shape is *unconfirmed on real
    hardware*.
    """
    totals = as_dict(field(result, "shiftTotals"), "shiftTotals")
    receipts = as_dict(field(totals, "receipts"), "shiftTotals.receipts")
    return ShiftCounters(
        shift=as_int(field(totals, "shiftNumber"), "shiftTotals.shiftNumber"),
        sales=_payment_totals(receipts, "sell"),
        refunds=_payment_totals(receipts, "sellReturn"),
        cash_in=as_kopecks(field(totals, "income", "sum"), "income.sum"),
        cash_out=as_kopecks(field(totals, "outcome", "sum"), "outcome.sum"),
        cash_in_drawer=as_kopecks(field(totals, "cashDrawer", "sum"), "cashDrawer.sum"),
        sales_vat=_vat_by_rate(receipts, "sell"),
        refunds_vat=_vat_by_rate(receipts, "sellReturn"),
    )


def cash_movement(result: dict[str, Any] | None) -> CashMovement:
    """``cashIn``/``cashOut``: ``{"counters": {"cashSum"}}``, the drawer after it.

    ATOL gives the movement no number: ``number`` is 0.
    """
    return CashMovement(
        number=0, cash_in_drawer=as_kopecks(field(result, "counters", "cashSum"), "cashSum")
    )
