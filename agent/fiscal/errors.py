"""Errors of the fiscal service."""

from __future__ import annotations

from typing import ClassVar

from agent.drivers.errors import Disposition

__all__ = ["FiscalError", "RegisterBusyElsewhere", "ShiftGuardError"]


class FiscalError(Exception):
    """Base of the fiscal service's own errors."""

    disposition: ClassVar[Disposition] = Disposition.RETRY


class ShiftGuardError(FiscalError):
    """The guard could not bring the shift into a state that allows a receipt."""

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(f"shift guard: {detail}")


class RegisterBusyElsewhere(FiscalError):
    """Something else keeps a receipt open on the register."""

    disposition = Disposition.WAIT

    def __init__(self) -> None:
        super().__init__("a receipt is open on the register and could not be cancelled")
