"""Why the intake refused a request: each error has a public code and a disposition.

The adapters turn them into their own answers (HTTP status, MQTT ``evt/rejected``, KkmServer
``Status``); the codes and whether a resend can help are listed in docs/errors.md.
"""

from __future__ import annotations

from typing import ClassVar

from agent.drivers.errors import Disposition

__all__ = [
    "IdConflict",
    "IntakeError",
    "InvalidRequest",
    "NotSettleable",
    "OutboxFull",
    "RequestNotFound",
    "SettlementRefused",
    "VatRateNotInCountry",
]


class IntakeError(Exception):
    """Base of the intake's refusals; nothing was stored for the request."""

    disposition: ClassVar[Disposition] = Disposition.REJECT
    public_code: str = "invalid_request"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        self.message = message
        self.field = field
        super().__init__(message)


class InvalidRequest(IntakeError):
    """The request is malformed or breaks a fiscal rule; ``field`` names where.

    ``code`` is ``invalid_request`` for a shape error (a missing field, a number where a
    string belongs) or the fiscal rule's own code (``payments_below_total``, ...).
    """

    def __init__(self, code: str, message: str, *, field: str | None = None) -> None:
        self.public_code = code
        super().__init__(message, field=field)


class VatRateNotInCountry(InvalidRequest):
    """A line's VAT rate is not one of the configured country's; ``field`` is the line's ``vat``.

    ``vat22`` where ``country = "AZ"``, ``vat18`` in Russia. Never retried: the CRM must send
    a rate of the country (docs/country-profiles.md).
    """

    disposition = Disposition.REJECT
    public_code = "vat_rate_not_in_country"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(self.public_code, message, field=field)


class IdConflict(IntakeError):
    """The id is known with other content; the stored result is never replaced."""

    public_code = "id_conflict"

    def __init__(self, request_id: str) -> None:
        self.request_id = request_id
        super().__init__(
            f"id {request_id} is known with other content; a new payment needs a new id",
            field="id",
        )


class OutboxFull(IntakeError):
    """The outbox holds its maximum of unprinted requests: nothing stored, try later."""

    disposition = Disposition.WAIT
    public_code = "outbox_full"

    def __init__(self) -> None:
        super().__init__("the outbox holds its maximum of unprinted requests; try again later")


class RequestNotFound(IntakeError):
    """No request with this id is known (never received, or pruned after its retention)."""

    public_code = "not_found"

    def __init__(self, request_id: str) -> None:
        self.request_id = request_id
        super().__init__(f"no request with id {request_id}")


class NotSettleable(IntakeError):
    """Only an ``unknown`` row can be settled by a person."""

    public_code = "not_unknown"

    def __init__(self, request_id: str, state: str) -> None:
        self.request_id = request_id
        self.state = state
        super().__init__(
            f"request {request_id} is {state}, not unknown: only an unknown row is settled by hand"
        )


class SettlementRefused(IntakeError):
    """The document a person named cannot be this request's receipt."""

    def __init__(self, code: str, message: str, *, field: str | None = "fd") -> None:
        self.public_code = code
        super().__init__(message, field=field)
