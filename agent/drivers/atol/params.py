"""The ATOL driver's parameters, and the task uuid a receipt's attempt gets."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import tzinfo
from types import MappingProxyType
from typing import Final, Literal

from agent.domain.country import RU
from agent.domain.receipt import VatRate

__all__ = [
    "DEFAULT_URL",
    "TASK_UUID_NAMESPACE",
    "Api",
    "AtolParams",
    "receipt_task_uuid",
]

DEFAULT_URL: Final = "http://127.0.0.1:16732"
"""ATOL's driver v10 web server on the register PC (its default port)."""

TASK_UUID_NAMESPACE: Final = uuid.UUID("6f1c2b4e-7d1a-5c3e-9b0f-2a4d6e8f1c3b")
"""The fixed namespace of receipt task uuids (uuid5): never change it, or a resend after an
upgrade would get a new uuid and the web server could not deduplicate it."""

Api = Literal["auto", "v2", "v1"]


def receipt_task_uuid(request_id: str, attempt: int) -> str:
    """The task uuid of one attempt at one request: the same inputs, the same uuid, always."""
    return str(uuid.uuid5(TASK_UUID_NAMESPACE, f"{request_id}/{attempt}"))


@dataclass(frozen=True, slots=True, kw_only=True)
class AtolParams:
    """How to reach ATOL's web server and how to drive the register behind it.

    ``api``: ``v2`` (``/api/v2/requests``, driver 10.7+ and ATOL Web Requests), ``v1`` (the
    older ``/requests`` of driver 10.6 and before) or ``auto`` (asks ``/api/v2/serverInfo`` on
    connect and falls back to v1 when the server does not know it).
    ``poll_interval_s``: pause between two polls of a task's result.
    ``task_timeout_s``: how long a task may stay unfinished before the driver gives up
    waiting (the outcome is then unknown and recovery reads the FN back by the mark).
    ``read_timeout_s``: the same for a request of reads only (status, FN, documents): they
    change nothing, so a reader gives up sooner (the queue may be held by a blocked task).
    ``request_timeout_s``: one HTTP round trip.
    ``username``/``password``: HTTP Basic, when the server has users configured.
    ``tax_system``: an ATOL ``taxationType`` name sent on every receipt instead of the one the
    receipt's own tax system maps to (None: the receipt's).
    ``zone``: the zone of register times that come without an offset (None: UTC).
    ``tax_rate_codes``: the config's rate -> tax row map; ATOL names rates instead of rows,
    so it only shapes what :meth:`AtolDriver.read_tax_setup` reports.
    """

    url: str = DEFAULT_URL
    api: Api = "auto"
    poll_interval_s: float = 0.5
    task_timeout_s: float = 120.0
    read_timeout_s: float = 30.0
    request_timeout_s: float = 10.0
    username: str | None = None
    password: str | None = None
    tax_system: str | None = None
    zone: tzinfo | None = None
    tax_rate_codes: Mapping[VatRate, int] = field(
        default_factory=lambda: MappingProxyType({rate: rate.value for rate in RU.vat_rates})
    )
