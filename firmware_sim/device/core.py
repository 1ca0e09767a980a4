"""The Shtrih-M face of the register model: modes, passwords and Shtrih's checks.

:class:`DeviceCore` is the neutral :class:`~firmware_sim.register.Register` (state, clock,
FN tape, registers) plus what only Shtrih has; the command families are mixins on it
(``status``, ``shift``, ``receipts``, ``fn``, ``cash``, ``table_commands``) and
``machine`` dispatches to them. Neutral refusals the model raises are mapped to Shtrih error
codes in ``errors``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import Enum, IntEnum

from firmware_sim.commands import ErrorCode, Refusal, RequestReader
from firmware_sim.register import Register
from firmware_sim.register.core import MAX_MONEY
from firmware_sim.state import PAYMENT_TYPES, DeviceConfig, DeviceState, DocumentTags, ReceiptKind
from firmware_sim.vat import MAX_TAX_REGISTER

COMPUTE_AMOUNT = MAX_MONEY  # FF46 amount 0xFFFFFFFFFF: the device computes price x qty
QTY_FF46_SCALE = 1_000_000
QTY_CLASSIC_SCALE = 1_000
MAX_DEPARTMENT = 16
MAX_K_REGISTER = 4144 + 3 + 4 * (PAYMENT_TYPES - 5)
MAX_MONEY_REGISTER = max(MAX_K_REGISTER, MAX_TAX_REGISTER)
TAX_NOT_GIVEN = MAX_MONEY  # FF46 tax sum 0xFFFFFFFFFF: the host gives none
FN_LIFE_PHASE_WORKING = 3
TAX_SYSTEM_BITS = 0x3F  # b0 ОСН ... b5 ПСН (tag 1055)
OFD_TIMEOUT = timedelta(days=30)
ADMIN, SYSADMIN = 29, 30
DEVICE_TYPE_BYTES = bytes([0, 0, 1, 0, 250, 0])  # type, subtype, protocol 1.0, model, lang
# 0x10 bytes 7-14 as the real device in §1.2 sent them (battery, supply, legacy FP/EKLZ
# error fields, reserved); bytes 6 and 11 (operation count) are filled in.
BATTERY, SUPPLY, FP_ERROR, EKLZ_ERROR = 0x9F, 0xE5, 0x18, 0x01
SHORT_STATUS_RESERVED = bytes([0x92, 0x08, 0x00])
FLAGS_WITH_PAPER = 0x0292  # roll present (b1), 2 decimals (b4), optical sensor (b7), lever (b9)
PAPER_BITS = 0x0082
FIRMWARE = (b"C1", 3263, "240621")  # version chars, build, DDMMYY


class Mode(IntEnum):
    """Register modes the simulator enters (§2.4); the low nibble of the mode byte."""

    SHIFT_OPEN = 2
    SHIFT_EXPIRED = 3
    SHIFT_CLOSED = 4
    RECEIPT_OPEN = 8


class Submode(IntEnum):
    """Printer submodes 0…5 (§2.4); pyshtrih raises KeyError on anything else."""

    READY = 0
    PAPER_OUT_IDLE = 1
    PAPER_OUT_PRINTING = 2
    WAITING_CONTINUE = 3
    PRINTING = 5


class _PendingShift(Enum):
    OPEN = "open"  # FF41 sent: tags go to the next open-shift report
    CLOSE = "close"  # FF42 sent: tags go to the next close-shift report


class DeviceCore(Register):
    """The Shtrih-M face of the register: passwords, modes, submodes and Shtrih's checks.

    The state, the tape and the steps that change them are the neutral model's
    (:class:`~firmware_sim.register.Register`); this adds what only the Shtrih protocol has.
    """

    def __init__(self, *, config: DeviceConfig, state: DeviceState | None = None) -> None:
        super().__init__(config=config, state=state)
        self._pending_shift: _PendingShift | None = None
        self._pending_tags = DocumentTags()
        self._reading: list[bytes] = []  # FF3B answers left of the document FF3A chose
        self.last_refusal: Refusal | None = None

    def _mode(self) -> Mode:
        if self._receipt is not None:
            return Mode.RECEIPT_OPEN
        if not self._is_shift_open:
            return Mode.SHIFT_CLOSED
        return Mode.SHIFT_EXPIRED if self._is_expired(self._clock()) else Mode.SHIFT_OPEN

    def _mode_byte(self) -> int:
        mode = self._mode()
        if mode is Mode.RECEIPT_OPEN:
            assert self._receipt is not None
            return 0x28 if self._receipt.kind is ReceiptKind.REFUND else 0x08
        return int(mode)

    def _submode(self) -> Submode:
        if self._print_interrupted:
            return Submode.WAITING_CONTINUE if self._has_paper else Submode.PAPER_OUT_PRINTING
        if not self._has_paper:
            return Submode.PAPER_OUT_IDLE
        return Submode.PRINTING if self._is_printing() else Submode.READY

    @staticmethod
    def _operator(password: int, *, admin: bool = False, sysadmin: bool = False) -> int:
        if not 1 <= password <= SYSADMIN:
            raise Refusal(ErrorCode.WRONG_PASSWORD, "unknown password")
        if sysadmin and password != SYSADMIN:
            raise Refusal(ErrorCode.WRONG_PASSWORD, "needs the system administrator")
        if admin and password not in (ADMIN, SYSADMIN):
            raise Refusal(ErrorCode.WRONG_PASSWORD, "needs an administrator")
        return password

    def _check_not_busy(self) -> None:
        if self._is_printing():
            raise Refusal(ErrorCode.PRINTING, "still printing the previous document")
        if self._print_interrupted and self._has_paper:
            raise Refusal(ErrorCode.WAITING_CONTINUE_PRINT, "send 0xB0 to continue printing")

    def _check_paper(self) -> None:
        if not self._has_paper:
            raise Refusal(ErrorCode.NO_PAPER, "no receipt paper")

    def _check_fn_alive(self, clock: datetime) -> None:
        if clock.date() > self._config.fn_valid_until:
            raise Refusal(ErrorCode.FN_EXPIRED, "FN validity ended")

    def _check_can_sell(self, clock: datetime) -> None:
        """A receipt may be opened or extended: shift open and not past 24 hours."""
        if not self._is_shift_open:
            raise Refusal(ErrorCode.SHIFT_NOT_OPEN, "shift closed")
        if self._is_expired(clock):
            raise Refusal(ErrorCode.SHIFT_OVER_24H, "shift open for more than 24 hours")

    def _begin_sale_document(self, password: int) -> tuple[int, datetime]:
        """Check, in order, what a receipt or a cash movement needs; return (operator, clock).

        The operator's password, the printer idle, no receipt open, the shift open and younger
        than 24 hours: the first that fails is the register's answer.
        """
        op = self._operator(password)
        self._check_not_busy()
        self._check_no_receipt()
        clock = self._clock()
        self._check_can_sell(clock)
        return op, clock

    def _check_no_receipt(self) -> None:
        if self._receipt is not None:
            raise Refusal(ErrorCode.RECEIPT_OPEN, "a receipt is open")

    def _password_only(self, body: bytes, *, error: int = ErrorCode.BAD_PARAMETERS) -> int:
        reader = RequestReader(body, error=error)
        password = reader.uint(4)
        reader.end()
        return password

    def _fn_password(self, body: bytes) -> int:
        return self._operator(
            self._password_only(body, error=ErrorCode.FN_BAD_PARAMETERS), sysadmin=True
        )
