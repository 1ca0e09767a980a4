"""The request bodies the API takes, validated at the edge."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from agent.contract import Money, RequestId
from cloud.store import Transaction

__all__ = ["ActionBody", "TransactionBody", "TransactionsBody"]


class TransactionBody(BaseModel):
    """One CRM transaction the register never sees (an app payment)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: RequestId
    amount: Money
    kind: Literal["sale", "refund"] = "sale"
    at: AwareDatetime

    @field_validator("amount")
    @classmethod
    def _positive(cls, value: Decimal) -> Decimal:
        if value <= 0:
            raise ValueError("amount must be more than 0.00")
        return value

    def to_store(self) -> Transaction:
        """The store's record."""
        at: datetime = self.at
        return Transaction(id=self.id, amount=self.amount, kind=self.kind, at=at)


class TransactionsBody(BaseModel):
    """``{"transactions": [...]}``, one to a thousand."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    transactions: list[TransactionBody] = Field(min_length=1, max_length=1000)


class ActionBody(BaseModel):
    """A reissue's or adoption's body: who does it and why (kept in the audit)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    by: str = Field(min_length=1, max_length=128)
    reason: str = Field(min_length=1, max_length=1000)
