"""0x28 Открыть денежный ящик: open the cash drawer, pure.

::

    28 | password u32 | drawer u8            (the drawer's number, 0 or 1)
    28 | err | operator                       (answer)

The operator's password opens it (pyshtrih ``open_drawer(n)``: cashier password, answer
``err | operator``; docs/shtrih-wire-notes.md §3). No document is printed and the FN is not
involved: the register pulses its drawer port.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Final

from agent.drivers.shtrih.wire import Command, PasswordRequest, Reader, check_range, password_bytes

__all__ = ["MAX_DRAWER", "OpenDrawerRequest", "OpenDrawerResponse", "decode_open_drawer"]

MAX_DRAWER: Final = 1
"""A Shtrih-M register drives two drawer ports: 0 and 1."""


@dataclass(frozen=True, slots=True, kw_only=True)
class OpenDrawerRequest(PasswordRequest):
    """0x28: open drawer ``drawer`` (0 or 1) with the operator's password."""

    command: ClassVar[Command] = Command.OPEN_DRAWER
    drawer: int = 0

    def __post_init__(self) -> None:
        PasswordRequest.__post_init__(self)
        check_range(self.drawer, 0, MAX_DRAWER, "drawer")

    def body(self) -> bytes:
        """The data after the command code."""
        return password_bytes(self.password) + bytes([self.drawer])


@dataclass(frozen=True, slots=True, kw_only=True)
class OpenDrawerResponse:
    """0x28 answer: ``err | operator``."""

    operator: int


def decode_open_drawer(r: Reader) -> OpenDrawerResponse:
    """The 0x28 answer body after the error byte."""
    response = OpenDrawerResponse(operator=r.uint(1, "operator"))
    r.done()
    return response
