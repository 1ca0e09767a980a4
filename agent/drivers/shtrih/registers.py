"""What the Shtrih driver reads for reports and at connect: the shift's counters, the tax setup.

Money registers (0x1A), operating registers (0x1B) and table fields (0x1F), numbered as
docs/shtrih-wire-notes.md §2.10 and docs/vat.md say. The two readers take the driver's
one-request ``call`` (which sends, decodes and raises the typed error of a refusal), so they
run under the driver's lock like any of its methods; they hold no state of their own.
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from typing import Final, Protocol, TypeVar

import structlog

from agent.domain.money import Kopecks
from agent.domain.receipt import ReceiptKind, VatRate
from agent.drivers.errors import InvalidArgument
from agent.drivers.interface import (
    NO_VAT_RATES,
    PaymentTotals,
    ShiftCounters,
    TaxRow,
    TaxSetup,
)
from agent.drivers.shtrih.commands import (
    DeviceErrorCode,
    Mode,
    ReadMoneyRegisterRequest,
    ReadMoneyRegisterResponse,
    ReadOperatingRegisterRequest,
    ReadOperatingRegisterResponse,
    ReadStatusRequest,
    ReadStatusResponse,
    Request,
    Response,
)
from agent.drivers.shtrih.params import PAYMENT_TYPE_PREPAID
from agent.drivers.shtrih.tables import (
    REGISTER_COMPUTES_TAX_MODES,
    TAX_MODE,
    TAX_MODE_ROW,
    TAX_NAME,
    TAX_RATE,
    ReadTableRequest,
    ReadTableResponse,
)

__all__ = [
    "CASH_IN_DRAWER",
    "OPEN_MODES",
    "RECEIPT_COUNTS",
    "TAX_ROW_LIMIT",
    "Call",
    "read_counters",
    "read_tax_setup",
    "shift_vat_register",
]

CASH_IN_DRAWER: Final = 241
"""Money register: the cash the drawer holds."""
RECEIPT_COUNTS: Final = (144, 145, 146, 147)
"""Operating registers: the shift's receipts of each type (sale, purchase, and their returns)."""
OPEN_MODES: Final = frozenset({Mode.SHIFT_OPEN, Mode.SHIFT_EXPIRED, Mode.DOCUMENT_OPEN})
"""Register modes with a shift open."""
TAX_ROW_LIMIT: Final = 16
"""Rows of table 6 :func:`read_tax_setup` reads at most (12 on 2026 firmware)."""

_CASH_IN_TOTAL = 242
_CASH_OUT_TOTAL = 243
_SALES_CASH = 193
_REFUNDS_CASH = 195
_SALES_CARD = 197
_REFUNDS_CARD = 199
_SALES_PREPAID = 4144 + 0 + 4 * (PAYMENT_TYPE_PREPAID - 5)  # K-register, §2.10
_REFUNDS_PREPAID = 4144 + 2 + 4 * (PAYMENT_TYPE_PREPAID - 5)
_SALES_COUNT = 144
_REFUNDS_COUNT = 146

_RECEIPT_TYPE = {ReceiptKind.SALE: 0, ReceiptKind.REFUND: 2}  # t: sale, sale return
_CLASSIC_TAX_ROWS = 4  # groups А..Г: registers 225..240
_EXTENDED_TAX_ROWS = 12  # rows 5..12: K-registers 4400..4431 (docs/vat.md §3)
_SHIFT_VAT_CLASSIC = 225
_SHIFT_VAT_EXTENDED = 4400

_R = TypeVar("_R", bound=Response)


class Call(Protocol):
    """The driver's one exchange: send ``request``, return its answer as ``expected``."""

    def __call__(self, request: Request, expected: type[_R]) -> Awaitable[_R]:
        """Raises the typed DeviceError of a refusal, or a link or protocol error."""
        ...


def shift_vat_register(row: int, kind: ReceiptKind) -> int | None:
    """The money register of the shift's VAT at tax row ``row`` in ``kind`` receipts.

    ``225 + 4(row - 1) + t`` for rows 1..4 (the classic groups А..Г, from Shtrih-M's own
    driver sources), ``4400 + 4(row - 5) + t`` for rows 5..12 (no hardware register is
    known: the simulator's choice, docs/vat.md §3); t is 0 for a sale, 2 for a refund.
    None above row 12: no register is known at all.
    """
    t = _RECEIPT_TYPE[kind]
    if 1 <= row <= _CLASSIC_TAX_ROWS:
        return _SHIFT_VAT_CLASSIC + 4 * (row - 1) + t
    if _CLASSIC_TAX_ROWS < row <= _EXTENDED_TAX_ROWS:
        return _SHIFT_VAT_EXTENDED + 4 * (row - _CLASSIC_TAX_ROWS - 1) + t
    return None


async def read_counters(
    call: Call,
    *,
    password: int,
    tax_rate_index: Mapping[VatRate, int],
    log: structlog.typing.FilteringBoundLogger,
) -> ShiftCounters:
    """0x11, money registers 193/195/197/199, 4180/4182, 241-243, counts 144/146, then VAT.

    The VAT is read per tax row that ``tax_rate_index`` maps a rate with VAT to: two money
    registers a row (sales, refunds), each one round trip, so the default twelve-rate table
    (ten rows with VAT) costs 20 round trips on top of the 12 above. Rates without VAT
    (:data:`NO_VAT_RATES`) report 0 and cost nothing. A rate is left out of the VAT
    mappings, with a warning, when its row has no known register (above 12) or the
    register refuses its VAT register with 0x33 (firmware without it).
    """
    status = await call(ReadStatusRequest(password=password), ReadStatusResponse)
    money: dict[int, int] = {}
    for register in (
        _SALES_CASH,
        _REFUNDS_CASH,
        _SALES_CARD,
        _REFUNDS_CARD,
        _SALES_PREPAID,
        _REFUNDS_PREPAID,
        _CASH_IN_TOTAL,
        _CASH_OUT_TOTAL,
        CASH_IN_DRAWER,
    ):
        money[register] = await _money(call, password, register)
    counts: dict[int, int] = {}
    for register in (_SALES_COUNT, _REFUNDS_COUNT):
        request = ReadOperatingRegisterRequest(password=password, register=register)
        counts[register] = (await call(request, ReadOperatingRegisterResponse)).value
    sales_vat, refunds_vat = await _read_shift_vat(call, password, tax_rate_index, log)
    return ShiftCounters(
        shift=status.last_closed_shift + (status.mode in OPEN_MODES),
        sales=PaymentTotals(
            cash=Kopecks(money[_SALES_CASH]),
            card=Kopecks(money[_SALES_CARD]),
            prepaid=Kopecks(money[_SALES_PREPAID]),
            count=counts[_SALES_COUNT],
        ),
        refunds=PaymentTotals(
            cash=Kopecks(money[_REFUNDS_CASH]),
            card=Kopecks(money[_REFUNDS_CARD]),
            prepaid=Kopecks(money[_REFUNDS_PREPAID]),
            count=counts[_REFUNDS_COUNT],
        ),
        cash_in=Kopecks(money[_CASH_IN_TOTAL]),
        cash_out=Kopecks(money[_CASH_OUT_TOTAL]),
        cash_in_drawer=Kopecks(money[CASH_IN_DRAWER]),
        sales_vat=sales_vat,
        refunds_vat=refunds_vat,
    )


async def _read_shift_vat(
    call: Call,
    password: int,
    tax_rate_index: Mapping[VatRate, int],
    log: structlog.typing.FilteringBoundLogger,
) -> tuple[dict[VatRate, Kopecks], dict[VatRate, Kopecks]]:
    """The shift's VAT by rate in sales and refunds, one read per register (rows shared once)."""
    by_row: dict[int, tuple[Kopecks, Kopecks] | None] = {}
    sales: dict[VatRate, Kopecks] = {}
    refunds: dict[VatRate, Kopecks] = {}
    unread: list[str] = []
    for rate, row in sorted(tax_rate_index.items(), key=lambda pair: (pair[1], pair[0].value)):
        if rate in NO_VAT_RATES:
            sales[rate] = refunds[rate] = Kopecks(0)
            continue
        if row not in by_row:
            by_row[row] = await _read_row_vat(call, password, row)
        vat = by_row[row]
        if vat is None:
            unread.append(f"{rate.code} (row {row})")
            continue
        sales[rate], refunds[rate] = vat
    if unread:
        log.warning("shift VAT not readable for these rates: left out", rates=unread)
    return sales, refunds


async def _read_row_vat(call: Call, password: int, row: int) -> tuple[Kopecks, Kopecks] | None:
    """Sales and refunds VAT of one tax row; None when no register is known or it is refused.

    A register refused with 0x33 (the register has no such register: firmware without the
    extended ones) leaves the row out, so that an X or Z report never fails for want of VAT.
    """
    sale_register = shift_vat_register(row, ReceiptKind.SALE)
    refund_register = shift_vat_register(row, ReceiptKind.REFUND)
    if sale_register is None or refund_register is None:
        return None
    try:
        sale = await _money(call, password, sale_register)
        refund = await _money(call, password, refund_register)
    except InvalidArgument as exc:
        if exc.code != DeviceErrorCode.BAD_PARAMETERS:
            raise
        return None
    return Kopecks(sale), Kopecks(refund)


async def _money(call: Call, password: int, register: int) -> int:
    request = ReadMoneyRegisterRequest(password=password, register=register)
    return (await call(request, ReadMoneyRegisterResponse)).value


async def read_tax_setup(
    call: Call, *, password: int, log: structlog.typing.FilteringBoundLogger
) -> TaxSetup:
    """0x1F: table 1 row 1 field 14 (tax mode), then table 6 rate and name row by row.

    Rows are read from 1 until the register answers 0x33 (the row is out of range) for a
    rate, at most :data:`TAX_ROW_LIMIT`: two round trips a row and one for the mode, plus
    the refused one, so 26 for a twelve-row table. ``password`` is the sysadmin's. Another
    refusal (0x5D: the register has no such table; 0x37: it does not know 0x1F) is raised.
    """
    answer = await call(ReadTableRequest.of(password, TAX_MODE, TAX_MODE_ROW), ReadTableResponse)
    mode = TAX_MODE.decode(answer)
    rows: list[TaxRow] = []
    for index in range(1, TAX_ROW_LIMIT + 1):
        try:
            rate = await call(ReadTableRequest.of(password, TAX_RATE, index), ReadTableResponse)
        except InvalidArgument as exc:
            if exc.code != DeviceErrorCode.BAD_PARAMETERS:
                raise
            break
        name = await call(ReadTableRequest.of(password, TAX_NAME, index), ReadTableResponse)
        rows.append(
            TaxRow(index=index, rate_hundredths=TAX_RATE.decode(rate), name=TAX_NAME.decode(name))
        )
    setup = TaxSetup(computes_vat=mode in REGISTER_COMPUTES_TAX_MODES, rows=tuple(rows))
    log.info(
        "tax setup read",
        tax_mode=mode,
        computes_vat=setup.computes_vat,
        rows=[f"{row.index}: {row.name} {row.rate_hundredths}" for row in rows],
    )
    return setup
