"""Register counters, pure: 0x1A money register and 0x1B operating register.

docs/shtrih-wire-notes.md §2.10.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from agent.drivers.shtrih.wire import (
    MAX_U8,
    MAX_U16,
    Command,
    PasswordRequest,
    Reader,
    check_range,
    password_bytes,
)

__all__ = [
    "ReadMoneyRegisterRequest",
    "ReadMoneyRegisterResponse",
    "ReadOperatingRegisterRequest",
    "ReadOperatingRegisterResponse",
    "decode_money_register",
    "decode_operating_register",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadMoneyRegisterRequest(PasswordRequest):
    """0x1A Запрос денежного регистра (§2.10); K-registers from 256 take the 2-byte form.

    ::

        1A | password u32 | register u8        (0..255)
        1A | password u32 | register u16       (256..65535)
    """

    command: ClassVar[Command] = Command.READ_MONEY_REGISTER
    register: int

    def __post_init__(self) -> None:
        PasswordRequest.__post_init__(self)
        check_range(self.register, 0, MAX_U16, "register")

    def body(self) -> bytes:
        """The data after the command code."""
        size = 1 if self.register <= MAX_U8 else 2
        return password_bytes(self.password) + self.register.to_bytes(size, "little")


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadMoneyRegisterResponse:
    """0x1A answer: ``err | operator | value u48`` in kopecks (§2.10)."""

    operator: int
    value: int


def decode_money_register(r: Reader) -> ReadMoneyRegisterResponse:
    """The 0x1A answer body after the error byte."""
    response = ReadMoneyRegisterResponse(operator=r.uint(1, "operator"), value=r.uint(6, "value"))
    r.done()
    return response


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadOperatingRegisterRequest(PasswordRequest):
    """0x1B Запрос операционного регистра (§2.10).

    ::

        1B | password u32 | register u8
    """

    command: ClassVar[Command] = Command.READ_OPERATING_REGISTER
    register: int

    def __post_init__(self) -> None:
        PasswordRequest.__post_init__(self)
        check_range(self.register, 0, MAX_U8, "register")

    def body(self) -> bytes:
        """The data after the command code."""
        return password_bytes(self.password) + bytes([self.register])


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadOperatingRegisterResponse:
    """0x1B answer: ``err | operator | value u16`` (§2.10)."""

    operator: int
    value: int


def decode_operating_register(r: Reader) -> ReadOperatingRegisterResponse:
    """The 0x1B answer body after the error byte."""
    operator = r.uint(1, "operator")
    response = ReadOperatingRegisterResponse(operator=operator, value=r.uint(2, "value"))
    r.done()
    return response
