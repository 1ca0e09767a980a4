"""ATOL error codes -> the agent's error classes and their dispositions."""

from __future__ import annotations

import pytest

from agent.drivers.atol.errors import CoverOpen, PrinterFault, TaskOutcomeUnknown, task_error
from agent.drivers.errors import (
    AnswerTimeout,
    DeviceError,
    Disposition,
    DriverError,
    FnFailure,
    InvalidArgument,
    LinkDown,
    NotEnoughCash,
    PaperOut,
    PrinterBusy,
    ReceiptAlreadyOpen,
    ShiftAlreadyOpen,
    ShiftExpired,
    ShiftNotOpen,
)

URL = "http://127.0.0.1:16732"


def _error(code: int) -> DriverError:
    return task_error(code, "текст", task="sell", uuid="u-1", url=URL)


@pytest.mark.parametrize(
    ("code", "cls", "disposition"),
    [
        (44, PaperOut, Disposition.WAIT),
        (45, CoverOpen, Disposition.WAIT),
        (46, PrinterFault, Disposition.WAIT),
        (114, PrinterFault, Disposition.WAIT),
        (55, PrinterBusy, Disposition.RETRY),
        (68, ShiftExpired, Disposition.RETRY),
        (141, ShiftExpired, Disposition.RETRY),
        (73, ShiftNotOpen, Disposition.RETRY),
        (83, ShiftAlreadyOpen, Disposition.RETRY),
        (82, ReceiptAlreadyOpen, Disposition.RETRY),
        (80, NotEnoughCash, Disposition.REJECT),
        (52, InvalidArgument, Disposition.REJECT),
        (66, InvalidArgument, Disposition.REJECT),
        (144, InvalidArgument, Disposition.REJECT),
        (118, FnFailure, Disposition.WAIT),
        (120, FnFailure, Disposition.WAIT),
        (1, LinkDown, Disposition.WAIT),
        (2, LinkDown, Disposition.WAIT),
        (241, LinkDown, Disposition.WAIT),
        (177, TaskOutcomeUnknown, Disposition.WAIT),
        (502, TaskOutcomeUnknown, Disposition.WAIT),
    ],
)
def test_code_to_class_and_disposition(
    code: int, cls: type[DriverError], disposition: Disposition
) -> None:
    error = _error(code)
    assert type(error) is cls
    assert error.disposition is disposition
    assert str(code) in str(error)


def test_the_shift_expired_class_and_its_code_on_the_device_error() -> None:
    error = _error(68)
    assert isinstance(error, DeviceError)
    assert error.code == 68
    assert error.public_code == "shift_expired"
    assert str(error) == "ATOL sell: error 68 (текст)"


def test_an_unknown_answer_is_the_lost_answer_class_of_the_shtrih_driver() -> None:
    error = _error(177)
    assert isinstance(error, AnswerTimeout)
    assert error.public_code == "link_down"


def test_an_unknown_code_rejects_with_the_register_s_number() -> None:
    error = _error(999)
    assert type(error) is DeviceError
    assert error.disposition is Disposition.REJECT
    assert error.public_code == "register_error_0x3e7"
