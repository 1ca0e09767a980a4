"""A command the agent could not take and cannot answer under its own id: ``evt/rejected``."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from agent.contract._types import Timestamp

__all__ = ["RejectedCommand"]


class RejectedCommand(BaseModel):
    """docs/contract.md v1.1, ``evt/rejected``: ``{"topic", "id"?, "code", "message", "at"}``.

    Sent for a payload with no readable id (bad JSON, a missing or malformed id, a payload of
    1 MB or more, a topic the agent does not serve) and for a known id with other content
    (``id_conflict``): that id's own result is never replaced. ``id`` is whatever the payload
    named, as text, when it named one.
    """

    model_config = ConfigDict(
        extra="ignore",
        frozen=True,
        json_schema_extra={
            "examples": [
                {
                    "topic": "fiscal/v1/club-1/desk-1/cmd/receipt",
                    "code": "bad_json",
                    "message": "the payload is not JSON: Expecting value at 1:1",
                    "at": "2026-01-05T12:00:00+00:00",
                },
                {
                    "topic": "fiscal/v1/club-1/desk-1/cmd/receipt",
                    "id": "crm-7781",
                    "code": "id_conflict",
                    "message": "request crm-7781 is known with other content",
                    "at": "2026-01-05T12:00:01+00:00",
                },
            ]
        },
    )

    topic: str
    id: str | None = None
    code: str
    message: str
    at: Timestamp
