"""A real MQTT broker for the tests: Mosquitto on a free port, amqtt where Mosquitto is absent.

Mosquitto runs with persistence in its own directory, so ``restart()`` keeps persistent
sessions and the QoS 1 messages queued for them (docs/design.md, "The broker"). amqtt 0.12.1
is the fallback: MQTT 3.1.1 only, no persistence across a restart, and it does not deliver
QoS 1 messages queued for a persistent session while its client is away. A test that needs
what only Mosquitto shows calls ``require_mosquitto``.

Registered as a pytest plugin by tests/conftest.py: fixtures ``broker`` (the default kind on
this machine) and ``broker_factory`` (TLS, users, a forced kind).
"""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Literal

import pytest

from cloud.local_broker import find_mosquitto as find_installed_mosquitto
from tests.support.pki import Pki, has_openssl, make_pki
from tests.support.processes import free_port, stop_process

__all__ = [
    "AMQTT_LIMITS",
    "HIDE_MOSQUITTO_ENV",
    "Broker",
    "BrokerUnavailable",
    "broker",
    "broker_factory",
    "find_mosquitto",
    "has_amqtt",
    "require_mosquitto",
]

Kind = Literal["mosquitto", "amqtt"]

START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 10.0
AMQTT_LIMITS = (
    "amqtt 0.12.1, the fallback broker, speaks MQTT 3.1.1 only, keeps nothing across a "
    "restart, and does not deliver QoS 1 messages queued for a persistent session while "
    "its client is away"
)


class BrokerUnavailable(Exception):
    """No broker of the wanted kind can run here, or it did not start."""


HIDE_MOSQUITTO_ENV = "FISCAL_EDGE_HIDE_MOSQUITTO"
"""Set to 1 to run the broker tests as on a machine without Mosquitto (amqtt or skips)."""


def find_mosquitto() -> Path | None:
    """The ``mosquitto`` binary on PATH or in /usr/sbin (Debian's place), if any."""
    if os.environ.get(HIDE_MOSQUITTO_ENV) == "1":
        return None
    return find_installed_mosquitto()


def has_amqtt() -> bool:
    """Whether the amqtt package is installed (the ``dev`` extra)."""
    return importlib.util.find_spec("amqtt") is not None


def require_mosquitto(reason: str, broker: Broker | None = None) -> None:
    """Skip the test unless it runs against Mosquitto; ``reason`` says what it shows."""
    if broker is not None and broker.kind == "mosquitto":
        return
    if broker is None and find_mosquitto() is not None:
        return
    pytest.skip(f"needs Mosquitto to show {reason}: {AMQTT_LIMITS}")


class Broker:
    """One broker process on 127.0.0.1 with its own directory, config and data.

    Args:
        workdir: where the config, the log and the persistence file live.
        kind: "mosquitto" or "amqtt"; None picks Mosquitto when it is installed.
        pki: certificates for a second listener with TLS and client certificates
            (Mosquitto only).
        users: username -> password, written with ``mosquitto_passwd`` (Mosquitto only).
        allow_anonymous: whether a client without a username may connect.
    """

    def __init__(
        self,
        workdir: Path,
        *,
        kind: Kind | None = None,
        pki: Pki | None = None,
        users: dict[str, str] | None = None,
        allow_anonymous: bool = True,
    ) -> None:
        self.workdir = workdir
        self.kind: Kind = kind or ("mosquitto" if find_mosquitto() else "amqtt")
        self.pki = pki
        self.users = dict(users or {})
        self.allow_anonymous = allow_anonymous
        if self.kind == "mosquitto" and find_mosquitto() is None:
            raise BrokerUnavailable("no mosquitto binary on PATH or in /usr/sbin")
        if self.kind == "amqtt":
            if not has_amqtt():
                raise BrokerUnavailable(
                    "no mosquitto binary, and amqtt is not installed (pip install -e '.[dev]')"
                )
            if pki is not None or users or not allow_anonymous:
                raise BrokerUnavailable(
                    "the amqtt fallback is run without TLS or a password file here"
                )
        self.port = free_port()
        self.tls_port = free_port() if pki is not None else None
        self.log_file = workdir / f"{self.kind}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        workdir.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        """``mqtt://127.0.0.1:PORT``."""
        return f"mqtt://127.0.0.1:{self.port}"

    @property
    def tls_url(self) -> str:
        """``mqtts://127.0.0.1:PORT`` of the TLS listener."""
        if self.tls_port is None:
            raise BrokerUnavailable("this broker was made without a PKI: no TLS listener")
        return f"mqtts://127.0.0.1:{self.tls_port}"

    def is_alive(self) -> bool:
        """Whether the process runs."""
        return self.proc is not None and self.proc.poll() is None

    # --- lifecycle ----------------------------------------------------------------------

    def start(self) -> Broker:
        """Start it and return once every listener accepts TCP connections."""
        if self.is_alive():
            return self
        command = self._mosquitto_command() if self.kind == "mosquitto" else self._amqtt_command()
        with self.log_file.open("ab") as log:
            self.proc = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, cwd=self.workdir
            )
        ports = [self.port] + ([self.tls_port] if self.tls_port else [])
        deadline = time.monotonic() + START_TIMEOUT_S
        for port in ports:
            while not _accepts(port):
                if not self.is_alive():
                    raise BrokerUnavailable(f"{self.kind} exited at start:\n{self.log_tail()}")
                if time.monotonic() > deadline:
                    self.kill()
                    raise BrokerUnavailable(
                        f"{self.kind} did not listen on {port} within {START_TIMEOUT_S} s:\n"
                        f"{self.log_tail()}"
                    )
                time.sleep(0.02)
        return self

    def stop(self) -> None:
        """SIGTERM and wait: Mosquitto writes its persistence file on the way out."""
        stop_process(self.proc, timeout_s=STOP_TIMEOUT_S)
        self.proc = None

    def kill(self) -> None:
        """SIGKILL: no goodbye, nothing saved since the last save."""
        proc = self.proc
        if proc is None:
            return
        if proc.poll() is None:
            proc.kill()
            proc.wait(STOP_TIMEOUT_S)
        self.proc = None

    def restart(self) -> Broker:
        """Stop and start again on the same ports with the same persistence."""
        self.stop()
        return self.start()

    def log_tail(self, lines: int = 30) -> str:
        """The end of the broker's log, for failure messages."""
        if not self.log_file.exists():
            return "(no log)"
        return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])

    # --- configuration ------------------------------------------------------------------

    def _mosquitto_command(self) -> list[str]:
        binary = find_mosquitto()
        assert binary is not None
        data = self.workdir / "data"
        data.mkdir(exist_ok=True)
        lines = [
            "per_listener_settings false",
            f"allow_anonymous {'true' if self.allow_anonymous else 'false'}",
            "persistence true",
            f"persistence_location {data}/",
            "persistence_file mosquitto.db",
            "autosave_interval 60",
            "max_queued_messages 100000",
            "set_tcp_nodelay true",  # as production should: no 40 ms Nagle stalls per packet
            "max_inflight_messages 20",
            f"log_dest file {self.log_file}",
            "log_type error",
            "log_type warning",
            "log_type notice",
            "log_type information",
            "connection_messages true",
        ]
        if os.geteuid() == 0:
            lines.append("user root")  # or it drops to the mosquitto user and cannot write here
        if self.users:
            lines.append(f"password_file {self._password_file()}")
        lines.append(f"listener {self.port} 127.0.0.1")
        if self.pki is not None:
            lines += [
                f"listener {self.tls_port} 127.0.0.1",
                f"cafile {self.pki.ca_cert}",
                f"certfile {self.pki.server_cert}",
                f"keyfile {self.pki.server_key}",
                "require_certificate true",
            ]
        conf = self.workdir / "mosquitto.conf"
        conf.write_text("\n".join(lines) + "\n")
        return [str(binary), "-c", str(conf)]

    def _password_file(self) -> Path:
        path = self.workdir / "passwd"
        path.unlink(missing_ok=True)
        path.touch(mode=0o600)
        for user, password in self.users.items():
            subprocess.run(
                ["mosquitto_passwd", "-b", str(path), user, password],
                check=True,
                capture_output=True,
                timeout=10,
            )
        return path

    def _amqtt_command(self) -> list[str]:
        conf = self.workdir / "amqtt.yaml"
        conf.write_text(
            "listeners:\n"
            "  default:\n"
            "    type: tcp\n"
            f"    bind: 127.0.0.1:{self.port}\n"
            "plugins:\n"
            "  amqtt.plugins.authentication.AnonymousAuthPlugin:\n"
            "    allow_anonymous: true\n"
        )
        return [sys.executable, "-m", "amqtt.scripts.broker_script", "-c", str(conf)]


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


BrokerFactory = Callable[..., Broker]


@pytest.fixture
def broker_factory(tmp_path: Path) -> Iterator[BrokerFactory]:
    """Start brokers: ``broker_factory(kind=..., tls=True, users={...})``; all stop at the end.

    A broker that cannot run here skips the test with the reason.
    """
    started: list[Broker] = []

    def make(
        *,
        kind: Kind | None = None,
        tls: bool = False,
        users: dict[str, str] | None = None,
        allow_anonymous: bool = True,
    ) -> Broker:
        pki = None
        if tls:
            if not has_openssl():
                pytest.skip("TLS tests make their certificates with the openssl command")
            pki = make_pki(tmp_path / f"pki{len(started)}")
        try:
            made = Broker(
                tmp_path / f"broker{len(started)}",
                kind=kind,
                pki=pki,
                users=users,
                allow_anonymous=allow_anonymous,
            )
            started.append(made)
            return made.start()
        except BrokerUnavailable as exc:
            pytest.skip(f"no MQTT broker for this test: {exc}")

    yield make
    for made in started:
        made.stop()


@pytest.fixture
def broker(broker_factory: BrokerFactory) -> Broker:
    """A running broker, Mosquitto where installed (check ``broker.kind``)."""
    return broker_factory()
