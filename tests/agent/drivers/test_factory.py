"""build_driver: ``[register] protocol`` picks the driver; each gets its own section's options.

The ATOL driver is imported only when asked for; it is part of the agent's own package, so
it is the real AtolDriver that is checked here (no connection is made).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from zoneinfo import ZoneInfo

import structlog
import structlog.testing

from agent.config import AgentConfig, load_config
from agent.domain.receipt import VatRate
from agent.drivers.atol.driver import AtolDriver
from agent.drivers.atol.params import AtolParams
from agent.drivers.factory import build_driver, tax_rows
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


def test_atol_gets_its_params_from_the_atol_section(tmp_path: Path) -> None:
    """AtolDriver(AtolParams(...)): the web server, api, timings, credentials, zone, tax rows."""
    config = _config(
        tmp_path,
        '[register]\nprotocol = "atol"\ntz = "Europe/Moscow"\n'
        "[register.tax_rate_codes]\nvat22 = 7\nvat5 = 1\n"
        '[atol]\nurl = "http://10.0.0.5:16732"\napi = "v2"\npoll_interval_s = 0.2\n'
        "task_timeout_s = 30\nread_timeout_s = 12\nrequest_timeout_s = 4\n"
        'username = "u"\npassword = "p"\ntax_system = "osn"\n',
    )
    driver = build_driver(config, LOG)
    assert isinstance(driver, AtolDriver)
    params = driver._params
    assert (params.url, params.api) == ("http://10.0.0.5:16732", "v2")
    assert (
        params.poll_interval_s,
        params.task_timeout_s,
        params.read_timeout_s,
        params.request_timeout_s,
    ) == (0.2, 30.0, 12.0, 4.0)
    assert (params.username, params.password, params.tax_system) == ("u", "p", "osn")
    assert params.zone == ZoneInfo("Europe/Moscow")
    assert params.tax_rate_codes[VatRate.VAT22] == 7
    assert params.tax_rate_codes[VatRate.VAT5] == 1
    assert params.tax_rate_codes[VatRate.VAT10] == 2  # the default row


def test_atol_defaults_are_the_drivers_own(tmp_path: Path) -> None:
    """No [atol] section: the same params as AtolParams' defaults, but the config's tax rows.

    The config's defaults and the driver's must not drift apart: a club that writes no
    [atol] section gets the driver as documented in docs/atol-driver.md §7.
    """
    config = _config(tmp_path, '[register]\nprotocol = "atol"\n')
    driver = build_driver(config, LOG)
    assert isinstance(driver, AtolDriver)
    assert driver._params == replace(AtolParams(), tax_rate_codes=tax_rows(config))
    assert driver._params.zone is None


async def test_atol_driver_logs_through_the_given_log(tmp_path: Path) -> None:
    """The factory's log reaches the driver, bound to the web server's address."""
    with structlog.testing.capture_logs() as logs:
        driver = build_driver(_config(tmp_path, '[register]\nprotocol = "atol"\n'), LOG)
        driver._log.info("probe")  # type: ignore[attr-defined]
        await driver.aclose()
    assert logs[-1]["register"] == "http://127.0.0.1:16732"
