"""What is configured on the simulated cash box (``firmware-sim serve --smartone``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from agent.drivers.smartone.envelope import is_merchant_id
from firmware_sim.smartone.orders import DEFAULT_TAX_PERCENTS

__all__ = ["SmartOneSettings"]


@dataclass(slots=True, kw_only=True)
class SmartOneSettings:
    """The merchant id every request is signed with, the tax percents, the Z refusals.

    The two Z refusals are on by default and can be switched off on the command line and
    through the control API (``POST /settings``): whether a real cash box always applies
    them is unconfirmed (docs/smartone-sim.md).
    """

    merchant_id: str
    tax_percents: frozenset[int] = field(default_factory=lambda: DEFAULT_TAX_PERCENTS)
    refuse_z_with_cash: bool = True  # /close_shift answers 27 while the drawer holds cash
    refuse_empty_z: bool = True  # /close_shift answers 26 after a shift with no transactions

    def __post_init__(self) -> None:
        if not is_merchant_id(self.merchant_id):
            raise ValueError("the merchant id must be 32 hex characters")
        if not self.tax_percents:
            raise ValueError("at least one tax percent must be allowed")

    @property
    def masked_merchant_id(self) -> str:
        """The merchant id with all but its first and last four characters hidden."""
        return self.merchant_id[:4] + "*" * 24 + self.merchant_id[-4:]

    def as_dict(self) -> dict[str, object]:
        """The settings as plain JSON values (the merchant id masked)."""
        return {
            "merchant_id": self.masked_merchant_id,
            "tax_percents": sorted(self.tax_percents),
            "refuse_z_with_cash": self.refuse_z_with_cash,
            "refuse_empty_z": self.refuse_empty_z,
        }
