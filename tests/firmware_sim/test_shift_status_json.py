"""The shift as the control API's GET /state shows it, the same for every web front end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from firmware_sim.register.model import ShiftState, ShiftStatus

CLOCK = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_an_open_shift_shows_its_age() -> None:
    opened = CLOCK - timedelta(hours=25)
    status = ShiftStatus(
        state=ShiftState.EXPIRED,
        number=7,
        opened_at=opened,
        expires_at=opened + timedelta(hours=24),
        receipts=3,
        documents=4,
        clock=CLOCK,
    )
    assert status.as_dict() == {
        "open": True,
        "number": 7,
        "opened_at": "2026-02-28T11:00:00+00:00",
        "age_s": 90000.0,
        "expired": True,
        "state": "expired",
    }


def test_a_closed_shift_has_no_age() -> None:
    status = ShiftStatus(
        state=ShiftState.CLOSED,
        number=7,
        opened_at=None,
        expires_at=None,
        receipts=0,
        documents=0,
        clock=CLOCK,
    )
    assert status.as_dict() == {
        "open": False,
        "number": 7,
        "opened_at": None,
        "age_s": None,
        "expired": False,
        "state": "closed",
    }
