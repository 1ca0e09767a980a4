"""``fiscal-agent status`` on one screen: the line stop and every unknown row are spelled out."""

from __future__ import annotations

from typing import Any

from agent.cli import render_status

HEALTH: dict[str, Any] = {
    "state": "degraded",
    "version": "0.1.0",
    "uptime_s": 120.0,
    "register": {"link": "up", "model": "ШТРИХ-М-01Ф", "serial": "1", "mode": 2},
    "shift": {"open": True, "number": 3, "age_s": 3600.0, "closes_at": "2026-12-02T08:00:00"},
    "fn": {"serial": "9999078900012345", "valid_until": "2027-11-21", "days_left": 355},
    "outbox": {"pending": 2, "failed": 0, "unknown": 1},
    "sync": {"pending": 0},
}


def test_status_render_names_the_row_the_line_waits_for() -> None:
    """A stopped line: since when, behind which row, why."""
    health = {
        **HEALTH,
        "line": {
            "stopped": True,
            "row": "crm-7",
            "since": "2026-12-01T10:00:00+00:00",
            "reason": "link_down: no answer",
        },
    }
    screen = render_status(health)
    line = next(text for text in screen.splitlines() if text.startswith("LINE"))
    assert "STOPPED" in line
    assert "crm-7" in line
    assert "link_down: no answer" in line
    assert "2026-12-01T10:00:00+00:00" in line


def test_status_render_lists_every_unknown_row_and_how_to_settle_it() -> None:
    """Unknown rows are listed one a line, with the route a person settles them by."""
    unknown = [
        {"id": "crm-7", "accepted_at": "2026-12-01T09:00:00+00:00", "error": {"message": "x"}},
        {"id": "crm-9", "accepted_at": "2026-12-01T09:05:00+00:00"},
    ]
    screen = render_status(HEALTH, unknown).splitlines()
    assert "1 unknown" in next(text for text in screen if text.startswith("outbox"))
    header = next(n for n, text in enumerate(screen) if text.startswith("UNKNOWN"))
    assert "/api/v1/receipts/{id}/resolve" in screen[header]
    assert screen[header + 1].split()[0] == "crm-7"
    assert screen[header + 2].split()[0] == "crm-9"


def test_status_render_without_a_line_stop_or_unknown_rows_says_nothing_of_them() -> None:
    """A running line and no unknown rows add no lines."""
    screen = render_status({**HEALTH, "line": {"stopped": False}, "outbox": {"pending": 0}})
    assert "LINE" not in screen
    assert "UNKNOWN" not in screen


def test_status_render_shows_the_registers_zone_and_a_clock_that_disagrees() -> None:
    """The zone the agent reads the register's clock in; a configured one that disagrees."""
    auto = {**HEALTH, "register": {**HEALTH["register"], "utc_offset": "+05:45"}}
    auto["register"] |= {"tz_source": "auto", "measured_utc_offset": "+05:45"}
    line = next(t for t in render_status(auto).splitlines() if t.startswith("register"))
    assert "tz +05:45 (auto)" in line
    assert "clock says" not in line
    wrong = {**HEALTH, "register": {**HEALTH["register"], "error": "tz_mismatch"}}
    wrong["register"] |= {
        "utc_offset": "+03:00",
        "tz_source": "configured",
        "measured_utc_offset": "+05:00",
    }
    line = next(t for t in render_status(wrong).splitlines() if t.startswith("register"))
    assert "tz +03:00 (configured), its clock says +05:00" in line
    assert "PROBLEM: tz_mismatch" in line


def test_status_render_shows_the_sync_queue_and_the_broker() -> None:
    """The sync line: how many results wait, the oldest one's age, whether the broker is up."""
    health = {**HEALTH, "sync": {"pending": 5000, "oldest_pending_age_s": 7200.0, "broker": "down"}}
    line = next(text for text in render_status(health).splitlines() if text.startswith("sync"))
    assert "5000 waiting" in line
    assert "oldest 2h" in line
    assert "broker down" in line
