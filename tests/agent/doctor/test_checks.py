"""Each check is a pure function of facts: its verdict, its stable code, its words and advice."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from agent.doctor.checks import (
    check_agent,
    check_broker,
    check_clock,
    check_disk,
    check_fn,
    check_ofd,
    check_paper,
    check_port,
    check_register,
    check_shift,
    run_checks,
)
from agent.doctor.facts import (
    AgentFacts,
    BrokerFacts,
    BrokerOutcome,
    DiskFacts,
    FnFacts,
    PortFacts,
    PortKind,
    PortOutcome,
    RegisterFacts,
    RegisterOutcome,
    ShiftFacts,
    Source,
)
from agent.doctor.findings import CheckId, Status
from agent.doctor.render import exit_status
from tests.support.doctor_facts import LIMITS, MIB, facts, read, register

USB = PortFacts(url="/dev/ttyACM0", kind=PortKind.DEVICE, outcome=PortOutcome.OK)
TCP = PortFacts(url="socket://10.0.0.5:7778", kind=PortKind.TCP, outcome=PortOutcome.OK)
HEALTH_URL = "http://127.0.0.1:8750/api/v1/health"


def _fn(**changes: object) -> RegisterFacts:
    base = FnFacts(valid_until=date(2028, 1, 31), days_left=400, unsent_docs=0)
    return register(fn=replace(base, **changes))


def _shift(**changes: object) -> RegisterFacts:
    base = ShiftFacts(is_open=True, is_expired=False, number=7, age=timedelta(hours=3))
    return register(shift=replace(base, **changes))


# --- the agent service ------------------------------------------------------------------


def test_check_agent_answering_passes() -> None:
    """The local API answered: PASS naming where."""
    finding = check_agent(AgentFacts(url=HEALTH_URL, is_answering=True))
    assert (finding.status, finding.code) == (Status.PASS, "running")
    assert HEALTH_URL in read(finding)[0]


def test_check_agent_not_running_says_systemctl() -> None:
    """Nothing answers and no process: the service is not running, look at systemctl."""
    finding = check_agent(AgentFacts(url=HEALTH_URL, is_answering=False, detail="refused"))
    assert (finding.status, finding.code) == (Status.FAIL, "not_running")
    text, advice = read(finding)
    assert text.startswith("the service is not running")
    assert "systemctl status fiscal-agent" in advice[0]
    _, advice_ru = read(finding, "ru")
    assert advice_ru[0] == "Проверьте службу: systemctl status fiscal-agent"


def test_check_agent_process_that_does_not_answer_is_restarted() -> None:
    """A process of the agent alive but silent: restart it, and where its log is."""
    finding = check_agent(AgentFacts(url=HEALTH_URL, is_answering=False, pid=4242))
    assert (finding.status, finding.code) == (Status.FAIL, "not_answering")
    text, advice = read(finding)
    assert "process 4242" in text
    assert "sudo systemctl restart fiscal-agent" in advice[0]
    assert "journalctl -u fiscal-agent" in advice[1]


# --- the port --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("port", "status", "code"),
    [
        (USB, Status.PASS, "ok"),
        (TCP, Status.PASS, "ok"),
        (replace(USB, outcome=PortOutcome.IN_USE_BY_AGENT), Status.PASS, "in_use_by_agent"),
        (replace(USB, outcome=PortOutcome.MISSING), Status.FAIL, "missing"),
        (
            replace(USB, outcome=PortOutcome.NO_PERMISSION, user="anna"),
            Status.FAIL,
            "no_permission",
        ),
        (
            replace(TCP, outcome=PortOutcome.UNREACHABLE, detail="refused"),
            Status.FAIL,
            "unreachable",
        ),
        (
            PortFacts(url="rfc2217://x:1", kind=PortKind.OTHER, outcome=PortOutcome.NOT_CHECKED),
            Status.SKIP,
            "not_checked",
        ),
    ],
    ids=["usb", "tcp", "agent", "missing", "permission", "unreachable", "other"],
)
def test_check_port_outcomes(port: PortFacts, status: Status, code: str) -> None:
    """Every port outcome has its verdict and code."""
    finding = check_port(port)
    assert (finding.status, finding.code) == (status, code)
    assert port.url in read(finding)[0]


def test_check_port_missing_usb_says_replug() -> None:
    """A missing USB port: switch on, replug the cable, then the settings."""
    text, advice = read(check_port(replace(USB, outcome=PortOutcome.MISSING)))
    assert "does not see the register" in text
    assert advice[0] == "Check that the register is switched on and its USB cable is plugged in."
    assert advice[1].startswith("Unplug the USB cable and plug it back")
    _, advice_ru = read(check_port(replace(USB, outcome=PortOutcome.MISSING)), "ru")
    assert advice_ru[1].startswith("Отключите USB-кабель и подключите его снова")


def test_check_port_unreachable_tcp_says_network_cable() -> None:
    """A network register: its cable and its address, not USB."""
    finding = check_port(replace(TCP, outcome=PortOutcome.UNREACHABLE, detail="No route to host"))
    text, advice = read(finding)
    assert "(No route to host)" in text
    assert "network cable" in advice[0]
    assert not any("USB" in line for line in advice)


def test_check_port_permission_names_the_user_and_dialout() -> None:
    """No permission: which user, and the dialout group."""
    text, advice = read(check_port(replace(USB, outcome=PortOutcome.NO_PERMISSION, user="anna")))
    assert "user anna" in text
    assert "dialout" in advice[1]


# --- the register ----------------------------------------------------------------------


def test_check_register_answers_through_the_agent_or_the_port() -> None:
    """PASS says the model and serial, and where the facts came from."""
    direct = read(check_register(register(), USB))[0]
    assert direct == "ШТРИХ-М-01Ф, serial number 0012345678, answers"
    via = read(check_register(register(source=Source.AGENT), USB))[0]
    assert via.endswith("(read through the agent)")


def test_check_register_wrong_password_is_its_own_finding() -> None:
    """A refused password names the settings keys, in both languages."""
    finding = check_register(
        register(outcome=RegisterOutcome.WRONG_PASSWORD, code="wrong_password"), USB
    )
    assert (finding.status, finding.code) == (Status.FAIL, "wrong_password")
    text, advice = read(finding)
    assert text == "the register refused the password in the settings"
    assert "operator_password and admin_password" in advice[0]
    text_ru, advice_ru = read(finding, "ru")
    assert text_ru == "касса не приняла пароль из настроек"
    assert advice_ru[0].startswith("Пароли [shtrih] operator_password и admin_password")


def test_check_register_no_answer_on_usb_and_on_tcp() -> None:
    """No answer: the replug advice of the port's kind."""
    silent = register(outcome=RegisterOutcome.NO_ANSWER, code="link_down")
    usb = check_register(silent, USB)
    assert (usb.status, usb.code) == (Status.FAIL, "link_down")
    assert read(usb) == (
        "the register does not answer",
        [
            "Check that the register is switched on and its USB cable is plugged in.",
            "Unplug the USB cable and plug it back, wait 10 seconds and run the check again.",
        ],
    )
    assert "network cable" in read(check_register(silent, TCP))[1][0]


@pytest.mark.parametrize(
    ("outcome", "status", "code"),
    [
        (RegisterOutcome.GARBLED, Status.FAIL, "bad_checksum"),
        (RegisterOutcome.REFUSED, Status.FAIL, "bad_checksum"),
        (RegisterOutcome.PORT_FAILED, Status.FAIL, "bad_checksum"),
        (RegisterOutcome.BAD_SETTINGS, Status.FAIL, "bad_settings"),
        (RegisterOutcome.NOT_READ, Status.SKIP, "not_checked"),
        (RegisterOutcome.HELD_BY_AGENT, Status.SKIP, "held_by_agent"),
    ],
)
def test_check_register_other_outcomes(outcome: RegisterOutcome, status: Status, code: str) -> None:
    """Every other outcome: FAIL with the driver's code, or SKIP when it was not asked."""
    finding = check_register(register(outcome=outcome, code="bad_checksum", detail="x"), USB)
    assert (finding.status, finding.code) == (status, code)
    if status is Status.FAIL:
        assert finding.advice


def test_check_register_problem_the_agent_reports() -> None:
    """The agent reads the register but flags it (tax setup): FAIL; a zone mismatch: WARN."""
    tax = check_register(register(code="tax_setup_mismatch", detail="vat22: row 1 is 20 %"), USB)
    assert (tax.status, tax.code) == (Status.FAIL, "tax_setup_mismatch")
    assert "vat22: row 1 is 20 %" in read(tax)[0]
    zone = check_register(register(code="tz_mismatch", detail="tz_mismatch"), USB)
    assert zone.status is Status.WARN


# --- the FN ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "status", "code"),
    [(400, Status.PASS, "ok"), (30, Status.PASS, "ok"), (29, Status.WARN, "expiring"),
     (0, Status.WARN, "expiring"), (-1, Status.FAIL, "expired")],
)  # fmt: skip
def test_check_fn_expiry_thresholds(days: int, status: Status, code: str) -> None:
    """WARN under 30 days left, FAIL once expired."""
    finding = check_fn(_fn(days_left=days), LIMITS)
    assert (finding.status, finding.code) == (status, code)


def test_check_fn_near_its_end_in_both_languages() -> None:
    """12 days left: the date, the days (Russian plural) and the advice to order a new FN."""
    finding = check_fn(_fn(valid_until=date(2027, 1, 12), days_left=12), LIMITS)
    text, advice = read(finding)
    assert text == "the FN is valid until 2027-01-12: only 12 days left"
    assert advice == [
        (
            "Order a new FN now and agree a day with your service engineer to replace it: "
            "after 2027-01-12 the register cannot print receipts."
        )
    ]
    text_ru, advice_ru = read(finding, "ru")
    assert text_ru == "ФН действует до 12.01.2027: осталось всего 12 дней"
    assert advice_ru[0].startswith("Закажите новый ФН и договоритесь с сервисным инженером")
    one = read(check_fn(_fn(valid_until=date(2027, 1, 1), days_left=1), LIMITS), "ru")[0]
    assert one.endswith("остался всего 1 день")
    three = read(check_fn(_fn(valid_until=date(2027, 1, 3), days_left=3), LIMITS), "ru")[0]
    assert three.endswith("осталось всего 3 дня")


def test_check_fn_expired_says_replace_today() -> None:
    """Expired: no receipt can be printed until the FN is replaced."""
    finding = check_fn(_fn(valid_until=date(2026, 11, 30), days_left=-2), LIMITS)
    text, advice = read(finding)
    assert text == "the FN expired on 2026-11-30: the register cannot print receipts"
    assert advice[0].startswith("Call your service engineer to replace the FN today")
    assert (
        read(finding, "ru")[0] == "срок действия ФН истёк 30.11.2026: касса не может печатать чеки"
    )


def test_check_fn_unknown_or_register_silent_skips() -> None:
    """No expiry reported: SKIP; the register silent: SKIP saying it was not read."""
    unreported = check_fn(_fn(valid_until=None, days_left=None), LIMITS)
    assert (unreported.status, unreported.code) == (Status.SKIP, "not_reported")
    silent = check_fn(register(outcome=RegisterOutcome.NO_ANSWER, fn=None), LIMITS)
    assert (silent.status, silent.code) == (Status.SKIP, "not_checked")


# --- documents for the OFD -------------------------------------------------------------


def test_check_ofd_nothing_unsent_passes() -> None:
    """Nothing waiting: PASS."""
    finding = check_ofd(_fn(unsent_docs=0), LIMITS)
    assert (finding.status, finding.code) == (Status.PASS, "ok")


@pytest.mark.parametrize(
    ("age", "status", "code"),
    [
        (timedelta(hours=2), Status.PASS, "sending"),
        (timedelta(days=5), Status.PASS, "sending"),
        (timedelta(days=5, seconds=1), Status.WARN, "stale"),
        (timedelta(days=29, hours=23), Status.WARN, "stale"),
        (timedelta(days=30), Status.FAIL, "blocked"),
    ],
)
def test_check_ofd_age_thresholds(age: timedelta, status: Status, code: str) -> None:
    """WARN when the oldest unsent document is over 5 days old, FAIL at 30 (the FN blocks)."""
    finding = check_ofd(_fn(unsent_docs=4, oldest_unsent_age=age), LIMITS)
    assert (finding.status, finding.code) == (status, code)


def test_check_ofd_stale_says_call_the_ofd_and_the_30_day_block() -> None:
    """Six days unsent: the count, the age, the OFD operator and the days before the block."""
    finding = check_ofd(_fn(unsent_docs=23, oldest_unsent_age=timedelta(days=6, hours=3)), LIMITS)
    text, advice = read(finding)
    assert text == "23 documents have not reached the OFD, the oldest for 6 d 3 h"
    assert "call your OFD operator" in advice[0]
    assert advice[1] == "After 30 days without sending, the FN blocks the register: 23 days left."
    text_ru, advice_ru = read(finding, "ru")
    assert text_ru == "23 документа не переданы в ОФД, самый старый — уже 6 дн. 3 ч"
    assert "позвоните своему оператору ОФД" in advice_ru[0]
    assert advice_ru[1] == "После 30 дней без передачи ФН заблокирует кассу: осталось 23 дня."


def test_check_ofd_blocked_says_call_now() -> None:
    """Thirty days: FAIL, the FN blocks the register."""
    finding = check_ofd(_fn(unsent_docs=1, oldest_unsent_age=timedelta(days=31)), LIMITS)
    text, advice = read(finding)
    assert text == (
        "1 document has not reached the OFD for 31 d: the FN blocks the register after 30 days"
    )
    assert advice[0].startswith("Call your OFD operator now")


# --- the shift -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("shift", "status", "code"),
    [
        (ShiftFacts(is_open=False, is_expired=False, number=6), Status.PASS, "closed"),
        (ShiftFacts(is_open=True, is_expired=False, number=7, age=timedelta(hours=5)), Status.PASS, "open"),
        (ShiftFacts(is_open=True, is_expired=False, number=7), Status.PASS, "open"),
        (ShiftFacts(is_open=True, is_expired=False, number=7, age=timedelta(hours=23, minutes=30)), Status.PASS, "open"),
        (ShiftFacts(is_open=True, is_expired=False, number=7, age=timedelta(hours=23, minutes=31)), Status.WARN, "old"),
        (ShiftFacts(is_open=True, is_expired=False, number=7, age=timedelta(hours=24)), Status.FAIL, "expired"),
        (ShiftFacts(is_open=True, is_expired=True, number=7), Status.FAIL, "expired"),
    ],
    ids=["closed", "young", "age-unknown", "at-max-age", "past-max-age", "24h", "locked"],
)  # fmt: skip
def test_check_shift_thresholds(shift: ShiftFacts, status: Status, code: str) -> None:
    """WARN past the guard's max_age, FAIL once the register's 24 hours are up."""
    finding = check_shift(register(shift=shift), LIMITS)
    assert (finding.status, finding.code) == (status, code)


def test_check_shift_expired_says_close_it() -> None:
    """An expired shift: the register refuses receipts; close it with a Z report."""
    finding = check_shift(_shift(is_expired=True, age=timedelta(hours=25), number=12), LIMITS)
    text, advice = read(finding)
    assert text == (
        "shift 12 has been open for more than 24 hours: "
        "the register refuses receipts until it is closed"
    )
    assert advice[0].startswith("Close the shift (Z report)")
    text_ru, advice_ru = read(finding, "ru")
    assert text_ru.startswith("смена № 12 открыта больше 24 часов")
    assert advice_ru[0].startswith("Закройте смену (Z-отчёт)")


def test_check_shift_old_names_the_guard_limit() -> None:
    """Past max_age: its age and the guard's limit."""
    finding = check_shift(_shift(age=timedelta(hours=23, minutes=47)), LIMITS)
    assert read(finding)[0] == (
        "shift 7 has been open for 23 h 47 min, longer than the agent keeps a shift (23 h 30 min)"
    )


# --- paper and clock -------------------------------------------------------------------


def test_check_paper() -> None:
    """Paper out is a FAIL with what to do; unknown is a SKIP."""
    assert check_paper(register()).status is Status.PASS
    out = check_paper(register(has_paper=False))
    assert (out.status, out.code) == (Status.FAIL, "paper_out")
    assert read(out) == (
        "the register is out of paper",
        [
            (
                "Put a new roll of receipt paper in the register and close the lid; "
                "printing goes on by itself."
            )
        ],
    )
    assert read(out, "ru") == (
        "в кассе закончилась бумага",
        ["Вставьте в кассу новый рулон чековой ленты и закройте крышку; печать продолжится сама."],
    )
    assert check_paper(register(has_paper=None)).status is Status.SKIP


@pytest.mark.parametrize(
    ("skew", "status", "code"),
    [(0.4, Status.PASS, "ok"), (60.0, Status.PASS, "ok"), (-60.4, Status.WARN, "clock_drift"),
     (95.0, Status.WARN, "clock_drift"), (300.0, Status.WARN, "clock_drift"),
     (301.0, Status.FAIL, "clock_off"), (-3600.0, Status.FAIL, "clock_off")],
)  # fmt: skip
def test_check_clock_thresholds(skew: float, status: Status, code: str) -> None:
    """WARN over a minute off, FAIL over five (the FN refuses documents)."""
    finding = check_clock(register(clock_skew_s=skew), LIMITS)
    assert (finding.status, finding.code) == (status, code)


def test_check_clock_says_ahead_or_behind() -> None:
    """The direction and the size of the difference, and that the FN refuses documents."""
    ahead, advice = read(check_clock(register(clock_skew_s=95.0), LIMITS))
    assert ahead == "the register's clock is 1 min 35 s ahead of this computer's"
    assert advice[1] == "At more than 5 minutes off the FN refuses documents."
    behind, advice = read(check_clock(register(clock_skew_s=-3600.0), LIMITS))
    assert behind == "the register's clock is 1 h behind this computer's"
    assert advice[0].startswith("The FN refuses documents whose time is more than 5 minutes off")
    assert read(check_clock(register(clock_skew_s=-3600.0), LIMITS), "ru")[0] == (
        "часы кассы отстают на 1 ч от этого компьютера"
    )


@pytest.mark.parametrize("skew", [419.4, 420.0, 420.6, 449.0])
def test_check_clock_past_two_minutes_says_whole_minutes(skew: float) -> None:
    """A clock seven minutes off reads "7 min", not "6 min 59 s" from the read's latency."""
    assert read(check_clock(register(clock_skew_s=skew), LIMITS))[0] == (
        "the register's clock is 7 min ahead of this computer's"
    )


# --- disk and broker -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("free", "status", "code"),
    [(5000 * MIB, Status.PASS, "ok"), (200 * MIB, Status.PASS, "ok"),
     (200 * MIB - 1, Status.WARN, "low"), (20 * MIB, Status.WARN, "low"),
     (20 * MIB - 1, Status.FAIL, "full"), (0, Status.FAIL, "full")],
)  # fmt: skip
def test_check_disk_thresholds(free: int, status: Status, code: str) -> None:
    """WARN under 200 MB free, FAIL under 20 MB."""
    finding = check_disk(DiskFacts(path="/var/lib/fiscal-agent", free_bytes=free), LIMITS)
    assert (finding.status, finding.code) == (status, code)


def test_check_disk_words_and_sizes() -> None:
    """Sizes in MB and GB, in each language's way; a full disk stops payments."""
    full = check_disk(DiskFacts(path="/var/lib/fiscal-agent", free_bytes=12 * MIB), LIMITS)
    text, advice = read(full)
    assert text == "only 12 MB free in /var/lib/fiscal-agent: the agent cannot store new payments"
    assert "journalctl --vacuum-size=100M" in advice[0]
    assert read(full, "ru")[0] == (
        "в /var/lib/fiscal-agent свободно всего 12 МБ: агенту негде сохранять новые платежи"
    )
    roomy = check_disk(DiskFacts(path="/var", free_bytes=1536 * MIB), LIMITS)
    assert read(roomy)[0] == "1.5 GB free in /var"
    assert read(roomy, "ru")[0] == "свободно 1,5 ГБ в /var"
    unknown = check_disk(DiskFacts(path="/x", free_bytes=None, detail="Permission denied"), LIMITS)
    assert unknown.status is Status.WARN


def _broker(outcome: BrokerOutcome, *, tls: bool = True, detail: str | None = "why") -> BrokerFacts:
    return BrokerFacts(
        url="mqtts://broker.example:8883",
        host="broker.example",
        port=8883,
        is_tls=tls,
        outcome=outcome,
        detail=detail,
    )


@pytest.mark.parametrize(
    ("outcome", "status", "code"),
    [
        (BrokerOutcome.OK, Status.PASS, "ok"),
        (BrokerOutcome.CONNECTED_VIA_AGENT, Status.PASS, "ok"),
        (BrokerOutcome.UNREACHABLE, Status.WARN, "unreachable"),
        (BrokerOutcome.SERVER_CERT_EXPIRED, Status.FAIL, "server_cert_expired"),
        (BrokerOutcome.SERVER_CERT_UNTRUSTED, Status.FAIL, "server_cert_untrusted"),
        (BrokerOutcome.SERVER_NAME_MISMATCH, Status.FAIL, "server_name_mismatch"),
        (BrokerOutcome.CLIENT_CERT_EXPIRED, Status.FAIL, "client_cert_expired"),
        (BrokerOutcome.CLIENT_CERT_REFUSED, Status.FAIL, "client_cert_refused"),
        (BrokerOutcome.TLS_FILES, Status.FAIL, "tls_files"),
        (BrokerOutcome.TLS_FAILED, Status.FAIL, "tls_failed"),
    ],
)
def test_check_broker_outcomes(outcome: BrokerOutcome, status: Status, code: str) -> None:
    """Unreachable may pass by itself (WARN); a certificate problem needs a person (FAIL)."""
    finding = check_broker(_broker(outcome))
    assert (finding.status, finding.code) == (status, code)
    if status is not Status.PASS:
        assert any("Receipts still print" in line for line in read(finding)[1])


def test_check_broker_expired_certificates_said_plainly() -> None:
    """The server's expired certificate, and this computer's, in plain words and both languages."""
    server = check_broker(
        _broker(BrokerOutcome.SERVER_CERT_EXPIRED, detail="certificate has expired")
    )
    assert read(server)[0] == "the server's certificate has expired (certificate has expired)"
    assert read(server)[1][0] == "Tell your support: the server's certificate must be renewed."
    assert read(server, "ru")[1][0] == "Сообщите в поддержку: сертификат сервера нужно обновить."
    client = check_broker(_broker(BrokerOutcome.CLIENT_CERT_EXPIRED))
    assert read(client)[0] == "the server refused this computer's certificate: it has expired"
    untrusted = check_broker(_broker(BrokerOutcome.SERVER_CERT_UNTRUSTED))
    assert "[mqtt] ca" in read(untrusted)[1][0]


# --- all together ----------------------------------------------------------------------


def test_run_checks_in_order_and_exit_status() -> None:
    """Every check once, in CheckId order; exit 0 all pass, 1 a WARN, 2 a FAIL."""
    healthy = run_checks(facts(), LIMITS)
    assert [finding.check for finding in healthy] == list(CheckId)
    assert {finding.status for finding in healthy} == {Status.PASS}
    assert exit_status(healthy) == 0
    warned = run_checks(facts(register=register(clock_skew_s=90.0)), LIMITS)
    assert exit_status(warned) == 1
    failed = run_checks(facts(register=register(clock_skew_s=90.0, has_paper=False)), LIMITS)
    assert exit_status(failed) == 2


def test_run_checks_register_silent_skips_its_facts_without_raising_the_status() -> None:
    """The register not answering is one FAIL; the checks of its facts SKIP (exit stays 2)."""
    silent = RegisterFacts(outcome=RegisterOutcome.NO_ANSWER, code="link_down")
    findings = run_checks(facts(register=silent), LIMITS)
    by_check = {finding.check: finding.status for finding in findings}
    assert by_check[CheckId.REGISTER] is Status.FAIL
    skipped = {CheckId.FN, CheckId.OFD, CheckId.SHIFT, CheckId.PAPER, CheckId.CLOCK}
    assert {by_check[check] for check in skipped} == {Status.SKIP}
    assert exit_status(findings) == 2
    only_skips = [f for f in findings if f.check in skipped]
    assert exit_status(only_skips) == 0
