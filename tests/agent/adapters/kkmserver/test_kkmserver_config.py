"""``[kkmserver]``: off when absent, never open to the LAN without a password; Basic auth."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from agent.adapters.kkmserver.routes import Credentials
from agent.config import ConfigError, load_config

MINIMAL = """
club = "club-1"
agent = "desk-1"
[register]
url = "/dev/ttyACM0"
[tax]
top_up = "usn_income"
service = "usn_income"
goods = "usn_income"
"""


def _load(tmp_path: Path, extra: str = "", env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    path = tmp_path / "agent.toml"
    path.write_text(MINIMAL + extra)
    return load_config(path, env or {})


def test_absent_section_is_off(tmp_path: Path) -> None:
    assert _load(tmp_path).kkmserver is None


def test_loopback_without_password_is_kkmservers_default(tmp_path: Path) -> None:
    config = _load(tmp_path, "[kkmserver]\n")
    assert config.kkmserver is not None
    assert (config.kkmserver.host, config.kkmserver.port) == ("127.0.0.1", 5893)
    assert config.kkmserver.queue_limit.total_seconds() == 30


@pytest.mark.parametrize("listen", ["0.0.0.0:5893", "192.168.1.10:5893", "[::]:5893"])
def test_lan_listen_without_password_is_refused_and_says_why(tmp_path: Path, listen: str) -> None:
    with pytest.raises(ConfigError) as info:
        _load(tmp_path, f'[kkmserver]\nlisten = "{listen}"\n')
    assert info.value.key == "kkmserver"
    assert "password" in info.value.reason
    assert "other machines" in info.value.reason


def test_lan_listen_with_password_from_the_environment(tmp_path: Path) -> None:
    env = {"FISCAL_AGENT_KKMSERVER_PASSWORD": "s3cret"}
    config = _load(tmp_path, '[kkmserver]\nlisten = "0.0.0.0:5893"\n', env)
    assert config.kkmserver is not None
    assert config.kkmserver.password.get_secret_value() == "s3cret"


def _basic(login: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{login}:{password}".encode()).decode()


def test_basic_auth_rules() -> None:
    open_ = Credentials("Admin", "")
    assert open_.accepts(None)
    assert open_.accepts(_basic("whoever", "x"))
    closed = Credentials("Admin", "pw")
    assert not closed.accepts(None)
    assert closed.accepts(_basic("admin", "pw"))  # the login without regard to case
    assert not closed.accepts(_basic("Admin", "PW"))  # the password exactly
    assert not closed.accepts("Basic !!!")
    assert not closed.accepts("Bearer x")
    assert not Credentials("kassa", "").accepts(None)
    assert Credentials("kassa", "").accepts(_basic("KASSA", ""))
