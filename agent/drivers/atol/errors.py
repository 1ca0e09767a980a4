"""ATOL driver error codes -> the agent's typed errors (docs/atol-driver.md §5). Pure.

The web server reports a failed task as ``error: {code, description}``; the code is the
driver's error number (the description's text differs between driver versions, so nothing
branches on it). :func:`task_error` turns one into a
:class:`~agent.drivers.errors.DriverError` whose disposition tells the worker what to do.
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
    FnFailure,
    InvalidArgument,
    LinkDown,
    LinkError,
    NotEnoughCash,
    PaperOut,
    PrinterBusy,
    ProtocolError,
    ReceiptAlreadyOpen,
    ShiftAlreadyOpen,
    ShiftExpired,
    ShiftNotOpen,
)

__all__ = [
    "ERROR_CLASSES",
    "INTERRUPTED",
    "LINK_CODES",
    "OUTCOME_UNKNOWN_CODES",
    "CoverOpen",
    "PrinterFault",
    "ServerAuthRefused",
    "ServerFailed",
    "ServerRefused",
    "TaskOutcomeUnknown",
    "task_error",
]

INTERRUPTED: Final = 502
"""Not run: an earlier task of the same request failed."""

LINK_CODES: Final = frozenset({1, 2, 3, 4, 241, 601, 602, 603})
"""The web server cannot reach the register (port, connection, remote-connection server)."""

OUTCOME_UNKNOWN_CODES: Final = frozenset({177})
"""Closing the receipt was interrupted: it may be in the FN or not; read it back."""


class CoverOpen(DeviceError):
    """The printer's cover is open (ATOL 45); close it and printing goes on."""

    disposition = Disposition.WAIT
    public_code = "cover_open"


class PrinterFault(DeviceError):
    """The receipt printer does not work: no link to it, its mechanics, overheat (wait)."""

    disposition = Disposition.WAIT
    public_code = "printer_fault"


class TaskOutcomeUnknown(AnswerTimeout):
    """A task was sent and no final answer about it came: it may have run or not.

    The same class (a lost answer, :class:`~agent.drivers.errors.AnswerTimeout`) the Shtrih
    driver raises, so the worker stops the line and recovery reads the FN back by the mark.
    """

    def __init__(self, task: str, uuid: str, reason: str, *, waited_s: float = 0.0) -> None:
        self.task = task
        self.uuid = uuid
        self.reason = reason
        self.command = 0
        self.timeout_s = waited_s
        # AnswerTimeout's class (what the worker acts on), with a message of its own.
        Exception.__init__(self, f"no final answer about ATOL task {task} ({uuid}): {reason}")


class ServerRefused(DriverError):
    """The web server refused the task's JSON (HTTP 400): nothing was queued (reject).

    Sending it again would be refused again: a bug or a field the server does not take.
    """

    disposition = Disposition.REJECT
    public_code = "invalid_argument"

    def __init__(self, status: int, detail: str) -> None:
        self.status = status
        self.detail = detail
        super().__init__(f"ATOL web server refused the request (HTTP {status}): {detail}")


class ServerFailed(ProtocolError):
    """The web server answered with a status the driver did not expect (retry)."""

    def __init__(self, status: int, detail: str) -> None:
        self.status = status
        self.detail = detail
        super().__init__(f"ATOL web server answered HTTP {status}: {detail}")


class ServerAuthRefused(LinkError):
    """HTTP 401: the web server has users and refused ours: fix ``[atol]`` (wait)."""

    public_code = "wrong_password"

    def __init__(self, url: str) -> None:
        self.url = url
        super().__init__(
            f"ATOL web server {url} refused the configured user (HTTP 401): "
            "set [atol] username and password"
        )


_GROUPS: Final[tuple[tuple[type[DeviceError], frozenset[int]], ...]] = (
    (PaperOut, frozenset({44})),
    (CoverOpen, frozenset({45})),
    (PrinterFault, frozenset({46, 47, 114})),
    (PrinterBusy, frozenset({55})),
    (InvalidArgument, frozenset({16, 17, 52, 53, 66, 124, 143, 144, 501, 503})),
    (ShiftExpired, frozenset({68, 141})),
    (ShiftNotOpen, frozenset({73})),
    (ReceiptAlreadyOpen, frozenset({82, 203})),
    (ShiftAlreadyOpen, frozenset({83})),
    (NotEnoughCash, frozenset({80})),
    (FnFailure, frozenset({89, 115, 116, 117, 118, 119, 120, 121, 122, 142, 159, 166})),
)

ERROR_CLASSES: Final[Mapping[int, type[DeviceError]]] = MappingProxyType(
    {code: cls for cls, codes in _GROUPS for code in codes}
)
"""ATOL error code -> the agent's class; a code not here is a plain DeviceError (reject)."""


def task_error(code: int, description: str, *, task: str, uuid: str, url: str) -> DriverError:
    """The typed error of a task that ended with ``error.code`` ``code``.

    Link codes become :class:`~agent.drivers.errors.LinkDown` (wait); a receipt whose close
    was interrupted (177) or a task not run because of an earlier one (502) is
    :class:`TaskOutcomeUnknown`; the rest are device refusals by :data:`ERROR_CLASSES`.
    """
    detail = f"ATOL {task}: error {code}" + (f" ({description})" if description else "")
    if code in LINK_CODES:
        return LinkDown(url, detail)
    if code in OUTCOME_UNKNOWN_CODES or code == INTERRUPTED:
        return TaskOutcomeUnknown(task, uuid, detail)
    cls = ERROR_CLASSES.get(code, DeviceError)
    error = cls(code, 0, description)
    error.args = (detail,)  # the ATOL code in decimal, as ATOL documents it
    return error
