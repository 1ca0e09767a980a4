"""cloud.toml with its environment overrides, the access rule, and fiscal-cloud reconcile."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from cloud.cli import main
from cloud.config import ConfigError, load_config
from cloud.store import CloudStore
from tests.cloud.api.seed import AGENT, CLUB, fixed_clock, seed_small_shift
from tests.support.postgres import run_apart

TOKEN = "a-long-enough-token-123"  # noqa: S105 (a test token)


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cloud.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_and_the_file_and_env_overrides(tmp_path: Path) -> None:
    config = load_config(_write(tmp_path, ""), {})
    assert config.store.url == "sqlite:////var/lib/fiscal-cloud/cloud.db"
    assert config.http.listen == "127.0.0.1:8760"
    assert config.mqtt.url is None
    assert not config.auth.enabled
    config.check_access()  # loopback without tokens is allowed

    path = _write(
        tmp_path,
        '[mqtt]\nurl = "mqtt://127.0.0.1:1883"\n[store]\nurl = "sqlite:////tmp/x.db"\n'
        f'[http]\nlisten = "0.0.0.0:9000"\n[auth]\ncrm_token = "{TOKEN}"\n',
    )
    config = load_config(
        path, {"FISCAL_CLOUD_HTTP_LISTEN": "[::1]:8761", "FISCAL_CLOUD_CONFIG": "x"}
    )
    assert config.mqtt.url == "mqtt://127.0.0.1:1883"
    assert (config.http.host, config.http.port, config.http.loopback) == ("::1", 8761, True)
    assert config.auth.crm_token == TOKEN
    assert config.auth.support_token is None


def test_no_tokens_on_a_public_address_is_refused(tmp_path: Path) -> None:
    config = load_config(_write(tmp_path, '[http]\nlisten = "0.0.0.0:8760"\n'), {})
    with pytest.raises(ConfigError, match="reachable from other machines"):
        config.check_access()
    config = load_config(
        _write(tmp_path, f'[http]\nlisten = "0.0.0.0:8760"\n[auth]\nsupport_token = "{TOKEN}"\n'),
        {},
    )
    config.check_access()


@pytest.mark.parametrize(
    ("text", "env", "key"),
    [
        ("[store]\nurl = 'mysql://x'\n", {}, "store.url"),
        ("[http]\nlisten = 'nowhere'\n", {}, "http.listen"),
        ("[auth]\ncrm_token = 'short'\n", {}, "auth.crm_token"),
        ("[mqtt]\nurl = 'http://x'\n", {}, "mqtt.url"),
        ("[ofd]\nurl_template = 'https://ofd/{nope}'\n", {}, "ofd.url_template"),
        ("[store]\nuri = 'sqlite:///x'\n", {}, "store.uri"),
        ("", {"FISCAL_CLOUD_STORE_URI": "x"}, "FISCAL_CLOUD_STORE_URI"),
        ("", {"FISCAL_CLOUD_HTTP_LISTEN": "x"}, "http.listen"),
        ("not toml [", {}, "config"),
    ],
)
def test_bad_config_names_the_key(tmp_path: Path, text: str, env: dict[str, str], key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(_write(tmp_path, text), env)
    assert caught.value.key == key
    if env and key == "http.listen":
        assert caught.value.source == "FISCAL_CLOUD_HTTP_LISTEN"


def test_run_refuses_a_public_address_without_tokens(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, '[http]\nlisten = "0.0.0.0:8760"\n')
    assert main(["run", "--config", str(path)]) == 2
    assert "reachable from other machines" in capsys.readouterr().err
    assert main(["run", "--config", str(tmp_path / "missing.toml")]) == 2


async def _seed(url: str, closed: bool = True) -> None:
    async with await CloudStore.open(url, clock=fixed_clock) as store:
        await seed_small_shift(store, closed=closed)


def test_reconcile_prints_the_table_from_the_store(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'cloud.db'}"
    run_apart(_seed(url))
    path = _write(tmp_path, f'[store]\nurl = "{url}"\n')
    assert (
        main(
            ["reconcile", "--config", str(path), "--club", CLUB, "--agent", AGENT, "--shift", "12"]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert f"club {CLUB}, agent {AGENT}: shift 12" in out
    assert "3 matched, 1 crm_only, 1 register_only" in out
    lines = out.splitlines()
    assert lines[-1] == "DISCREPANCY"
    totals = {
        line.split()[0]: line.split()[1:]
        for line in lines
        if line.startswith(("crm_", "z_", "difference"))
    }
    assert totals["crm_register_total"] == ["190.49", "99.99", "0.00", "290.48"]
    assert totals["z_register_total"] == ["489.99", "99.99", "0.00", "589.98"]
    assert totals["difference"] == ["-299.50", "0.00", "0.00", "-299.50"]
    assert totals["crm_grand_total"] == ["190.49", "299.99", "0.00", "490.48"]
    assert "cash in 1000.00, cash out 0.00 (not sales)" in out

    # Without --agent: every agent of the club; --problems-only leaves the matched rows out.
    assert main(["reconcile", "--config", str(path), "--club", CLUB, "--problems-only"]) == 0
    out = capsys.readouterr().out
    assert "r4" in out
    assert "r1 " not in out

    assert (
        main(
            ["reconcile", "--config", str(path), "--club", CLUB, "--agent", AGENT, "--shift", "99"]
        )
        == 1
    )
    assert "no shift report of shift 99" in capsys.readouterr().err


def test_reconcile_reads_its_store_from_the_environment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'env.db'}"
    asyncio.run(_seed(url, closed=False))
    monkeypatch.setenv("FISCAL_CLOUD_STORE_URL", url)
    assert main(["reconcile", "--config", str(_write(tmp_path, "")), "--club", CLUB]) == 0
    out = capsys.readouterr().out
    assert "open" in out.splitlines()[1]
    assert "290.48" in out


def test_the_example_config_loads_and_listens_on_loopback() -> None:
    config = load_config(Path(__file__).parents[3] / "examples" / "cloud.toml", {})
    assert config.http.loopback
    config.check_access()
