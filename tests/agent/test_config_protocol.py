"""``[register] protocol``, the protocol sections ``[shtrih]`` and ``[atol]``, v1's keys.

v1 kept the Shtrih options under ``[register]``: they still work there (in the file and as
``FISCAL_AGENT_REGISTER_*`` variables) and mean the same as in ``[shtrih]``; a key given in
both places is an error naming it. ``[register] url`` is required for Shtrih only; for ATOL
the web server is ``[atol] url``, or ``[register] url``, or the default.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.config import (
    ATOL_DEFAULT_URL,
    LEGACY_SHTRIH_KEYS,
    AgentConfig,
    ConfigError,
    env_names,
    load_config,
)

BASE = """\
club = "c"
agent = "a"
[tax]
top_up = "osn"
service = "usn_income"
goods = "patent"
"""


def _load(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> AgentConfig:
    path = tmp_path / "agent.toml"
    path.write_text(BASE + text, encoding="utf-8")
    return load_config(path, env or {})


def _error(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        _load(tmp_path, text, env)
    return info.value


def test_protocol_defaults_to_shtrih_with_its_section_defaults(tmp_path: Path) -> None:
    """No protocol and no [shtrih]: Shtrih at 115200 baud, passwords 30, no timeouts."""
    config = _load(tmp_path, '[register]\nurl = "/dev/ttyACM0"\n')
    assert config.register.protocol == "shtrih"
    shtrih = config.shtrih
    assert (shtrih.baudrate, shtrih.operator_password, shtrih.admin_password) == (115200, 30, 30)
    assert shtrih.answer_timeouts == {}
    assert config.register_address == "/dev/ttyACM0"


def test_shtrih_section_holds_the_shtrih_options(tmp_path: Path) -> None:
    """[shtrih] baudrate, passwords and answer timeouts."""
    config = _load(
        tmp_path,
        '[register]\nurl = "/dev/ttyUSB0"\nprotocol = "shtrih"\n'
        "[shtrih]\nbaudrate = 9600\noperator_password = 1\nadmin_password = 29\n"
        '[shtrih.answer_timeout_s]\n"0x41" = 90\n',
    )
    shtrih = config.shtrih
    assert (shtrih.baudrate, shtrih.operator_password, shtrih.admin_password) == (9600, 1, 29)
    assert shtrih.answer_timeouts == {0x41: 90.0}


def test_v1_shtrih_keys_under_register_keep_working(tmp_path: Path) -> None:
    """A v1 file: baudrate, passwords and answer_timeout_s under [register] land in [shtrih]."""
    config = _load(
        tmp_path,
        '[register]\nurl = "/dev/ttyACM0"\nbaudrate = 57600\noperator_password = 2\n'
        'admin_password = 28\n[register.answer_timeout_s]\n"FF46" = 20\n',
    )
    shtrih = config.shtrih
    assert (shtrih.baudrate, shtrih.operator_password, shtrih.admin_password) == (57600, 2, 28)
    assert shtrih.answer_timeouts == {0xFF46: 20.0}


def test_v1_shtrih_variables_keep_working(tmp_path: Path) -> None:
    """FISCAL_AGENT_REGISTER_BAUDRATE (v1's name) and FISCAL_AGENT_SHTRIH_BAUDRATE both work."""
    names = env_names()
    for key in LEGACY_SHTRIH_KEYS:
        assert names[f"FISCAL_AGENT_REGISTER_{key.upper()}"] == ("register", key)
        assert names[f"FISCAL_AGENT_SHTRIH_{key.upper()}"] == ("shtrih", key)
    text = '[register]\nurl = "/dev/ttyACM0"\n'
    old = _load(tmp_path, text, {"FISCAL_AGENT_REGISTER_BAUDRATE": "19200"})
    assert old.shtrih.baudrate == 19200
    new = _load(tmp_path, text, {"FISCAL_AGENT_SHTRIH_ADMIN_PASSWORD": "29"})
    assert new.shtrih.admin_password == 29


@pytest.mark.parametrize(
    ("text", "env"),
    [
        pytest.param(
            '[register]\nurl = "/dev/ttyACM0"\nbaudrate = 9600\n[shtrih]\nbaudrate = 9600\n',
            {},
            id="file-both",
        ),
        pytest.param(
            '[register]\nurl = "/dev/ttyACM0"\n[shtrih]\nbaudrate = 9600\n',
            {"FISCAL_AGENT_REGISTER_BAUDRATE": "9600"},
            id="v1-variable-and-shtrih-key",
        ),
    ],
)
def test_a_key_in_both_places_is_an_error_naming_it(
    tmp_path: Path, text: str, env: dict[str, str]
) -> None:
    """Even the same value twice: which one is meant must not be guessed."""
    error = _error(tmp_path, text, env)
    assert error.key == "register.baudrate"
    assert "[shtrih]" in error.reason
    assert error.source == next(iter(env), None)  # the variable, when the key came from one


def test_a_bad_v1_key_is_named_where_the_file_wrote_it(tmp_path: Path) -> None:
    """A bad baud rate under [register] is register.baudrate, not shtrih.baudrate."""
    error = _error(tmp_path, '[register]\nurl = "/dev/ttyACM0"\nbaudrate = 12345\n')
    assert error.key == "register.baudrate"
    bad = _error(tmp_path, '[register]\nurl = "/dev/ttyACM0"\n[shtrih]\nbaudrate = 12345\n')
    assert bad.key == "shtrih.baudrate"


def test_model_validate_moves_v1_keys_too() -> None:
    """AgentConfig built from a dict (not through load_config) reads v1's keys the same way."""
    raw = {
        "club": "c",
        "agent": "a",
        "register": {"url": "/dev/ttyACM0", "admin_password": 29},
        "tax": {"top_up": "osn", "service": "osn", "goods": "osn"},
    }
    assert AgentConfig.model_validate(raw).shtrih.admin_password == 29
    assert raw["register"] == {"url": "/dev/ttyACM0", "admin_password": 29}  # not changed


def test_shtrih_requires_the_register_url(tmp_path: Path) -> None:
    """Shtrih without [register] url: missing, named."""
    error = _error(tmp_path, '[register]\nprotocol = "shtrih"\n')
    assert error.key == "register.url"
    assert "missing" in error.reason


def test_atol_needs_no_url_and_has_its_defaults(tmp_path: Path) -> None:
    """protocol = "atol" alone: the web server on its default address, api auto, 0.5/120/30/10 s."""
    config = _load(tmp_path, '[register]\nprotocol = "atol"\n')
    atol = config.atol
    assert config.register.url is None
    assert config.atol_url == ATOL_DEFAULT_URL == "http://127.0.0.1:16732"
    assert config.register_address == ATOL_DEFAULT_URL
    assert (
        atol.api,
        atol.poll_interval_s,
        atol.task_timeout_s,
        atol.read_timeout_s,
        atol.request_timeout_s,
    ) == ("auto", 0.5, 120.0, 30.0, 10.0)
    assert (atol.username, atol.password, atol.tax_system) == (None, None, None)


def test_atol_section_options(tmp_path: Path) -> None:
    """[atol] url, api, timings, credentials (the password a secret) and tax_system."""
    config = _load(
        tmp_path,
        '[register]\nprotocol = "atol"\ntz = "Europe/Moscow"\n'
        '[atol]\nurl = "http://192.168.1.20:16732"\napi = "v1"\npoll_interval_s = 0.2\n'
        'task_timeout_s = 60\nread_timeout_s = 15\nrequest_timeout_s = 5\nusername = "kassa"\npassword = "s3cret"\n'
        'tax_system = "usnIncome"\n',
    )
    atol = config.atol
    assert config.atol_url == "http://192.168.1.20:16732"
    assert (atol.api, atol.poll_interval_s, atol.task_timeout_s) == ("v1", 0.2, 60.0)
    assert atol.read_timeout_s == 15.0
    assert atol.request_timeout_s == 5.0
    assert atol.username == "kassa"
    assert atol.password is not None
    assert atol.password.get_secret_value() == "s3cret"
    assert "s3cret" not in repr(config)
    assert atol.tax_system == "usnIncome"


def test_atol_web_server_may_be_the_register_url(tmp_path: Path) -> None:
    """[register] url names the web server when [atol] url does not; the same in both is fine."""
    config = _load(tmp_path, '[register]\nprotocol = "atol"\nurl = "http://10.0.0.5:16732"\n')
    assert config.atol_url == "http://10.0.0.5:16732"
    same = _load(
        tmp_path,
        '[register]\nprotocol = "atol"\nurl = "http://10.0.0.5:16732"\n'
        '[atol]\nurl = "http://10.0.0.5:16732"\n',
    )
    assert same.atol_url == "http://10.0.0.5:16732"


def test_atol_two_different_urls_are_an_error(tmp_path: Path) -> None:
    """[register] url and [atol] url naming two servers: which one is meant is not guessed."""
    error = _error(
        tmp_path,
        '[register]\nprotocol = "atol"\nurl = "http://10.0.0.5:16732"\n'
        '[atol]\nurl = "http://10.0.0.6:16732"\n',
    )
    assert error.key == "register.url"


@pytest.mark.parametrize(
    ("atol", "key"),
    [
        pytest.param('api = "v3"', "atol.api", id="api"),
        pytest.param('url = "/dev/ttyACM0"', "atol.url", id="url-not-http"),
        pytest.param("poll_interval_s = 0", "atol.poll_interval_s", id="poll-zero"),
        pytest.param("task_timeout_s = -1", "atol.task_timeout_s", id="task-timeout"),
        pytest.param("request_timeout_s = 0", "atol.request_timeout_s", id="request-timeout"),
        pytest.param("colour = 1", "atol.colour", id="unknown-key"),
    ],
)
def test_bad_atol_values_fail_naming_the_key(tmp_path: Path, atol: str, key: str) -> None:
    """A bad [atol] value stops the start with its dotted key."""
    error = _error(tmp_path, f'[register]\nprotocol = "atol"\n[atol]\n{atol}\n')
    assert error.key == key


def test_atol_options_from_the_environment(tmp_path: Path) -> None:
    """FISCAL_AGENT_ATOL_* variables, as every key has."""
    config = _load(
        tmp_path,
        '[register]\nprotocol = "atol"\n',
        {"FISCAL_AGENT_ATOL_URL": "http://10.1.1.1:16732", "FISCAL_AGENT_ATOL_API": "v2"},
    )
    assert (config.atol_url, config.atol.api) == ("http://10.1.1.1:16732", "v2")


def test_examples_file_keeps_shtrih_options_in_their_section() -> None:
    """examples/agent.toml: Shtrih options in [shtrih], nothing left under [register]."""
    repo = Path(__file__).resolve().parents[2]
    config = load_config(repo / "examples" / "agent.toml", {})
    assert config.register.protocol == "shtrih"
    assert (config.shtrih.baudrate, config.shtrih.operator_password) == (115200, 30)
    text = (repo / "examples" / "agent.toml").read_text(encoding="utf-8")
    register = text.split("[register]", 1)[1].split("\n[", 1)[0]
    assert not any(f"\n{key} =" in register for key in LEGACY_SHTRIH_KEYS)
