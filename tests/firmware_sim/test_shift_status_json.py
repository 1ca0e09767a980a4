"""The shift as the control API's GET /state shows it, the same for every web front end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from firmware_sim.register.model import ShiftState, ShiftStatus

CLOCK = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _status(state: ShiftState, opened_at: datetime | None) -> ShiftStatus:
    expires_at = None if opened_at is None else opened_at + timedelta(hours=24)
    return ShiftStatus(
        state=state,
        number=7,
        opened_at=opened_at,
        expires_at=expires_at,
        receipts=3,
        documents=4,
        clock=CLOCK,
    )


def test_an_open_shift_shows_its_age() -> None:
    status = _status(ShiftState.EXPIRED, CLOCK - timedelta(hours=25))
    assert status.as_dict() == {
        "open": True,
        "number": 7,
        "opened_at": "2026-02-28T11:00:00+00:00",
        "age_s": 90000.0,
        "expired": True,
        "state": "expired",
    }


def test_a_shift_within_its_day_is_not_expired() -> None:
    assert _status(ShiftState.OPENED, CLOCK - timedelta(minutes=1)).as_dict()["expired"] is False


def test_a_closed_shift_has_no_age() -> None:
    assert _status(ShiftState.CLOSED, None).as_dict() == {
        "open": False,
        "number": 7,
        "opened_at": None,
        "age_s": None,
        "expired": False,
        "state": "closed",
    }
