"""``fiscal-agent doctor`` against firmware-sim: each fault, its finding and its advice, in both
languages, as a club's admin runs it (the real command, as a process).

With the agent stopped the doctor opens the register's port itself with the agent's driver;
with the agent running it reads the register's facts from the agent's health and leaves the
port alone. Faults come from the simulator: a power cut (no link), paper out, an FN expiring
(``--fn-valid-until``), documents the OFD has not had for six days (the register's clock set
back, a shift opened and closed, the clock set right again), a shift past 24 hours
(``--shift-age``), the clock moved; a wrong password is a wrong password in the settings.
"""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import structlog

from agent.config import load_config
from agent.domain.receipt import Cashier
from agent.drivers.factory import build_driver
from tests.support.broker import Broker
from tests.support.doctor_facts import flat
from tests.support.processes import BIN, Simulator, free_port, http, wait_until

# Each case runs the doctor as a process three to ten times: 120 s was cut close on a busy
# machine (the suite runs on parallel workers).
pytestmark = [pytest.mark.sim, pytest.mark.timeout(240)]

DAY_S = 86_400


def _write_config(path: Path, sim: Simulator, *, mqtt: str = "", **register: object) -> Path:
    """Settings for a doctor run with no agent: the simulator's pty, an HTTP port nobody uses."""
    extra = "".join(f"{key} = {value}\n" for key, value in register.items())
    path.write_text(
        f'club = "club-1"\nagent = "desk-1"\nstate_dir = "{path.parent / "state"}"\n'
        f'[register]\nurl = "{sim.url}"\ntz = "Europe/Moscow"\n{extra}'
        f'[mqtt]\nurl = "{mqtt or f"mqtt://127.0.0.1:{free_port()}"}"\n'
        f'[http]\nlisten = "127.0.0.1:{free_port()}"\n'
        '[tax]\ntop_up = "usn_income"\nservice = "usn_income"\ngoods = "usn_income"\n',
        encoding="utf-8",
    )
    return path


def _doctor(
    config: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "fiscal-agent"), "doctor", "--config", str(config), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        env=env,
    )


def _checks(config: Path, lang: str) -> tuple[int, dict[str, Any], dict[str, Any]]:
    """Exit status, the JSON document and its checks by name, in ``lang``."""
    result = _doctor(config, "--lang", lang, "--json")
    assert not result.stderr, result.stderr
    document = json.loads(result.stdout)
    assert document["exit_status"] == result.returncode
    return result.returncode, document, {check["check"]: check for check in document["checks"]}


def _assert_said(
    config: Path, check: str, status: str, code: str, *, en: list[str], ru: list[str]
) -> dict[str, Any]:
    """The check says ``status``/``code``; the screen shows each phrase, in its language.

    Returns every check of the (English) JSON run, by name.
    """
    _, _, checks = _checks(config, "en")
    assert (checks[check]["status"], checks[check]["code"]) == (status, code), checks[check]
    for lang, phrases in (("en", en), ("ru", ru)):
        screen = _doctor(config, "--lang", lang)
        shown = flat(screen.stdout)
        for phrase in phrases:
            assert phrase in shown, f"{lang}: {phrase!r} not in:\n{screen.stdout}"
    return checks


@pytest.fixture
def sim(start_sim: Any) -> Simulator:
    simulator: Simulator = start_sim()
    return simulator


def test_doctor_healthy_register_without_the_agent(sim: Simulator, tmp_path: Path) -> None:
    """The agent stopped: it says so (FAIL, systemctl), and reads the register over the port."""
    config = _write_config(tmp_path / "agent.toml", sim)
    status, document, checks = _checks(config, "en")
    assert status == 2
    assert document["source"] == "port"
    assert (checks["agent"]["status"], checks["agent"]["code"]) == ("fail", "not_running")
    assert "systemctl status fiscal-agent" in checks["agent"]["advice"][0]
    for name in ("port", "register", "fn", "ofd", "shift", "paper", "clock", "disk"):
        assert checks[name]["status"] == "pass", checks[name]
    assert checks["register"]["finding"] == "ШТРИХ-М-01Ф, serial number 12345678, answers"
    assert (checks["broker"]["status"], checks["broker"]["code"]) == ("warn", "unreachable")
    screen = _doctor(config, "--lang", "ru")
    assert "ОШИБКА    Служба агента: служба не запущена" in screen.stdout
    assert "→ Проверьте службу: systemctl status fiscal-agent" in screen.stdout


def test_doctor_no_link(sim: Simulator, tmp_path: Path) -> None:
    """A register switched off: it does not answer; switch it on, replug the USB cable."""
    config = _write_config(tmp_path / "agent.toml", sim)
    sim.post("/power/cut")
    checks = _assert_said(
        config,
        "register",
        "fail",
        "link_down",
        en=[
            "The register's facts: none could be read.",
            "Register: the register does not answer",
            "→ Check that the register is switched on and its USB cable is plugged in.",
            "→ Unplug the USB cable and plug it back, wait 10 seconds and run the check again.",
        ],
        ru=[
            "Данные кассы: прочитать не удалось.",
            "Касса: касса не отвечает",
            "→ Проверьте, что касса включена и её USB-кабель подключён.",
            (
                "→ Отключите USB-кабель и подключите его снова, подождите 10 секунд и запустите "
                "проверку ещё раз."
            ),
        ],
    )
    for name in ("fn", "ofd", "shift", "paper", "clock"):
        assert (checks[name]["status"], checks[name]["code"]) == ("skip", "not_checked")


def test_doctor_paper_out(sim: Simulator, tmp_path: Path) -> None:
    """No paper: FAIL, load a roll and close the lid."""
    config = _write_config(tmp_path / "agent.toml", sim)
    sim.post("/paper/out")
    _assert_said(
        config,
        "paper",
        "fail",
        "paper_out",
        en=[
            "FAIL Paper: the register is out of paper",
            (
                "→ Put a new roll of receipt paper in the register and close the lid; printing goes "
                "on by itself."
            ),
        ],
        ru=[
            "ОШИБКА Бумага: в кассе закончилась бумага",
            (
                "→ Вставьте в кассу новый рулон чековой ленты и закройте крышку; печать продолжится "
                "сама."
            ),
        ],
    )


def test_doctor_fn_near_its_end_and_expired(start_sim: Any, tmp_path: Path) -> None:
    """An FN with ten days left: WARN, order a new one; one past its date: FAIL, replace today."""
    today = datetime.now(UTC).date()
    near = start_sim("--fn-valid-until", (today + timedelta(days=10)).isoformat())
    config = _write_config(tmp_path / "near.toml", near)
    _assert_said(
        config,
        "fn",
        "warn",
        "expiring",
        en=["Fiscal storage (FN): the FN is valid until", "→ Order a new FN now and agree a day"],
        ru=[
            "Фискальный накопитель (ФН): ФН действует до",
            "→ Закажите новый ФН и договоритесь с сервисным инженером о дне замены",
        ],
    )
    expired = start_sim("--fn-valid-until", (today - timedelta(days=3)).isoformat())
    config = _write_config(tmp_path / "expired.toml", expired)
    _assert_said(
        config,
        "fn",
        "fail",
        "expired",
        en=[
            "the register cannot print receipts",
            "→ Call your service engineer to replace the FN today",
        ],
        ru=["срок действия ФН истёк", "→ Позвоните сервисному инженеру, чтобы заменить ФН"],
    )


async def _open_and_close_a_shift(config: Path) -> None:
    """Two fiscal documents (open and close shift) on the register, with the agent's driver."""
    driver = build_driver(load_config(config, {}), structlog.get_logger("test"))
    cashier = Cashier(name="Администратор")
    try:
        await driver.connect()
        await driver.open_shift(cashier)
        await driver.close_shift(cashier)
    finally:
        await driver.aclose()


async def test_doctor_documents_unsent_for_six_days(sim: Simulator, tmp_path: Path) -> None:
    """Documents six days old the OFD never had: WARN, call the OFD; 23 days before the block."""
    config = _write_config(tmp_path / "agent.toml", sim)
    sim.post("/clock/advance", {"seconds": -6 * DAY_S})
    await _open_and_close_a_shift(config)
    sim.post("/clock/advance", {"seconds": 6 * DAY_S})
    assert sim.state()["unsent_docs"] == 2
    checks = _assert_said(
        config,
        "ofd",
        "warn",
        "stale",
        en=[
            "Sending to the OFD: 2 documents have not reached the OFD, the oldest for 6 d",
            (
                "→ Check that the register is connected to the internet (network cable or Wi-Fi), "
                "and call your OFD operator."
            ),
            "→ After 30 days without sending, the FN blocks the register: 23 days left.",
        ],
        ru=[
            "Передача в ОФД: 2 документа не переданы в ОФД, самый старый — уже 6 дн.",
            (
                "→ Проверьте, что касса подключена к интернету (сетевой кабель или Wi-Fi), и "
                "позвоните своему оператору ОФД."
            ),
            "→ После 30 дней без передачи ФН заблокирует кассу: осталось 23 дня.",
        ],
    )
    assert checks["clock"]["status"] == "pass"  # the clock was put right: only the OFD is wrong
    sim.post("/ofd/ack")
    assert _checks(config, "en")[2]["ofd"]["code"] == "ok"


def test_doctor_shift_past_the_guard_and_expired(start_sim: Any, tmp_path: Path) -> None:
    """A shift of 23 h 40 min: WARN (past max_age); of 25 h: FAIL, close it with a Z report."""
    old = start_sim("--shift-age", str(23 * 3600 + 40 * 60))
    config = _write_config(tmp_path / "old.toml", old)
    _assert_said(
        config,
        "shift",
        "warn",
        "old",
        en=["longer than the agent keeps a shift (23 h 30 min)", "→ Close the shift (Z report)"],
        ru=["дольше, чем агент держит смену (23 ч 30 мин)", "→ Закройте смену (Z-отчёт), пока"],
    )
    expired = start_sim("--shift-age", str(25 * 3600))
    config = _write_config(tmp_path / "expired.toml", expired)
    _assert_said(
        config,
        "shift",
        "fail",
        "expired",
        en=[
            (
                "Shift: shift 1 has been open for more than 24 hours: the register refuses receipts "
                "until it is closed"
            ),
            (
                "→ Close the shift (Z report): the running agent does it by itself; otherwise close "
                "it on the register."
            ),
            "→ A new shift opens with the next receipt.",
        ],
        ru=[
            "Смена: смена № 1 открыта больше 24 часов: касса не пробьёт чек, пока смену не закроют",
            (
                "→ Закройте смену (Z-отчёт): запущенный агент сделает это сам, иначе закройте смену "
                "на кассе."
            ),
            "→ Новая смена откроется с первым чеком.",
        ],
    )


def test_doctor_wrong_password(sim: Simulator, tmp_path: Path) -> None:
    """A password the register refuses: its own finding, naming the settings keys."""
    config = _write_config(tmp_path / "agent.toml", sim, operator_password=31)
    _assert_said(
        config,
        "register",
        "fail",
        "wrong_password",
        en=[
            "Register: the register refused the password in the settings",
            (
                "→ The passwords [shtrih] operator_password and admin_password in the settings "
                "must be the register's (30 from the factory)."
            ),
            (
                "→ Ask your service engineer to correct them, then restart the service: sudo "
                "systemctl restart fiscal-agent"
            ),
        ],
        ru=[
            "Касса: касса не приняла пароль из настроек",
            (
                "→ Пароли [shtrih] operator_password и admin_password в настройках должны "
                "совпадать с паролями кассы (с завода — 30)."
            ),
            (
                "→ Попросите сервисного инженера исправить их, затем перезапустите службу: sudo "
                "systemctl restart fiscal-agent"
            ),
        ],
    )


def test_doctor_register_clock_off(sim: Simulator, tmp_path: Path) -> None:
    """Two minutes ahead: WARN; seven: FAIL, the FN refuses documents."""
    config = _write_config(tmp_path / "agent.toml", sim)
    sim.post("/clock/advance", {"seconds": 120})
    assert _checks(config, "en")[2]["clock"]["code"] == "clock_drift"
    # The register's clock reads in whole seconds (truncated): half a second more makes the
    # measured 420 s whatever the fraction of the second the doctor reads it in.
    sim.post("/clock/advance", {"seconds": 300.5})
    _assert_said(
        config,
        "clock",
        "fail",
        "clock_off",
        en=[
            "Register clock: the register's clock is 7 min ahead of this computer's",
            "→ The FN refuses documents whose time is more than 5 minutes off",
        ],
        ru=[
            "Часы кассы: часы кассы спешат на 7 мин относительно этого компьютера",
            "→ ФН не принимает документы, если время расходится больше чем на 5 минут",
        ],
    )


def test_doctor_language_from_settings_then_locale(sim: Simulator, tmp_path: Path) -> None:
    """No --lang: [doctor] lang wins over LANG; without it, LANG=ru_RU.UTF-8 speaks Russian."""
    config = _write_config(tmp_path / "agent.toml", sim)
    env = {"PATH": "/usr/bin:/bin", "LANG": "ru_RU.UTF-8"}
    assert "Касса: ШТРИХ-М-01Ф" in _doctor(config, env=env).stdout
    with config.open("a", encoding="utf-8") as file:
        file.write('[doctor]\nlang = "en"\n')
    assert "Register: ШТРИХ-М-01Ф" in _doctor(config, env=env).stdout


def test_doctor_with_the_agent_running_reads_its_health(
    start_sim: Any, start_agent: Any, broker: Broker
) -> None:
    """The agent holds the port: facts come from its health; all good is exit 0; then faults."""
    sim = start_sim()
    agent = start_agent(sim, settings={"mqtt": {"url": broker.url}, "worker": {"idle_check_s": 1}})
    config = agent.workdir / "agent.toml"
    wait_until(
        lambda: (
            (http("GET", f"{agent.base}/health")[1].get("sync") or {}).get("broker") == "up"
            and http("GET", f"{agent.base}/health")[1]["register"].get("model")
        ),
        timeout_s=20,
        what="the agent linked to the register and the broker",
    )
    status, document, checks = _checks(config, "en")
    assert status == 0, json.dumps(document, indent=2, ensure_ascii=False)
    assert document["source"] == "agent"
    assert checks["port"]["code"] == "in_use_by_agent"
    assert checks["register"]["finding"].endswith("(read through the agent)")
    assert checks["broker"]["finding"].endswith("the agent is connected to it")
    assert _doctor(config).stdout.splitlines()[-1] == "Every check passed."

    sim.post("/paper/out")
    wait_until(
        lambda: _checks(config, "en")[2]["paper"]["status"] == "fail",
        timeout_s=20,
        what="the agent's health to show the paper out",
    )
    _assert_said(
        config,
        "paper",
        "fail",
        "paper_out",
        en=["→ Put a new roll of receipt paper in the register and close the lid"],
        ru=["→ Вставьте в кассу новый рулон чековой ленты и закройте крышку"],
    )
    sim.post("/paper/back")
    sim.post("/power/cut")
    wait_until(
        lambda: _checks(config, "en")[2]["register"]["status"] == "fail",
        timeout_s=30,
        what="the agent's health to show the register gone",
    )
    _, document, checks = _checks(config, "ru")
    assert document["source"] == "agent"
    assert checks["agent"]["status"] == "pass"
    assert checks["register"]["finding"] == "касса не отвечает"
    assert (
        checks["register"]["advice"][0]
        == "Проверьте, что касса включена и её USB-кабель подключён."
    )
    assert checks["port"]["status"] == "pass"  # the port is there: the register behind it is off
