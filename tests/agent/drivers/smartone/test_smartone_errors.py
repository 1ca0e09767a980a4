"""The SmartOne code table (docs/smartone-notes.md §8) -> the agent's errors and dispositions."""

from __future__ import annotations

import pytest

from agent.drivers.errors import (
    AnswerTimeout,
    DeviceError,
    Disposition,
    InvalidArgument,
    LinkError,
    NotEnoughCash,
    ShiftNotOpen,
)
from agent.drivers.smartone.errors import (
    AuthorizationRefused,
    DocumentNotPrinted,
    DrawerNotEmpty,
    InternalError,
    OpenInvoices,
    RequestNotFound,
    ShiftEmpty,
    StillProcessing,
    reply_error,
)


@pytest.mark.parametrize(
    ("code", "route", "cls", "disposition"),
    [
        (1, "/sale", AuthorizationRefused, Disposition.WAIT),
        *[
            (code, "/sale", InvalidArgument, Disposition.REJECT)
            for code in (2, 3, 4, 7, 8, 11, 12, 16, 18, 19)
        ],
        (5, "/sale", InternalError, Disposition.RETRY),
        (6, "/sale", ShiftNotOpen, Disposition.RETRY),
        (9, "/check_status", RequestNotFound, Disposition.REJECT),
        (9, "/withdraw", NotEnoughCash, Disposition.REJECT),
        (15, "/sale", DocumentNotPrinted, Disposition.WAIT),
        (24, "/close_shift", OpenInvoices, Disposition.WAIT),
        (26, "/close_shift", ShiftEmpty, Disposition.WAIT),
        (27, "/close_shift", DrawerNotEmpty, Disposition.WAIT),
        (44, "/sale", StillProcessing, Disposition.WAIT),
    ],
)
def test_code_table(code: int, route: str, cls: type, disposition: Disposition) -> None:
    """Each documented code gets its class and disposition."""
    error = reply_error(code, "text", route=route, key="k")
    assert type(error) is cls
    assert error.disposition is disposition


def test_auth_error_names_the_merchant_id_setting() -> None:
    """Code 1 says which setting a person must fix."""
    error = reply_error(1, "AUTH_ERROR", route="/sale")
    assert "[smartone] merchant_id" in str(error)
    assert "/sale" in str(error)


def test_still_processing_is_a_lost_answer() -> None:
    """44: the outcome is unknown, the class a lost answer has (a link error)."""
    error = reply_error(44, "", route="/sale", key="crm-1")
    assert isinstance(error, AnswerTimeout)
    assert isinstance(error, LinkError)
    assert "crm-1" in str(error)


def test_z_refusals_say_what_to_do() -> None:
    """27: collect the cash or set withdraw_before_z; 26: no dummy sale."""
    assert "withdraw_before_z" in str(reply_error(27, "", route="/close_shift"))
    assert "no dummy sale" in str(reply_error(26, "", route="/close_shift"))


def test_an_unknown_code_keeps_its_number_and_message() -> None:
    """A code the table lacks: a plain DeviceError (reject) naming route, code and text."""
    error = reply_error(77, "something new", route="/sale")
    assert type(error) is DeviceError
    assert error.disposition is Disposition.REJECT
    assert error.public_code == "register_error_77"
    assert str(error) == "SmartOne /sale: code 77 (something new)"
