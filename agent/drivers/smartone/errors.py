"""SmartOne reply codes -> the agent's typed errors (docs/smartone-notes.md §8). Pure.

A reply with ``status: "error"`` (or a non-zero ``code``) carries the cashbox's ``code`` and an
optional ``message``. :func:`reply_error` turns one into a
:class:`~agent.drivers.errors.DriverError` whose disposition tells the worker what to do;
nothing branches on the message text. Code 9 means "not found" on every route but
``/withdraw``, where it means "not enough cash": the route decides.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from agent.drivers.errors import (
    AnswerTimeout,
    DeviceError,
    Disposition,
    DriverError,
    EmptyShiftRefused,
    InvalidArgument,
    NotEnoughCash,
    ShiftNotOpen,
    WrongPassword,
)

__all__ = [
    "ERROR_CLASSES",
    "MERCHANT_ID_SETTING",
    "AuthorizationRefused",
    "DocumentNotPrinted",
    "DrawerNotEmpty",
    "InternalError",
    "OpenInvoices",
    "RequestNotFound",
    "ShiftEmpty",
    "StillProcessing",
    "reply_error",
]

MERCHANT_ID_SETTING: Final = "[smartone] merchant_id"
"""The setting a signature refusal (code 1) points a person to."""

NOT_FOUND: Final = 9
STILL_PROCESSING: Final = 44
NOT_PRINTED: Final = 15


class AuthorizationRefused(WrongPassword):
    """Code 1: the cashbox refused the signature, so the merchant id differs from its own.

    The cashbox's wrong password: nothing was done. A person must fix the configuration:
    waiting does not help, and rejecting the receipt would lose it, so it waits (reported,
    ``wrong_password``) until the setting is fixed.
    """

    def __init__(self, code: int, route: str, message: str = "") -> None:
        super().__init__(code, 0, message)
        self.route = route
        self.args = (
            f"SmartOne cashbox refused the signature of {route} (code {code}"
            + (f": {message}" if message else "")
            + f"); set {MERCHANT_ID_SETTING} to the merchant id configured on the cashbox",
        )


class InternalError(DeviceError):
    """Code 5 (and 39/40 on a Z): the cashbox failed inside; resend the same request."""

    disposition = Disposition.RETRY
    public_code = "register_internal_error"


class RequestNotFound(DeviceError):
    """Code 9 outside ``/withdraw``: the cashbox has no document under this key."""

    disposition = Disposition.REJECT
    public_code = "document_not_found"


class DocumentNotPrinted(DeviceError):
    """Code 15: the document may be fiscalised but was not printed; check its status.

    The driver never reports it to the worker as a refusal: it asks ``/check_status`` and
    reports the receipt issued when the cashbox has it (the copy is printed later).
    """

    disposition = Disposition.WAIT
    public_code = "not_printed"


class StillProcessing(AnswerTimeout):
    """Code 44 or ``docStatus`` 0 past the driver's patience: the outcome is not known yet.

    A lost answer's class (:class:`~agent.drivers.errors.AnswerTimeout`, a link error), so
    the worker stops the line and recovery asks the cashbox again by the same key.
    """

    def __init__(self, route: str, key: str, waited_s: float) -> None:
        self.route = route
        self.key = key
        self.command = 0
        self.timeout_s = waited_s
        Exception.__init__(
            self,
            f"SmartOne cashbox still processing {route}"
            + (f" for documentExtID {key!r}" if key else "")
            + f" after {waited_s:g} s; the outcome is not known yet",
        )


class OpenInvoices(DeviceError):
    """Code 24 on a Z: unclosed invoices remain; ``[smartone] open_orders_operation`` decides."""

    disposition = Disposition.WAIT
    public_code = "open_invoices"


class ShiftEmpty(EmptyShiftRefused):
    """Code 26 on a Z: the cashbox will not close a shift without transactions.

    The agent never prints a dummy sale to get past it (docs/smartone-driver.md "Z policy").
    """

    def __init__(self, code: int, message: str = "") -> None:
        super().__init__(code, 0, message)
        self.args = (
            "SmartOne cashbox refused the Z report: no transactions in the shift (code 26"
            + (f": {message}" if message else "")
            + "). The agent prints no dummy sale; leave the shift open until the next sale"
            " and close it then, or close it on the cashbox as its supplier advises"
            " (docs/smartone-driver.md)",
        )


class DrawerNotEmpty(DeviceError):
    """Code 27 on a Z: the drawer holds cash that must be collected before the Z."""

    disposition = Disposition.WAIT
    public_code = "drawer_not_empty"

    def __init__(self, code: int, message: str = "", *, cash: int | None = None) -> None:
        super().__init__(code, 0, message)
        self.cash = cash
        held = "" if cash is None else f" ({cash} qəpik)"
        self.args = (
            (
                f"SmartOne cashbox refused the Z report: cash left in the drawer{held} (code 27)."
                " Collect the cash (a cash out), or set [smartone] withdraw_before_z = true"
            ),
        )


_GROUPS: Final[tuple[tuple[type[DeviceError], frozenset[int]], ...]] = (
    (InvalidArgument, frozenset({2, 3, 4, 7, 8, 10, 11, 12, 14, 16, 18, 19, 36})),
    (InternalError, frozenset({5, 39, 40})),
    (ShiftNotOpen, frozenset({6})),
    (RequestNotFound, frozenset({NOT_FOUND})),
    (DocumentNotPrinted, frozenset({NOT_PRINTED})),
    (OpenInvoices, frozenset({24})),
)

ERROR_CLASSES: Final[Mapping[int, type[DeviceError]]] = MappingProxyType(
    {code: cls for cls, codes in _GROUPS for code in codes}
)
"""SmartOne code -> the agent's class (codes 1, 26, 27, 44 and ``/withdraw``'s 9 are built
by :func:`reply_error`); a code not here is a plain DeviceError naming it (reject)."""


def reply_error(code: int, message: str, *, route: str, key: str = "") -> DriverError:
    """The typed error of a reply with ``code`` ``code`` to ``route`` (``"/sale"``...).

    ``key`` is the request's ``documentExtID`` where it has one (named by code 44's error).
    """
    if code == 1:
        return AuthorizationRefused(code, route, message)
    if code == 26:
        return ShiftEmpty(code, message)
    if code == 27:
        return DrawerNotEmpty(code, message)
    if code == STILL_PROCESSING:
        return StillProcessing(route, key, 0.0)
    if code == NOT_FOUND and route == "/withdraw":
        error: DeviceError = NotEnoughCash(code, 0, message)
    else:
        error = ERROR_CLASSES.get(code, DeviceError)(code, 0, message)
    if type(error) is DeviceError:
        error.public_code = f"register_error_{code}"
    detail = f"SmartOne {route}: code {code}" + (f" ({message})" if message else "")
    error.args = (detail,)
    return error
