"""The ATOL web simulator for tests: in process (aiohttp test client) or as a real process.

- :func:`atol_rig` runs :class:`AtolSimulator` with its web app and the control app on
  aiohttp test servers in the test's own loop; the register clock can be moved by hand.
- :class:`AtolSimProcess` starts ``firmware-sim serve --atol-web 127.0.0.1:0 --control
  127.0.0.1:0 --state FILE`` on free ports, for the conformance suite, the kill storm and the
  plain-HTTP client test; it reads the two URLs the process prints.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from firmware_sim.atol.request_store import RequestStore
from firmware_sim.atol.simulator import AtolSimulator
from firmware_sim.atol.web import make_atol_app
from firmware_sim.control import make_control_app
from firmware_sim.register import Register
from firmware_sim.state import DeviceConfig
from firmware_sim.store import StateStore
from tests.support.processes import SimProcess

__all__ = ["FINAL", "AtolRig", "AtolSimProcess", "atol_rig"]

FINAL = frozenset({"ready", "error", "interrupted", "canceled"})
CONFIG = DeviceConfig(
    fn_serial="9999078900012345", serial="12345678", fn_valid_until=date(2029, 1, 1)
)


@dataclass
class AtolRig:
    """The simulator and test clients for its web API and its control API."""

    sim: AtolSimulator
    web: TestClient[Any, Any]
    control: TestClient[Any, Any]

    async def submit(self, uuid: str, tasks: object) -> tuple[int, Any]:
        """POST /api/v2/requests; (status, body)."""
        response = await self.web.post("/api/v2/requests", json={"uuid": uuid, "request": tasks})
        return response.status, await response.json()

    async def results(self, uuid: str) -> list[dict[str, Any]]:
        """GET /api/v2/requests/{uuid}'s results."""
        response = await self.web.get(f"/api/v2/requests/{uuid}")
        assert response.status == 200, await response.text()
        body = await response.json()
        return list(body["results"])

    async def final(self, uuid: str, timeout_s: float = 3.0) -> list[dict[str, Any]]:
        """Poll until every task of ``uuid`` is final."""
        deadline = time.monotonic() + timeout_s
        while True:
            results = await self.results(uuid)
            if all(r["status"] in FINAL for r in results):
                return results
            assert time.monotonic() < deadline, results
            await asyncio.sleep(0.02)

    async def run(self, uuid: str, tasks: object) -> list[dict[str, Any]]:
        """Submit and wait for the final results."""
        status, body = await self.submit(uuid, tasks)
        assert status == 201, body
        return await self.final(uuid)

    async def ctl(self, path: str, body: object | None = None) -> dict[str, Any]:
        """POST to the control API (200 expected)."""
        response = await self.control.post(path, json=body or {})
        assert response.status == 200, await response.text()
        return dict(await response.json())


@asynccontextmanager
async def atol_rig(
    state_file: Path | None = None, *, recovery_s: float = 0.05
) -> AsyncIterator[AtolRig]:
    """The ATOL simulator in this loop; with ``state_file`` it persists like the process."""
    store = None if state_file is None else StateStore(state_file)
    requests = None if state_file is None else RequestStore(state_file)
    saved = None if store is None else store.load()
    if store is not None and store.identity() is None:
        store.save_identity(CONFIG)
    sim = AtolSimulator(
        register=Register(config=CONFIG, state=saved),
        store=store,
        requests=requests,
        recovery_s=recovery_s,
    )
    sim.start()
    web = TestClient(TestServer(make_atol_app(sim)))
    control = TestClient(TestServer(make_control_app(sim)))
    await web.start_server()
    await control.start_server()
    try:
        yield AtolRig(sim=sim, web=web, control=control)
    finally:
        await web.close()
        await control.close()
        await sim.stop()
        if store is not None:
            store.close()
        if requests is not None:
            requests.close()


@dataclass
class AtolSimProcess(SimProcess):
    """``firmware-sim serve --atol-web 127.0.0.1:0 --control 127.0.0.1:0 --state FILE``."""

    web_port: int = 0  # 0: a free one; kept by :meth:`restart`
    control_port: int = 0

    def restart(self, *, kill: bool = True) -> AtolSimProcess:
        """SIGKILL (or stop) and start again on the same state file and the same ports."""
        if kill:
            self.kill()
        else:
            self.stop()
        return self.start()

    def start(self) -> AtolSimProcess:
        """Start it and read the web server's and the control API's URLs from its stdout."""
        self._launch(
            ["--atol-web", f"127.0.0.1:{self.web_port}"],
            f"127.0.0.1:{self.control_port}",
            ".atol.log",
        )
        assert self.url.startswith("http://"), f"simulator printed {self.url!r}"
        self.web_port = int(self.url.rsplit(":", 1)[1])
        self.control_port = int(self.control.rsplit(":", 1)[1])
        return self

    def kill(self) -> None:
        """SIGKILL: what was answered is on disk."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=5)
        self._close()
