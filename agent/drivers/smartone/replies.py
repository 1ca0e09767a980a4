"""SmartOne replies, read into frozen dataclasses. Pure (docs/smartone-notes.md §5-§6).

A reply is plain JSON: ``status`` (``"success"``/``"error"``), ``code`` (0 = ok), an optional
``message`` and the route's fields. :func:`reply_status` splits off the code; the readers
below take a successful reply's fields. A field that is present with the wrong type raises
:class:`MalformedReply`; an optional field that is absent is None.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

__all__ = [
    "CashReply",
    "DocumentReply",
    "InfoReply",
    "MalformedReply",
    "ShiftReply",
    "ShiftTotals",
    "VatAmount",
    "cash_reply",
    "document_reply",
    "info_reply",
    "parse_time",
    "reply_status",
    "shift_reply",
    "shift_totals",
]

_TIME_FORMATS: Final = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M")
SERIAL_KEYS: Final = ("serialNumber", "serial", "factoryNumber", "cashboxSerial")
"""Where ``/get_info`` may carry the cashbox's serial: its fields are unconfirmed, so these
are guesses tried in order (docs/smartone-notes.md §6.6)."""


class MalformedReply(ValueError):
    """A reply that is not the JSON object the route answers with."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DocumentReply:
    """``/sale``, ``/refund`` and ``/check_status``: one document's state."""

    document_id: int | None
    document_ext_id: str | None
    fiscal_id: str | None
    fiscal_num: str | None
    fiscal_url: str | None
    doc_time: datetime | None  # naive: the cashbox's wall clock
    print_time: datetime | None
    doc_status: int | None  # 1 closed (fiscalised), 0 open, -1 none
    print_error: int
    payments: tuple[tuple[str, int], ...]  # totalPayments: (code, amount)

    @property
    def is_closed(self) -> bool:
        """Fiscalised: ``docStatus`` 1 (a reply without one but with a fiscalID counts too)."""
        if self.doc_status is None:
            return self.fiscal_id is not None
        return self.doc_status == 1


@dataclass(frozen=True, slots=True, kw_only=True)
class ShiftReply:
    """``/check_shift``: the shift and the drawer."""

    is_open: bool
    shift_id: int | None
    shift_status: int | None  # 1 open, 2 closed
    open_at: datetime | None
    cash: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class VatAmount:
    """One entry of ``saleVatAmounts`` / ``moneyBackVatAmounts``."""

    percent: int  # hundredths of a percent: 1800 = 18 %
    amount: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ShiftTotals:
    """``/x_report`` and ``/close_shift``: the shift's counters (absent ones are 0)."""

    shift_id: int | None
    fiscal_shift_id: str | None
    fiscal_shift_num: str | None
    open_at: datetime | None
    cash: int
    sale_count: int
    sale_sum: int
    sale_cash_sum: int
    sale_cashless_sum: int
    sale_vat: tuple[VatAmount, ...]
    deposit_sum: int
    withdraw_sum: int
    money_back_count: int
    money_back_sum: int
    money_back_cash_sum: int
    money_back_cashless_sum: int
    money_back_vat: tuple[VatAmount, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class CashReply:
    """``/deposit`` and ``/withdraw``."""

    document_id: int | None
    fiscal_id: str | None
    fiscal_num: str | None
    cash: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class InfoReply:
    """``/get_info`` (fields unconfirmed): the serial when one of :data:`SERIAL_KEYS` has it."""

    serial: str | None
    model: str | None


def reply_status(body: object) -> tuple[int, str]:
    """``(code, message)`` of a reply: (0, "") for success.

    ``status: "error"`` with no code (or code 0) is malformed: an error needs its number.
    """
    reply = _object(body)
    code = _opt_int(reply, "code") or 0
    message = reply.get("message")
    text = message if isinstance(message, str) else ""
    if reply.get("status") == "error" and code == 0:
        raise MalformedReply(f"status error without a code: {text or reply!r}"[:200])
    return code, text


def document_reply(body: object) -> DocumentReply:
    """A document reply's fields."""
    reply = _object(body)
    payments = []
    for entry in _list(reply, "totalPayments"):
        row = _object(entry)
        kind = row.get("code", row.get("type", ""))
        payments.append((str(kind), _opt_int(row, "amount") or 0))
    return DocumentReply(
        document_id=_opt_int(reply, "documentID"),
        document_ext_id=_opt_str(reply, "documentExtID"),
        fiscal_id=_opt_str(reply, "fiscalID"),
        fiscal_num=_opt_str(reply, "fiscalNum"),
        fiscal_url=_opt_str(reply, "fiscalUrl"),
        doc_time=_opt_time(reply, "docTime"),
        print_time=_opt_time(reply, "printTime"),
        doc_status=_opt_int(reply, "docStatus"),
        print_error=_opt_int(reply, "printError") or 0,
        payments=tuple(payments),
    )


def shift_reply(body: object) -> ShiftReply:
    """``/check_shift``: ``isShiftOpen`` is the string "true"/"True" (any case), or a bool."""
    reply = _object(body)
    flag = reply.get("isShiftOpen")
    status = _opt_int(reply, "shiftStatus")
    if isinstance(flag, bool):
        is_open = flag
    elif isinstance(flag, str) and flag.strip().casefold() in ("true", "false"):
        is_open = flag.strip().casefold() == "true"
    elif flag is None and status is not None:
        is_open = status == 1
    else:
        raise MalformedReply(f"isShiftOpen is {flag!r}, not 'true' or 'false'")
    return ShiftReply(
        is_open=is_open,
        shift_id=_opt_int(reply, "shiftID"),
        shift_status=status,
        open_at=_opt_time(reply, "shiftOpenAt"),
        cash=_opt_int(reply, "cash"),
    )


def shift_totals(body: object) -> ShiftTotals:
    """An X or Z report's counters."""
    reply = _object(body)

    def count(key: str) -> int:
        return _opt_int(reply, key) or 0

    return ShiftTotals(
        shift_id=_opt_int(reply, "shiftID"),
        fiscal_shift_id=_opt_str(reply, "fiscalShiftID"),
        fiscal_shift_num=_opt_str(reply, "fiscalShiftNum"),
        open_at=_opt_time(reply, "shiftOpenAt"),
        cash=count("cash"),
        sale_count=count("saleCount"),
        sale_sum=count("saleSum"),
        sale_cash_sum=count("saleCashSum"),
        sale_cashless_sum=count("saleCashlessSum"),
        sale_vat=_vat_amounts(reply, "saleVatAmounts"),
        deposit_sum=count("depositSum"),
        withdraw_sum=count("withdrawSum"),
        money_back_count=count("moneyBackCount"),
        money_back_sum=count("moneyBackSum"),
        money_back_cash_sum=count("moneyBackCashSum"),
        money_back_cashless_sum=count("moneyBackCashlessSum"),
        money_back_vat=_vat_amounts(reply, "moneyBackVatAmounts"),
    )


def cash_reply(body: object) -> CashReply:
    """A cash movement's reply."""
    reply = _object(body)
    return CashReply(
        document_id=_opt_int(reply, "documentID"),
        fiscal_id=_opt_str(reply, "fiscalID"),
        fiscal_num=_opt_str(reply, "fiscalNum"),
        cash=_opt_int(reply, "cash"),
    )


def info_reply(body: object) -> InfoReply:
    """``/get_info``: the first non-empty serial of :data:`SERIAL_KEYS`, and a model name."""
    reply = _object(body)
    serial = next((value for key in SERIAL_KEYS if (value := _opt_str(reply, key))), None)
    return InfoReply(serial=serial, model=_opt_str(reply, "model"))


def parse_time(text: str) -> datetime:
    """``yyyy-MM-dd HH:mm:ss`` (documents) or ``yyyy-MM-dd HH:mm`` (x_report), naive."""
    for layout in _TIME_FORMATS:
        try:
            return datetime.strptime(text.strip(), layout)  # noqa: DTZ007 - the cashbox's wall clock
        except ValueError:
            continue
    raise MalformedReply(f"time {text!r} is not yyyy-MM-dd HH:mm[:ss]")


def _object(value: object) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise MalformedReply(f"expected a JSON object, got {type(value).__name__}")
    return value


def _list(reply: Mapping[str, Any], key: str) -> list[Any]:
    value = reply.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise MalformedReply(f"{key} is {value!r}, not a list")
    return value


def _opt_int(reply: Mapping[str, Any], key: str) -> int | None:
    """An integer, also one written as a string of digits (one old table types them String)."""
    value = reply.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise MalformedReply(f"{key} is {value!r}, not an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    raise MalformedReply(f"{key} is {value!r}, not an integer")


def _opt_str(reply: Mapping[str, Any], key: str) -> str | None:
    value = reply.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise MalformedReply(f"{key} is {value!r}, not a string")
    return str(value)


def _opt_time(reply: Mapping[str, Any], key: str) -> datetime | None:
    value = _opt_str(reply, key)
    return None if value is None else parse_time(value)


def _vat_amounts(reply: Mapping[str, Any], key: str) -> tuple[VatAmount, ...]:
    amounts = []
    for entry in _list(reply, key):
        row = _object(entry)
        percent, amount = _percent(row.get("vatPercent")), _opt_int(row, "vatAmount")
        if percent is None or amount is None:
            raise MalformedReply(f"{key} entry {row!r} lacks vatPercent or vatAmount")
        amounts.append(VatAmount(percent=percent, amount=amount))
    return tuple(amounts)


def _percent(value: object) -> int | None:
    """``vatPercent`` in hundredths: 1800 as sent, or 18 / 18.0 / "18" as a whole percent.

    Its scale is unconfirmed (requests carry x100); a value up to 100, or one with a
    fraction, is read as a plain percent, anything larger as hundredths already.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip()) if "." in value else int(value.strip())
        except ValueError:
            return None
    if isinstance(value, float):
        return round(value * 100)
    if isinstance(value, int):
        return value * 100 if 0 < value <= 100 else value
    return None
