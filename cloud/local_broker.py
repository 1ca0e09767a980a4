"""The cloud's own MQTT broker, for one machine: no ``[mqtt] url`` in the config.

A club that runs the agent and the cloud on one machine (and ``make demo``) needs no broker
set up by hand: with no URL, ``fiscal-cloud run`` starts Mosquitto as its child when the
machine has it (persistent sessions kept in ``[mqtt] local_dir``), and otherwise an in-process
amqtt broker (MQTT 3.1.1 only, nothing kept across a restart: fine for a demo, not for a club).
It says which in the log. The broker listens on a loopback address only: it lets anyone in
without a password, so agents on other machines need the shipped broker (deploy/mosquitto)
and ``[mqtt] url``.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import os
import shutil
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import structlog

__all__ = ["BrokerKind", "LocalBroker", "LocalBrokerError", "local_broker"]

BrokerKind = Literal["auto", "mosquitto", "amqtt"]

START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 10.0

_log = structlog.get_logger("cloud.local_broker")


class LocalBrokerError(Exception):
    """The cloud's own broker cannot run: the message says why and what to do."""

    public_code = "local_broker_unavailable"


@dataclass(frozen=True)
class LocalBroker:
    """A running broker of the cloud's own."""

    kind: Literal["mosquitto", "amqtt"]
    host: str
    port: int

    @property
    def url(self) -> str:
        """``mqtt://host:port`` for the cloud's own link (and the agents on this machine)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"mqtt://{host}:{self.port}"


def find_mosquitto() -> Path | None:
    """The ``mosquitto`` binary on PATH or in /usr/sbin (Debian's place), if any."""
    found = shutil.which("mosquitto") or shutil.which("mosquitto", path="/usr/sbin:/usr/local/sbin")
    return Path(found) if found else None


def _has_amqtt() -> bool:
    return importlib.util.find_spec("amqtt") is not None


def _choose(kind: BrokerKind) -> Literal["mosquitto", "amqtt"]:
    mosquitto, amqtt = find_mosquitto() is not None, _has_amqtt()
    if kind == "mosquitto" and not mosquitto:
        msg = "[mqtt] local_broker = mosquitto, but no mosquitto binary is on PATH or in /usr/sbin"
        raise LocalBrokerError(msg + ": apt-get install mosquitto")
    if kind == "amqtt" and not amqtt:
        msg = "[mqtt] local_broker = amqtt, but amqtt is not installed"
        raise LocalBrokerError(msg + ": pip install 'fiscal-edge[local-broker]'")
    if kind != "auto":
        return kind
    if mosquitto:
        return "mosquitto"
    if amqtt:
        return "amqtt"
    raise LocalBrokerError(
        "no [mqtt] url, and this machine has neither Mosquitto nor amqtt for a broker of the "
        "cloud's own: apt-get install mosquitto, or pip install 'fiscal-edge[local-broker]', "
        'or set [mqtt] url to your broker (or local_listen = "" to serve the API only)'
    )


def _check_free(host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise LocalBrokerError(
                f"cannot listen on {host}:{port} for the cloud's own broker ({exc.strerror}): "
                f"if a broker already runs there, set [mqtt] url = "
                f'"mqtt://{host}:{port}"; otherwise choose another [mqtt] local_listen'
            ) from exc


async def _accepts(host: str, port: int) -> bool:
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout=0.5)
    except (OSError, TimeoutError):
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


def _mosquitto_conf(host: str, port: int, workdir: Path) -> Path:
    data = workdir / "data"
    data.mkdir(parents=True, exist_ok=True)
    lines = [
        "# Written by fiscal-cloud at every start: the cloud's own broker (cloud/local_broker.py)",
        "per_listener_settings false",
        "allow_anonymous true",  # loopback only: local_listen refuses any other address
        "persistence true",
        f"persistence_location {data}/",
        "persistence_file mosquitto.db",
        "autosave_interval 60",
        "max_queued_messages 100000",  # an outage's backlog for the cloud's persistent session
        "set_tcp_nodelay true",
        f"log_dest file {workdir / 'mosquitto.log'}",
        "log_type error",
        "log_type warning",
        "log_type notice",
        f"listener {port} {host}",
    ]
    if os.geteuid() == 0:
        # As root Mosquitto would switch to the mosquitto user, which cannot write here.
        lines.append("user root")
    conf = workdir / "mosquitto.conf"
    conf.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return conf


def _log_tail(path: Path, lines: int = 10) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@contextlib.asynccontextmanager
async def _mosquitto(host: str, port: int, workdir: Path) -> AsyncIterator[None]:
    binary = find_mosquitto()
    assert binary is not None
    conf = await asyncio.to_thread(_mosquitto_conf, host, port, workdir)
    proc = await asyncio.create_subprocess_exec(
        str(binary),
        "-c",
        str(conf),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not await _accepts(host, port):
            if proc.returncode is not None:
                msg = f"mosquitto exited at start ({proc.returncode}):\n"
                raise LocalBrokerError(msg + _log_tail(workdir / "mosquitto.log"))
            if time.monotonic() > deadline:
                msg = f"mosquitto did not listen on {host}:{port} within {START_TIMEOUT_S} s"
                raise LocalBrokerError(msg)
            await asyncio.sleep(0.05)
        yield
    finally:
        if proc.returncode is None:
            proc.terminate()  # SIGTERM: Mosquitto saves its sessions on the way out
            try:
                await asyncio.wait_for(proc.wait(), STOP_TIMEOUT_S)
            except TimeoutError:
                proc.kill()
                await proc.wait()


@contextlib.asynccontextmanager
async def _amqtt(host: str, port: int) -> AsyncIterator[None]:
    from amqtt.broker import Broker  # noqa: PLC0415 - optional: only without Mosquitto

    config: dict[str, Any] = {
        "listeners": {"default": {"type": "tcp", "bind": f"{host}:{port}"}},
        "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}},
    }
    broker = Broker(config)
    try:
        await broker.start()
    except Exception as exc:
        raise LocalBrokerError(f"amqtt did not start on {host}:{port}: {exc}") from exc
    try:
        yield
    finally:
        with contextlib.suppress(Exception):  # shutting down: nothing left to tell anyone
            await broker.shutdown()


@contextlib.asynccontextmanager
async def local_broker(
    host: str, port: int, workdir: Path, *, kind: BrokerKind = "auto"
) -> AsyncIterator[LocalBroker]:
    """Run the cloud's own broker on ``host:port`` for the duration of the block.

    Raises:
        LocalBrokerError: no broker can run here, the address is taken, or it did not start.
    """
    chosen = _choose(kind)
    _check_free(host, port)
    running = LocalBroker(kind=chosen, host=host, port=port)
    started = _mosquitto(host, port, workdir) if chosen == "mosquitto" else _amqtt(host, port)
    async with started:
        if chosen == "amqtt":
            _log.warning(
                "no [mqtt] url and no Mosquitto: started an in-process amqtt broker "
                "(MQTT 3.1.1, keeps nothing across a restart; install mosquitto for a club)",
                url=running.url,
            )
        else:
            _log.info(
                "no [mqtt] url: started Mosquitto as the cloud's own broker",
                url=running.url,
                dir=str(workdir),
            )
        yield running
