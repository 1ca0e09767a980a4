"""The running agent's health as the doctor's register facts: what each field tells."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from agent.contract import Health
from agent.doctor.facts import RegisterOutcome, Source
from agent.doctor.register_probe import register_from_health


def _health(**changes: Any) -> Health:
    """An online agent's health (docs/contract.md's example), parts replaced by ``changes``."""
    base: dict[str, Any] = {
        "state": "online",
        "version": "0.1.0",
        "at": "2026-12-01T15:52:00+03:00",
        "register": {
            "link": "up",
            "mode": 2,
            "model": "ШТРИХ-М-01Ф",
            "serial": "0012345678",
            "state": "ready",
            "clock": "2026-12-01T15:53:30+03:00",
            "clock_skew_s": 90.0,
        },
        "shift": {"open": True, "number": 12, "opened_at": "2026-12-01T09:00:00+03:00",
                  "age_s": 24810.0},
        "fn": {"serial": "9999078900012345", "valid_until": "2026-12-20", "days_left": 19,
               "unsent_docs": 4, "oldest_unsent_at": "2026-11-24T15:53:30+03:00"},
        "outbox": {"pending": 0, "failed": 0},
        "sync": {"pending": 0},
    }  # fmt: skip
    for key, value in changes.items():
        base[key] = {**base.get(key, {}), **value} if isinstance(value, dict) else value
    return Health.model_validate(base)


def test_register_from_health_reads_every_fact() -> None:
    """Model, paper, shift, FN and its backlog age (on the register's clock), clock skew."""
    facts = register_from_health(_health())
    assert facts.outcome is RegisterOutcome.OK
    assert facts.source is Source.AGENT
    assert (facts.model, facts.serial, facts.code) == ("ШТРИХ-М-01Ф", "0012345678", None)
    assert facts.has_paper is True
    assert facts.shift is not None
    assert (facts.shift.is_open, facts.shift.is_expired, facts.shift.number) == (True, False, 12)
    assert facts.shift.age == timedelta(seconds=24810)
    assert facts.fn is not None
    assert (facts.fn.valid_until, facts.fn.days_left, facts.fn.unsent_docs) == (
        date(2026, 12, 20), 19, 4,
    )  # fmt: skip
    assert facts.fn.oldest_unsent_age == timedelta(days=7)
    assert facts.clock_skew_s == 90.0


def test_register_from_health_paper_out_and_expired_shift() -> None:
    """register.state says paper_out or shift_expired; the error paper_out says it too."""
    paper = register_from_health(_health(register={"state": "paper_out", "error": "paper_out"}))
    assert paper.has_paper is False
    assert paper.code is None  # the paper check reports it, not the register check
    hidden = register_from_health(
        _health(register={"state": "shift_expired", "error": "paper_out"})
    )
    assert hidden.has_paper is False
    assert hidden.shift is not None
    assert hidden.shift.is_expired


def test_register_from_health_link_down_and_wrong_password() -> None:
    """Link down: no answer with the agent's message; a refused password is its own outcome."""
    down = register_from_health(
        _health(
            state="degraded",
            register={"link": "down", "mode": None, "error": "link_down"},
            last_error={"code": "link_down", "message": "register link /dev/ttyACM0 is down",
                        "at": "2026-12-01T15:50:00+03:00"},
        )
    )  # fmt: skip
    assert (down.outcome, down.code) == (RegisterOutcome.NO_ANSWER, "link_down")
    assert down.detail == "register link /dev/ttyACM0 is down"
    wrong = register_from_health(
        _health(register={"link": "up", "mode": None, "error": "wrong_password"})
    )
    assert wrong.outcome is RegisterOutcome.WRONG_PASSWORD


def test_register_from_health_other_problems_are_the_register_checks() -> None:
    """A tax setup the agent refuses is reported; an expired FN's fn_failure is the FN check's."""
    tax = register_from_health(
        _health(
            register={"error": "tax_setup_mismatch"},
            last_error={"code": "tax_setup_mismatch", "message": "vat22: row 1 is 20.00 %",
                        "at": "2026-12-01T15:50:00+03:00"},
        )
    )  # fmt: skip
    assert (tax.outcome, tax.code, tax.detail) == (
        RegisterOutcome.OK, "tax_setup_mismatch", "vat22: row 1 is 20.00 %",
    )  # fmt: skip
    expired = register_from_health(
        _health(register={"error": "fn_failure"}, fn={"valid_until": "2026-11-30", "days_left": -1})
    )
    assert expired.code is None
