"""Health (docs/contract.md v1, topic ``health``, retained; ``GET /api/v1/health``)."""

from __future__ import annotations

import warnings
from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from agent.contract._types import Timestamp

__all__ = [
    "FnHealth",
    "Health",
    "LastError",
    "LineHealth",
    "OutboxHealth",
    "RegisterHealth",
    "RegisterStateName",
    "ShiftHealth",
    "SyncHealth",
]

_RESULT = ConfigDict(extra="ignore", frozen=True)

UtcOffset = Annotated[str, Field(pattern=r"^[+-]\d{2}:\d{2}$")]
"""A UTC offset as ISO 8601 writes it: ``+03:00``, ``-03:30``."""

# docs/contract.md names a field "register"; pydantic warns because its metaclass (an ABCMeta)
# has a ``register`` method. Instances read the field as usual, so the warning is noise.
warnings.filterwarnings("ignore", message='Field name "register" in "Health"', category=UserWarning)


RegisterStateName = Literal[
    "ready", "shift_closed", "receipt_open", "printing", "paper_out", "shift_expired"
]
"""v1.1 ``register.state``: what the register is doing, in words no protocol owns."""


class RegisterHealth(BaseModel):
    """The register link; model and serial are unknown until the register first answers.

    v1.1: ``state`` names what the register is doing whatever its protocol (``mode`` keeps
    the register's own code). Beyond docs/contract.md v1: ``clock`` is the register's own
    clock and ``clock_skew_s`` how far it is ahead of the agent's host (negative: behind).
    The FN refuses documents whose time is more than 5 minutes off. ``utc_offset`` is the
    offset the agent reads the register's clock in, ``tz_source`` where it comes from
    (``auto``: measured at connect; ``configured``: ``[register] tz``) and
    ``measured_utc_offset`` what the register's clock measured against the host's UTC clock;
    ``error`` is ``tz_mismatch`` when a configured zone disagrees with it.
    """

    model_config = _RESULT

    link: Literal["up", "down"]
    mode: int | None = None
    model: str | None = None
    serial: str | None = None
    error: str | None = None
    state: RegisterStateName | None = None
    clock: Timestamp | None = None
    clock_skew_s: float | None = None
    utc_offset: UtcOffset | None = None
    tz_source: Literal["auto", "configured"] | None = None
    measured_utc_offset: UtcOffset | None = None


class ShiftHealth(BaseModel):
    """The shift as the register's clock sees it; ``closes_at`` is when the guard closes it."""

    model_config = _RESULT

    open: bool
    number: int | None = None
    opened_at: Timestamp | None = None
    age_s: float | None = None
    closes_at: Timestamp | None = None


class FnHealth(BaseModel):
    """The fiscal storage: expiry and the backlog of documents the OFD has not confirmed."""

    model_config = _RESULT

    serial: str | None = None
    valid_until: date | None = None
    days_left: int | None = None
    unsent_docs: int | None = None
    oldest_unsent_at: Timestamp | None = None


class OutboxHealth(BaseModel):
    """Requests waiting for the register, those that failed, those a person must settle.

    ``unknown`` (v1.1) counts rows whose receipt the register's answers cannot prove or rule
    out; ``unknown_ids`` (beyond the contract) names the oldest of them for support.
    """

    model_config = _RESULT

    pending: int
    oldest_pending_age_s: float | None = None
    failed: int
    unknown: int = 0
    unknown_ids: list[str] | None = None


class LineHealth(BaseModel):
    """v1.1: printing is held behind a receipt whose outcome is being established.

    ``row`` is that request's id, ``since`` when the line stopped, ``reason`` why the
    register has not yet said whether its receipt exists.
    """

    model_config = _RESULT

    stopped: bool
    row: str | None = None
    since: Timestamp | None = None
    reason: str | None = None


class SyncHealth(BaseModel):
    """Results waiting for the broker.

    ``broker`` (the agent's own addition) says whether the agent is connected to its broker
    right now: "up" or "down" (None where the agent has no MQTT link).
    """

    model_config = _RESULT

    pending: int
    oldest_pending_age_s: float | None = None
    broker: Literal["up", "down"] | None = None


class LastError(BaseModel):
    """The most recent error worth a person's attention."""

    model_config = _RESULT

    code: str
    message: str
    at: Timestamp


class Health(BaseModel):
    """The agent's health, published retained and on change.

    docs/contract.md v1::

        state       "online" | "degraded" | "offline"
        boot        increases at every start of the agent (kept on disk) (v1.1)
        seq         increases with every health within one boot (v1.1)
        version, uptime_s, at
        register    {link: "up" | "down", mode, model, serial, error?, state (v1.1)}
        shift       {open, number, opened_at, age_s, closes_at}
        fn          {serial, valid_until, days_left, unsent_docs, oldest_unsent_at}
        outbox      {pending, oldest_pending_age_s, failed, unknown (v1.1)}
        sync        {pending, oldest_pending_age_s}
        line        {stopped, row?, since?, reason?} (v1.1)
        last_error? {code, message, at}

    Every part but ``state`` is optional because the agent's last will is ``{"state":
    "offline", "boot": B}`` alone; a live agent always fills them. Order is ``(boot, seq)``:
    the will of boot B is newer than every health of boot B seen before it.
    """

    model_config = ConfigDict(
        extra="ignore",
        frozen=True,
        json_schema_extra={
            "examples": [
                {"state": "offline"},
                {"state": "offline", "boot": 7},
                {
                    "state": "online",
                    "boot": 7,
                    "seq": 412,
                    "version": "0.1.0",
                    "uptime_s": 86400.5,
                    "at": "2026-01-05T15:52:00+03:00",
                    "register": {
                        "link": "up",
                        "mode": 2,
                        "model": "ШТРИХ-М-01Ф",
                        "serial": "00000012345678",
                        "state": "ready",
                        "utc_offset": "+03:00",
                        "tz_source": "auto",
                        "measured_utc_offset": "+03:00",
                    },
                    "shift": {
                        "open": True,
                        "number": 12,
                        "opened_at": "2026-01-05T09:00:00+03:00",
                        "age_s": 24720.0,
                        "closes_at": "2026-01-06T08:15:00+03:00",
                    },
                    "fn": {
                        "serial": "9289000100346765",
                        "valid_until": "2027-03-01",
                        "days_left": 420,
                        "unsent_docs": 0,
                        "oldest_unsent_at": None,
                    },
                    "outbox": {
                        "pending": 0,
                        "oldest_pending_age_s": None,
                        "failed": 0,
                        "unknown": 0,
                    },
                    "line": {"stopped": False},
                    "sync": {"pending": 2, "oldest_pending_age_s": 1.5},
                },
                {
                    "state": "degraded",
                    "version": "0.1.0",
                    "uptime_s": 120,
                    "at": "2026-01-05T15:52:00+03:00",
                    "register": {"link": "down", "error": "link_down"},
                    "shift": {"open": False},
                    "fn": {},
                    "outbox": {"pending": 3, "oldest_pending_age_s": 95.0, "failed": 0},
                    "sync": {"pending": 0},
                    "last_error": {
                        "code": "link_down",
                        "message": "register link /dev/ttyACM0 is down",
                        "at": "2026-01-05T15:50:25+03:00",
                    },
                },
            ]
        },
    )

    state: Literal["online", "degraded", "offline"]
    boot: int | None = None  # v1.1: counts the starts of the agent, kept on disk
    seq: int | None = None  # v1.1: health number within one boot
    version: str | None = None
    uptime_s: float | None = None
    at: Timestamp | None = None
    register: RegisterHealth | None = None
    shift: ShiftHealth | None = None
    fn: FnHealth | None = None
    outbox: OutboxHealth | None = None
    sync: SyncHealth | None = None
    line: LineHealth | None = None
    last_error: LastError | None = None
