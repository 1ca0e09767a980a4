"""The interface every register driver implements, and the facts it reports.

The fiscal service (layer 5) is written against :class:`FiscalDriver` only. A second
protocol (ATOL) is a new ``agent/drivers/<proto>/`` package implementing it; nothing above
this layer changes. Times read from the register are the register's own clock, as aware
datetimes in the register's zone (configured, or measured at connect: ``ClockZone``); they
are never mixed with the host clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum, IntEnum, IntFlag
from types import MappingProxyType
from typing import Final, Protocol, runtime_checkable

from agent.domain.money import Kopecks, Micros
from agent.domain.receipt import (
    CALCULATED_RATES,
    Cashier,
    Correction,
    Payments,
    Receipt,
    ReceiptKind,
    VatRate,
)
from agent.domain.vat import RATE_HUNDREDTHS
from agent.drivers.clock_zone import ClockZone, ZoneSource

__all__ = [
    "MARK_NAME",
    "NO_VAT_RATES",
    "RECEIPT_TYPES",
    "VAT_RATE_HUNDREDTHS",
    "CalculationStateReport",
    "CashMovement",
    "ClockZone",
    "DeviceInfo",
    "DocumentLine",
    "DocumentType",
    "FindsReceiptsByRequest",
    "FiscalDocument",
    "FiscalDriver",
    "FnState",
    "FnWarning",
    "IssuedReceipt",
    "LedgerState",
    "PaymentTotals",
    "ReceiptRef",
    "RegisterState",
    "ShiftCounters",
    "ShiftDocument",
    "ShiftState",
    "ShiftView",
    "TaxRow",
    "TaxSetup",
    "ZoneSource",
]


MARK_NAME = "CRM ID"
"""The name a receipt's mark carries beside its value (tag 1085 on a Russian FN)."""

VAT_RATE_HUNDREDTHS: Final = RATE_HUNDREDTHS
"""Each VAT rate in hundredths of a percent, as a register's tax table keeps it (2200 = 22 %)."""
NO_VAT_RATES: Final = frozenset({VatRate.VAT0, VatRate.NONE})
"""Rates that never carry a VAT sum: turnover at 0 % and turnover without VAT."""


class ShiftState(Enum):
    """The register's shift as the register sees it."""

    CLOSED = "closed"
    OPEN = "open"
    EXPIRED = "expired"  # open for more than 24 hours: only a Z report is possible


class DocumentType(IntEnum):
    """Fiscal document types as FF0A reports them (docs/shtrih-wire-notes.md §2.9)."""

    REGISTRATION = 1
    OPEN_SHIFT = 2
    RECEIPT = 3
    BSO = 4
    CLOSE_SHIFT = 5
    CALCULATION_STATE = 21  # отчёт о текущем состоянии расчётов: the OFD backlog, no money
    CORRECTION = 31  # FFD form code; the number FF0A gives for it is unconfirmed


RECEIPT_TYPES: Final = frozenset({DocumentType.RECEIPT, DocumentType.CORRECTION})
"""Documents with lines and payments that the agent issues: receipts and correction receipts."""


class FnWarning(IntFlag):
    """FN warning flags from FF01 byte 5."""

    URGENT_REPLACEMENT = 0x01  # <= 3 days of key life left
    RESOURCE_ENDING = 0x02  # <= 30 days
    MEMORY_90_PERCENT = 0x04
    OFD_TIMEOUT = 0x08
    CRITICAL = 0x80


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceInfo:
    """What the register says it is (0xFC, 0x11, FF01), and the zone of its clock.

    ``clock_zone`` is how the driver makes the register's wall times aware on this
    connection (configured, or measured at connect); None from a driver whose register
    keeps aware times or that does not measure.
    """

    model: str
    serial: str
    fn_serial: str
    clock_zone: ClockZone | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RegisterState:
    """Short and full status, and the FN status, in one picture.

    The drawer is not part of it: only cash movements need it, and reading it costs a round
    trip on every receipt, so :meth:`FiscalDriver.read_cash_drawer` reads it when asked.
    """

    device_mode: int | None  # the register's own mode code, for health's `mode` field only;
    # nothing above the driver branches on it (Shtrih: the mode byte's low nibble)
    shift: ShiftState
    shift_number: int  # the open shift's number, or the last closed one's when closed
    is_receipt_open: bool
    is_printing: bool
    has_paper: bool
    is_cover_open: bool
    clock: datetime  # the register's own clock
    last_fd: int  # the last fiscal document number in the FN


@dataclass(frozen=True, slots=True, kw_only=True)
class LedgerState:
    """The register as a receipt's intent needs it, read as cheaply as the driver can.

    ``last_fd`` and the FN serial are always read fresh from the FN. ``shift`` is OPEN or
    CLOSED as the FN keeps it, EXPIRED only when the driver read the register's mode too (the
    FN does not flag the 24-hour lock: the shift guard judges the shift's age from its open
    document and ``clock``, and the service reads the full state when it cannot). ``clock``
    is the register's own clock; a driver may estimate it from a recent reading rather than
    ask again.
    """

    fn_serial: str
    last_fd: int
    shift: ShiftState
    shift_number: int
    is_receipt_open: bool
    clock: datetime


class ShiftView(Protocol):
    """What finding a shift's open document needs: RegisterState and LedgerState both fit."""

    @property
    def shift(self) -> ShiftState:
        """Open, closed or expired."""
        ...

    @property
    def shift_number(self) -> int:
        """The open shift's number."""
        ...

    @property
    def last_fd(self) -> int:
        """The FN's last FD."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class FnState:
    """The fiscal storage: serial, expiry, the OFD backlog, warnings."""

    serial: str
    last_fd: int
    valid_until: date | None
    unsent_docs: int
    oldest_unsent_at: datetime | None
    warnings: FnWarning


@dataclass(frozen=True, slots=True, kw_only=True)
class DocumentLine:
    """One item line of a receipt as the FN stored it (tag 1059 on a Russian FN)."""

    name: str
    qty: Micros
    price: Kopecks
    amount: Kopecks
    vat: VatRate | int  # a rate the agent does not know is kept as the register's number


@dataclass(frozen=True, slots=True, kw_only=True)
class FiscalDocument:
    """One document of the FN archive, found by its number.

    :meth:`FiscalDriver.find_document` reads the header only (FD, type, FP, time, and a
    receipt's kind and total, or a shift document's shift): ``items``, ``payments`` and
    ``mark`` stay None. :meth:`FiscalDriver.read_document` reads the whole document back, so
    a receipt also has its lines, its payments and the mark it carries (None when it
    carries none: a receipt another program printed).
    """

    fd: int
    type: DocumentType | int
    fp: int
    issued_at: datetime
    kind: ReceiptKind | None = None  # receipts only
    total: Kopecks | None = None  # receipts only
    shift: int | None = None  # shift documents; receipts too when read whole
    number: int | None = None  # a receipt's number within its shift, when read whole
    items: tuple[DocumentLine, ...] | None = None  # receipts read whole
    payments: Payments | None = None  # receipts read whole; cash is net of change
    mark: str | None = None  # the request id the receipt carries, when read whole
    correction: Correction | None = None  # a correction receipt read whole: 1173, 1178
    is_whole: bool = False  # read with read_document (the fields above are final)
    doc_id: str | None = None
    """The register's own stable id of the document when it is not "<FN>:<FD>" (SmartOne's
    ``fiscalID``); None on a register whose documents are named by FN and FD alone."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ReceiptRef:
    """Which request a receipt belongs to, and which try of it this is.

    ``id`` is the outbox row's request id; ``mark`` the value the receipt carries into the
    FN (today the id itself: :data:`MARK_NAME`); ``attempt`` the try's number, 1-based: a
    new number only for a new try after the earlier one is known final and not issued
    (docs/exactly-once.md). A driver whose device side deduplicates requests derives its
    request key from ``(id, attempt)``, so the same try sent again is deduplicated there.
    """

    id: str
    mark: str
    attempt: int

    def __post_init__(self) -> None:
        if self.attempt < 1:
            msg = f"a receipt's attempt is 1-based, not {self.attempt}"
            raise ValueError(msg)


@dataclass(frozen=True, slots=True, kw_only=True)
class IssuedReceipt:
    """A receipt the FN signed."""

    fn: str
    fd: int
    fp: int
    shift: int
    number: int  # receipt number within the shift
    issued_at: datetime
    change: Kopecks
    mark: str | None = None  # the mark the FN stored with it
    doc_id: str | None = None
    """The register's own stable id of the receipt when it is not "<FN>:<FD>" (SmartOne's
    ``fiscalID``, which a refund names); None on a register whose FN and FD name it."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ShiftDocument:
    """The result of an open-shift or close-shift (Z) command."""

    shift: int
    fd: int
    fp: int
    issued_at: datetime
    counters: ShiftCounters | None = None
    """A Z's counters as the register reported them with the Z, when it does (SmartOne's
    ``/close_shift`` reply): they count what the driver did to get the Z through, such as
    collecting the drawer (a cash out) first. None: the counters read before the Z stand."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PaymentTotals:
    """Money by payment type and receipt count for one calculation sign in the shift."""

    cash: Kopecks
    card: Kopecks
    prepaid: Kopecks
    count: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ShiftCounters:
    """The shift's money and operating registers, as an X or Z report prints them.

    ``sales_vat`` and ``refunds_vat`` are the VAT the register accumulated in the shift's
    sale and refund receipts, by rate: every rate the driver's tax table maps, 0 for the
    rates without VAT (:data:`NO_VAT_RATES`). A rate whose VAT the driver cannot read (its
    tax row has no register the driver knows, or the register refuses it) is left out
    rather than reported as 0: read it with ``.get(rate)``. Both are read-only, a
    :class:`types.MappingProxyType` over a copy of what the driver passed (so the counters
    compare equal to plain dicts but are not hashable).
    """

    shift: int
    sales: PaymentTotals
    refunds: PaymentTotals
    cash_in: Kopecks
    cash_out: Kopecks
    cash_in_drawer: Kopecks
    sales_vat: Mapping[VatRate, Kopecks]
    refunds_vat: Mapping[VatRate, Kopecks]

    def __post_init__(self) -> None:
        for name in ("sales_vat", "refunds_vat"):
            frozen = MappingProxyType(dict(getattr(self, name)))
            object.__setattr__(self, name, frozen)  # frozen dataclass: set once, here


@dataclass(frozen=True, slots=True, kw_only=True)
class TaxRow:
    """One row of the register's tax table: what a receipt line's tax byte names."""

    index: int  # 1-based; the row a receipt line names (Shtrih: the FF46 tax byte)
    rate_hundredths: int  # hundredths of a percent: 2200 = 22 %
    name: str  # the register's own name: "НДС 22%", "НДС 22/122", "без НДС"

    @property
    def is_calculated(self) -> bool:
        """A calculated rate (VAT = amount x r/(100 + r) of an advance): a "/" in its name."""
        return "/" in self.name

    @property
    def is_without_vat(self) -> bool:
        """Turnover without VAT: rate 0 and a name that starts with "без" (any case)."""
        return self.rate_hundredths == 0 and self.name.casefold().startswith("без")


@dataclass(frozen=True, slots=True, kw_only=True)
class TaxSetup:
    """How the register treats VAT: who computes it, and its tax table.

    ``computes_vat`` is True when the register computes each receipt's VAT itself and
    ignores tax sums from the host (Shtrih: tax mode 0, and 2 or 3, docs/vat.md). The agent
    sends no tax sums, so it needs this to be True.

    ``is_read_from_register`` is False when there was nothing on the register to read: a
    protocol that names each line's rate instead of a table row (ATOL) reports the driver's
    own mapping, which fits by construction; the service then says the check does not apply
    rather than that it passed.
    """

    computes_vat: bool
    rows: tuple[TaxRow, ...]
    is_read_from_register: bool = True

    def row(self, index: int) -> TaxRow | None:
        """The row with this 1-based index, or None when the table has none."""
        return next((row for row in self.rows if row.index == index), None)

    def mismatches(self, rows: Mapping[VatRate, int]) -> tuple[str, ...]:
        """What differs from the table the agent's config assumes; empty when all fits.

        ``rows`` maps each VAT rate to the tax row the agent sends for it (the config's
        ``register.tax_rate_codes``). Each rate's row must exist and have the rate's
        percentage (:data:`VAT_RATE_HUNDREDTHS`); a calculated rate (22/122, ...) must have
        a "/" in its name and a plain one none; ``none`` must be the row "без НДС" and
        ``vat0`` must not be. One line per problem, naming the rate's code and the row.
        """
        problems: list[str] = []
        if not self.computes_vat:
            problems.append(
                "the register does not compute VAT itself: its tax mode expects the host's sums"
            )
        for rate, index in sorted(rows.items(), key=lambda pair: (pair[1], pair[0].value)):
            row = self.row(index)
            if row is None:
                problems.append(f"{rate.code}: the register has no tax row {index}")
                continue
            expected = VAT_RATE_HUNDREDTHS[rate]
            seen = f'tax row {index} "{row.name}" ({_percent(row.rate_hundredths)})'
            if row.rate_hundredths != expected:
                problems.append(f"{rate.code}: {seen} is not {_percent(expected)}")
            elif (rate in CALCULATED_RATES) != row.is_calculated:
                kind = "a calculated rate" if rate in CALCULATED_RATES else "a plain rate"
                problems.append(f"{rate.code}: {seen} is not {kind}")
            elif rate is VatRate.NONE and not row.is_without_vat:
                problems.append(f'{rate.code}: {seen} is not "без НДС"')
            elif rate is not VatRate.NONE and row.is_without_vat:
                problems.append(f'{rate.code}: {seen} is "без НДС", not {_percent(expected)}')
        return tuple(problems)


def _percent(hundredths: int) -> str:
    """2200 -> "22.00 %", without floats."""
    return f"{hundredths // 100}.{hundredths % 100:02d} %"


@dataclass(frozen=True, slots=True, kw_only=True)
class CashMovement:
    """A cash-in or cash-out document (0x50 / 0x51)."""

    number: int
    cash_in_drawer: Kopecks


@dataclass(frozen=True, slots=True, kw_only=True)
class CalculationStateReport:
    """The FN's calculation-state report (FD type 21): a fiscal document, but no receipt.

    It takes the next FD like any document, so FD arithmetic never counts receipts alone
    (docs/exactly-once.md). ``oldest_unsent`` is the date of the first document without an
    OFD ticket (None when nothing waits).
    """

    fd: int
    fp: int
    unsent_docs: int
    oldest_unsent: date | None


class FiscalDriver(Protocol):
    """One fiscal register, one request in flight at a time.

    Every method may raise :class:`agent.drivers.errors.DriverError`.
    """

    async def connect(self) -> DeviceInfo:
        """Open the link and identify the register."""
        ...

    async def aclose(self) -> None:
        """Close the link."""
        ...

    async def read_state(self) -> RegisterState:
        """Mode, shift, paper, the register's clock and the last FD (not the drawer)."""
        ...

    async def read_cash_drawer(self) -> Kopecks:
        """The cash the drawer holds now (what a cash movement is checked against)."""
        ...

    async def read_fn_state(self) -> FnState:
        """The fiscal storage: expiry, OFD backlog, warnings."""
        ...

    async def read_counters(self) -> ShiftCounters:
        """The current shift's counters (money and operating registers, VAT by rate)."""
        ...

    async def read_tax_setup(self) -> TaxSetup:
        """Who computes VAT, and the register's tax table.

        Many round trips (Shtrih: two per tax row, about 26): call it once a connection,
        never per receipt, and check it with :meth:`TaxSetup.mismatches`.
        """
        ...

    async def find_document(self, fd: int) -> FiscalDocument:
        """The header of the document with this FD number (cheap: one round trip).

        Raises :class:`agent.drivers.errors.DocumentNotFound` when the FN has no such FD.
        """
        ...

    async def read_document(self, fd: int) -> FiscalDocument:
        """The whole document with this FD number, read back from the FN.

        A receipt comes with its lines, payments and mark (``is_whole`` is True). Raises
        :class:`agent.drivers.errors.DocumentNotFound` when the FN has no such FD.
        """
        ...

    async def read_ledger(self) -> LedgerState:
        """The FN's last FD, its shift and the register's clock: a receipt's intent.

        The last FD is read fresh every time (another program may print on the same FN);
        the rest may come from what the driver already knows.
        """
        ...

    async def shift_open_document(self, state: ShiftView) -> FiscalDocument | None:
        """The open shift's open-shift document (its FD and time), or None with no shift.

        ``state`` is one just read with :meth:`read_state` (its shift and last FD). The
        24-hour limit counts from this document's time on the register's clock.
        """
        ...

    async def open_shift(self, cashier: Cashier) -> ShiftDocument:
        """Open a shift; raises ShiftAlreadyOpen when one is open."""
        ...

    async def close_shift(self, cashier: Cashier) -> ShiftDocument:
        """Z report: close the shift; raises ShiftNotOpen when none is open."""
        ...

    async def x_report(self) -> None:
        """Print an X report (no fiscal document)."""
        ...

    async def calculation_state_report(self) -> CalculationStateReport:
        """Make and print the FN's calculation-state report (a fiscal document, FD type 21).

        Raises :class:`agent.drivers.errors.CommandNotSupported` on a register without one.
        """
        ...

    async def open_drawer(self) -> None:
        """Open the cash drawer (no document).

        A register without a drawer port raises
        :class:`agent.drivers.errors.CommandNotSupported`.
        """
        ...

    async def register(self, receipt: Receipt, *, ref: ReceiptRef) -> IssuedReceipt:
        """Print and sign one receipt: items, tags, the mark, close with payments.

        ``ref.mark`` names the request (its id): the driver stores it in the document
        itself, so that :meth:`read_document` proves later which request a receipt belongs
        to. A Russian FN keeps it as tag 1084 (1085 name :data:`MARK_NAME`, 1086 value).
        ``ref.id`` and ``ref.attempt`` let a protocol whose device side deduplicates
        requests (ATOL's task uuid) send the same try twice without a second receipt.

        A receipt with ``correction`` is issued as a correction receipt (FD type 31: tags
        1173 and 1174 with the settlement date 1178, docs/corrections.md), with the same
        lines, payments and mark. A driver that cannot issue one raises
        :class:`agent.drivers.errors.CorrectionNotSupported` before it sends anything.
        """
        ...

    async def settle(self, ref: ReceiptRef) -> None:
        """Wait until nothing the driver sent for this request can still run on the device.

        Recovery calls it before it reads back the documents after the intent's FD: a
        receipt still queued on the device side could otherwise be printed after recovery
        decided it was not. Covers every try of the request up to ``ref.attempt``. Raises
        :class:`agent.drivers.errors.DriverError` (a link or timeout kind) when that cannot
        be established now. Returns at once when nothing can be pending (Shtrih: a command
        ran or did not once the link answers).
        """
        ...

    async def cancel_receipt(self) -> None:
        """Cancel a receipt left open (no document is issued)."""
        ...

    async def cash_in(self, amount: Kopecks) -> CashMovement:
        """Put cash into the drawer."""
        ...

    async def cash_out(self, amount: Kopecks) -> CashMovement:
        """Take cash out of the drawer (collection); refused above its balance."""
        ...


@runtime_checkable
class FindsReceiptsByRequest(Protocol):
    """A driver whose device keeps each receipt under the request's own key (SmartOne).

    Such a device has no FN archive to read back by FD; it answers "what became of request
    X" itself. Recovery then asks it instead of scanning the documents after the intent's FD
    (docs/exactly-once.md).
    """

    async def find_receipt(self, ref: ReceiptRef) -> FiscalDocument | None:
        """The whole document the device keeps for this request (its mark is ``ref.mark``).

        None when the device has none: the request never arrived or was rolled back. Raises
        a :class:`agent.drivers.errors.LinkError` kind while the device is still processing
        it: the caller asks again later and prints nothing else meanwhile.
        """
        ...
