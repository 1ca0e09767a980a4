"""``[register] protocol = "smartone"`` and the ``[smartone]`` section; its factory branch.

The merchant id is required, 32 hex characters, a secret (never shown whole); the cashbox is
``[smartone] url``, or ``[register] url``, or http://127.0.0.1:8008.
"""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import structlog

from agent.config import SMARTONE_DEFAULT_URL, AgentConfig, ConfigError, load_config
from agent.domain.receipt import VatRate
from agent.drivers.factory import build_driver
from agent.drivers.smartone.driver import SmartOneDriver

BASE = """\
club = "c"
agent = "a"
country = "AZ"
"""
MERCHANT = "0123456789abcdef0123456789abcdef"


def _load(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> AgentConfig:
    path = tmp_path / "agent.toml"
    path.write_text(BASE + text, encoding="utf-8")
    return load_config(path, env or {})


def _error(tmp_path: Path, text: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        _load(tmp_path, text)
    return info.value


def test_smartone_defaults(tmp_path: Path) -> None:
    """protocol = "smartone" with a merchant id: the default URL, 10/90/1 s, no withdraw."""
    config = _load(
        tmp_path, f'[register]\nprotocol = "smartone"\n[smartone]\nmerchant_id = "{MERCHANT}"\n'
    )
    smartone = config.smartone
    assert config.smartone_url == SMARTONE_DEFAULT_URL == "http://127.0.0.1:8008"
    assert config.register_address == SMARTONE_DEFAULT_URL
    assert (smartone.read_timeout_s, smartone.sale_timeout_s, smartone.poll_interval_s) == (
        10.0,
        90.0,
        1.0,
    )
    assert (smartone.withdraw_before_z, smartone.open_orders_operation) == (False, None)
    assert smartone.employee_name is None
    assert smartone.merchant_id is not None
    assert MERCHANT not in repr(smartone)  # a secret: never shown whole


def test_smartone_options(tmp_path: Path) -> None:
    """url, timings, employee_name, withdraw_before_z, open_orders_operation."""
    config = _load(
        tmp_path,
        '[register]\nprotocol = "smartone"\n'
        f'[smartone]\nmerchant_id = "{MERCHANT.upper()}"\nurl = "http://192.168.1.30:8008"\n'
        "read_timeout_s = 5\nsale_timeout_s = 120\npoll_interval_s = 0.5\n"
        'employee_name = "Kassir 1"\nwithdraw_before_z = true\nopen_orders_operation = "renew"\n',
    )
    smartone = config.smartone
    assert config.smartone_url == "http://192.168.1.30:8008"
    assert (smartone.read_timeout_s, smartone.sale_timeout_s, smartone.poll_interval_s) == (
        5,
        120,
        0.5,
    )
    assert (smartone.employee_name, smartone.withdraw_before_z) == ("Kassir 1", True)
    assert smartone.open_orders_operation == "renew"


def test_merchant_id_is_required_for_smartone(tmp_path: Path) -> None:
    """No merchant id: an error naming smartone.merchant_id."""
    error = _error(tmp_path, '[register]\nprotocol = "smartone"\n')
    assert "smartone.merchant_id" in str(error)
    assert "required" in str(error)


def test_a_bad_merchant_id_is_refused_without_echoing_it(tmp_path: Path) -> None:
    """Not 32 hex characters: an error saying what it must be, the value not repeated."""
    bad = "not-a-merchant-id-0123456789abcd"
    error = _error(
        tmp_path, f'[register]\nprotocol = "smartone"\n[smartone]\nmerchant_id = "{bad}"\n'
    )
    assert "smartone.merchant_id" in str(error)
    assert "32 hex characters" in str(error)
    assert bad not in str(error)


def test_merchant_id_from_the_environment(tmp_path: Path) -> None:
    """FISCAL_AGENT_SMARTONE_MERCHANT_ID sets it."""
    config = _load(
        tmp_path,
        '[register]\nprotocol = "smartone"\n',
        {"FISCAL_AGENT_SMARTONE_MERCHANT_ID": MERCHANT},
    )
    assert config.smartone.merchant_id is not None
    assert config.smartone.merchant_id.get_secret_value() == MERCHANT


def test_register_url_names_the_cashbox_unless_it_conflicts(tmp_path: Path) -> None:
    """[register] url stands in for [smartone] url; two different ones are an error."""
    config = _load(
        tmp_path,
        f'[register]\nprotocol = "smartone"\nurl = "http://10.0.0.9:8008"\n[smartone]\nmerchant_id = "{MERCHANT}"\n',
    )
    assert config.smartone_url == "http://10.0.0.9:8008"
    error = _error(
        tmp_path,
        '[register]\nprotocol = "smartone"\nurl = "http://10.0.0.9:8008"\n'
        f'[smartone]\nmerchant_id = "{MERCHANT}"\nurl = "http://10.0.0.8:8008"\n',
    )
    assert "register.url" in str(error)


def test_factory_builds_the_smartone_driver(tmp_path: Path) -> None:
    """build_driver: SmartOneDriver with the section's options, zone and tax rows."""
    config = _load(
        tmp_path,
        '[register]\nprotocol = "smartone"\ntz = "Asia/Baku"\n'
        f'[smartone]\nmerchant_id = "{MERCHANT}"\nsale_timeout_s = 60\nwithdraw_before_z = true\n',
    )
    driver = build_driver(config, structlog.get_logger("test"))
    assert isinstance(driver, SmartOneDriver)
    params = driver._params
    assert (params.url, params.merchant_id) == (SMARTONE_DEFAULT_URL, MERCHANT)
    assert (params.sale_timeout_s, params.withdraw_before_z) == (60.0, True)
    assert params.zone == ZoneInfo("Asia/Baku")
    # Azerbaijan's rates (the country profile), not the Russian table: each line names its
    # percent on the wire, the numbers only order the rows the driver reports.
    assert set(params.tax_rate_codes) == {VatRate.VAT18, VatRate.VAT0, VatRate.NONE}
