"""Errors of the domain: a receipt that breaks a fiscal rule."""

from __future__ import annotations

__all__ = ["ReceiptRuleError"]


class ReceiptRuleError(ValueError):
    """The receipt breaks a rule of the register or the law; it is rejected, never retried.

    ``code`` is stable and machine-readable (it goes into ReceiptResult.error.code),
    ``field`` names the offending field as a dotted path of the request (``items.2.price``).
    """

    def __init__(self, code: str, field: str, reason: str) -> None:
        self.code = code
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason} ({code})")
