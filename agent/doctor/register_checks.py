"""The checks of the register's own facts: it answers, its FN, the OFD, shift, paper, clock.

Small pure functions from :class:`agent.doctor.facts.RegisterFacts` to a finding; SKIP where
the register did not answer (the register check says why) or did not report the fact.
"""

from __future__ import annotations

from datetime import timedelta

from agent.doctor.advice import call_engineer, replug
from agent.doctor.cashbox_checks import cashbox_register
from agent.doctor.facts import (
    Limits,
    PortFacts,
    PortKind,
    RegisterFacts,
    RegisterOutcome,
    Source,
)
from agent.doctor.findings import CheckId, Finding, Status, msg, nmsg

__all__ = [
    "check_clock",
    "check_fn",
    "check_ofd",
    "check_paper",
    "check_register",
    "check_shift",
]

_WARN_ONLY = frozenset({"tz_mismatch"})
"""Register problems the running agent reports that do not stop printing."""


def _skip(check: CheckId, register: RegisterFacts) -> Finding:
    """A register fact that could not be read: the register check says why, or it said nothing."""
    if register.outcome is not RegisterOutcome.OK:
        return Finding(
            check=check,
            status=Status.SKIP,
            code="not_checked",
            finding=msg("not checked: the register could not be read"),
        )
    return Finding(
        check=check,
        status=Status.SKIP,
        code="not_reported",
        finding=msg("not checked: the register did not report it"),
    )


def check_register(register: RegisterFacts, port: PortFacts) -> Finding:  # noqa: C901, PLR0911, PLR0912 - one flat dispatch
    """The register answers; a wrong password is its own finding."""
    check = CheckId.REGISTER
    cashbox = cashbox_register(register, port)
    if cashbox is not None:
        return cashbox
    match register.outcome:
        case RegisterOutcome.OK if register.code is not None:
            return Finding(
                check=check,
                status=Status.WARN if register.code in _WARN_ONLY else Status.FAIL,
                code=register.code,
                finding=msg(
                    "the agent reports a problem with the register: {detail}",
                    detail=register.detail or register.code,
                ),
                advice=(call_engineer(),),
            )
        case RegisterOutcome.OK:
            model, serial = register.model or "?", register.serial or "?"
            finding = (
                msg(
                    "{model}, serial number {serial}, answers (read through the agent)",
                    model=model,
                    serial=serial,
                )
                if register.source is Source.AGENT
                else msg("{model}, serial number {serial}, answers", model=model, serial=serial)
            )
            return Finding(check=check, status=Status.PASS, code="ok", finding=finding)
        case RegisterOutcome.NOT_READ:
            return Finding(
                check=check,
                status=Status.SKIP,
                code="not_checked",
                finding=msg("not checked: the port is not available"),
            )
        case RegisterOutcome.HELD_BY_AGENT:
            return Finding(
                check=check,
                status=Status.SKIP,
                code="held_by_agent",
                finding=msg("not checked: the agent's process holds the port"),
            )
        case RegisterOutcome.WRONG_PASSWORD if port.kind is PortKind.WEB_SERVER:
            return Finding(
                check=check,
                status=Status.FAIL,
                code="wrong_password",
                finding=msg("ATOL's web server refused the user in the settings"),
                advice=(
                    msg(
                        "[atol] username and password in the settings must be a user of "
                        "ATOL's web server."
                    ),
                    msg(
                        "Ask your service engineer to correct them, then restart the service: "
                        "sudo systemctl restart fiscal-agent"
                    ),
                ),
            )
        case RegisterOutcome.WRONG_PASSWORD:
            return Finding(
                check=check,
                status=Status.FAIL,
                code="wrong_password",
                finding=msg("the register refused the password in the settings"),
                advice=(
                    msg(
                        "The passwords [shtrih] operator_password and admin_password in the "
                        "settings must be the register's (30 from the factory)."
                    ),
                    msg(
                        "Ask your service engineer to correct them, then restart the service: "
                        "sudo systemctl restart fiscal-agent"
                    ),
                ),
            )
        case RegisterOutcome.BAD_SETTINGS:
            return Finding(
                check=check,
                status=Status.FAIL,
                code="bad_settings",
                finding=msg(
                    "the register settings cannot be used: {detail}", detail=register.detail or "?"
                ),
                advice=(call_engineer(),),
            )
        case RegisterOutcome.GARBLED:
            return Finding(
                check=check,
                status=Status.FAIL,
                code=register.code or "garbled",
                finding=msg("the register's answers are garbled"),
                advice=(
                    msg("Check the cable: unplug it and plug it back, or try another cable."),
                    msg(
                        "If the register was set up again, its speed must match "
                        "[shtrih] baudrate in the settings."
                    ),
                ),
            )
        case RegisterOutcome.REFUSED:
            return Finding(
                check=check,
                status=Status.FAIL,
                code=register.code or "refused",
                finding=msg(
                    "the register refused to report its state: {detail}",
                    detail=register.detail or "?",
                ),
                advice=(call_engineer(),),
            )
        case RegisterOutcome.PORT_FAILED | RegisterOutcome.NO_ANSWER if (
            port.kind is PortKind.WEB_SERVER
        ):
            return Finding(
                check=check,
                status=Status.FAIL,
                code=register.code or "no_answer",
                finding=msg(
                    "ATOL's web server answers, but the register behind it does not: {detail}",
                    detail=register.detail or "?",
                ),
                advice=replug(port.kind),
            )
        case RegisterOutcome.PORT_FAILED:
            return Finding(
                check=check,
                status=Status.FAIL,
                code=register.code or "link_down",
                finding=msg(
                    "the register's port cannot be opened: {detail}", detail=register.detail or "?"
                ),
                advice=(
                    msg("Close any other cash program that may be using the register."),
                    *replug(port.kind),
                ),
            )
        case RegisterOutcome.NO_ANSWER:
            return Finding(
                check=check,
                status=Status.FAIL,
                code=register.code or "no_answer",
                finding=msg("the register does not answer"),
                advice=replug(port.kind),
            )


def check_fn(register: RegisterFacts, limits: Limits) -> Finding:
    """The FN's expiry: WARN under ``fn_warn_days`` days left, FAIL once it has expired."""
    check = CheckId.FN
    fn = register.fn
    if fn is None or fn.valid_until is None or fn.days_left is None:
        return _skip(check, register)
    days, until = fn.days_left, fn.valid_until
    if days < 0:
        return Finding(
            check=check,
            status=Status.FAIL,
            code="expired",
            finding=msg("the FN expired on {date}: the register cannot print receipts", date=until),
            advice=(
                msg(
                    "Call your service engineer to replace the FN today: "
                    "until then no receipt can be printed."
                ),
            ),
        )
    if days < limits.fn_warn_days:
        return Finding(
            check=check,
            status=Status.WARN,
            code="expiring",
            finding=nmsg(
                "the FN is valid until {date}: only {count} day left",
                "the FN is valid until {date}: only {count} days left",
                days,
                date=until,
            ),
            advice=(
                msg(
                    "Order a new FN now and agree a day with your service engineer to replace "
                    "it: after {date} the register cannot print receipts.",
                    date=until,
                ),
            ),
        )
    return Finding(
        check=check,
        status=Status.PASS,
        code="ok",
        finding=nmsg(
            "valid until {date} ({count} day left)",
            "valid until {date} ({count} days left)",
            days,
            date=until,
        ),
    )


def _days_until(limit: timedelta, age: timedelta) -> int:
    """Whole days left before ``age`` reaches ``limit`` (0 on the last day)."""
    return max((limit - age).days, 0)


def check_ofd(register: RegisterFacts, limits: Limits) -> Finding:
    """Documents the OFD has not confirmed: WARN when the oldest is over 5 days old."""
    check = CheckId.OFD
    fn = register.fn
    if fn is None or fn.unsent_docs is None:
        return _skip(check, register)
    count, age = fn.unsent_docs, fn.oldest_unsent_age
    if count == 0:
        return Finding(
            check=check,
            status=Status.PASS,
            code="ok",
            finding=msg("every document has reached the OFD"),
        )
    if age is None or age <= limits.ofd_warn_age:
        return Finding(
            check=check,
            status=Status.PASS,
            code="sending",
            finding=nmsg(
                "{count} document is waiting to be sent to the OFD",
                "{count} documents are waiting to be sent to the OFD",
                count,
            ),
        )
    if age >= limits.ofd_block_age:
        return Finding(
            check=check,
            status=Status.FAIL,
            code="blocked",
            finding=nmsg(
                "{count} document has not reached the OFD for {age}: "
                "the FN blocks the register after 30 days",
                "{count} documents have not reached the OFD, the oldest for {age}: "
                "the FN blocks the register after 30 days",
                count,
                age=age,
            ),
            advice=(
                msg(
                    "Call your OFD operator now and check the register's internet connection: "
                    "the register works again once the documents are sent."
                ),
            ),
        )
    return Finding(
        check=check,
        status=Status.WARN,
        code="stale",
        finding=nmsg(
            "{count} document has not reached the OFD for {age}",
            "{count} documents have not reached the OFD, the oldest for {age}",
            count,
            age=age,
        ),
        advice=(
            msg(
                "Check that the register is connected to the internet (network cable or "
                "Wi-Fi), and call your OFD operator."
            ),
            nmsg(
                "After 30 days without sending, the FN blocks the register: {count} day left.",
                "After 30 days without sending, the FN blocks the register: {count} days left.",
                _days_until(limits.ofd_block_age, age),
            ),
        ),
    )


def check_shift(register: RegisterFacts, limits: Limits) -> Finding:
    """WARN past the guard's ``max_age``; FAIL once the register's 24-hour shift expired."""
    check = CheckId.SHIFT
    shift = register.shift
    if shift is None:
        return _skip(check, register)
    if not shift.is_open:
        return Finding(
            check=check,
            status=Status.PASS,
            code="closed",
            finding=msg("no shift is open; one opens with the next receipt"),
        )
    number = shift.number if shift.number is not None else "?"
    age = shift.age
    if shift.is_expired or (age is not None and age >= limits.shift_lock):
        return Finding(
            check=check,
            status=Status.FAIL,
            code="expired",
            finding=msg(
                "shift {number} has been open for more than 24 hours: "
                "the register refuses receipts until it is closed",
                number=number,
            ),
            advice=(
                msg(
                    "Close the shift (Z report): the running agent does it by itself; "
                    "otherwise close it on the register."
                ),
                msg("A new shift opens with the next receipt."),
            ),
        )
    if age is None:
        return Finding(
            check=check,
            status=Status.PASS,
            code="open",
            finding=msg("shift {number} is open", number=number),
        )
    if age > limits.shift_max_age:
        return Finding(
            check=check,
            status=Status.WARN,
            code="old",
            finding=msg(
                "shift {number} has been open for {age}, longer than the agent keeps "
                "a shift ({max_age})",
                number=number,
                age=age,
                max_age=limits.shift_max_age,
            ),
            advice=(
                msg(
                    "Close the shift (Z report) before it is 24 hours old: the running agent "
                    "does it before the next receipt; otherwise close it on the register."
                ),
            ),
        )
    return Finding(
        check=check,
        status=Status.PASS,
        code="open",
        finding=msg("shift {number} has been open for {age}", number=number, age=age),
    )


def check_paper(register: RegisterFacts) -> Finding:
    """FAIL when the register is out of paper."""
    check = CheckId.PAPER
    if register.has_paper is None:
        return _skip(check, register)
    if register.has_paper:
        return Finding(check=check, status=Status.PASS, code="ok", finding=msg("paper is loaded"))
    return Finding(
        check=check,
        status=Status.FAIL,
        code="paper_out",
        finding=msg("the register is out of paper"),
        advice=(
            msg(
                "Put a new roll of receipt paper in the register and close the lid; "
                "printing goes on by itself."
            ),
        ),
    )


def check_clock(register: RegisterFacts, limits: Limits) -> Finding:
    """The register's clock against this computer's: WARN over 1 minute, FAIL over 5."""
    check = CheckId.CLOCK
    skew = register.clock_skew_s
    if skew is None:
        return _skip(check, register)
    off = abs(skew)
    if off <= limits.clock_warn_s:
        return Finding(
            check=check,
            status=Status.PASS,
            code="ok",
            finding=msg(
                "the register's clock agrees with this computer's (off by {seconds} s)",
                seconds=round(off),
            ),
        )
    # To the second within two minutes; past that whole minutes, which is what a person reads
    # (the measurement itself is good to about a second).
    diff = timedelta(seconds=round(off)) if off < 120 else timedelta(minutes=round(off / 60))
    finding = (
        msg("the register's clock is {diff} ahead of this computer's", diff=diff)
        if skew > 0
        else msg("the register's clock is {diff} behind this computer's", diff=diff)
    )
    set_time = msg(
        "Set the right time: on this computer (sudo timedatectl set-ntp true), "
        "or on the register (your service engineer)."
    )
    if off > limits.clock_fail_s:
        return Finding(
            check=check,
            status=Status.FAIL,
            code="clock_off",
            finding=finding,
            advice=(
                msg(
                    "The FN refuses documents whose time is more than 5 minutes off: "
                    "receipts cannot be printed."
                ),
                set_time,
            ),
        )
    return Finding(
        check=check,
        status=Status.WARN,
        code="clock_drift",
        finding=finding,
        advice=(
            set_time,
            msg("At more than 5 minutes off the FN refuses documents."),
        ),
    )
