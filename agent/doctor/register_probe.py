"""The register's facts: from the running agent's health, or read with the agent's own driver.

While the agent runs it holds the register's port, so the doctor reads what the agent last
saw (``GET /api/v1/health``: register, fn, shift, clock skew, paper) with
:func:`register_from_health`. With the agent stopped, :func:`read_register` opens the port
with the driver the agent builds (:func:`agent.drivers.factory.build_driver`) and reads the
register's state, its FN and the open shift's first document.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Final

import structlog

from agent.config import AgentConfig, ConfigError
from agent.contract import Health
from agent.doctor.facts import FnFacts, RegisterFacts, RegisterOutcome, ShiftFacts, Source
from agent.drivers.errors import (
    DeviceError,
    DriverError,
    LinkDown,
    LinkError,
    ProtocolError,
    WrongPassword,
)
from agent.drivers.factory import build_driver
from agent.drivers.interface import ShiftState

__all__ = ["REGISTER_READ_TIMEOUT_S", "read_register", "register_from_health"]

REGISTER_READ_TIMEOUT_S: Final = 20.0
"""How long reading the register may take in all (a dead link gives up in a few seconds)."""

_SEEN_ELSEWHERE: Final = frozenset({"paper_out", "clock_skew", "shift_expired"})
"""Health's register errors another check reports already (paper, clock, shift)."""


def _quiet_log() -> structlog.typing.FilteringBoundLogger:
    """The driver logs for the journal; the doctor speaks to a person, so it drops them."""
    logger: structlog.typing.FilteringBoundLogger = structlog.wrap_logger(
        structlog.ReturnLogger(),
        wrapper_class=structlog.make_filtering_bound_logger(logging.CRITICAL),
        processors=[],
    )
    return logger


_HALF_SECOND: Final = timedelta(seconds=0.5)


def _host_now() -> datetime:
    return datetime.now(UTC)


async def read_register(
    config: AgentConfig, *, host_clock: Callable[[], datetime] = _host_now
) -> RegisterFacts:
    """Open the register's port with the agent's driver and read what the checks need."""
    try:
        driver = build_driver(config, _quiet_log())
    except (ValueError, ConfigError) as exc:  # a password of 0; a protocol not in this build
        return RegisterFacts(
            outcome=RegisterOutcome.BAD_SETTINGS, source=Source.PORT, detail=str(exc)
        )
    try:
        async with asyncio.timeout(REGISTER_READ_TIMEOUT_S):
            info = await driver.connect()
            before = host_clock()
            state = await driver.read_state()
            # The register read its clock somewhere in that round trip, in whole seconds
            # (truncated): compare it with the round trip's middle, half a second earlier.
            host_now = before + (host_clock() - before) / 2 - _HALF_SECOND
            fn = await driver.read_fn_state()
            opened_at = None
            if state.shift is not ShiftState.CLOSED:
                try:
                    document = await driver.shift_open_document(state)
                except DriverError:  # the shift's age stays unknown; the rest still counts
                    document = None
                opened_at = None if document is None else document.issued_at
    except DriverError as exc:
        return _failed(exc)
    except TimeoutError:
        return RegisterFacts(
            outcome=RegisterOutcome.NO_ANSWER,
            source=Source.PORT,
            code="link_down",
            detail=f"no complete answer within {REGISTER_READ_TIMEOUT_S:g} s",
        )
    finally:
        await driver.aclose()
    clock = state.clock
    oldest = fn.oldest_unsent_at
    return RegisterFacts(
        outcome=RegisterOutcome.OK,
        source=Source.PORT,
        model=info.model,
        serial=info.serial,
        has_paper=state.has_paper,
        shift=ShiftFacts(
            is_open=state.shift is not ShiftState.CLOSED,
            is_expired=state.shift is ShiftState.EXPIRED,
            number=state.shift_number,
            age=None if opened_at is None else clock - opened_at,
        ),
        fn=FnFacts(
            valid_until=fn.valid_until,
            days_left=None if fn.valid_until is None else (fn.valid_until - clock.date()).days,
            unsent_docs=fn.unsent_docs,
            oldest_unsent_age=None if oldest is None else clock - oldest,
        ),
        clock_skew_s=(clock - host_now).total_seconds(),
    )


def _failed(exc: DriverError) -> RegisterFacts:
    """The driver's error as the register check's outcome; its own text kept for support."""
    detail = str(exc)
    if isinstance(exc, WrongPassword) or exc.public_code == "wrong_password":  # ATOL: HTTP 401
        outcome = RegisterOutcome.WRONG_PASSWORD
    elif isinstance(exc, LinkDown):
        outcome, detail = RegisterOutcome.PORT_FAILED, exc.reason
    elif isinstance(exc, LinkError):
        outcome = RegisterOutcome.NO_ANSWER
    elif isinstance(exc, ProtocolError):
        outcome = RegisterOutcome.GARBLED
    elif isinstance(exc, DeviceError):
        outcome = RegisterOutcome.REFUSED
    else:
        outcome = RegisterOutcome.NO_ANSWER
    return RegisterFacts(outcome=outcome, source=Source.PORT, code=exc.public_code, detail=detail)


def register_from_health(health: Health) -> RegisterFacts:
    """What the running agent last read from the register, as the checks' facts."""
    register = health.register
    last = health.last_error
    if register is None:
        return RegisterFacts(outcome=RegisterOutcome.NO_ANSWER, source=Source.AGENT)
    error = register.error
    detail = last.message if last is not None and last.code == error else None
    if error == "wrong_password":
        return RegisterFacts(
            outcome=RegisterOutcome.WRONG_PASSWORD, source=Source.AGENT, code=error, detail=detail
        )
    if register.link == "down" or register.model is None:  # model: the register answered once
        return RegisterFacts(
            outcome=RegisterOutcome.NO_ANSWER,
            source=Source.AGENT,
            code=error or "link_down",
            detail=detail,
        )
    shift = health.shift
    fn = health.fn
    oldest = None if fn is None else fn.oldest_unsent_at
    fn_facts = (
        None
        if fn is None
        else FnFacts(
            valid_until=fn.valid_until,
            days_left=fn.days_left,
            unsent_docs=fn.unsent_docs,
            oldest_unsent_age=(
                None if oldest is None or register.clock is None else register.clock - oldest
            ),
        )
    )
    is_fn_expired = fn_facts is not None and (fn_facts.days_left or 0) < 0
    is_seen = error in _SEEN_ELSEWHERE or (error == "fn_failure" and is_fn_expired)
    return RegisterFacts(
        outcome=RegisterOutcome.OK,
        source=Source.AGENT,
        code=None if error is None or is_seen else error,
        detail=None if error is None or is_seen else (detail or error),
        model=register.model,
        serial=register.serial,
        has_paper=not (register.state == "paper_out" or error == "paper_out"),
        shift=None
        if shift is None
        else ShiftFacts(
            is_open=shift.open,
            is_expired=register.state == "shift_expired",
            number=shift.number,
            age=None if shift.age_s is None else timedelta(seconds=shift.age_s),
        ),
        fn=fn_facts,
        clock_skew_s=register.clock_skew_s,
    )
