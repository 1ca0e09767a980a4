"""``fiscal-cloud run --config FILE`` as a child process, with its HTTP API."""

from __future__ import annotations

import os
import subprocess
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tests.support.processes import BIN, free_port, http, stop_process, wait_until

__all__ = ["Cloud"]


@dataclass
class Cloud:
    """The cloud service on a SQLite file (or ``store_url``) in ``workdir``."""

    workdir: Path
    mqtt_url: str
    store_url: str | None = None
    proc: subprocess.Popen[bytes] | None = None
    port: int = 0
    support_token: str | None = None
    """With a token: ``[auth] support_token`` (and the page's HTTP Basic login)."""

    @property
    def base(self) -> str:
        """The API's base URL (``/healthz`` and ``/api/v1/...`` below it)."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Cloud:
        """Write cloud.toml, start the process, return once ``/healthz`` answers."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_port()
        store = self.store_url or f"sqlite:///{self.workdir}/cloud.db"
        config = self.workdir / "cloud.toml"
        config.write_text(
            f'[mqtt]\nurl = "{self.mqtt_url}"\n[store]\nurl = "{store}"\n'
            f'[http]\nlisten = "127.0.0.1:{self.port}"\n'
            + (f'[auth]\nsupport_token = "{self.support_token}"\n' if self.support_token else "")
        )
        log = (self.workdir / "cloud.log").open("ab")
        self.proc = subprocess.Popen(
            [str(BIN / "fiscal-cloud"), "run", "--config", str(config)],
            stdout=log,
            stderr=log,
            env=dict(os.environ),
        )
        wait_until(self._answers, timeout_s=20, what="the cloud's API")
        # A CRM's commands published before the cloud's session exists are not kept for it
        # (on a 3.1.1 broker the link subscribes only after its MQTT 5 attempt timed out).
        wait_until(self.broker_connected, timeout_s=30, what="the cloud subscribed on the broker")
        return self

    def broker_connected(self) -> bool:
        """Whether the cloud's ingest is connected and subscribed (its /metrics gauge)."""
        request = urllib.request.Request(f"{self.base}/metrics")  # noqa: S310 - local test URL
        if self.support_token:  # with [auth], /metrics needs a token like every read
            request.add_header("Authorization", f"Bearer {self.support_token}")
        try:
            with urllib.request.urlopen(request, timeout=2) as resp:  # noqa: S310
                text = resp.read().decode()
        except OSError:
            return False
        return "\nfiscal_cloud_broker_connected 1.0\n" in text

    def _answers(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            msg = f"fiscal-cloud exited with {self.proc.returncode}; see {self.workdir}/cloud.log"
            raise RuntimeError(msg)
        try:
            return http("GET", f"{self.base}/healthz", timeout_s=2)[0] == 200
        except OSError:
            return False

    def is_alive(self) -> bool:
        """The process is still running."""
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        """SIGTERM and wait (SIGKILL after 10 s)."""
        stop_process(self.proc, timeout_s=10)
