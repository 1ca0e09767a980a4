"""The support page's rows: pure functions of an agent's newest health (cloud/web/board.py)."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from agent.contract import Health
from cloud.store import AgentRecord
from cloud.web.board import (
    Level,
    Problem,
    ShiftSummary,
    agent_row,
    duration,
    error_advice,
    select_rows,
)
from cloud.web.i18n import catalog, pick_language

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
EN = catalog("en")
RU = catalog("ru")


def health(**fields: Any) -> Health:
    body: dict[str, Any] = {
        "state": "online",
        "boot": 3,
        "seq": 10,
        "register": {"link": "up", "model": "ШТРИХ-М-01Ф", "serial": "0001", "state": "ready"},
        "shift": {"open": True, "number": 7, "age_s": 3600.0},
        "fn": {"serial": "9999", "days_left": 300, "unsent_docs": 0},
        "outbox": {"pending": 0, "failed": 0, "unknown": 0},
        "sync": {"pending": 0, "broker": "up"},
    }
    body.update(fields)
    return Health.model_validate(body)


def record(h: Health, *, club: str = "club-1", agent: str = "desk-1", seen_s: float = 5) -> Any:
    return AgentRecord(club=club, agent=agent, health=h, seen_at=NOW - timedelta(seconds=seen_s))


def test_a_healthy_agent_is_calm_and_has_no_problem() -> None:
    row = agent_row(record(health()), ShiftSummary(number=7, rows_differ=0, difference=0), NOW, EN)
    assert row.level is Level.OK
    assert row.problems == frozenset()
    assert row.state.text == "online"
    assert row.register.text == "ШТРИХ-М-01Ф"
    assert row.shift.text == "1 h 00, 23 h 00 left"
    assert row.shift.hint == "No. 7"
    assert row.fn.text == "300 days left"
    assert row.discrepancy.text == "No. 7: matched"


def test_offline_says_since_when_and_turns_red_after_a_minute() -> None:
    will = Health.model_validate({"state": "offline", "boot": 3})
    fresh = agent_row(record(will, seen_s=20), None, NOW, EN)
    assert fresh.state.level is Level.LOOK
    assert fresh.state.text == "offline since 02.03 11:59 (20 s ago)"
    assert Problem.OFFLINE in fresh.problems
    late = agent_row(record(will, seen_s=600), None, NOW, EN)
    assert late.state.level is Level.NOW
    assert late.level is Level.NOW


def test_a_stopped_line_names_the_receipt_it_waits_behind() -> None:
    h = health(
        state="degraded",
        line={"stopped": True, "row": "crm-42", "since": (NOW - timedelta(minutes=3)).isoformat()},
    )
    row = agent_row(record(h), None, NOW, EN)
    assert row.state.text == "line stopped behind crm-42"
    assert row.state.hint == "since 3 min ago"
    assert row.state.level is Level.NOW
    assert Problem.LINE in row.problems


def test_out_of_paper_is_red_with_what_to_do() -> None:
    h = health(
        state="degraded",
        register={"link": "up", "model": "ШТРИХ-М-01Ф", "error": "paper_out"},
        last_error={"code": "paper_out", "message": "x", "at": (NOW - timedelta(minutes=2))},
    )
    row = agent_row(record(h), None, NOW, EN)
    assert row.state.text == "degraded: out of paper"
    assert row.register.level is Level.NOW
    assert row.register.text == "ШТРИХ-М-01Ф: out of paper"
    assert row.register.hint == "Ask the club to load receipt paper."
    assert row.error.text == "The register ran out of paper. 2 min ago"
    assert row.error.level is Level.LOOK
    assert {Problem.REGISTER, Problem.ERROR} <= row.problems


def test_a_tz_mismatch_needs_a_look_not_action() -> None:
    h = health(state="degraded", register={"link": "up", "error": "tz_mismatch"})
    row = agent_row(record(h), None, NOW, EN)
    assert row.register.level is Level.LOOK


def test_the_shift_turns_amber_then_red_as_the_24_hours_come_near() -> None:
    def level(age_h: float) -> Level:
        h = health(shift={"open": True, "number": 7, "age_s": age_h * 3600})
        return agent_row(record(h), None, NOW, EN).shift.level

    assert level(19.5) is Level.OK
    assert level(20.5) is Level.LOOK
    assert level(23.5) is Level.NOW
    expired = agent_row(
        record(health(shift={"open": True, "number": 7, "age_s": 25 * 3600})), None, NOW, EN
    )
    assert expired.shift.text == "No. 7: 25 h 00, over 24 h"
    assert expired.shift.level is Level.NOW


def test_fn_days_and_the_ofd_backlog_have_their_thresholds() -> None:
    def row(days: int, unsent_age_d: float) -> Any:
        oldest = (NOW - timedelta(days=unsent_age_d)).isoformat()
        fn = {"days_left": days, "unsent_docs": 4, "oldest_unsent_at": oldest}
        return agent_row(record(health(fn=fn)), None, NOW, EN)

    assert row(45, 1).fn.level is Level.OK
    assert row(20, 1).fn.level is Level.LOOK
    assert row(2, 1).fn.level is Level.NOW
    assert row(45, 1).ofd.level is Level.OK
    assert row(45, 6).ofd.level is Level.LOOK
    assert row(45, 26).ofd.level is Level.NOW
    assert row(45, 6).ofd.text == "4, oldest 6 d"


def test_queues_unknown_and_discrepancies() -> None:
    h = health(
        outbox={
            "pending": 3,
            "oldest_pending_age_s": 900,
            "failed": 1,
            "unknown": 2,
            "unknown_ids": ["a", "b"],
        },
        sync={"pending": 5, "oldest_pending_age_s": 30, "broker": "down"},
    )
    row = agent_row(record(h), ShiftSummary(number=7, rows_differ=2, difference=-29950), NOW, EN)
    assert row.queues.text == "outbox 3 (15 min) · sync 5 (30 s); 1 failed; no broker"
    assert row.queues.level is Level.LOOK
    assert row.unknown.text == "2: a, b"
    assert row.unknown.level is Level.NOW
    assert row.discrepancy.text == "No. 7: rows to settle 2, Δ -299.50"
    assert {Problem.QUEUES, Problem.UNKNOWN, Problem.DISCREPANCY} <= row.problems
    no_counters = agent_row(
        record(health()), ShiftSummary(number=7, rows_differ=1, difference=None), NOW, EN
    )
    assert no_counters.discrepancy.text == "No. 7: rows to settle 1"


def test_what_an_offline_agent_last_said_is_not_a_call_to_act() -> None:
    will = Health.model_validate(
        {
            "state": "offline",
            "boot": 3,
            "register": {"link": "down"},
            "outbox": {"pending": 0, "failed": 0},
        }
    )
    row = agent_row(record(will, seen_s=10), None, NOW, EN)
    assert row.register.level is Level.OK
    assert row.problems == {Problem.OFFLINE}


def test_the_filter_picks_by_club_and_problem_most_urgent_first() -> None:
    calm = agent_row(record(health(), club="club-a", agent="a1"), None, NOW, EN)
    paper = agent_row(
        record(
            health(state="degraded", register={"link": "up", "error": "paper_out"}),
            club="club-b",
            agent="b1",
        ),
        None,
        NOW,
        EN,
    )
    gone = agent_row(
        record(Health.model_validate({"state": "offline"}), club="club-a", agent="a2", seen_s=900),
        None,
        NOW,
        EN,
    )
    rows = [calm, paper, gone]
    assert [r.agent for r in select_rows(rows)] == ["a2", "b1", "a1"]
    assert [r.agent for r in select_rows(rows, club="club-a")] == ["a2", "a1"]
    assert [r.agent for r in select_rows(rows, problem="any")] == ["a2", "b1"]
    assert [r.agent for r in select_rows(rows, problem="register")] == ["b1"]
    assert [r.agent for r in select_rows(rows, club="club-b", problem="offline")] == []


def test_durations_read_short() -> None:
    assert duration(5, EN) == "5 s"
    assert duration(125, EN) == "2 min"
    assert duration(3 * 3600 + 300, EN) == "3 h 05"
    assert duration(5 * 86400, EN) == "5 d"
    assert duration(5 * 86400, RU) == "5 дн."


def test_an_unknown_error_code_points_to_the_error_list() -> None:
    assert error_advice("register_error_0x7e", EN) == (
        "Error register_error_0x7e.",
        "Look the code up in docs/errors.md.",
    )
    assert error_advice("fn_failure", RU)[1].startswith("ФН нужно заменить")


@pytest.mark.parametrize(
    ("switch", "cookie", "accept", "expected"),
    [
        ("en", "ru", "ru", "en"),
        (None, "en", "ru", "en"),
        (None, None, "en-US,en;q=0.9,ru;q=0.8", "en"),
        (None, None, "de-DE, ru;q=0.5, en;q=0.4", "ru"),
        (None, None, "de", "ru"),
        ("xx", None, None, "ru"),
    ],
)
def test_the_language_comes_from_the_switch_the_cookie_then_the_browser(
    switch: str | None, cookie: str | None, accept: str | None, expected: str
) -> None:
    assert pick_language(switch, cookie, accept) == expected


def test_both_catalogs_have_the_same_keys_and_fields() -> None:
    locale = Path(__file__).parents[3] / "cloud" / "web" / "locale"
    en = tomllib.loads((locale / "en.toml").read_text("utf-8"))
    ru = tomllib.loads((locale / "ru.toml").read_text("utf-8"))
    assert set(en) == set(ru)
    for key, text in en.items():
        fields = {part.split("}")[0] for part in text.split("{")[1:]}
        assert fields == {part.split("}")[0] for part in ru[key].split("{")[1:]}, key


def test_an_agent_not_heard_from_for_minutes_is_flagged_whatever_it_last_said() -> None:
    row = agent_row(record(health(), seen_s=600), None, NOW, EN)
    assert row.state.text == "no health for 10 min"
    assert row.state.level is Level.LOOK
    assert Problem.OFFLINE in row.problems
    assert agent_row(record(health(), seen_s=60), None, NOW, EN).state.text == "online"
