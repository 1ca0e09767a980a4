"""The cash box's shift routes and ``/get_info`` (no I/O).

``/open_shift``, ``/check_shift``, ``/x_report``, ``/close_shift``.
There is no automatic shift open: a sale in a closed shift answers 6. ``/close_shift``
refuses with 27 while the drawer holds cash and with 26 after a shift with no sale, refund,
deposit or withdraw, each while its setting is on (both are on by default).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from firmware_sim.register import RegisterRefusal, ShiftState
from firmware_sim.smartone.cashbox import CURRENCY, CashBox, format_time
from firmware_sim.smartone.codes import SmartOneCode, SmartOneError, code_for, reply
from firmware_sim.smartone.counters import shift_counters
from firmware_sim.state import DocumentTags

__all__ = ["check_shift", "close_shift", "get_info", "open_shift", "x_report"]

MODEL = "SmartOne Cashbox (firmware-sim)"


def _employee(payload: Mapping[str, Any]) -> DocumentTags:
    name = payload.get("employeeName")
    return DocumentTags(cashier=name if isinstance(name, str) and name else None)


def _open_shift_fields(box: CashBox) -> dict[str, Any]:
    status = box.register.shift_status(box.now())
    if status.opened_at is None:
        raise SmartOneError(SmartOneCode.SHIFT_NOT_OPEN, "shift not open")
    return {
        "shiftID": status.number,
        "shiftOpenAt": format_time(status.opened_at),
        "cash": box.register.cash_in_drawer,
    }


def open_shift(box: CashBox, payload: Mapping[str, Any]) -> dict[str, Any]:
    """Open a shift; on an open one, answer with it (the simulator's choice: unconfirmed)."""
    status = box.register.shift_status(box.now())
    if status.opened_at is None:
        try:
            box.register.open_shift(box.now(), _employee(payload))
        except RegisterRefusal as exc:
            raise SmartOneError(code_for(exc.reason), exc.message) from exc
        box.save_state()
    return reply(**_open_shift_fields(box))


def check_shift(box: CashBox, _payload: Mapping[str, Any]) -> dict[str, Any]:
    """``isShiftOpen`` as the string "true"/"false", ``shiftStatus`` 1 open / 2 closed."""
    status = box.register.shift_status(box.now())
    is_open = status.state is not ShiftState.CLOSED
    return reply(
        isShiftOpen="true" if is_open else "false",
        shiftStatus=1 if is_open else 2,
        shiftID=status.number,
        shiftOpenAt=None if status.opened_at is None else format_time(status.opened_at),
        cash=box.register.cash_in_drawer,
    )


def _check_shift_id(box: CashBox, payload: Mapping[str, Any]) -> dict[str, Any]:
    fields = _open_shift_fields(box)
    wanted = payload.get("shiftID")
    if wanted is not None and wanted != fields["shiftID"]:
        raise SmartOneError(SmartOneCode.SHIFT_NOT_OPEN, f"shift {wanted} is not the open one")
    return fields


def x_report(box: CashBox, payload: Mapping[str, Any]) -> dict[str, Any]:
    """The open shift's counters (``shiftID``, when given, must be the open shift: else 6)."""
    fields = _check_shift_id(box, payload)
    try:
        box.register.x_report(box.now())
    except RegisterRefusal as exc:
        raise SmartOneError(code_for(exc.reason), exc.message) from exc
    box.save_state()
    return reply(**fields, **shift_counters(box.shift_records()), currency_name=CURRENCY)


def close_shift(box: CashBox, payload: Mapping[str, Any]) -> dict[str, Any]:
    """The Z report: refused with 27 (cash in the drawer) or 26 (no transactions) if set so."""
    fields = _open_shift_fields(box)
    records = box.shift_records()
    if box.settings.refuse_z_with_cash and box.register.cash_in_drawer > 0:
        raise SmartOneError(
            SmartOneCode.CLOSE_CASH_IN_DRAWER,
            f"collect the cash first (/withdraw {box.register.cash_in_drawer})",
        )
    if box.settings.refuse_empty_z and not records:
        raise SmartOneError(SmartOneCode.CLOSE_NO_TRANSACTIONS, "no transactions in the shift")
    counters = shift_counters(records)
    try:
        doc = box.register.close_shift(box.now(), _employee(payload))
    except RegisterRefusal as exc:
        raise SmartOneError(code_for(exc.reason), exc.message) from exc
    box.save_state()
    return reply(
        **fields,
        fiscalShiftID=f"Z{doc.shift:06d}",
        fiscalShiftNum=str(doc.fd),
        **counters,
        currency_name=CURRENCY,
    )


def get_info(box: CashBox, _payload: Mapping[str, Any]) -> dict[str, Any]:
    """The simulator's choice of fields: the real ``/get_info`` fields are unconfirmed."""
    config = box.register.config
    status = box.register.shift_status(box.now())
    return reply(
        serialNumber=config.serial,
        tokenSerialNumber=config.fn_serial,
        model=MODEL,
        merchantId=box.settings.masked_merchant_id,
        isShiftOpen="true" if status.state is not ShiftState.CLOSED else "false",
        shiftID=status.number,
        lastDocumentID=max(box.records, default=0),
        currency_name=CURRENCY,
    )
