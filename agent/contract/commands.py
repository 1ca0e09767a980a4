"""Shift and cash commands and their outcome: topics cmd/shift, cmd/cash and evt/command."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from agent.contract._types import Money, RequestId, StatusName
from agent.contract.receipts import ErrorDetail

__all__ = ["CashCommand", "CommandOutcome", "ResolveCommand", "ShiftCommand"]

MAX_COMMENT_CHARS = 256


class ShiftCommand(BaseModel):
    """Open or close the shift, print an X report, or read the FN tape back (v1.1).

    docs/contract.md, ``cmd/shift``: ``{"id": "...", "action": "open" | "close" | "x_report" |
    "sync_tape"}``; the id is an idempotency key as a receipt's (1..64 printable ASCII
    characters). ``sync_tape`` (v1.1) reads the shift's FN documents back and publishes
    those the agent did not issue (``evt/document``). ``POST /api/v1/shift`` takes
    ``{"action": ...}``: over HTTP the id is optional.
    """

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "examples": [
                {"id": "shift-20260105-close", "action": "close"},
                {"id": "shift-20260105-open", "action": "open"},
                {"id": "tape-20260105-1", "action": "sync_tape"},
                {"action": "x_report"},
            ]
        },
    )

    id: RequestId | None = None
    action: Literal["open", "close", "x_report", "sync_tape"]


class CashCommand(BaseModel):
    """Put cash into the drawer or take it out (collection).

    docs/contract.md v1, ``cmd/cash`` and ``POST /api/v1/cash``:
    ``{"id": "...", "direction": "in" | "out", "amount": "500.00", "comment": "..."}``.
    """

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "cash-20260105-001",
                    "direction": "in",
                    "amount": "500.00",
                    "comment": "размен на начало смены",
                },
                {"id": "cash-20260105-002", "direction": "out", "amount": "12000.00"},
            ]
        },
    )

    id: RequestId
    direction: Literal["in", "out"]
    amount: Money
    comment: Annotated[str, Field(max_length=MAX_COMMENT_CHARS)] = ""

    @field_validator("amount")
    @classmethod
    def _positive(cls, value: Decimal) -> Decimal:
        if value <= 0:
            raise PydanticCustomError("money_range", "the amount must be above zero")
        return value


class CommandOutcome(BaseModel):
    """The outcome of a ``cmd/shift`` or ``cmd/cash``, topic ``evt/command``.

    docs/contract.md v1: ``{"id", "status", "error"}``, e.g.
    ``{"id": "cash-20260105-002", "status": "rejected", "error": {"code": "not_enough_cash",
    "message": "..."}}``. ``id`` is absent for an HTTP shift command sent without one.
    """

    model_config = ConfigDict(
        extra="ignore",
        frozen=True,
        json_schema_extra={
            "examples": [
                {"id": "cash-20260105-001", "status": "done"},
                {
                    "id": "cash-20260105-002",
                    "status": "rejected",
                    "error": {
                        "code": "not_enough_cash",
                        "message": "the drawer holds less than the amount",
                    },
                },
            ]
        },
    )

    id: RequestId | None = None
    status: StatusName
    error: ErrorDetail | None = None


class ResolveCommand(BaseModel):
    """A person settles an ``unknown`` row (docs/contract.md v1.1).

    ``POST /api/v1/receipts/{id}/resolve``: ``{"as": "issued", "fd": 1234}`` (the FN's document
    is checked: it must exist, be a receipt with this request's content and belong to no other
    request) or ``{"as": "not_issued"}`` (printed again). ``by`` and ``reason`` are kept with
    the row: who settled it and why.
    """

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        populate_by_name=True,
        json_schema_extra={
            "examples": [
                {"as": "issued", "fd": 1234, "by": "support:anna", "reason": "seen on the tape"},
                {"as": "not_issued", "by": "club-admin"},
            ]
        },
    )

    settle_as: Literal["issued", "not_issued"] = Field(alias="as")
    fd: Annotated[int, Field(ge=1, le=0xFFFFFFFF)] | None = None
    by: Annotated[str, Field(min_length=1, max_length=64)] = "local-api"
    reason: Annotated[str, Field(max_length=MAX_COMMENT_CHARS)] = ""
