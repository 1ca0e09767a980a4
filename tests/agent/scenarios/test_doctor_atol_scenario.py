"""``fiscal-agent doctor`` on an ATOL register: the web server of ATOL's driver, and the register
behind it, against ``firmware-sim serve --atol-web`` (the real command, as a process).

The port check asks the web server ``serverInfo``; the register check reads the register
through it with the agent's own ATOL driver (``getDeviceInfo``, ``getDeviceStatus``...). Each
failure says in plain words which of the two does not answer, in both languages.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.support.atol_sim import AtolSimProcess
from tests.support.doctor_facts import flat
from tests.support.processes import BIN, free_port

pytestmark = [pytest.mark.sim, pytest.mark.timeout(120)]


def _write_config(path: Path, url: str) -> Path:
    path.write_text(
        f'club = "club-1"\nagent = "desk-1"\nstate_dir = "{path.parent / "state"}"\n'
        f'[register]\nprotocol = "atol"\ntz = "Europe/Moscow"\n[atol]\nurl = "{url}"\n'
        f"task_timeout_s = 5\nread_timeout_s = 5\n"
        f'[mqtt]\nurl = "mqtt://127.0.0.1:{free_port()}"\n'
        f'[http]\nlisten = "127.0.0.1:{free_port()}"\n'
        '[tax]\ntop_up = "usn_income"\nservice = "usn_income"\ngoods = "usn_income"\n',
        encoding="utf-8",
    )
    return path


def _doctor(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "fiscal-agent"), "doctor", "--config", str(config), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def _checks(config: Path) -> dict[str, Any]:
    result = _doctor(config, "--lang", "en", "--json")
    assert not result.stderr, result.stderr
    document = json.loads(result.stdout)
    return {check["check"]: check for check in document["checks"]}


def _screen(config: Path, lang: str) -> str:
    return flat(_doctor(config, "--lang", lang).stdout)


@pytest.fixture
def sim(start_atol_sim: Any) -> AtolSimProcess:
    simulator: AtolSimProcess = start_atol_sim()
    return simulator


def test_doctor_healthy_atol_register(sim: AtolSimProcess, tmp_path: Path) -> None:
    """The web server answers with its driver version; the register behind it is read."""
    config = _write_config(tmp_path / "agent.toml", sim.url)
    checks = _checks(config)
    for name in ("port", "register", "fn", "ofd", "shift", "paper", "clock", "disk"):
        assert checks[name]["status"] == "pass", checks[name]
    assert checks["port"]["finding"] == (
        f"ATOL's web server at {sim.url} answers (driver 10.10.7.0)"
    )
    assert checks["register"]["finding"] == "АТОЛ 77Ф, serial number 0012345678, answers"
    assert f"Порт кассы: веб-сервер АТОЛ по адресу {sim.url} отвечает" in _screen(config, "ru")


def test_doctor_atol_register_switched_off(sim: AtolSimProcess, tmp_path: Path) -> None:
    """The web server answers, the register behind it does not: said so, with what to check."""
    config = _write_config(tmp_path / "agent.toml", sim.url)
    sim.post("/power/cut")
    checks = _checks(config)
    assert checks["port"]["status"] == "pass"
    register = checks["register"]
    assert (register["status"], register["code"]) == ("fail", "link_down")
    assert register["finding"].startswith(
        "ATOL's web server answers, but the register behind it does not:"
    )
    assert register["advice"][0] == (
        "Check that the register is switched on and its cable is plugged in."
    )
    for name in ("fn", "ofd", "shift", "paper", "clock"):
        assert (checks[name]["status"], checks[name]["code"]) == ("skip", "not_checked")
    assert "Касса: веб-сервер АТОЛ отвечает, но касса за ним — нет" in _screen(config, "ru")


def test_doctor_atol_web_server_not_running(sim: AtolSimProcess, tmp_path: Path) -> None:
    """Nothing listens: the port check fails naming ATOL's driver; the register is not asked."""
    config = _write_config(tmp_path / "agent.toml", sim.url)
    sim.stop()
    checks = _checks(config)
    port = checks["port"]
    assert (port["status"], port["code"]) == ("fail", "unreachable")
    assert port["finding"] == (
        f"ATOL's web server at {sim.url} does not answer (Connection refused)"
    )
    assert port["advice"][0] == (
        "Check that ATOL's driver is installed on this computer and its web server is running."
    )
    assert (checks["register"]["status"], checks["register"]["code"]) == ("skip", "not_checked")
    shown = _screen(config, "ru")
    assert "веб-сервер АТОЛ по адресу" in shown
    assert "не отвечает" in shown


def test_doctor_address_is_not_atols_web_server(sim: AtolSimProcess, tmp_path: Path) -> None:
    """An HTTP server that is not ATOL's (here: the simulator's control API) is named as such."""
    config = _write_config(tmp_path / "agent.toml", sim.control)
    checks = _checks(config)
    port = checks["port"]
    assert (port["status"], port["code"]) == ("fail", "not_atol")
    assert port["finding"] == (f"{sim.control} answers, but not as ATOL's web server (HTTP 404)")
    assert (checks["register"]["status"], checks["register"]["code"]) == ("skip", "not_checked")
