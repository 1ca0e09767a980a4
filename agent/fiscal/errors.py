"""Errors of the fiscal service."""

from __future__ import annotations

from typing import ClassVar

from agent.drivers.errors import Disposition

__all__ = [
    "FiscalError",
    "LineStopped",
    "RegisterBusyElsewhere",
    "ShiftGuardError",
    "TaxSetupMismatch",
]


class FiscalError(Exception):
    """Base of the fiscal service's own errors."""

    disposition: ClassVar[Disposition] = Disposition.RETRY
    public_code: str = "fiscal_error"
    """The stable code in ReceiptResult.error.code and health (docs/errors.md)."""


class ShiftGuardError(FiscalError):
    """The guard could not bring the shift into a state that allows a receipt."""

    public_code = "shift_guard_error"

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(f"shift guard: {detail}")


class RegisterBusyElsewhere(FiscalError):
    """Something else keeps a receipt open on the register."""

    disposition = Disposition.WAIT
    public_code = "register_busy_elsewhere"

    def __init__(self) -> None:
        super().__init__("a receipt is open on the register and could not be cancelled")


class LineStopped(FiscalError):
    """Printing is held behind a receipt whose outcome is being established.

    Nothing else runs on the register (no receipt, cash movement or shift command) until the
    register has said whether that receipt exists; health's ``line`` shows it.
    """

    disposition = Disposition.WAIT
    public_code = "line_stopped"

    def __init__(self, row_id: str, reason: str) -> None:
        self.row_id = row_id
        self.reason = reason
        super().__init__(
            f"printing is held until the register settles request {row_id} ({reason}); "
            "try again shortly"
        )


class TaxSetupMismatch(FiscalError):
    """The register would sign wrong VAT; nothing prints until a person puts it right.

    It does not compute VAT itself (tax mode 1), or a tax row the config names holds another
    rate, or its tax setup could not be read.
    """

    disposition = Disposition.WAIT
    public_code = "tax_setup_mismatch"

    def __init__(self, problems: tuple[str, ...]) -> None:
        self.problems = problems
        super().__init__(
            "the register's VAT setup does not match the agent's; receipts wait until it is"
            " fixed: " + "; ".join(problems)
        )
