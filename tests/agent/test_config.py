"""AgentConfig: docs/contract.md's file loads, env overrides every key, bad input fails fast."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from pathlib import Path
from typing import get_args
from zoneinfo import ZoneInfo

import pytest
from pydantic import BaseModel, ValidationError

from agent.config import (
    DEFAULT_TAX_RATE_CODES,
    LEGACY_SHTRIH_KEYS,
    AgentConfig,
    ConfigError,
    env_names,
    load_config,
    parse_duration,
)

REPO = Path(__file__).resolve().parents[2]

# Verbatim from docs/contract.md, "Configuration".
CONTRACT_EXAMPLE = """\
club = "club-1"
agent = "desk-1"
state_dir = "/var/lib/fiscal-agent"        # the SQLite files
[register]
url = "/dev/ttyACM0"                       # any pyserial URL
protocol = "shtrih"
[mqtt]
url = "mqtt://127.0.0.1:1883"              # mqtts:// with ca/cert/key for TLS
username = ""                              # optional, with password
[http]
listen = "127.0.0.1:8750"
[shift]
max_age = "23h30m"                         # close and reopen before this age
[tax]                                      # tax system per category (FFD tag 1055)
top_up = "usn_income"
service = "usn_income"
goods = "usn_income"
[cashier]
name = "Administrator"
"""

MINIMAL = """\
club = "c"
agent = "a"
[register]
url = "socket://127.0.0.1:7778"
[tax]
top_up = "osn"
service = "usn_income"
goods = "patent"
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "agent.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _error(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_config(_write(tmp_path, text), env or {})
    return info.value


def test_load_config_contract_example(tmp_path: Path) -> None:
    """The docs/contract.md example loads with the values it shows and documented defaults."""
    config = load_config(_write(tmp_path, CONTRACT_EXAMPLE), {})
    assert (config.club, config.agent) == ("club-1", "desk-1")
    assert config.state_dir == Path("/var/lib/fiscal-agent")
    assert config.database_path == Path("/var/lib/fiscal-agent/agent.sqlite3")
    assert config.register.url == "/dev/ttyACM0"
    assert config.register.protocol == "shtrih"
    assert config.mqtt.url == "mqtt://127.0.0.1:1883"
    assert (config.http.host, config.http.port) == ("127.0.0.1", 8750)
    assert config.shift.max_age == timedelta(hours=23, minutes=30)
    assert config.tax.top_up == "usn_income"
    assert config.cashier.name == "Administrator"
    assert config.shtrih.baudrate == 115200
    assert config.register.tax_rate_codes == DEFAULT_TAX_RATE_CODES
    assert config.outbox.max_pending == 10_000
    assert config.outbox.retention == timedelta(days=90)
    assert config.shift.guard_margin == timedelta(minutes=15)
    assert config.topic_prefix == "fiscal/v1/club-1/desk-1/"


def test_load_config_examples_file(tmp_path: Path) -> None:
    """examples/agent.toml is complete and valid."""
    config = load_config(REPO / "examples" / "agent.toml", {})
    assert config.register.tz == "Europe/Moscow"
    assert config.register.zone == ZoneInfo("Europe/Moscow")
    assert config.shift.quiet_hour == time(5, 0)
    assert config.log.format == "auto"


def test_default_tax_table_matches_the_simulator() -> None:
    """The FF46 tax index defaults: vat22→1 ... vat20_120→12, one row each."""
    assert DEFAULT_TAX_RATE_CODES == {
        "vat22": 1,
        "vat10": 2,
        "vat0": 3,
        "none": 4,
        "vat22_122": 5,
        "vat10_110": 6,
        "vat5": 7,
        "vat7": 8,
        "vat5_105": 9,
        "vat7_107": 10,
        "vat20": 11,
        "vat20_120": 12,
    }


# -- environment ------------------------------------------------------------------------------


def test_env_overrides_top_level_and_section_keys(tmp_path: Path) -> None:
    """FISCAL_AGENT_CLUB and FISCAL_AGENT_REGISTER_URL replace the file's values."""
    env = {
        "FISCAL_AGENT_CLUB": "club-7",
        "FISCAL_AGENT_REGISTER_URL": "/dev/pts/7",
        "FISCAL_AGENT_OUTBOX_MAX_PENDING": "25",
        "FISCAL_AGENT_SHIFT_MAX_AGE": "20h",
        "FISCAL_AGENT_WORKER_RETRY_INITIAL_S": "0.25",
        "FISCAL_AGENT_MQTT_PASSWORD": "s3cret",
        "HOME": "/root",
    }
    config = load_config(_write(tmp_path, MINIMAL), env)
    assert config.club == "club-7"
    assert config.register.url == "/dev/pts/7"
    assert config.outbox.max_pending == 25
    assert config.shift.max_age == timedelta(hours=20)
    assert config.worker.retry_initial_s == 0.25
    assert config.mqtt.password.get_secret_value() == "s3cret"


def test_env_supplies_a_missing_required_key(tmp_path: Path) -> None:
    """A key absent from the file (even its whole section) can come from the environment."""
    text = MINIMAL.replace('[register]\nurl = "socket://127.0.0.1:7778"\n', "")
    config = load_config(_write(tmp_path, text), {"FISCAL_AGENT_REGISTER_URL": "/dev/ttyS0"})
    assert config.register.url == "/dev/ttyS0"


def test_env_inline_table_merges_over_tax_defaults(tmp_path: Path) -> None:
    """Tables come as TOML inline tables; given VAT rows replace only their defaults."""
    env = {
        "FISCAL_AGENT_REGISTER_TAX_RATE_CODES": "{vat22 = 13, vat10 = 14}",
        "FISCAL_AGENT_REGISTER_ANSWER_TIMEOUT_S": '{"0x41" = 90, FF46 = 20.5}',
    }
    config = load_config(_write(tmp_path, MINIMAL), env)
    assert config.register.tax_rate_codes["vat22"] == 13
    assert config.register.tax_rate_codes["vat10"] == 14
    assert config.register.tax_rate_codes["vat0"] == 3
    assert config.shtrih.answer_timeouts == {0x41: 90.0, 0xFF46: 20.5}  # v1's variable


def test_env_names_cover_every_key_without_collisions() -> None:
    """Every key has exactly one variable, FISCAL_AGENT_<SECTION>_<KEY>."""
    names = env_names()
    leaves = 0
    for field in AgentConfig.model_fields.values():
        section = field.annotation
        optional = [arg for arg in get_args(section) if arg is not type(None)]
        if len(optional) == 1:  # an optional section ([kkmserver])
            section = optional[0]
        is_section = isinstance(section, type) and issubclass(section, BaseModel)
        leaves += len(section.model_fields) if is_section else 1  # type: ignore[union-attr]
    assert len(names) == leaves + len(LEGACY_SHTRIH_KEYS)  # v1's [register] Shtrih keys too
    assert names["FISCAL_AGENT_CLUB"] == ("club",)
    assert names["FISCAL_AGENT_STATE_DIR"] == ("state_dir",)
    assert names["FISCAL_AGENT_REGISTER_URL"] == ("register", "url")
    assert names["FISCAL_AGENT_SHIFT_GUARD_MARGIN"] == ("shift", "guard_margin")
    assert names["FISCAL_AGENT_KKMSERVER_PASSWORD"] == ("kkmserver", "password")


def test_env_unknown_variable_fails_naming_it(tmp_path: Path) -> None:
    """A misspelt FISCAL_AGENT_* variable stops the start instead of being ignored."""
    error = _error(tmp_path, MINIMAL, {"FISCAL_AGENT_REGISTER_ULR": "/dev/ttyS0"})
    assert error.key == "FISCAL_AGENT_REGISTER_ULR"
    assert "unknown key" in error.reason


def test_env_config_path_variable_is_reserved(tmp_path: Path) -> None:
    """FISCAL_AGENT_CONFIG belongs to the command line and is not a key."""
    config = load_config(_write(tmp_path, MINIMAL), {"FISCAL_AGENT_CONFIG": "/etc/x.toml"})
    assert config.club == "c"


def test_env_bad_value_names_key_and_variable(tmp_path: Path) -> None:
    """A bad value from the environment names the dotted key and the variable."""
    error = _error(tmp_path, MINIMAL, {"FISCAL_AGENT_OUTBOX_MAX_PENDING": "many"})
    assert error.key == "outbox.max_pending"
    assert error.source == "FISCAL_AGENT_OUTBOX_MAX_PENDING"
    assert "FISCAL_AGENT_OUTBOX_MAX_PENDING" in str(error)


def test_env_bad_inline_table(tmp_path: Path) -> None:
    """A table variable that is not an inline table is refused, naming the key."""
    error = _error(tmp_path, MINIMAL, {"FISCAL_AGENT_REGISTER_TAX_RATE_CODES": "vat22=1"})
    assert error.key == "register.tax_rate_codes"
    assert error.source == "FISCAL_AGENT_REGISTER_TAX_RATE_CODES"


# -- failures ---------------------------------------------------------------------------------


def test_missing_file_fails(tmp_path: Path) -> None:
    """A missing file stops the start, naming the path."""
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "nope.toml", {})
    assert info.value.key == "config"
    assert "nope.toml" in info.value.reason


def test_bad_toml_fails_with_line(tmp_path: Path) -> None:
    """Bad TOML stops the start with the line of the mistake."""
    error = _error(tmp_path, 'club = "c"\nagent = "a"\n[register\nurl = "x"\n')
    assert error.key == "config"
    assert "line 3" in error.reason


@pytest.mark.parametrize(
    ("text", "key"),
    [
        pytest.param("colour = 1\n" + MINIMAL, "colour", id="top-level"),
        pytest.param(MINIMAL.replace("url =", "ulr = 1\nurl ="), "register.ulr", id="section"),
        pytest.param(MINIMAL + "[printer]\nx = 1\n", "printer", id="section-name"),
    ],
)
def test_unknown_key_fails_naming_it(tmp_path: Path, text: str, key: str) -> None:
    """An unknown key (a typo) stops the start, naming it."""
    error = _error(tmp_path, text)
    assert (error.key, error.reason) == (key, "unknown key")


@pytest.mark.parametrize(
    ("drop", "key"),
    [
        pytest.param('club = "c"\n', "club", id="club"),
        pytest.param('url = "socket://127.0.0.1:7778"\n', "register.url", id="register-url"),
        pytest.param('goods = "patent"\n', "tax.goods", id="tax-goods"),
    ],
)
def test_missing_required_key_fails(tmp_path: Path, drop: str, key: str) -> None:
    """club, agent, register.url and every [tax] key are required."""
    error = _error(tmp_path, MINIMAL.replace(drop, ""))
    assert error.key == key
    assert "missing" in error.reason


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        pytest.param('club = "c"', 'club = "club 1"', "club", id="club-space"),
        pytest.param('agent = "a"', 'agent = "' + "a" * 65 + '"', "agent", id="agent-long"),
        pytest.param('goods = "patent"', 'goods = "envd"', "tax.goods", id="tax-envd"),
        pytest.param("[tax]", '[shift]\nmax_age = "25h"\n[tax]', "shift", id="max-age-over-24h"),
        pytest.param("[tax]", '[shift]\nmax_age = "soon"\n[tax]', "shift.max_age", id="duration"),
        pytest.param(
            "[tax]", '[shift]\nmax_age = "1h"\nguard_margin = "1h"\n[tax]', "shift", id="margin"
        ),
        pytest.param(
            "[tax]", '[shift]\nguard_margin = "30s"\n[tax]', "shift", id="margin-below-a-minute"
        ),
        pytest.param(
            "[tax]", '[shift]\nquiet_hour = "25:00"\n[tax]', "shift.quiet_hour", id="quiet-hour"
        ),
        pytest.param("[tax]", '[http]\nlisten = "8750"\n[tax]', "http.listen", id="listen"),
        pytest.param("[tax]", '[mqtt]\nurl = "http://broker"\n[tax]', "mqtt.url", id="mqtt-scheme"),
        pytest.param("[tax]", '[cashier]\ninn = "123"\n[tax]', "cashier.inn", id="inn"),
        pytest.param("[tax]", '[cashier]\nname = ""\n[tax]', "cashier.name", id="cashier-empty"),
        pytest.param("[tax]", "[outbox]\nmax_pending = 0\n[tax]", "outbox.max_pending", id="max0"),
        pytest.param(
            "[tax]",
            "[worker]\nretry_initial_s = 10\nretry_max_s = 1\n[tax]",
            "worker",
            id="retry-order",
        ),
        pytest.param("[tax]", '[log]\nformat = "xml"\n[tax]', "log.format", id="log-format"),
        pytest.param("url =", 'tz = "Mars/Olympus"\nurl =', "register.tz", id="tz"),
        pytest.param("url =", "baudrate = 12345\nurl =", "register.baudrate", id="baud"),
        pytest.param("url =", 'protocol = "ibm"\nurl =', "register.protocol", id="protocol"),
        pytest.param(
            "url =", "operator_password = -1\nurl =", "register.operator_password", id="password"
        ),
        pytest.param(
            "[tax]",
            "[register.tax_rate_codes]\nvat99 = 3\n[tax]",
            "register.tax_rate_codes.vat99",
            id="tax-rate-name",
        ),
        pytest.param(
            "[tax]",
            "[register.tax_rate_codes]\nvat10 = 1\n[tax]",
            "register.tax_rate_codes",
            id="tax-rate-duplicate-row",
        ),
        pytest.param(
            "[tax]",
            '[register.answer_timeout_s]\n"print" = 5\n[tax]',
            "register.answer_timeout_s",
            id="timeout-key",
        ),
    ],
)
def test_bad_value_fails_naming_the_key(tmp_path: Path, old: str, new: str, key: str) -> None:
    """A bad value stops the start with the dotted key and a reason."""
    error = _error(tmp_path, MINIMAL.replace(old, new, 1))
    assert error.key == key
    assert error.reason
    assert str(error).startswith(key)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("23h30m", timedelta(hours=23, minutes=30)),
        ("15m", timedelta(minutes=15)),
        ("90s", timedelta(seconds=90)),
        ("1h2m3s", timedelta(hours=1, minutes=2, seconds=3)),
        (600, timedelta(minutes=10)),
    ],
)
def test_parse_duration(text: str | int, expected: timedelta) -> None:
    """Durations "23h30m", "15m", "90s" and integer seconds."""
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "h", "1d", "15 m", "-5s", "1.5h", -1, True])
def test_parse_duration_rejects(text: object) -> None:
    """Anything else is not a duration."""
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


# -- shape ------------------------------------------------------------------------------------


def test_config_is_frozen(tmp_path: Path) -> None:
    """The loaded config cannot be changed."""
    config = load_config(_write(tmp_path, MINIMAL), {})
    with pytest.raises(ValidationError):
        config.club = "other"  # type: ignore[misc]


def test_secrets_hidden_in_repr(tmp_path: Path) -> None:
    """The MQTT password never shows in a repr or a log line."""
    config = load_config(_write(tmp_path, MINIMAL), {"FISCAL_AGENT_MQTT_PASSWORD": "s3cret"})
    assert "s3cret" not in repr(config)
    assert "s3cret" not in str(config.mqtt)


def test_http_listen_ipv6(tmp_path: Path) -> None:
    """[::1]:8750 binds ::1 port 8750."""
    config = load_config(_write(tmp_path, MINIMAL), {"FISCAL_AGENT_HTTP_LISTEN": "[::1]:8750"})
    assert (config.http.host, config.http.port) == ("::1", 8750)


def test_mqtt_empty_tls_paths_are_none(tmp_path: Path) -> None:
    """ca = "" means no file; the [mqtt] section may point nowhere."""
    text = MINIMAL + '[mqtt]\nurl = "mqtts://nowhere.invalid:8883"\nca = ""\ncert = "/c.pem"\n'
    config = load_config(_write(tmp_path, text), {})
    assert config.mqtt.ca is None
    assert config.mqtt.cert == Path("/c.pem")


def test_register_zone_defaults_to_auto(tmp_path: Path) -> None:
    """Without tz the zone is "auto": none configured (the driver measures it at connect),
    and until then the host's, an aware tzinfo."""
    config = load_config(_write(tmp_path, MINIMAL), {})
    assert config.register.tz == "auto"
    assert config.register.configured_zone is None
    assert datetime.now(config.register.zone).utcoffset() is not None


def test_register_zone_auto_can_be_written_and_a_named_zone_wins(tmp_path: Path) -> None:
    """tz = "auto" is accepted as written; an IANA name is the configured zone."""
    auto = load_config(_write(tmp_path, MINIMAL.replace("url =", 'tz = "auto"\nurl =')), {})
    assert auto.register.configured_zone is None
    named = load_config(_write(tmp_path, MINIMAL), {"FISCAL_AGENT_REGISTER_TZ": "Asia/Kathmandu"})
    assert named.register.configured_zone == ZoneInfo("Asia/Kathmandu")
    assert named.register.zone == ZoneInfo("Asia/Kathmandu")


def test_the_config_path_defaults_to_the_installed_one() -> None:
    """--config wins, then $FISCAL_AGENT_CONFIG, then /etc/fiscal-agent/agent.toml."""
    from agent.config import DEFAULT_CONFIG_PATH, config_path  # noqa: PLC0415 - one test

    assert config_path(Path("/x.toml"), {"FISCAL_AGENT_CONFIG": "/y.toml"}) == Path("/x.toml")
    assert config_path(None, {"FISCAL_AGENT_CONFIG": "/y.toml"}) == Path("/y.toml")
    assert config_path(None, {}) == DEFAULT_CONFIG_PATH == Path("/etc/fiscal-agent/agent.toml")
