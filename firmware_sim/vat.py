"""VAT as the simulated register computes and keeps it (docs/simulator.md, "VAT").

Pure, integer kopecks only. Prices include VAT, so the VAT of a turnover T at a rate p
(hundredths of a percent) is T*p/(10000+p), rounded half up to the kopeck; "22 %" and
"22/122" differ in meaning, not in arithmetic. In tax mode 0 (and 2, 3) it is computed once
per receipt per tax row, on the row's turnover; in tax mode 1 the receipt's VAT at a row is
the sum of the host's FF46 per-line tax sums at that row, as sent.

Tax registers (0x1A), t = 0 sale, 1 purchase, 2 sale return, 3 purchase return, row g:

- g = 1..4: shift turnover 209 + 4(g-1) + t, shift VAT 225 + 4(g-1) + t (groups А..Г);
- g = 5..12: shift VAT 4400 + 4(g-5) + t, shift turnover 4432 + 4(g-5) + t (the
  simulator's own K-register numbers: none is known on hardware).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from firmware_sim.state import Item, TaxRate, VatRow

__all__ = [
    "MAX_TAX_REGISTER",
    "included_vat",
    "item_row",
    "receipt_vat",
    "register_moves",
    "shift_vat",
    "turnover_register",
    "vat_register",
]

PERCENT_SCALE = 10_000  # rates are in hundredths of a percent
CLASSIC_ROWS = 4  # rows with the classic registers 209..240
ROWS_WITH_REGISTERS = 12
OPERATIONS = 4  # t: sale, purchase, sale return, purchase return
SHIFT_TURNOVER_BASE, SHIFT_VAT_BASE = 209, 225
K_VAT_BASE, K_TURNOVER_BASE = 4400, 4432
MAX_TAX_REGISTER = K_TURNOVER_BASE + OPERATIONS * (ROWS_WITH_REGISTERS - CLASSIC_ROWS) - 1
NO_VAT_CODE = "none"


def included_vat(turnover: int, rate: int) -> int:
    """The VAT inside ``turnover`` at ``rate`` (hundredths of a percent), half up."""
    divisor = PERCENT_SCALE + rate
    return (turnover * rate + divisor // 2) // divisor


def item_row(item: Item, tax_rates: tuple[TaxRate, ...]) -> int | None:
    """The tax row a line counts at: its own; a line with no tax group, the "none" row."""
    if item.tax_index:
        return item.tax_index
    return next((rate.index for rate in tax_rates if rate.code == NO_VAT_CODE), None)


def receipt_vat(
    items: Iterable[Item],
    tax_rates: tuple[TaxRate, ...],
    rates: tuple[int, ...],
    *,
    host_sums: bool,
) -> tuple[VatRow, ...]:
    """The receipt's turnover and VAT per tax row present, in row order.

    ``rates`` is table 6 field 1 per row. ``host_sums`` (tax mode 1): the VAT is the sum of
    the lines' :attr:`Item.tax_sum` (not given counts as 0), else it is computed.
    """
    turnover: dict[int, int] = {}
    given: dict[int, int] = {}
    for item in items:
        row = item_row(item, tax_rates)
        if row is None:
            continue
        turnover[row] = turnover.get(row, 0) + item.amount
        given[row] = given.get(row, 0) + (item.tax_sum or 0)
    return tuple(
        VatRow(
            index=row,
            code=tax_rates[row - 1].code,
            turnover=turnover[row],
            vat=given[row] if host_sums else included_vat(turnover[row], rates[row - 1]),
            rate=None if host_sums else rates[row - 1],
        )
        for row in sorted(turnover)
    )


def turnover_register(row: int, op: int) -> int | None:
    """The shift taxed-turnover money register of a tax row and operation, if it has one."""
    if 1 <= row <= CLASSIC_ROWS:
        return SHIFT_TURNOVER_BASE + OPERATIONS * (row - 1) + op
    if row <= ROWS_WITH_REGISTERS:
        return K_TURNOVER_BASE + OPERATIONS * (row - CLASSIC_ROWS - 1) + op
    return None


def vat_register(row: int, op: int) -> int | None:
    """The shift VAT money register of a tax row and operation, if it has one."""
    if 1 <= row <= CLASSIC_ROWS:
        return SHIFT_VAT_BASE + OPERATIONS * (row - 1) + op
    if row <= ROWS_WITH_REGISTERS:
        return K_VAT_BASE + OPERATIONS * (row - CLASSIC_ROWS - 1) + op
    return None


def register_moves(rows: Iterable[VatRow], op: int) -> list[tuple[int, int]]:
    """(register, amount) to add for a receipt's VAT rows; rows past 12 have no register."""
    moves: list[tuple[int, int]] = []
    for row in rows:
        turnover, vat = turnover_register(row.index, op), vat_register(row.index, op)
        if turnover is not None and vat is not None:
            moves += [(turnover, row.turnover), (vat, row.vat)]
    return moves


def shift_vat(
    money: Mapping[int, int], tax_rates: tuple[TaxRate, ...], op: int
) -> tuple[VatRow, ...]:
    """The shift's tax registers of one operation, rows with a turnover or a VAT sum."""
    rows: list[VatRow] = []
    for rate in tax_rates:
        turnover_at = turnover_register(rate.index, op)
        vat_at = vat_register(rate.index, op)
        if turnover_at is None or vat_at is None:
            continue
        turnover, vat = money.get(turnover_at, 0), money.get(vat_at, 0)
        if turnover or vat:
            rows.append(VatRow(index=rate.index, code=rate.code, turnover=turnover, vat=vat))
    return tuple(rows)
