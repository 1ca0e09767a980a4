"""build_driver: ``[register] protocol`` picks the driver; each gets its own section's options.

The ATOL driver is imported only when asked for. Here it is stood in for by a module with the
same two names (``AtolDriver``, ``AtolParams``), to check what the factory hands it; a build
without it (the import fails) is a configuration error that says so.
"""

from __future__ import annotations

import sys
import types
from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import structlog

from agent import cli
from agent.config import AgentConfig, ConfigError, load_config
from agent.domain.receipt import VatRate
from agent.drivers.factory import ATOL_DRIVER_MODULE, build_driver
from agent.drivers.shtrih.driver import ShtrihDriver

BASE = """\
club = "c"
agent = "a"
[tax]
top_up = "osn"
service = "usn_income"
goods = "patent"
"""
LOG = structlog.get_logger("test")


def _config(tmp_path: Path, text: str) -> AgentConfig:
    path = tmp_path / "agent.toml"
    path.write_text(BASE + text, encoding="utf-8")
    return load_config(path, {})


def test_shtrih_gets_its_port_baud_rate_passwords_and_timeouts(tmp_path: Path) -> None:
    """The v1 keys under [register] reach the Shtrih driver as [shtrih]'s would."""
    config = _config(
        tmp_path,
        '[register]\nurl = "socket://127.0.0.1:7778"\ntz = "Europe/Moscow"\n'
        "baudrate = 9600\noperator_password = 1\nadmin_password = 29\n"
        '[register.answer_timeout_s]\n"0x41" = 90\n',
    )
    driver = build_driver(config, LOG)
    assert isinstance(driver, ShtrihDriver)
    params = driver._params
    assert (params.operator_password, params.sysadmin_password) == (1, 29)
    assert params.tz == ZoneInfo("Europe/Moscow")
    assert params.answer_timeouts_s == {0x41: 90.0}
    transport = driver._session._transport
    assert transport.url == "socket://127.0.0.1:7778"
    assert transport._params.baudrate == 9600


def test_atol_in_a_build_without_its_driver_is_a_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The import fails: ConfigError on register.protocol, saying the driver is not installed."""
    monkeypatch.setitem(sys.modules, ATOL_DRIVER_MODULE, None)  # importing it raises ImportError
    config = _config(tmp_path, '[register]\nprotocol = "atol"\n')
    with pytest.raises(ConfigError) as info:
        build_driver(config, LOG)
    assert info.value.key == "register.protocol"
    assert info.value.reason == "the atol driver is not installed in this build"


@dataclass(frozen=True, kw_only=True)
class _Params:
    url: str
    api: str
    poll_interval_s: float
    task_timeout_s: float
    request_timeout_s: float
    username: str | None
    password: str | None
    tax_system: str | None
    zone: tzinfo | None
    tax_rate_codes: dict[VatRate, int]


class _Driver:
    def __init__(self, params: _Params) -> None:
        self.params = params


def test_atol_gets_its_params_from_the_atol_section(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """AtolDriver(AtolParams(...)): the web server, api, timings, credentials, zone, tax rows."""
    module: Any = types.ModuleType(ATOL_DRIVER_MODULE)
    module.AtolDriver, module.AtolParams = _Driver, _Params
    monkeypatch.setitem(sys.modules, ATOL_DRIVER_MODULE, module)
    config = _config(
        tmp_path,
        '[register]\nprotocol = "atol"\ntz = "Europe/Moscow"\n'
        "[register.tax_rate_codes]\nvat22 = 7\nvat5 = 1\n"
        '[atol]\nurl = "http://10.0.0.5:16732"\napi = "v2"\npoll_interval_s = 0.2\n'
        'task_timeout_s = 30\nrequest_timeout_s = 4\nusername = "u"\npassword = "p"\n'
        'tax_system = "osn"\n',
    )
    driver = build_driver(config, LOG)
    assert isinstance(driver, _Driver)
    params = driver.params
    assert (params.url, params.api) == ("http://10.0.0.5:16732", "v2")
    assert (params.poll_interval_s, params.task_timeout_s, params.request_timeout_s) == (
        0.2,
        30.0,
        4.0,
    )
    assert (params.username, params.password, params.tax_system) == ("u", "p", "osn")
    assert params.zone == ZoneInfo("Europe/Moscow")
    assert params.tax_rate_codes[VatRate.VAT22] == 7
    assert params.tax_rate_codes[VatRate.VAT5] == 1
    assert params.tax_rate_codes[VatRate.VAT10] == 2  # the default row


def test_atol_defaults_reach_the_driver(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No [atol] section: the default web server, api auto, no credentials, the zone measured."""
    module: Any = types.ModuleType(ATOL_DRIVER_MODULE)
    module.AtolDriver, module.AtolParams = _Driver, _Params
    monkeypatch.setitem(sys.modules, ATOL_DRIVER_MODULE, module)
    driver = build_driver(_config(tmp_path, '[register]\nprotocol = "atol"\n'), LOG)
    assert isinstance(driver, _Driver)
    params = driver.params
    assert (params.url, params.api, params.username, params.password) == (
        "http://127.0.0.1:16732",
        "auto",
        None,
        None,
    )
    assert params.zone is None


def test_run_with_atol_missing_exits_2_before_opening_anything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`fiscal-agent run`: exit status 2 (systemd waits for an edit), no outbox file made."""
    monkeypatch.setitem(sys.modules, ATOL_DRIVER_MODULE, None)
    # run configures structlog for the process; here it would bind later tests' logs to
    # this test's captured (then closed) stderr
    monkeypatch.setattr(cli, "configure_logging", lambda **_: None)
    state = tmp_path / "state"
    path = tmp_path / "agent.toml"
    path.write_text(
        f'state_dir = "{state}"\n' + BASE + '[register]\nprotocol = "atol"\n', encoding="utf-8"
    )
    assert cli.main(["run", "--config", str(path)]) == 2
    assert "the atol driver is not installed in this build" in capsys.readouterr().err
    assert not (state / "agent.sqlite3").exists()
