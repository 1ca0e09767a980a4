"""The one intake every adapter calls: validation, mapping, commit, idempotency by id."""

from agent.intake.errors import (
    IdConflict,
    IntakeError,
    InvalidRequest,
    NotSettleable,
    OutboxFull,
    RequestNotFound,
    SettlementRefused,
)
from agent.intake.intake import Intake, Submitted, Taken, validate

__all__ = [
    "IdConflict",
    "Intake",
    "IntakeError",
    "InvalidRequest",
    "NotSettleable",
    "OutboxFull",
    "RequestNotFound",
    "SettlementRefused",
    "Submitted",
    "Taken",
    "validate",
]
