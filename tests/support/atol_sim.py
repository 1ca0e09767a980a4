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
from typing import Any, ClassVar

from firmware_sim.atol.request_store import RequestStore
from firmware_sim.atol.simulator import AtolSimulator
from firmware_sim.atol.web import make_atol_app
from firmware_sim.register import Register
from firmware_sim.state import DeviceConfig
from tests.support.web_sim import WebRig, WebSimProcess, open_state, serve_in_loop

__all__ = ["FINAL", "AtolRig", "AtolSimProcess", "atol_rig"]

FINAL = frozenset({"ready", "error", "interrupted", "canceled"})
CONFIG = DeviceConfig(
    fn_serial="9999078900012345", serial="12345678", fn_valid_until=date(2029, 1, 1)
)


@dataclass
class AtolRig(WebRig[AtolSimulator]):
    """The simulator and test clients for its web API and its control API."""

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


@asynccontextmanager
async def atol_rig(
    state_file: Path | None = None, *, recovery_s: float = 0.05
) -> AsyncIterator[AtolRig]:
    """The ATOL simulator in this loop; with ``state_file`` it persists like the process."""
    store, saved = open_state(state_file, CONFIG)
    requests = None if state_file is None else RequestStore(state_file)
    sim = AtolSimulator(
        register=Register(config=CONFIG, state=saved),
        store=store,
        requests=requests,
        recovery_s=recovery_s,
    )
    sim.start()
    closers = [c.close for c in (store, requests) if c is not None]
    async with serve_in_loop(sim, make_atol_app(sim), sim.stop, closers) as (web, control):
        yield AtolRig(sim=sim, web=web, control=control)


@dataclass
class AtolSimProcess(WebSimProcess):
    """``firmware-sim serve --atol-web 127.0.0.1:0 --control 127.0.0.1:0 --state FILE``."""

    log_suffix: ClassVar[str] = ".atol.log"

    def front_end_args(self) -> list[str]:
        """``--atol-web 127.0.0.1:PORT``."""
        return ["--atol-web", f"127.0.0.1:{self.web_port}"]
