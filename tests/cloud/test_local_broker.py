"""``fiscal-cloud run`` with no ``[mqtt] url`` brings a broker of its own (cloud/local_broker.py).

Each kind is shown end to end: the cloud starts, a plain MQTT client (the agent's side)
publishes a health on the broker's address, and the cloud's API lists the agent.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from cloud import cli
from cloud.app import run_cloud
from cloud.config import ConfigError, load_config
from cloud.local_broker import find_mosquitto
from tests.support.broker import has_amqtt
from tests.support.mqtt_client import PlainClient
from tests.support.processes import free_port

pytestmark = [pytest.mark.broker, pytest.mark.timeout(60)]


def _config(tmp_path: Path, mqtt: str, http_port: int) -> Path:
    path = tmp_path / "cloud.toml"
    path.write_text(
        f"[mqtt]\n{mqtt}\n"
        f'[store]\nurl = "sqlite:///{tmp_path / "state" / "cloud.db"}"\n'
        f'[http]\nlisten = "127.0.0.1:{http_port}"\n',
        encoding="utf-8",
    )
    return path


@contextlib.asynccontextmanager
async def _running(path: Path, http_port: int) -> AsyncIterator[aiohttp.ClientSession]:
    task = asyncio.create_task(run_cloud(load_config(path, {})))
    try:
        async with aiohttp.ClientSession(f"http://127.0.0.1:{http_port}") as http:
            for _ in range(500):
                if task.done():
                    task.result()  # the cloud stopped: raise its error here
                with contextlib.suppress(aiohttp.ClientConnectionError):
                    async with http.get("/healthz") as resp:
                        if resp.status == 200:
                            break
                await asyncio.sleep(0.02)
            else:
                raise AssertionError("the API never listened")
            yield http
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@pytest.mark.parametrize("kind", ["mosquitto", "amqtt"])
async def test_no_broker_url_starts_one_the_agents_can_use(tmp_path: Path, kind: str) -> None:
    if kind == "mosquitto" and find_mosquitto() is None:
        pytest.skip("no mosquitto binary on this machine: the amqtt case shows the fallback")
    if kind == "amqtt" and not has_amqtt():
        pytest.skip("amqtt is not installed (pip install -e '.[dev]')")
    mqtt_port, http_port = free_port(), free_port()
    path = _config(
        tmp_path, f'local_listen = "127.0.0.1:{mqtt_port}"\nlocal_broker = "{kind}"', http_port
    )
    async with _running(path, http_port) as http:
        agent = PlainClient(f"mqtt://127.0.0.1:{mqtt_port}", "desk-1", subscribe=("x/none",))
        await asyncio.to_thread(agent.connect)
        try:
            health = {"state": "online", "boot": 1, "seq": 1, "version": "0.1.0"}
            body = json.dumps(health)
            for _ in range(300):  # until the cloud's own link has subscribed and stored it
                info = agent.client.publish("fiscal/v1/club-1/desk-1/health", body, qos=1)
                await asyncio.to_thread(info.wait_for_publish, 5)
                async with http.get("/api/v1/agents") as resp:
                    agents = (await resp.json())["agents"]
                if agents:
                    break
                await asyncio.sleep(0.1)
        finally:
            agent.close()
        assert [(a["club"], a["agent"], a["health"]["state"]) for a in agents] == [
            ("club-1", "desk-1", "online")
        ]
    if kind == "mosquitto":  # its config and sessions live beside the SQLite store
        assert (tmp_path / "state" / "broker" / "mosquitto.conf").exists()


def test_a_taken_port_is_refused_with_what_to_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        path = _config(tmp_path, f'local_listen = "127.0.0.1:{port}"', free_port())
        assert cli.main(["run", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"cannot listen on 127.0.0.1:{port}" in err
    assert f'url = "mqtt://127.0.0.1:{port}"' in err


@pytest.mark.parametrize("listen", ["0.0.0.0:1883", "192.168.1.10:1883"])
def test_the_own_broker_listens_on_loopback_only(tmp_path: Path, listen: str) -> None:
    path = _config(tmp_path, f'local_listen = "{listen}"', free_port())
    with pytest.raises(ConfigError, match=r"mqtt\.local_listen.*loopback") as caught:
        load_config(path, {})
    assert "deploy/mosquitto" in str(caught.value)


def test_defaults_and_the_api_alone(tmp_path: Path) -> None:
    config = load_config(None, {})
    assert (config.mqtt.url, config.mqtt.local_listen) == (None, "127.0.0.1:1883")
    assert (config.mqtt.local_host, config.mqtt.local_port) == ("127.0.0.1", 1883)
    alone = load_config(_config(tmp_path, 'local_listen = ""', free_port()), {})
    assert alone.mqtt.local_listen is None
