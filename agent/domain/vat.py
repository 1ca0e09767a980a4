"""VAT of a receipt, per rate, to the kopeck: the rule the register applies in tax mode 0.

The same rule holds for Azerbaijan's 18 % (``T * 18 / 118``, to the qəpik; an amount in qəpik
is held as :data:`~agent.domain.money.Kopecks` too: both are 1/100 of the unit).

Russian retail prices include VAT, so the VAT inside an amount ``T`` at a rate of ``p``
percent is ``T * p / (100 + p)``, for a plain rate ("22 %") and a calculated one ("22/122")
alike. It is computed once per receipt and rate, on the sum of the receipt's line amounts at
that rate, and rounded half up to the kopeck, as Shtrih-M's own driver computes it
(docs/vat.md: the register's internal rounding is not published). 0 % and "without VAT"
carry no VAT: their amount is turnover only.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from agent.domain.money import Kopecks
from agent.domain.receipt import Receipt, VatRate

__all__ = ["RATE_HUNDREDTHS", "rate_vat", "receipt_vat"]

RATE_HUNDREDTHS: Final[Mapping[VatRate, int]] = MappingProxyType(
    {
        VatRate.VAT22: 2200,
        VatRate.VAT18: 1800,
        VatRate.VAT22_122: 2200,
        VatRate.VAT20: 2000,
        VatRate.VAT20_120: 2000,
        VatRate.VAT10: 1000,
        VatRate.VAT10_110: 1000,
        VatRate.VAT7: 700,
        VatRate.VAT7_107: 700,
        VatRate.VAT5: 500,
        VatRate.VAT5_105: 500,
        VatRate.VAT0: 0,
        VatRate.NONE: 0,
    }
)
"""Each rate in hundredths of a percent, as a register's tax table holds it."""

_WHOLE: Final = 10_000  # 100 % in hundredths of a percent


def rate_vat(turnover: Kopecks, rate: VatRate) -> Kopecks:
    """The VAT included in ``turnover`` at ``rate``: ``T * p / (100 + p)``, half up."""
    hundredths = RATE_HUNDREDTHS[rate]
    divisor = _WHOLE + hundredths
    return Kopecks((turnover * hundredths + divisor // 2) // divisor)


def receipt_vat(receipt: Receipt) -> dict[VatRate, Kopecks]:
    """VAT per rate present in the receipt (0 for rates that carry none), in line order."""
    turnover: dict[VatRate, int] = {}
    for item in receipt.items:
        turnover[item.vat] = turnover.get(item.vat, 0) + item.amount
    return {rate: rate_vat(Kopecks(amount), rate) for rate, amount in turnover.items()}
