"""Run one ATOL JSON task on the register model and build its result (docs/atol-web-notes.md).

Pure: the caller passes the host time. :func:`run_task` returns the task's ``result`` object
(None for tasks without one) or raises :class:`AtolError`; a refusal of the model becomes its
ATOL code. Nothing changes in the register when a task fails.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from firmware_sim.atol.errors import AtolCode, AtolError, code_for
from firmware_sim.atol.receipt_task import kopecks, parse_receipt, tags_of
from firmware_sim.atol.results import document_tlv, fiscal_params, money, shift_status
from firmware_sim.atol.totals import ofd_exchange_status, shift_totals
from firmware_sim.register import Register, RegisterRefusal, ShiftState

__all__ = ["FISCAL_TASKS", "MODEL_CODES", "TASK_TYPES", "run_task"]

FISCAL_TASKS = frozenset(
    {
        "openShift",
        "closeShift",
        "sell",
        "buy",
        "sellReturn",
        "buyReturn",
        "sellCorrection",
        "buyCorrection",
        "sellReturnCorrection",
        "buyReturnCorrection",
        "reportOfdExchangeStatus",
        "registration",
        "fnChange",
        "changeRegistrationParameters",
        "closeArchive",
    }
)
"""Tasks ATOL's server counts as fiscal: one per request, and they block the queue (§2.5)."""

MODEL_CODES = {62: "АТОЛ 55Ф", 69: "АТОЛ 77Ф", 82: "АТОЛ 91Ф", 84: "АТОЛ 92Ф"}
DEFAULT_MODEL = 69
FFD = "1.2"


def _receipt(register: Register, task: dict[str, Any], now: datetime) -> dict[str, Any]:
    order = parse_receipt(task, register.config.tax_rates)
    doc = register.issue_receipt(
        now,
        kind=order.kind,
        items=order.items,
        payments=order.payments,
        tax_system=order.tax_system,
        tags=order.tags,
        is_correction=order.is_correction,
    )
    return {"fiscalParams": fiscal_params(register, doc), "warnings": {"notPrinted": False}}


def _open_shift(register: Register, task: dict[str, Any], now: datetime) -> dict[str, Any]:
    doc = register.open_shift(now, tags_of(task))
    return {"fiscalParams": fiscal_params(register, doc), "warnings": {"notPrinted": False}}


def _close_shift(register: Register, task: dict[str, Any], now: datetime) -> dict[str, Any]:
    doc = register.close_shift(now, tags_of(task))
    return {"fiscalParams": fiscal_params(register, doc), "warnings": {"notPrinted": False}}


def _report_x(register: Register, _task: dict[str, Any], now: datetime) -> None:
    register.x_report(now)


def _cash(register: Register, task: dict[str, Any], now: datetime) -> dict[str, Any]:
    amount = kopecks(task.get("cashSum"), what="cashSum")
    if task["type"] == "cashIn":
        register.cash_in(now, amount)
    else:
        register.cash_out(now, amount)
    return {"counters": {"cashSum": money(register.cash_in_drawer)}}


def _open_drawer(register: Register, _task: dict[str, Any], now: datetime) -> None:
    register.open_drawer(now)


def _continue_print(register: Register, _task: dict[str, Any], now: datetime) -> None:
    register.continue_print(now)


def _shift_status(register: Register, _task: dict[str, Any], now: datetime) -> dict[str, Any]:
    return {"shiftStatus": shift_status(register.shift_status(now))}


def _device_status(register: Register, _task: dict[str, Any], now: datetime) -> dict[str, Any]:
    status = register.shift_status(now)
    return {
        "deviceStatus": {
            "currentDateTime": status.clock.isoformat(),
            "shift": status.state.value,
            "blocked": False,
            "coverOpened": register.is_cover_open,
            "paperPresent": register.has_paper,
            "fiscal": True,
            "fnFiscal": True,
            "fnPresent": True,
            "cashDrawerOpened": False,
        }
    }


def _device_info(register: Register, _task: dict[str, Any], _now: datetime) -> dict[str, Any]:
    return {
        "deviceInfo": {
            "model": DEFAULT_MODEL,
            "modelName": MODEL_CODES[DEFAULT_MODEL],
            "serial": register.config.serial,
            "firmwareVersion": "5.8.100",
            "configurationVersion": "5.8.100",
            "receiptLineLength": 48,
            "receiptLineLengthPix": 576,
            "ffdVersion": FFD,
            "fnFfdVersion": FFD,
        }
    }


def _fn_info(register: Register, _task: dict[str, Any], now: datetime) -> dict[str, Any]:
    clock = register.clock(now)
    expired = clock.date() > register.config.fn_valid_until
    return {
        "fnInfo": {
            "serial": register.config.fn_serial,
            "version": "fn v 2.13",
            "execution": "fn-2",
            "numberOfRegistrations": 1,
            "registrationsRemaining": 29,
            "validityDate": register.config.fn_valid_until.isoformat(),
            "ffdVersion": FFD,
            "fnFfdVersion": FFD,
            "livePhase": "fiscalMode",
            "warnings": {
                "memoryOverflow": False,
                "needReplacement": expired,
                "ofdTimeout": False,
                "resourceExhausted": expired,
                "criticalError": False,
            },
        }
    }


def _fn_status(register: Register, _task: dict[str, Any], now: datetime) -> dict[str, Any]:
    register.clock(now)
    last_receipt = register.last_document(receipt_only=True)
    status = register.shift_status(now)
    return {
        "fnStatus": {
            "fiscalDocumentNumber": register.last_fd,
            "fiscalReceiptNumber": status.receipts if last_receipt else 0,
            "shiftNumber": status.number,
            "shiftState": status.state.value,
            "warnings": {"needReplacement": False, "memoryOverflow": False},
        }
    }


def _last_fiscal_params(register: Register, task: dict[str, Any], now: datetime) -> dict[str, Any]:
    register.clock(now)
    doc = register.last_document(receipt_only=bool(task.get("forReceipt", False)))
    if doc is None:
        raise AtolError(AtolCode.RECEIPT_PARSE_ERROR, "no fiscal document yet")
    return {"fiscalParams": fiscal_params(register, doc)}


def _fn_document(register: Register, task: dict[str, Any], now: datetime) -> dict[str, Any]:
    register.clock(now)
    number = task.get("fiscalDocumentNumber")
    if isinstance(number, bool) or not isinstance(number, int):
        raise AtolError(AtolCode.RECEIPT_PARSE_ERROR, "fiscalDocumentNumber must be a number")
    doc = register.document(number)
    if doc is None:
        raise AtolError(AtolCode.RECEIPT_PARSE_ERROR, f"no fiscal document {number}")
    return {"documentTLV": document_tlv(register, doc)}


def _shift_totals(register: Register, _task: dict[str, Any], now: datetime) -> dict[str, Any]:
    return shift_totals(register, now)


def _ofd_status(register: Register, _task: dict[str, Any], now: datetime) -> dict[str, Any]:
    return ofd_exchange_status(register, now)


_Handler = Any
_TASKS: dict[str, _Handler] = {
    "sell": _receipt,
    "sellReturn": _receipt,
    "sellCorrection": _receipt,
    "sellReturnCorrection": _receipt,
    "openShift": _open_shift,
    "closeShift": _close_shift,
    "reportX": _report_x,
    "cashIn": _cash,
    "cashOut": _cash,
    "openCashDrawer": _open_drawer,
    "continuePrint": _continue_print,
    "getShiftStatus": _shift_status,
    "getDeviceStatus": _device_status,
    "getDeviceInfo": _device_info,
    "getFnInfo": _fn_info,
    "getFnStatus": _fn_status,
    "getLastFiscalParams": _last_fiscal_params,
    "getFnDocument": _fn_document,
    "getShiftTotals": _shift_totals,
    "ofdExchangeStatus": _ofd_status,
}
TASK_TYPES = frozenset(_TASKS)


def run_task(register: Register, task: dict[str, Any], now: datetime) -> dict[str, Any] | None:
    """Run ``task`` on ``register`` at host time ``now``; its ``result``, or AtolError."""
    handler = _TASKS.get(str(task.get("type")))
    if handler is None:
        raise AtolError(AtolCode.RECEIPT_PARSE_ERROR, f"task type {task.get('type')!r}")
    register.ensure_registered(now)
    try:
        result: dict[str, Any] | None = handler(register, task, now)
    except RegisterRefusal as refusal:
        raise AtolError(code_for(refusal.reason)) from refusal
    return result


def is_expired(register: Register, now: datetime) -> bool:
    """Whether the open shift is past 24 hours (``state: "expired"``)."""
    return register.shift_status(now).state is ShiftState.EXPIRED
