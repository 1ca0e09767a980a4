"""``[smartone]``: a SmartOne (Azsmart e-kassa) cashbox on its local HTTP API.

``[register] protocol = "smartone"`` picks the driver (docs/smartone-driver.md). The merchant
id signs every request; it is a secret (never logged whole), required for this protocol, and
must be the 32 hex characters the cashbox was registered with.
"""

from __future__ import annotations

import re
from typing import Annotated, Final, Literal

from pydantic import BaseModel, BeforeValidator, Field, SecretStr, field_validator
from pydantic_core import PydanticCustomError

from agent.config.values import SECTION, check_http_url, empty_is_none

__all__ = ["SMARTONE_DEFAULT_URL", "SmartOneConfig"]

SMARTONE_DEFAULT_URL: Final = "http://127.0.0.1:8008"
"""Where the cashbox's local API listens by default (its spec's base)."""

_MERCHANT_ID = re.compile(r"\A[0-9a-fA-F]{32}\Z")


class SmartOneConfig(BaseModel):
    """``[smartone]``: where the cashbox is, the merchant id, timings and the Z policy."""

    model_config = SECTION

    url: Annotated[str | None, BeforeValidator(empty_is_none)] = None
    """The cashbox, ``http://host:8008``; unset: ``[register] url``, else
    :data:`SMARTONE_DEFAULT_URL`."""
    merchant_id: Annotated[SecretStr | None, BeforeValidator(empty_is_none)] = None
    """The merchant id the supplier gives with the cashbox: 32 hex characters (required)."""
    read_timeout_s: Annotated[float, Field(gt=0, le=600)] = 10.0
    """One HTTP exchange of a read, a shift route or a cash movement."""
    sale_timeout_s: Annotated[float, Field(gt=0, le=3600)] = 90.0
    """One ``/sale`` or ``/refund`` (a card part waits for the customer at the terminal)."""
    poll_interval_s: Annotated[float, Field(gt=0, le=60)] = 1.0
    """The first pause between two ``/check_status`` polls (doubling up to 5 s)."""
    processing_timeout_s: Annotated[float, Field(gt=0, le=3600)] = 120.0
    """How long a document may stay "still processing" before its outcome is reported unknown."""
    employee_name: Annotated[str | None, BeforeValidator(empty_is_none)] = None
    """The cashier on every document; unset: the request's cashier (``[cashier] name``)."""
    withdraw_before_z: bool = False
    """When a Z is refused for cash in the drawer (code 27): collect it with a cash out first."""
    open_orders_operation: Literal["check", "delete", "renew"] | None = None
    """``/close_shift``'s ``openOrdersOperation``; unset: not sent (the cashbox's "check")."""

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        return check_http_url(value, "http://192.168.1.30:8008")

    @field_validator("merchant_id")
    @classmethod
    def _hex32(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _MERCHANT_ID.match(value.get_secret_value()):
            raise PydanticCustomError(
                "merchant_id",
                "must be the 32 hex characters the cashbox was registered with"
                " (got {length} characters); ask the supplier for the Merchant ID",
                {"length": len(value.get_secret_value())},
            )
        return value
