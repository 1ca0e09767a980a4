"""Gathering: ask the agent, look at the port and the disk, read the register, try the broker.

The order matters once: the agent first. When its local HTTP API answers, the agent holds
the register's port and the register's facts come from its health; otherwise the doctor
opens the port itself with the agent's driver, unless a ``fiscal-agent run`` of the same
settings is still alive (then two programs would talk over each other on one line).
"""

from __future__ import annotations

import asyncio
import json
import os
import pwd
import shutil
import urllib.error
import urllib.request
from http import HTTPStatus
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit

from pydantic import ValidationError

from agent.config import AgentConfig
from agent.contract import Health
from agent.doctor.broker_probe import broker_address, os_reason, probe_broker
from agent.doctor.facts import (
    AgentFacts,
    BrokerFacts,
    BrokerOutcome,
    DiskFacts,
    Facts,
    PortFacts,
    PortKind,
    PortOutcome,
    RegisterFacts,
    RegisterOutcome,
)
from agent.doctor.register_probe import read_register, register_from_health

__all__ = [
    "AGENT_TIMEOUT_S",
    "PORT_TIMEOUT_S",
    "find_agent_process",
    "gather",
    "health_url",
    "probe_agent",
    "probe_disk",
    "probe_port",
]

AGENT_TIMEOUT_S: Final = 5.0
"""How long the agent's health may take (it may read the register first, up to 2 s)."""
PORT_TIMEOUT_S: Final = 3.0
"""How long a TCP register may take to accept a connection."""
_PROC: Final = Path("/proc")
_AGENT_SCRIPT: Final = "fiscal-agent"


def health_url(config: AgentConfig) -> str:
    """The agent's health URL; a wildcard listen address is asked on loopback."""
    host, port = config.http.host, config.http.port
    host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)  # noqa: S104 - mapped away from
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}/api/v1/health"


def _get_health(url: str) -> Health:
    with urllib.request.urlopen(url, timeout=AGENT_TIMEOUT_S) as response:  # noqa: S310 - our own http URL
        return Health.model_validate(json.loads(response.read()))


async def probe_agent(config: AgentConfig, config_path: Path) -> tuple[AgentFacts, Health | None]:
    """The agent's health, or why there is none (and a process of it that does not answer)."""
    url = health_url(config)
    try:
        health = await asyncio.to_thread(_get_health, url)
    except urllib.error.HTTPError as exc:
        detail = f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", None) or exc
        detail = str(reason)
    except (ValueError, ValidationError) as exc:  # not JSON, or not a Health
        detail = f"not a health answer: {exc}"
    else:
        facts = AgentFacts(url=url, is_answering=True, state=health.state, version=health.version)
        return facts, health
    pid = await asyncio.to_thread(find_agent_process, config_path)
    return AgentFacts(url=url, is_answering=False, pid=pid, detail=detail), None


def find_agent_process(config_path: Path, proc: Path = _PROC) -> int | None:
    """The pid of a ``fiscal-agent run --config`` of these settings, other than this one."""
    try:
        wanted = config_path.resolve(strict=True)
    except OSError:
        return None
    me = os.getpid()
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        try:
            args = (entry / "cmdline").read_bytes().decode(errors="replace").split("\0")
        except OSError:  # gone
            continue
        config = _agent_run_config(args)
        if config is None:
            continue
        try:  # a relative path is the process's own cwd's (another user's: not readable)
            path = config if config.is_absolute() else (entry / "cwd").resolve() / config
            if path.resolve() == wanted:
                return int(entry.name)
        except OSError:
            continue
    return None


def _agent_run_config(args: list[str]) -> Path | None:
    """The ``--config`` of a ``fiscal-agent run`` command line; None for any other command."""
    scripts = [i for i, arg in enumerate(args) if Path(arg).name == _AGENT_SCRIPT]
    if not scripts or "run" not in args[scripts[0] + 1 :]:
        return None
    for i, arg in enumerate(args):
        if arg == "--config" and i + 1 < len(args):
            return Path(args[i + 1])
        if arg.startswith("--config="):
            return Path(arg.removeprefix("--config="))
    return None


def _user() -> str:
    uid = os.geteuid()
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


async def probe_port(url: str, *, is_agent_linked: bool, protocol: str = "shtrih") -> PortFacts:
    """The register's port: a device file this user may use, or a TCP address that accepts.

    Not touched while the agent talks to the register over it. ATOL's web server (an http(s)
    URL) is asked ``serverInfo`` even then: it queues every client's tasks, so a read
    disturbs nobody. A SmartOne cash box is asked ``/check_shift`` unsigned, likewise: any
    answer in its JSON shape shows its API is there (the signature is the register check's).
    """
    parts = urlsplit(url)
    if protocol == "smartone":
        return await asyncio.to_thread(_probe_cashbox, url)
    if parts.scheme in {"http", "https"}:
        return await asyncio.to_thread(_probe_web_server, url)
    if parts.scheme == "socket":
        kind = PortKind.TCP
    elif url.startswith("/"):
        kind = PortKind.DEVICE
    else:
        kind = PortKind.OTHER
    if is_agent_linked:
        return PortFacts(url=url, kind=kind, outcome=PortOutcome.IN_USE_BY_AGENT)
    if kind is PortKind.DEVICE:
        return _probe_device(url)
    if kind is PortKind.TCP:
        return await _probe_tcp(url, parts.hostname or "", parts.port or 0)
    return PortFacts(url=url, kind=kind, outcome=PortOutcome.NOT_CHECKED)


def _probe_web_server(url: str) -> PortFacts:
    """ATOL's web server: ``GET /api/v2/serverInfo``, or the older ``/stat/requests``.

    (docs/atol-web-notes.md §1–§2.) Any answer in ATOL's shape passes, 401 too (the server
    has users; the register check then says whether ours is accepted).
    """
    base = url.rstrip("/")
    try:
        status, body = _get_json(f"{base}/api/v2/serverInfo")
        if status == HTTPStatus.NOT_FOUND:  # an old server (driver 10.6 and before)
            status, body = _get_json(f"{base}/stat/requests")
    except OSError as exc:  # URLError, TimeoutError, ConnectionError
        detail = _unreachable(exc)
    else:
        kind = PortKind.WEB_SERVER
        if status == HTTPStatus.UNAUTHORIZED:
            return PortFacts(url=url, kind=kind, outcome=PortOutcome.OK)
        if status == HTTPStatus.OK and isinstance(body, dict):
            version = body.get("driverVersion")
            return PortFacts(
                url=url,
                kind=kind,
                outcome=PortOutcome.OK,
                version=version if isinstance(version, str) else None,
            )
        return PortFacts(url=url, kind=kind, outcome=PortOutcome.NOT_ATOL, detail=f"HTTP {status}")
    return PortFacts(
        url=url, kind=PortKind.WEB_SERVER, outcome=PortOutcome.UNREACHABLE, detail=detail
    )


def _unreachable(exc: OSError) -> str:
    """Why an HTTP request to a port got no answer, in the words of a port check's detail."""
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    if isinstance(reason, TimeoutError):
        return f"no answer within {PORT_TIMEOUT_S:g} s"
    return os_reason(reason) if isinstance(reason, OSError) else str(reason)


def _probe_cashbox(url: str) -> PortFacts:
    """A SmartOne cash box: ``POST /check_shift`` with an empty, unsigned payload.

    The cash box answers every request with a JSON object carrying an integer ``code`` (here
    1 or 2, as the signature is missing), so such an answer shows its API is there.
    (docs/smartone-notes.md §2.)
    """
    kind = PortKind.CASHBOX
    request = urllib.request.Request(  # noqa: S310 - the configured http(s) URL of the cash box
        url.rstrip("/") + "/check_shift",
        data=b"data=e30%3D&sign=",  # "{}" in Base64, no signature
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=PORT_TIMEOUT_S) as response:  # noqa: S310
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, b""
    except OSError as exc:  # URLError, TimeoutError, ConnectionError
        detail = _unreachable(exc)
        return PortFacts(url=url, kind=kind, outcome=PortOutcome.UNREACHABLE, detail=detail)
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        body = None
    if isinstance(body, dict) and isinstance(body.get("code"), int):
        return PortFacts(url=url, kind=kind, outcome=PortOutcome.OK)
    detail = f"HTTP {status}" if status != HTTPStatus.OK else "not the cash box's JSON"
    return PortFacts(url=url, kind=kind, outcome=PortOutcome.NOT_SMARTONE, detail=detail)


def _get_json(url: str) -> tuple[int, object]:
    """GET ``url``: the HTTP status and the body as JSON (None when it is not JSON)."""
    request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310 - http(s) only
    try:
        with urllib.request.urlopen(request, timeout=PORT_TIMEOUT_S) as response:  # noqa: S310
            status, raw = int(response.status), response.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    try:
        return status, json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return status, None


def _probe_device(url: str) -> PortFacts:
    user = _user()
    if not os.path.exists(url):  # noqa: PTH110 - a device path, as the URL names it
        return PortFacts(url=url, kind=PortKind.DEVICE, outcome=PortOutcome.MISSING, user=user)
    if not os.access(url, os.R_OK | os.W_OK):
        return PortFacts(
            url=url, kind=PortKind.DEVICE, outcome=PortOutcome.NO_PERMISSION, user=user
        )
    return PortFacts(url=url, kind=PortKind.DEVICE, outcome=PortOutcome.OK, user=user)


async def _probe_tcp(url: str, host: str, port: int) -> PortFacts:
    try:
        async with asyncio.timeout(PORT_TIMEOUT_S):
            _reader, writer = await asyncio.open_connection(host, port)
    except TimeoutError:
        detail = f"no answer within {PORT_TIMEOUT_S:g} s"
    except OSError as exc:
        detail = os_reason(exc)
    else:
        writer.close()
        await writer.wait_closed()
        return PortFacts(url=url, kind=PortKind.TCP, outcome=PortOutcome.OK)
    return PortFacts(url=url, kind=PortKind.TCP, outcome=PortOutcome.UNREACHABLE, detail=detail)


def probe_disk(state_dir: Path) -> DiskFacts:
    """Free space (for an unprivileged user) where the agent's SQLite file lives or will."""
    path = state_dir
    while not path.exists() and path != path.parent:
        path = path.parent
    try:
        free = shutil.disk_usage(path).free
    except OSError as exc:
        return DiskFacts(path=str(path), free_bytes=None, detail=os_reason(exc))
    return DiskFacts(path=str(path), free_bytes=free)


async def _register(
    config: AgentConfig, agent: AgentFacts, health: Health | None, port: PortFacts
) -> RegisterFacts:
    if health is not None:
        return register_from_health(health)
    # ATOL's server queues every client's tasks, and a cash box answers each request: a read
    # disturbs nobody there. A serial port is the agent's alone.
    if agent.pid is not None and port.kind not in {PortKind.WEB_SERVER, PortKind.CASHBOX}:
        return RegisterFacts(outcome=RegisterOutcome.HELD_BY_AGENT)
    if port.outcome in {
        PortOutcome.MISSING,
        PortOutcome.NO_PERMISSION,
        PortOutcome.UNREACHABLE,
        PortOutcome.NOT_ATOL,
        PortOutcome.NOT_SMARTONE,
    }:
        return RegisterFacts(outcome=RegisterOutcome.NOT_READ)
    return await read_register(config)


async def _broker(config: AgentConfig, health: Health | None) -> BrokerFacts:
    sync = None if health is None else health.sync
    if sync is not None and sync.broker == "up":
        host, port, is_tls = broker_address(config.mqtt.url)
        return BrokerFacts(
            url=config.mqtt.url,
            host=host,
            port=port,
            is_tls=is_tls,
            outcome=BrokerOutcome.CONNECTED_VIA_AGENT,
        )
    return await probe_broker(config)


async def gather(config: AgentConfig, config_path: Path) -> Facts:
    """Every fact the checks judge; the register and the broker are asked at the same time."""
    agent, health = await probe_agent(config, config_path)
    is_linked = health is not None and health.register is not None and health.register.link == "up"
    port = await probe_port(
        config.register_address, is_agent_linked=is_linked, protocol=config.register.protocol
    )
    async with asyncio.TaskGroup() as group:
        register = group.create_task(_register(config, agent, health, port), name="doctor.register")
        broker = group.create_task(_broker(config, health), name="doctor.broker")
        disk = group.create_task(
            asyncio.to_thread(probe_disk, config.state_dir), name="doctor.disk"
        )
    return Facts(
        config_path=str(config_path),
        agent=agent,
        port=port,
        register=register.result(),
        disk=disk.result(),
        broker=broker.result(),
    )
