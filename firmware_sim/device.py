"""The register and its FN as a pure state machine: payload in, answer out.

No I/O, no clock reading: the caller passes the host time with every command and the
register's own clock is ``now + clock_offset``. An import-linter contract keeps asyncio,
sqlite3, aiohttp, serial, os and socket out of this module.

Every command is validated completely before anything changes, so a refused command
leaves the state as it was. The checks run in one order for every command: body layout
(0x33, or FN 0x09 for ``FF xx``), password (0x4F), printer busy (0x50, 0x58), mode and
shift (0x3D, 0x4A, 0x4E, 0x55, 0x73, FN 0x02, FN 0x16), field values and money rules (0x33,
0x45, 0x46, 0x4D, 0x8E), FN life (FN 0x05), paper (0x6B).

Durability: :attr:`Device.revision` grows whenever something the store keeps changed, so
the server persists :attr:`Device.state` after such a command and before it writes the
answer (docs/shtrih-wire-notes.md and docs/simulator.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from enum import Enum, IntEnum
from typing import Any

from firmware_sim.commands import (
    MIN_TEXT_BYTES,
    Command,
    ErrorCode,
    Refusal,
    RequestReader,
    answer,
    dmy,
    fn_date,
    fn_datetime,
    hms,
    le,
    parse_tlv,
    split_command,
)
from firmware_sim.corrections import check_correction_tags, correction_totals
from firmware_sim.fn_documents import document_tlvs, find_answer, fiscal_sign, read_chunks
from firmware_sim.fn_tags import MAX_TLV_BYTES, apply_writes, decode_writes
from firmware_sim.state import (
    PAYMENT_TYPES,
    CashMovement,
    DeviceConfig,
    DeviceState,
    DocType,
    DocumentTags,
    FnDocument,
    Item,
    OfdBacklog,
    OpenReceipt,
    ReceiptKind,
    ShiftCounters,
    SignTotals,
    TableKey,
    TableValue,
)
from firmware_sim.tables import (
    TAX_MODE_HOST,
    TAX_MODE_KEY,
    TAX_MODES,
    decode_write,
    read_field,
    row_rates,
    tax_mode,
)
from firmware_sim.vat import MAX_TAX_REGISTER, receipt_vat, register_moves, shift_vat

__all__ = ["Device", "DeviceConfig", "DeviceState", "Mode", "Submode", "fiscal_sign"]

SHIFT_LIMIT = timedelta(hours=24)
MAX_MONEY = (1 << 40) - 1  # 5-byte money fields
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
# Money and operating registers kept across a Z report (§2.10); all others are shift ones.
MONEY_KEPT = frozenset({241, 244})
OPERATING_KEPT = frozenset({152, 155, 156, 158, 159, 166, 183, 184})


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


def _payment_register(payment_type: int, op: int) -> int:
    """The shift money register for a payment type and operation (§2.10)."""
    if payment_type <= 4:
        return 193 + 4 * (payment_type - 1) + op
    return 4144 + op + 4 * (payment_type - 5)


class Device:
    """A ШТРИХ-М-01Ф with its FN: ``handle(payload, now)`` answers one command."""

    def __init__(self, *, config: DeviceConfig, state: DeviceState | None = None) -> None:
        state = state or DeviceState()
        self._config = config
        self._clock_offset_s = state.clock_offset_s
        self._shift_number = state.shift_number
        self._is_shift_open = state.is_shift_open
        self._shift_opened_at = state.shift_opened_at
        self._shift_first_fd = state.shift_first_fd
        self._receipts_in_shift = state.receipts_in_shift
        self._documents: list[FnDocument] = list(state.documents)
        self._movements: list[CashMovement] = list(state.cash_movements)
        self._money: dict[int, int] = dict(state.money)
        self._operating: dict[int, int] = dict(state.operating)
        self._ofd_acked_fd = state.ofd_acked_fd
        self._tables: dict[TableKey, TableValue] = dict(state.tables)
        self._receipt: OpenReceipt | None = state.open_receipt
        self._has_paper = state.has_paper
        self._busy_until: datetime | None = None
        self._print_interrupted = False
        self._pending_shift: _PendingShift | None = None
        self._pending_tags = DocumentTags()
        self._reading: list[bytes] = []  # FF3B answers left of the document FF3A chose
        self._now: datetime | None = None
        self._revision = 0
        self._drawer_openings = 0  # 0x28 pulses since start (not durable: no document)
        self.last_refusal: Refusal | None = None
        self._handlers: dict[int, Callable[[bytes], bytes]] = {
            Command.SHORT_STATUS: self._short_status,
            Command.FULL_STATUS: self._full_status,
            Command.PRINT_LINE: self._print_line,
            Command.READ_MONEY_REGISTER: self._read_money_register,
            Command.READ_OPERATING_REGISTER: self._read_operating_register,
            Command.WRITE_TABLE: self._write_table,
            Command.READ_TABLE: self._read_table,
            Command.OPEN_DRAWER: self._open_drawer,
            Command.X_REPORT: self._x_report,
            Command.Z_REPORT: self._z_report,
            Command.CASH_IN: self._cash_in,
            Command.CASH_OUT: self._cash_out,
            Command.SALE: self._sale,
            Command.SALE_RETURN: self._sale_return,
            Command.CLOSE_RECEIPT: self._close_receipt,
            Command.CANCEL_RECEIPT: self._cancel_receipt,
            Command.OPEN_RECEIPT: self._open_receipt,
            Command.CONTINUE_PRINT: self._continue_print,
            Command.OPEN_SHIFT: self._open_shift,
            Command.DEVICE_TYPE: self._device_type,
            Command.FN_STATUS: self._fn_status,
            Command.FN_EXPIRY: self._fn_expiry,
            Command.FN_FIND_DOCUMENT: self._fn_find_document,
            Command.FN_WRITE_TLV: self._fn_write_tlv,
            Command.FN_BEGIN_CORRECTION: self._fn_begin_correction,
            Command.FN_STATE_REPORT: self._fn_state_report,
            Command.FN_EXCHANGE_STATUS: self._fn_exchange_status,
            Command.FN_READ_DOCUMENT: self._fn_read_document,
            Command.FN_READ_TLV: self._fn_read_tlv,
            Command.FN_UNCONFIRMED_COUNT: self._fn_unconfirmed_count,
            Command.FN_SHIFT_PARAMS: self._fn_shift_params,
            Command.FN_BEGIN_OPEN_SHIFT: self._fn_begin_open_shift,
            Command.FN_BEGIN_CLOSE_SHIFT: self._fn_begin_close_shift,
            Command.FN_CLOSE_RECEIPT_V2: self._fn_close_receipt_v2,
            Command.FN_OPERATION_V2: self._fn_operation_v2,
        }

    # ---- public API -----------------------------------------------------------------------

    @property
    def config(self) -> DeviceConfig:
        """The register's fixed configuration."""
        return self._config

    @property
    def revision(self) -> int:
        """Grows whenever durable state changed; persist :attr:`state` when it moves."""
        return self._revision

    @property
    def state(self) -> DeviceState:
        """A frozen snapshot of the whole register."""
        return DeviceState(
            clock_offset_s=self._clock_offset_s,
            shift_number=self._shift_number,
            is_shift_open=self._is_shift_open,
            shift_opened_at=self._shift_opened_at,
            shift_first_fd=self._shift_first_fd,
            receipts_in_shift=self._receipts_in_shift,
            documents=tuple(self._documents),
            cash_movements=tuple(self._movements),
            money=tuple(sorted((n, v) for n, v in self._money.items() if v)),
            operating=tuple(sorted((n, v) for n, v in self._operating.items() if v)),
            ofd_acked_fd=self._ofd_acked_fd,
            tables=tuple(sorted(self._tables.items())),
            open_receipt=self._receipt,
            has_paper=self._has_paper,
        )

    @property
    def tax_mode(self) -> int:
        """Table 1 row 1 field 14 "Начисление налогов" (0 by default)."""
        return tax_mode(self._tables)

    def set_tax_mode(self, mode: int) -> None:
        """Write the tax mode (0..3), as 0x1E to table 1 row 1 field 14 would."""
        if mode not in TAX_MODES:
            raise ValueError(f"tax mode must be 0..3, got {mode}")
        self._tables[TAX_MODE_KEY] = mode
        self._revision += 1

    def handle(self, payload: bytes, now: datetime) -> bytes:
        """Execute one command (a frame's LEN bytes); return the answer payload."""
        if now.tzinfo is None:
            raise ValueError("now must be an aware datetime")
        self._now = now
        self.last_refusal = None
        if not payload:
            return answer(0x00, ErrorCode.NOT_SUPPORTED)
        code, body = split_command(payload)
        handler = self._handlers.get(code)
        if handler is None:
            unknown = ErrorCode.FN_UNKNOWN_COMMAND if code > 0xFF else ErrorCode.NOT_SUPPORTED
            self.last_refusal = Refusal(unknown, f"command 0x{code:02X} not implemented")
            return answer(code, unknown)
        self._ensure_registered(self._clock())
        try:
            data = handler(body)
        except Refusal as refusal:
            self.last_refusal = refusal
            return answer(code, refusal.code)
        return answer(code, ErrorCode.OK, data)

    def power_cut(self) -> None:
        """Power lost: the open receipt, a begun shift document, a read, the print job go."""
        self._receipt = None
        self._reading = []
        self._pending_shift = None
        self._pending_tags = DocumentTags()
        self._busy_until = None
        self._print_interrupted = False

    def set_paper(self, present: bool) -> None:
        """Load or take out the receipt roll."""
        if not present and self._is_printing():
            self._print_interrupted = True  # submode 2, then 3 until 0xB0
            self._busy_until = None
        self._has_paper = present

    def advance_clock(self, seconds: float) -> None:
        """Move the register's clock (not the host's) by ``seconds``."""
        self._clock_offset_s += seconds
        self._revision += 1

    def ofd_ack(self, through_fd: int | None = None) -> int:
        """Mark FDs up to ``through_fd`` (default: all) as acknowledged by the OFD."""
        last = self._last_fd()
        target = last if through_fd is None else max(0, min(through_fd, last))
        if target > self._ofd_acked_fd:
            self._ofd_acked_fd = target
            self._revision += 1
        return self._ofd_acked_fd

    def start_aged_shift(self, now: datetime, age_s: float) -> None:
        """Open a shift that has already been open ``age_s`` seconds (``--shift-age``)."""
        if now.tzinfo is None:
            raise ValueError("now must be an aware datetime")
        if self._is_shift_open:
            raise ValueError("a shift is already open")
        self._now = now
        opened_at = self._clock() - timedelta(seconds=age_s)
        self._ensure_registered(opened_at - timedelta(minutes=1))
        self._do_open_shift(opened_at)
        self._busy_until = None

    def summary(self, now: datetime) -> dict[str, Any]:
        """The register at ``now`` as plain JSON values (the control API's GET /state)."""
        self._now = now
        clock = self._clock()
        opened = self._shift_opened_at
        return {
            "mode": int(self._mode()),
            "mode_byte": self._mode_byte(),
            "submode": int(self._submode()),
            "clock": clock.isoformat(),
            "shift": {
                "open": self._is_shift_open,
                "number": self._shift_number,
                "opened_at": None if opened is None else opened.isoformat(),
                "age_s": (clock - opened).total_seconds()
                if opened and self._is_shift_open
                else None,
                "expired": self._is_shift_open and self._is_expired(clock),
            },
            "receipt_open": self._receipt is not None,
            "last_fd": self._last_fd(),
            "unsent_docs": self._last_fd() - self._ofd_acked_fd,
            "paper": self._has_paper,
            "cash_in_drawer": self._money.get(241, 0),
            "drawer_openings": self._drawer_openings,
            "tax_mode": self.tax_mode,
        }

    # ---- clock, modes, checks -------------------------------------------------------------

    def _clock(self) -> datetime:
        assert self._now is not None
        moment = self._now + timedelta(seconds=self._clock_offset_s)
        return moment.astimezone(self._config.tz).replace(microsecond=0)

    def _is_expired(self, clock: datetime) -> bool:
        opened = self._shift_opened_at
        return self._is_shift_open and opened is not None and clock - opened > SHIFT_LIMIT

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

    def _is_printing(self) -> bool:
        return (
            self._busy_until is not None and self._now is not None and self._now < self._busy_until
        )

    def _submode(self) -> Submode:
        if self._print_interrupted:
            return Submode.WAITING_CONTINUE if self._has_paper else Submode.PAPER_OUT_PRINTING
        if not self._has_paper:
            return Submode.PAPER_OUT_IDLE
        return Submode.PRINTING if self._is_printing() else Submode.READY

    def _start_printing(self) -> None:
        assert self._now is not None
        if self._config.print_time_s > 0:
            self._busy_until = self._now + timedelta(seconds=self._config.print_time_s)

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

    # ---- FN tape --------------------------------------------------------------------------

    def _last_fd(self) -> int:
        return self._documents[-1].fd if self._documents else 0

    def _shift_documents(self) -> list[FnDocument]:
        """The documents of the open shift, from its open-shift report on."""
        return [doc for doc in self._documents if doc.fd >= self._shift_first_fd]

    def _append(self, doc: FnDocument) -> FnDocument:
        signed = replace(doc, fp=fiscal_sign(self._config.fn_serial, doc))
        self._documents.append(signed)
        self._revision += 1
        return signed

    def _ensure_registered(self, at: datetime) -> None:
        """The FN's first document is its registration report (FD 1), sent to the OFD."""
        if self._documents:
            return
        self._append(FnDocument(fd=1, type=DocType.REGISTRATION, fp=0, issued_at=at, shift=0))
        self._ofd_acked_fd = 1

    def _bump(self, register: int, by: int = 1) -> None:
        self._operating[register] = self._operating.get(register, 0) + by
        self._revision += 1

    def _add_money(self, register: int, amount: int) -> None:
        self._money[register] = self._money.get(register, 0) + amount
        self._revision += 1

    def _take_pending_tags(self, kind: _PendingShift) -> DocumentTags:
        tags = self._pending_tags if self._pending_shift is kind else DocumentTags()
        self._pending_shift = None
        self._pending_tags = DocumentTags()
        return tags

    def _do_open_shift(self, clock: datetime) -> FnDocument:
        self._shift_number += 1
        doc = self._append(
            FnDocument(
                fd=self._last_fd() + 1,
                type=DocType.OPEN_SHIFT,
                fp=0,
                issued_at=clock,
                shift=self._shift_number,
                tags=self._take_pending_tags(_PendingShift.OPEN),
            )
        )
        self._is_shift_open = True
        self._shift_opened_at = clock
        self._shift_first_fd = doc.fd
        self._receipts_in_shift = 0
        self._bump(152)
        self._start_printing()
        return doc

    def _sign_totals(self, op: int) -> SignTotals:
        money = self._money

        def paid(payment_type: int) -> int:
            return money.get(_payment_register(payment_type, op), 0)

        return SignTotals(
            cash=paid(1),
            card=sum(paid(t) for t in range(2, 14)),
            prepaid=paid(14),
            other=paid(15) + paid(16),
            count=self._operating.get(144 + op, 0),
        )

    # ---- status and registers -------------------------------------------------------------

    def _password_only(self, body: bytes, *, error: int = ErrorCode.BAD_PARAMETERS) -> int:
        reader = RequestReader(body, error=error)
        password = reader.uint(4)
        reader.end()
        return password

    def _short_status(self, body: bytes) -> bytes:
        """0x10 (§2.2): op, flags, mode, submode, operation count, voltages."""
        op = self._operator(self._password_only(body))
        flags = FLAGS_WITH_PAPER if self._has_paper else FLAGS_WITH_PAPER & ~PAPER_BITS
        ops = len(self._receipt.items) if self._receipt else 0
        return (
            bytes([op])
            + le(flags, 2)
            + bytes([self._mode_byte(), self._submode(), ops & 0xFF])
            + bytes([BATTERY, SUPPLY, FP_ERROR, EKLZ_ERROR, (ops >> 8) & 0xFF])
            + SHORT_STATUS_RESERVED
        )

    def _full_status(self, body: bytes) -> bytes:
        """0x11 (§2.3): 46 data bytes; valid calendar dates (pyshtrih calls date())."""
        op = self._operator(self._password_only(body))
        clock = self._clock()
        flags = FLAGS_WITH_PAPER if self._has_paper else FLAGS_WITH_PAPER & ~PAPER_BITS
        version, build, fw_date = FIRMWARE
        fw_day = bytes([int(fw_date[0:2]), int(fw_date[2:4]), int(fw_date[4:6])])
        fp_flags = 0x01 | 0x04  # FP present, licence entered
        if self._is_shift_open:
            fp_flags |= 0x40
            if self._is_expired(clock):
                fp_flags |= 0x80
        last_closed = self._shift_number - 1 if self._is_shift_open else self._shift_number
        return (
            bytes([op])
            + version
            + le(build, 2)
            + fw_day
            + bytes([1])  # number in the hall
            + le(self._operating.get(152, 0) & 0xFFFF, 2)
            + le(flags, 2)
            + bytes([self._mode_byte(), self._submode(), 0])  # port 0
            + version
            + le(build, 2)
            + fw_day
            + dmy(clock.date())
            + hms(clock)
            + bytes([fp_flags])
            + le(int(self._config.serial) & 0xFFFFFFFF, 4)
            + le(max(last_closed, 0) & 0xFFFF, 2)
            + le(2000, 2)  # free FP records
            + bytes([1, 11])  # re-registrations done, left
            + le(int(self._config.inn), 6)
        )

    def _device_type(self, body: bytes) -> bytes:
        """0xFC: device type bytes and the model name in cp1251."""
        if body:
            raise Refusal(ErrorCode.BAD_PARAMETERS, "0xFC takes no data")
        return DEVICE_TYPE_BYTES + self._config.model_name.encode("cp1251", errors="replace")

    def _read_money_register(self, body: bytes) -> bytes:
        """0x1A: pwd, register (1 byte, or 2 bytes for K-registers) -> op, value(6)."""
        if len(body) not in (5, 6):
            raise Refusal(ErrorCode.BAD_PARAMETERS, "0x1A body is pwd + 1 or 2 bytes")
        reader = RequestReader(body, error=ErrorCode.BAD_PARAMETERS)
        password = reader.uint(4)
        register = reader.uint(reader.remaining)
        if register > MAX_MONEY_REGISTER:
            raise Refusal(ErrorCode.BAD_PARAMETERS, f"no money register {register}")
        op = self._operator(password)
        return bytes([op]) + le(self._money.get(register, 0) & MAX_MONEY, 6)

    def _table_request(self, body: bytes) -> tuple[TableKey, bytes]:
        """0x1E/0x1F head: sysadmin pwd, table(1), row(2), field(1); then the value's bytes."""
        reader = RequestReader(body, error=ErrorCode.BAD_PARAMETERS)
        password = reader.uint(4)
        key = (reader.uint(1), reader.uint(2), reader.uint(1))
        value = reader.rest()
        self._operator(password, sysadmin=True)
        return key, value

    def _read_table(self, body: bytes) -> bytes:
        """0x1F: the field's value (a number LE in its size, a string NUL-padded)."""
        key, rest = self._table_request(body)
        if rest:
            raise Refusal(ErrorCode.BAD_PARAMETERS, f"{len(rest)} unexpected trailing bytes")
        return read_field(key, self._tables, self._config.tax_rates)

    def _write_table(self, body: bytes) -> bytes:
        """0x1E: write the field; error byte only."""
        key, raw = self._table_request(body)
        self._tables[key] = decode_write(key, raw, self._config.tax_rates)
        self._revision += 1
        return b""

    def _read_operating_register(self, body: bytes) -> bytes:
        """0x1B: pwd, register(1) -> op, value(2)."""
        reader = RequestReader(body, error=ErrorCode.BAD_PARAMETERS)
        password = reader.uint(4)
        register = reader.uint(1)
        reader.end()
        op = self._operator(password)
        return bytes([op]) + le(min(self._operating.get(register, 0), 0xFFFF), 2)

    # ---- printing and reports -------------------------------------------------------------

    def _print_line(self, body: bytes) -> bytes:
        """0x17: pwd, flags(1), text(40+); recorded on the open receipt."""
        reader = RequestReader(body, error=ErrorCode.BAD_PARAMETERS)
        password = reader.uint(4)
        reader.uint(1)  # journal / receipt flags
        text = reader.text(min_bytes=MIN_TEXT_BYTES)
        op = self._operator(password)
        self._check_not_busy()
        self._check_paper()
        if self._receipt is not None:
            self._receipt = replace(self._receipt, lines=(*self._receipt.lines, text))
        return bytes([op])

    def _continue_print(self, body: bytes) -> bytes:
        """0xB0: resume a print job the paper ran out in (submode 3 -> 0)."""
        op = self._operator(self._password_only(body))
        if self._print_interrupted:
            self._check_paper()
            self._print_interrupted = False
            self._start_printing()
        return bytes([op])

    def _open_drawer(self, body: bytes) -> bytes:
        """0x28: pwd, drawer(1) -> op. Pulses the drawer port: no document, no FD."""
        reader = RequestReader(body, error=ErrorCode.BAD_PARAMETERS)
        password = reader.uint(4)
        drawer = reader.uint(1)
        reader.end()
        op = self._operator(password)
        if drawer > 1:
            raise Refusal(ErrorCode.BAD_PARAMETERS, f"no drawer {drawer}")
        self._drawer_openings += 1
        self._revision += 1
        return bytes([op])

    def _x_report(self, body: bytes) -> bytes:
        """0x40: prints the shift counters; no FD, the shift stays open."""
        op = self._operator(self._password_only(body), admin=True)
        self._check_not_busy()
        self._check_no_receipt()
        self._check_paper()
        self._bump(158)
        self._bump(152)
        self._start_printing()
        return bytes([op])

    def _z_report(self, body: bytes) -> bytes:
        """0x41: closes the shift with a close-shift FD and clears the shift registers."""
        op = self._operator(self._password_only(body), admin=True)
        self._check_not_busy()
        self._check_no_receipt()
        if not self._is_shift_open:
            raise Refusal(ErrorCode.SHIFT_NOT_OPEN, "no shift to close")
        self._check_paper()
        clock = self._clock()
        fd = self._last_fd() + 1
        counters = ShiftCounters(
            sales=self._sign_totals(ReceiptKind.SALE.op_index),
            refunds=self._sign_totals(ReceiptKind.REFUND.op_index),
            cash_in=self._money.get(242, 0),
            cash_out=self._money.get(243, 0),
            cash_in_drawer=self._money.get(241, 0),
            receipts=self._receipts_in_shift,
            documents=fd - self._shift_first_fd + 1,
            first_fd=self._shift_first_fd,
            last_fd=fd,
            sales_vat=shift_vat(self._money, self._config.tax_rates, ReceiptKind.SALE.op_index),
            refunds_vat=shift_vat(self._money, self._config.tax_rates, ReceiptKind.REFUND.op_index),
            corrections=correction_totals(self._shift_documents(), ReceiptKind.SALE),
            correction_refunds=correction_totals(self._shift_documents(), ReceiptKind.REFUND),
        )
        self._append(
            FnDocument(
                fd=fd,
                type=DocType.CLOSE_SHIFT,
                fp=0,
                issued_at=clock,
                shift=self._shift_number,
                tags=self._take_pending_tags(_PendingShift.CLOSE),
                counters=counters,
            )
        )
        self._money = {n: v for n, v in self._money.items() if n in MONEY_KEPT}
        self._operating = {n: v for n, v in self._operating.items() if n in OPERATING_KEPT}
        self._is_shift_open = False
        self._receipts_in_shift = 0
        self._bump(159)
        self._bump(152)
        self._start_printing()
        return bytes([op])

    def _open_shift(self, body: bytes) -> bytes:
        """0xE0: opens a shift with an open-shift FD; answer ``E0 00 op``."""
        op = self._operator(self._password_only(body))
        self._check_not_busy()
        self._check_no_receipt()
        if self._is_shift_open:
            raise Refusal(ErrorCode.FN_BAD_STATE, "shift already open")
        clock = self._clock()
        self._check_fn_alive(clock)
        self._check_paper()
        self._do_open_shift(clock)
        return bytes([op])

    def _cash(self, body: bytes, *, is_out: bool) -> bytes:
        reader = RequestReader(body, error=ErrorCode.BAD_PARAMETERS)
        password = reader.uint(4)
        amount = reader.uint(5)
        reader.end()
        op, clock = self._begin_sale_document(password)
        if amount == 0:
            raise Refusal(ErrorCode.BAD_PARAMETERS, "zero amount")
        drawer = self._money.get(241, 0)
        if is_out and amount > drawer:
            raise Refusal(ErrorCode.NOT_ENOUGH_CASH, f"drawer holds {drawer}")
        self._check_paper()
        self._add_money(243 if is_out else 242, amount)
        self._add_money(241, -amount if is_out else amount)
        self._bump(154 if is_out else 153)
        self._bump(152)
        number = self._operating[152]
        self._movements.append(
            CashMovement(
                number=number,
                direction="out" if is_out else "in",
                amount=amount,
                at=clock,
                shift=self._shift_number,
            )
        )
        self._start_printing()
        return bytes([op]) + le(number & 0xFFFF, 2)

    def _cash_in(self, body: bytes) -> bytes:
        """0x50: pwd, amount(5) -> op, document number(2)."""
        return self._cash(body, is_out=False)

    def _cash_out(self, body: bytes) -> bytes:
        """0x51: pwd, amount(5) -> op, document number(2); not above the drawer (0x46)."""
        return self._cash(body, is_out=True)

    # ---- receipts -------------------------------------------------------------------------

    def _check_receipt_kind(self, kind: ReceiptKind) -> None:
        receipt = self._receipt
        if receipt is not None and receipt.is_correction and not receipt.items:
            return  # a correction begun with FF35 takes its sign from its first line
        if receipt is not None and receipt.kind is not kind:
            raise Refusal(ErrorCode.WRONG_RECEIPT_TYPE, "the open receipt is of another type")

    def _add_item(self, op: int, kind: ReceiptKind, item: Item) -> None:
        """Shared tail of 0x80/0x82/FF46 once the fields are valid."""
        self._check_not_busy()
        clock = self._clock()
        self._check_can_sell(clock)
        self._check_receipt_kind(kind)
        current = self._receipt.total if self._receipt else 0
        if current + item.amount > MAX_MONEY:
            raise Refusal(ErrorCode.RECEIPT_TOTAL_OVERFLOW, "receipt total overflow")
        self._check_fn_alive(clock)
        self._check_paper()
        receipt = self._receipt or OpenReceipt(kind=kind, operator=op)
        self._receipt = replace(receipt, kind=kind, items=(*receipt.items, item))  # kind: FF35

    def _open_receipt(self, body: bytes) -> bytes:
        """0x8D: pwd, type(1: 0 sale, 2 sale return) -> op."""
        reader = RequestReader(body, error=ErrorCode.BAD_PARAMETERS)
        password = reader.uint(4)
        receipt_type = reader.uint(1)
        reader.end()
        op, clock = self._begin_sale_document(password)
        kinds = {0: ReceiptKind.SALE, 2: ReceiptKind.REFUND}
        if receipt_type not in kinds:
            raise Refusal(ErrorCode.BAD_PARAMETERS, f"receipt type {receipt_type}")
        self._check_fn_alive(clock)
        self._check_paper()
        self._receipt = OpenReceipt(kind=kinds[receipt_type], operator=op)
        return bytes([op])

    def _classic_item(self, body: bytes, kind: ReceiptKind) -> bytes:
        """0x80 / 0x82: pwd, qty(5, x1000), price(5), dept(1), tax1..4, text(40+)."""
        reader = RequestReader(body, error=ErrorCode.BAD_PARAMETERS)
        password = reader.uint(4)
        qty = reader.uint(5)
        price = reader.uint(5)
        department = reader.uint(1)
        taxes = [reader.uint(1) for _ in range(4)]
        text = reader.text(min_bytes=MIN_TEXT_BYTES)
        op = self._operator(password)
        groups = min(4, len(self._config.tax_rates))
        if qty == 0 or department > MAX_DEPARTMENT or any(t > groups for t in taxes):
            raise Refusal(ErrorCode.BAD_PARAMETERS, "quantity, department or tax group")
        tax_index = next((t for t in taxes if t), 0)
        item = Item(
            name=text,
            qty_micro=qty * (QTY_FF46_SCALE // QTY_CLASSIC_SCALE),
            price=price,
            amount=(qty * price + QTY_CLASSIC_SCALE // 2) // QTY_CLASSIC_SCALE,
            tax_index=tax_index,
            vat=self._config.tax_rates[tax_index - 1].code if tax_index else "none",
            department=department,
        )
        self._add_item(op, kind, item)
        return bytes([op])

    def _sale(self, body: bytes) -> bytes:
        """0x80 приход; opens a sale receipt when none is open."""
        return self._classic_item(body, ReceiptKind.SALE)

    def _sale_return(self, body: bytes) -> bytes:
        """0x82 возврат прихода; opens a return receipt when none is open."""
        return self._classic_item(body, ReceiptKind.REFUND)

    def _check_payments(self, receipt: OpenReceipt, total: int, payments: list[int]) -> int:
        """Money rules of a close; returns the change (given from cash only)."""
        if total == 0:
            raise Refusal(ErrorCode.ZERO_TOTAL, "zero receipt total")
        tendered = sum(payments)
        if tendered < total:
            raise Refusal(ErrorCode.PAYMENTS_BELOW_TOTAL, f"paid {tendered} of {total}")
        if tendered - payments[0] > total:
            raise Refusal(ErrorCode.NON_CASH_ABOVE_TOTAL, "non-cash payments above the total")
        change = tendered - total
        drawer = self._money.get(241, 0)
        if receipt.kind is ReceiptKind.REFUND and payments[0] - change > drawer:
            raise Refusal(ErrorCode.NOT_ENOUGH_CASH, f"drawer holds {drawer}")
        return change

    def _issue_receipt(
        self, total: int, payments: list[int], change: int, tax_system: int | None
    ) -> FnDocument:
        receipt = self._receipt
        assert receipt is not None
        kept = [*payments]
        kept[0] -= change
        op = receipt.kind.op_index
        number = self._receipts_in_shift + 1
        is_host_tax = self.tax_mode == TAX_MODE_HOST
        items = (
            receipt.items if is_host_tax else tuple(replace(i, tax_sum=None) for i in receipt.items)
        )
        vat = receipt_vat(
            items,
            self._config.tax_rates,
            row_rates(self._tables, self._config.tax_rates),
            host_sums=is_host_tax,
        )
        if receipt.is_correction:
            check_correction_tags(receipt.tags)
        doc = self._append(
            FnDocument(
                fd=self._last_fd() + 1,
                type=DocType.CORRECTION if receipt.is_correction else DocType.RECEIPT,
                fp=0,
                issued_at=self._clock(),
                shift=self._shift_number,
                number=number,
                kind=receipt.kind,
                total=total,
                payments=tuple(kept),
                change=change,
                items=items,
                tags=receipt.tags,
                tax_system=tax_system,
                vat=vat,
            )
        )
        if not receipt.is_correction:  # a correction counts apart: tag 1133 at the Z
            for register, amount in register_moves(vat, op):
                self._add_money(register, amount)
            for payment_type, amount in enumerate(kept, start=1):
                if amount:
                    self._add_money(_payment_register(payment_type, op), amount)
            self._bump(144 + op)
        if kept[0]:
            self._add_money(241, kept[0] if receipt.kind is ReceiptKind.SALE else -kept[0])
        self._receipts_in_shift = number
        self._operating[148 + op] = number
        self._bump(152)
        self._receipt = None
        self._start_printing()
        return doc

    def _close_receipt(self, body: bytes) -> bytes:
        """0x85: pwd, cash, pay2..4 (5 each), discount(2), tax1..4, text -> op, change(5)."""
        reader = RequestReader(body, error=ErrorCode.BAD_PARAMETERS)
        password = reader.uint(4)
        payments = [reader.uint(5) for _ in range(4)]
        discount = reader.uint(2)
        taxes = [reader.uint(1) for _ in range(4)]
        reader.text(min_bytes=MIN_TEXT_BYTES)
        op = self._operator(password)
        self._check_not_busy()
        receipt = self._receipt
        if receipt is None:
            raise Refusal(ErrorCode.RECEIPT_CLOSED, "no receipt open")
        clock = self._clock()
        if self._is_expired(clock):
            raise Refusal(ErrorCode.SHIFT_OVER_24H, "shift open for more than 24 hours")
        if discount or any(t > min(4, len(self._config.tax_rates)) for t in taxes):
            raise Refusal(ErrorCode.BAD_PARAMETERS, "discount on close or tax group")
        total = receipt.total
        all_payments = payments + [0] * (PAYMENT_TYPES - len(payments))
        change = self._check_payments(receipt, total, all_payments)
        self._check_fn_alive(clock)
        self._check_paper()
        self._issue_receipt(total, all_payments, change, None)
        return bytes([op]) + le(change, 5)

    def _cancel_receipt(self, body: bytes) -> bytes:
        """0x88: drops the open receipt; no FD."""
        op = self._operator(self._password_only(body))
        self._check_not_busy()
        if self._receipt is None:
            raise Refusal(ErrorCode.RECEIPT_CLOSED, "no receipt open")
        self._check_paper()
        self._receipt = None
        self._bump(157)
        self._start_printing()
        return bytes([op])

    # ---- FN commands ----------------------------------------------------------------------

    def _fn_password(self, body: bytes) -> int:
        return self._operator(
            self._password_only(body, error=ErrorCode.FN_BAD_PARAMETERS), sysadmin=True
        )

    def _first_unsent(self) -> FnDocument | None:
        index = self._ofd_acked_fd  # FDs are 1, 2, 3, ...: FD n sits at index n - 1
        return self._documents[index] if index < len(self._documents) else None

    def _fn_status(self, body: bytes) -> bytes:
        """FF01 (§2.9): phase, current document, shift, warnings, clock, serial, last FD."""
        self._fn_password(body)
        clock = self._clock()
        if self._receipt is not None:
            current = 0x14 if self._receipt.is_correction else 0x04
            has_data = int(bool(self._receipt.items))
        elif self._pending_shift is _PendingShift.OPEN:
            current, has_data = 0x02, 0
        elif self._pending_shift is _PendingShift.CLOSE:
            current, has_data = 0x08, 0
        else:
            current, has_data = 0x00, 0
        days_left = (self._config.fn_valid_until - clock.date()).days
        warnings = (0x01 if days_left <= 3 else 0) | (0x02 if days_left <= 30 else 0)
        first_unsent = self._first_unsent()
        if first_unsent is not None and clock - first_unsent.issued_at > OFD_TIMEOUT:
            warnings |= 0x08
        return (
            bytes([FN_LIFE_PHASE_WORKING, current, has_data, int(self._is_shift_open), warnings])
            + fn_datetime(clock)
            + self._config.fn_serial.encode("ascii")
            + le(self._last_fd(), 4)
        )

    def _fn_expiry(self, body: bytes) -> bytes:
        """FF03: YY MM DD + re-registrations left and done."""
        self._fn_password(body)
        return fn_date(self._config.fn_valid_until) + bytes([11, 1])

    def _fn_find_document(self, body: bytes) -> bytes:
        """FF0A: type, OFD ticket, date-time, FD, FP, then op type + amount or shift no."""
        reader = RequestReader(body, error=ErrorCode.FN_BAD_PARAMETERS)
        password = reader.uint(4)
        fd = reader.uint(4)
        reader.end()
        self._operator(password, sysadmin=True)
        if not 1 <= fd <= len(self._documents):
            raise Refusal(ErrorCode.FN_NO_DATA, f"no FD {fd}")
        return find_answer(self._documents[fd - 1], is_acked=fd <= self._ofd_acked_fd)

    def _fn_write_tlv(self, body: bytes) -> bytes:
        """FF0C: tags (1008, 1021, 1203, 1084, ...) for the open receipt or begun shift doc."""
        reader = RequestReader(body, error=ErrorCode.FN_BAD_PARAMETERS)
        password = reader.uint(4)
        data = reader.rest()
        if len(data) > MAX_TLV_BYTES:
            raise Refusal(ErrorCode.FN_TLV_TOO_BIG, f"{len(data)} bytes of TLV")
        items = parse_tlv(data, error=ErrorCode.FN_BAD_PARAMETERS)
        self._operator(password, sysadmin=True)
        writes = decode_writes(items)
        if self._receipt is not None:
            self._receipt = replace(self._receipt, tags=apply_writes(self._receipt.tags, writes))
        elif self._pending_shift is not None:
            self._pending_tags = apply_writes(self._pending_tags, writes)
        else:
            raise Refusal(ErrorCode.FN_BAD_STATE, "no document open for tags")
        return b""

    def _fn_begin_correction(self, body: bytes) -> bytes:
        """FF35: begin a correction receipt; FF46 lines, FF0C 1173/1174 and FF45 follow."""
        password = self._password_only(body, error=ErrorCode.FN_BAD_PARAMETERS)
        op, clock = self._begin_sale_document(password)
        self._operator(password, sysadmin=True)
        self._check_fn_alive(clock)
        self._check_paper()
        self._receipt = OpenReceipt(kind=ReceiptKind.SALE, operator=op, is_correction=True)
        return b""

    def _fn_exchange_status(self, body: bytes) -> bytes:
        """FF39: OFD status bits, read state, unsent count, first unsent FD and its time."""
        self._fn_password(body)
        first = self._first_unsent()
        unsent = self._last_fd() - self._ofd_acked_fd
        return (
            bytes([0x02 if unsent else 0x00, 0])
            + le(min(unsent, 0xFFFF), 2)
            + le(first.fd if first else 0, 4)
            + (fn_datetime(first.issued_at) if first else bytes(5))
        )

    def _fn_state_report(self, body: bytes) -> bytes:
        """FF38: the calculation-state report, an FD of type 21 recording the OFD backlog.

        Answer: FD(4), FP(4), unsent FDs(4), the first unsent one's date YY MM DD (zeros
        when none). Refused while printing, with a receipt or shift document open, without
        paper, or in a shift past 24 hours (FN 0x16), as the FN refuses any document there.
        """
        self._fn_password(body)
        self._check_not_busy()
        self._check_no_receipt()
        if self._pending_shift is not None:
            raise Refusal(ErrorCode.FN_BAD_STATE, "a shift document is begun")
        clock = self._clock()
        self._check_fn_alive(clock)
        if self._is_shift_open and self._is_expired(clock):
            raise Refusal(ErrorCode.FN_SHIFT_OVER_24H, "shift open for more than 24 hours")
        self._check_paper()
        first = self._first_unsent()
        unsent = self._last_fd() - self._ofd_acked_fd
        doc = self._append(
            FnDocument(
                fd=self._last_fd() + 1,
                type=DocType.CALCULATION_STATE,
                fp=0,
                issued_at=clock,
                shift=self._shift_number,
                backlog=OfdBacklog(
                    count=unsent,
                    first_fd=first.fd if first else 0,
                    first_at=first.issued_at if first else None,
                ),
            )
        )
        self._bump(152)
        self._start_printing()
        return (
            le(doc.fd, 4)
            + le(doc.fp, 4)
            + le(unsent, 4)
            + (fn_date(first.issued_at.date()) if first else bytes(3))
        )

    def _check_can_read(self) -> None:
        if self._print_interrupted:
            raise Refusal(ErrorCode.NOT_IN_THIS_MODE, "a print job waits for paper or 0xB0")

    def _fn_read_document(self, body: bytes) -> bytes:
        """FF3A: choose an FD to read with FF3B -> its type (2) and TLV length (2)."""
        reader = RequestReader(body, error=ErrorCode.FN_BAD_PARAMETERS)
        password = reader.uint(4)
        fd = reader.uint(4)
        reader.end()
        self._operator(password, sysadmin=True)
        self._check_can_read()
        if not 1 <= fd <= len(self._documents):
            raise Refusal(ErrorCode.FN_NO_DATA, f"no FD {fd}")
        doc = self._documents[fd - 1]
        tlvs = document_tlvs(doc, fn_serial=self._config.fn_serial)
        self._reading = read_chunks(tlvs)
        length = sum(len(item) for item in tlvs)
        return le(doc.type.fn_code, 2) + le(min(length, 0xFFFF), 2)

    def _fn_read_tlv(self, body: bytes) -> bytes:
        """FF3B: the next TLV of the document FF3A chose; FN 0x08 once all were read."""
        self._fn_password(body)
        self._check_can_read()
        if not self._reading:
            raise Refusal(ErrorCode.FN_NO_DATA, "no document being read, or read to the end")
        return self._reading.pop(0)

    def _fn_unconfirmed_count(self, body: bytes) -> bytes:
        """FF3F: FDs without an OFD ticket (u16)."""
        self._fn_password(body)
        return le(min(self._last_fd() - self._ofd_acked_fd, 0xFFFF), 2)

    def _fn_shift_params(self, body: bytes) -> bytes:
        """FF40: shift state, shift number, receipts issued in the shift so far."""
        self._fn_password(body)
        return (
            bytes([int(self._is_shift_open)])
            + le(self._shift_number & 0xFFFF, 2)
            + le(self._receipts_in_shift & 0xFFFF, 2)
        )

    def _fn_begin_open_shift(self, body: bytes) -> bytes:
        """FF41: begin the open-shift report; FF0C tags then go into it."""
        self._fn_password(body)
        self._check_no_receipt()
        if self._is_expired(self._clock()):
            raise Refusal(ErrorCode.FN_SHIFT_OVER_24H, "shift open for more than 24 hours")
        if self._is_shift_open:
            raise Refusal(ErrorCode.FN_BAD_STATE, "shift already open")
        self._pending_shift = _PendingShift.OPEN
        self._pending_tags = DocumentTags()
        return b""

    def _fn_begin_close_shift(self, body: bytes) -> bytes:
        """FF42: begin the close-shift report; FF0C tags then go into it."""
        self._fn_password(body)
        self._check_no_receipt()
        if not self._is_shift_open:
            raise Refusal(ErrorCode.FN_BAD_STATE, "shift closed")
        self._pending_shift = _PendingShift.CLOSE
        self._pending_tags = DocumentTags()
        return b""

    def _fn_close_receipt_v2(self, body: bytes) -> bytes:
        """FF45 v1.17: 16 payments, rounding, 6 taxes, tax system, text -> change, FD, FP, time."""
        reader = RequestReader(body, error=ErrorCode.FN_BAD_PARAMETERS)
        password = reader.uint(4)
        payments = [reader.uint(5) for _ in range(PAYMENT_TYPES)]
        rounding = reader.uint(1)
        for _ in range(6):
            reader.uint(5)  # receipt tax sums: ignored (tax mode 0 computes, 1 adds the lines)
        tax_system = reader.uint(1)
        reader.text(max_bytes=64)
        self._operator(password, sysadmin=True)
        self._check_not_busy()
        receipt = self._receipt
        if receipt is None:
            raise Refusal(ErrorCode.RECEIPT_CLOSED, "no receipt open")
        clock = self._clock()
        if self._is_expired(clock):
            raise Refusal(ErrorCode.FN_SHIFT_OVER_24H, "shift open for more than 24 hours")
        is_one_bit = tax_system & TAX_SYSTEM_BITS == tax_system and tax_system.bit_count() == 1
        if rounding > 99 or rounding > receipt.total or not is_one_bit:
            raise Refusal(ErrorCode.BAD_PARAMETERS, "rounding or tax system")
        total = receipt.total - rounding
        change = self._check_payments(receipt, total, payments)
        self._check_fn_alive(clock)
        self._check_paper()
        doc = self._issue_receipt(total, payments, change, tax_system)
        return le(change, 5) + le(doc.fd, 4) + le(doc.fp, 4) + fn_datetime(doc.issued_at)

    def _fn_operation_v2(self, body: bytes) -> bytes:
        """FF46: op type, qty(6), price, amount, tax sum, tax index, dept, 1214, 1212, name."""
        reader = RequestReader(body, error=ErrorCode.FN_BAD_PARAMETERS)
        password = reader.uint(4)
        op_type = reader.uint(1)
        qty = reader.uint(6)
        price = reader.uint(5)
        amount = reader.uint(5)
        tax_sum = reader.uint(5)  # kept on the line; signed as sent in tax mode 1 only
        tax_index = reader.uint(1)
        department = reader.uint(1)
        method = reader.uint(1)
        subject = reader.uint(1)
        name = reader.text(max_bytes=128)
        op = self._operator(password)
        kinds = {1: ReceiptKind.SALE, 2: ReceiptKind.REFUND}
        computed = (price * qty + QTY_FF46_SCALE // 2) // QTY_FF46_SCALE
        if amount == COMPUTE_AMOUNT:
            amount = computed
        if (
            op_type not in kinds
            or qty == 0
            or abs(amount - computed) > 1
            or not 1 <= tax_index <= len(self._config.tax_rates)
            or department > MAX_DEPARTMENT
            or not 1 <= method <= 7
            or not 1 <= subject <= 33
        ):
            raise Refusal(ErrorCode.BAD_PARAMETERS, "FF46 field out of range")
        item = Item(
            name=name,
            qty_micro=qty,
            price=price,
            amount=amount,
            tax_index=tax_index,
            vat=self._config.tax_rates[tax_index - 1].code,
            department=department,
            method=method,
            subject=subject,
            tax_sum=None if tax_sum == TAX_NOT_GIVEN else tax_sum,
        )
        self._add_item(op, kinds[op_type], item)
        return b""
