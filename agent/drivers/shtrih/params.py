"""The Shtrih-M driver's parameters: passwords, the tax table, the zone and every timeout."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import tzinfo
from types import MappingProxyType
from typing import Final

from agent.domain.country import RU
from agent.domain.receipt import VatRate
from agent.drivers.shtrih.commands import Command
from agent.drivers.shtrih.link import (
    ACK_TIMEOUT_S,
    BYTE_TIMEOUT_S,
    ENQ_ATTEMPTS,
    ENQ_TIMEOUT_S,
    MAX_BAD_ANSWERS,
    MAX_SENDS,
    LinkTimeouts,
)

__all__ = [
    "ANSWER_TIMEOUT_S",
    "DEFAULT_ANSWER_TIMEOUT_S",
    "DEFAULT_TAX_RATE_INDEX",
    "FRAME_LOG_SIZE",
    "PAYMENT_TYPE_CARD",
    "PAYMENT_TYPE_CASH",
    "PAYMENT_TYPE_PREPAID",
    "PRINT_POLL_INTERVAL_S",
    "PRINT_WAIT_S",
    "SHIFT_SCAN_LIMIT",
    "DriverParams",
]

DEFAULT_ANSWER_TIMEOUT_S: Final = 30.0
"""Answer timeout of a command the table below does not name (JavaPOS default, §1.4)."""
ANSWER_TIMEOUT_S: Final[Mapping[int, float]] = MappingProxyType(
    {
        Command.READ_SHORT_STATUS: 3.0,
        Command.READ_STATUS: 3.0,
        Command.PRINT_X_REPORT: 30.0,
        Command.PRINT_Z_REPORT: 65.0,
        Command.OPEN_SHIFT: 120.0,
    }
)
"""Per-command answer timeouts in seconds (JavaPOS ``PrinterCommand.getDefaultTimeout``)."""
PRINT_WAIT_S: Final = 60.0
"""How long the driver waits for the register to finish printing before PrinterBusy."""
PRINT_POLL_INTERVAL_S: Final = 0.1
"""Pause between two 0x10 polls while the register prints."""
FRAME_LOG_SIZE: Final = 32
"""Link traffic entries kept for the ERROR log of a link failure."""
SHIFT_SCAN_LIMIT: Final = 5000
"""Documents :meth:`ShtrihDriver.shift_open_document` reads back before it gives up."""

PAYMENT_TYPE_CASH: Final = 1
"""FF45 payment type of cash (§2.8)."""
PAYMENT_TYPE_CARD: Final = 2
"""FF45 payment type of electronic payments (card, SBP)."""
PAYMENT_TYPE_PREPAID: Final = 14
"""FF45 payment type of an offset advance (tag 1215)."""

DEFAULT_TAX_RATE_INDEX: Final[Mapping[VatRate, int]] = MappingProxyType(
    {
        VatRate.VAT22: 1,
        VatRate.VAT10: 2,
        VatRate.VAT0: 3,
        VatRate.NONE: 4,
        VatRate.VAT22_122: 5,
        VatRate.VAT10_110: 6,
        VatRate.VAT5: 7,
        VatRate.VAT7: 8,
        VatRate.VAT5_105: 9,
        VatRate.VAT7_107: 10,
        VatRate.VAT20: 11,
        VatRate.VAT20_120: 12,
    }
)
"""FF46 tax-rate byte: the row of the register's tax table (table 6) for each VAT rate."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DriverParams:
    """Passwords, the tax table, the register's zone and every timeout of the driver.

    ``tz`` is the zone of the register's clock; ``None`` means "auto": the driver measures the
    register's offset from the host's UTC clock at connect (the host's zone until then).
    ``answer_timeout_s``, when set, replaces the whole per-command table (tests shrink it);
    ``answer_timeouts_s`` overrides single commands.
    """

    operator_password: int = 1
    sysadmin_password: int = 30
    tz: tzinfo | None = None
    tax_rate_index: Mapping[VatRate, int] = field(default_factory=lambda: DEFAULT_TAX_RATE_INDEX)
    department: int = 1
    byte_timeout_s: float = BYTE_TIMEOUT_S
    enq_timeout_s: float = ENQ_TIMEOUT_S
    ack_timeout_s: float = ACK_TIMEOUT_S
    enq_attempts: int = ENQ_ATTEMPTS
    max_sends: int = MAX_SENDS
    max_bad_answers: int = MAX_BAD_ANSWERS
    answer_timeout_s: float | None = None
    answer_timeouts_s: Mapping[int, float] = field(default_factory=dict)
    print_wait_s: float = PRINT_WAIT_S
    print_poll_interval_s: float = PRINT_POLL_INTERVAL_S
    frame_log_size: int = FRAME_LOG_SIZE
    shift_scan_limit: int = SHIFT_SCAN_LIMIT

    def __post_init__(self) -> None:
        for name in ("operator_password", "sysadmin_password"):
            value = getattr(self, name)
            if not 0 < value <= 0xFFFF_FFFF:
                msg = f"{name} must be a positive 4-byte number, got {value}"
                raise ValueError(msg)
        missing = [rate.code for rate in RU.vat_rates if rate not in self.tax_rate_index]
        if missing:
            msg = f"tax_rate_index has no row for {', '.join(missing)}"
            raise ValueError(msg)
        if any(not 0 < index <= 0xFF for index in self.tax_rate_index.values()):
            raise ValueError("tax_rate_index rows must be 1..255")
        if not 0 <= self.department <= 0xFF:
            raise ValueError("department must be 0..255")
        positive = [self.print_wait_s, self.print_poll_interval_s, *self.answer_timeouts_s.values()]
        if self.answer_timeout_s is not None:
            positive.append(self.answer_timeout_s)
        if any(value <= 0 for value in positive):
            raise ValueError("timeouts must be positive")
        if self.frame_log_size < 1 or self.shift_scan_limit < 1:
            raise ValueError("frame_log_size and shift_scan_limit must be at least 1")
        self.link_timeouts()  # validates the link's share

    def link_timeouts(self) -> LinkTimeouts:
        """The link machine's share of these params."""
        return LinkTimeouts(
            byte_timeout_s=self.byte_timeout_s,
            enq_timeout_s=self.enq_timeout_s,
            ack_timeout_s=self.ack_timeout_s,
            enq_attempts=self.enq_attempts,
            max_sends=self.max_sends,
            max_bad_answers=self.max_bad_answers,
        )

    def answer_timeout_for(self, command: int) -> float:
        """Seconds to wait for the answer to ``command`` once the register ACKed it."""
        if command in self.answer_timeouts_s:
            return self.answer_timeouts_s[command]
        if self.answer_timeout_s is not None:
            return self.answer_timeout_s
        return ANSWER_TIMEOUT_S.get(command, DEFAULT_ANSWER_TIMEOUT_S)
