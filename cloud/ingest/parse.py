"""A delivery's topic and payload checked against the public contract (agent.contract).

Each message either parses into a :class:`Parsed` (who sent it, and the contract model) or
is :class:`Malformed` with a reason; the reasons are the counters' names. The agent's events
ignore fields they do not know (a newer minor version of the contract adds fields), the
CRM's ``cmd/receipt`` refuses them, as the agent does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from pydantic import BaseModel, ValidationError

from agent.contract import (
    CommandOutcome,
    FiscalDocument,
    Health,
    ReceiptRequest,
    ReceiptResult,
    RejectedCommand,
    ShiftReport,
    field_path,
)
from cloud.ingest.topics import Kind, Source, parse_topic

__all__ = ["MAX_PAYLOAD_BYTES", "Malformed", "Parsed", "Reason", "parse"]

MAX_PAYLOAD_BYTES: Final = 1_000_000
"""A payload of 1 MB or more is refused unread, as the agent refuses such a command."""

_MODELS: Final[dict[Kind, type[BaseModel]]] = {
    Kind.REQUEST: ReceiptRequest,
    Kind.RESULT: ReceiptResult,
    Kind.DOCUMENT: FiscalDocument,
    Kind.SHIFT: ShiftReport,
    Kind.COMMAND: CommandOutcome,
    Kind.REJECTED: RejectedCommand,
    Kind.HEALTH: Health,
}


class Reason(StrEnum):
    """Why a message was not stored."""

    FOREIGN_TOPIC = "foreign_topic"
    TOO_LARGE = "too_large"
    NOT_JSON = "not_json"
    NOT_AN_OBJECT = "not_an_object"
    INVALID = "invalid"


@dataclass(frozen=True, slots=True)
class Parsed:
    """A message that follows the contract."""

    source: Source
    model: BaseModel


@dataclass(frozen=True, slots=True)
class Malformed:
    """A message that does not, and why (``detail`` names the field where there is one)."""

    topic: str
    reason: Reason
    detail: str


def parse(topic: str, payload: bytes) -> Parsed | Malformed:
    """Check one delivery; never raises for what a sender can put in it."""
    source = parse_topic(topic)
    if source is None:
        return Malformed(topic, Reason.FOREIGN_TOPIC, "not fiscal/v1/{club}/{agent}/<kind>")
    if len(payload) >= MAX_PAYLOAD_BYTES:
        return Malformed(topic, Reason.TOO_LARGE, f"{len(payload)} bytes")
    model_type = _MODELS[source.kind]
    try:  # the common case in one pass (no dict in between); a failure is told apart below
        return Parsed(source, model_type.model_validate_json(payload))
    except ValidationError:
        return _why(topic, payload, source, model_type)


def _why(
    topic: str, payload: bytes, source: Source, model_type: type[BaseModel]
) -> Parsed | Malformed:
    """Parse a payload the one-pass validation refused again, step by step, to say why."""
    try:
        body = json.loads(payload)
    except (UnicodeDecodeError, ValueError) as exc:
        return Malformed(topic, Reason.NOT_JSON, str(exc)[:200])
    if not isinstance(body, dict):
        return Malformed(topic, Reason.NOT_AN_OBJECT, type(body).__name__)
    try:
        model = model_type.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        return Malformed(
            topic, Reason.INVALID, f"{field_path(first['loc']) or '(body)'}: {first['msg']}"[:200]
        )
    return Parsed(source, model)
