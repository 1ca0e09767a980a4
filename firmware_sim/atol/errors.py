"""ATOL driver error codes the simulated web server answers with (docs/atol-web-notes.md §5).

A task's error is ``{"code": N, "description": "..."}``; clients match on the code, the
Russian text only helps a reader. Neutral refusals of the register model map to codes here.
"""

from __future__ import annotations

from enum import IntEnum

from firmware_sim.register import Reason

__all__ = ["BLOCKING_CODES", "AtolCode", "AtolError", "code_for", "description"]


class AtolCode(IntEnum):
    """The driver error codes the simulator uses."""

    OK = 0
    NO_CONNECTION = 2
    INVALID_SUM = 16
    INVALID_QUANTITY = 17
    NO_PAPER = 44
    COVER_OPENED = 45
    NONCASH_PAYMENTS_TOO_MUCH = 52
    BUSY = 55
    NOT_FULLY_PAID = 66
    SHIFT_EXPIRED = 68
    DENIED_IN_CLOSED_SHIFT = 73
    NO_CASH = 80
    DENIED_IN_OPENED_RECEIPT = 82
    DENIED_IN_OPENED_SHIFT = 83
    FN_EXPIRED = 120
    FN_TOTAL_OVERFLOW = 124
    INVALID_TAXATION_TYPE = 143
    INVALID_TAX_TYPE = 144
    RECEIPT_PARSE_ERROR = 501
    INTERRUPTED_BY_PREVIOUS_ERRORS = 502
    CANCELED = 503


_DESCRIPTIONS: dict[int, str] = {
    0: "Ошибок нет",
    2: "Нет связи",
    16: "Неверная цена (сумма)",
    17: "Неверное количество",
    44: "Нет бумаги",
    45: "Открыта крышка",
    52: "Сумма безналичных оплат превышает сумму чека",
    55: "Предыдущая операция не завершена",
    66: "Чек оплачен не полностью",
    68: "Смена превысила 24 часа",
    73: "Операция невозможна в закрытой смене",
    80: "Недостаточно наличных в кассе",
    82: "Операция невозможна в открытом чеке",
    83: "Операция невозможна в открытой смене",
    120: "Исчерпан ресурс ФН",
    124: "Переполнение итога чека",
    143: "Неверная система налогообложения",
    144: "Неверный тип налога",
    501: "Ошибка разбора задания",
    502: "Выполнение прервано из-за предыдущих ошибок",
    503: "Задание отменено",
}

BLOCKING_CODES = frozenset({1, 2, 3, 4, 15, *range(115, 123), 124, *range(133, 139), 141, 142})
"""Codes after which the outcome of a fiscal task is unknown: the queue blocks (§6)."""

_BY_REASON: dict[Reason, AtolCode] = {
    Reason.PAPER_OUT: AtolCode.NO_PAPER,
    Reason.COVER_OPEN: AtolCode.COVER_OPENED,
    Reason.PRINTING: AtolCode.BUSY,
    Reason.SHIFT_CLOSED: AtolCode.DENIED_IN_CLOSED_SHIFT,
    Reason.SHIFT_OPEN: AtolCode.DENIED_IN_OPENED_SHIFT,
    Reason.SHIFT_EXPIRED: AtolCode.SHIFT_EXPIRED,
    Reason.RECEIPT_OPEN: AtolCode.DENIED_IN_OPENED_RECEIPT,
    Reason.NO_RECEIPT: AtolCode.RECEIPT_PARSE_ERROR,
    Reason.WRONG_RECEIPT_KIND: AtolCode.DENIED_IN_OPENED_RECEIPT,
    Reason.ZERO_TOTAL: AtolCode.INVALID_SUM,
    Reason.UNDERPAID: AtolCode.NOT_FULLY_PAID,
    Reason.NON_CASH_ABOVE_TOTAL: AtolCode.NONCASH_PAYMENTS_TOO_MUCH,
    Reason.NOT_ENOUGH_CASH: AtolCode.NO_CASH,
    Reason.TOTAL_OVERFLOW: AtolCode.FN_TOTAL_OVERFLOW,
    Reason.BAD_PARAMETERS: AtolCode.RECEIPT_PARSE_ERROR,
    Reason.FN_EXPIRED: AtolCode.FN_EXPIRED,
    Reason.NO_DOCUMENT: AtolCode.RECEIPT_PARSE_ERROR,
}


def description(code: int) -> str:
    """The text the simulator puts next to ``code``."""
    return _DESCRIPTIONS.get(code, f"Ошибка {code}")


def code_for(reason: Reason) -> AtolCode:
    """The ATOL code for a neutral refusal of the register model."""
    return _BY_REASON[reason]


class AtolError(Exception):
    """A task failed with an ATOL driver error code."""

    def __init__(self, code: int, text: str | None = None) -> None:
        self.code = code
        self.description = text or description(code)
        super().__init__(f"ATOL error {code}: {self.description}")

    def as_json(self) -> dict[str, object]:
        """``{"code", "description"}`` as a result entry carries it."""
        return {"code": self.code, "description": self.description}
