"""The SmartOne cash box simulator for tests: in process (aiohttp test client) or as a process.

- :func:`smartone_rig` runs :class:`SmartOneSimulator` with its web app and the control app on
  aiohttp test servers in the test's own loop; requests are signed with the shared envelope
  codec.
- :class:`SmartOneSimProcess` starts ``firmware-sim serve --smartone 127.0.0.1:0
  --merchant-id ID --control 127.0.0.1:0 --state FILE`` on free ports and reads the two URLs
  the process prints.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, timedelta, timezone
from pathlib import Path
from typing import Any, ClassVar

from agent.drivers.smartone.envelope import CONTENT_TYPE, encode_body
from firmware_sim.register import Register
from firmware_sim.smartone.doc_store import DocStore
from firmware_sim.smartone.settings import SmartOneSettings
from firmware_sim.smartone.simulator import SmartOneSimulator
from firmware_sim.smartone.web import make_smartone_app
from firmware_sim.state import DeviceConfig
from tests.support.processes import BIN
from tests.support.web_sim import WebRig, WebSimProcess, open_state, serve_in_loop

__all__ = ["MERCHANT_ID", "SmartOneRig", "SmartOneSimProcess", "smartone_rig"]

MERCHANT_ID = "0123456789abcdef0123456789abcdef"
CONFIG = DeviceConfig(
    fn_serial="9999078900012345",
    serial="12345678",
    fn_valid_until=date(2029, 1, 1),
    tz=timezone(timedelta(hours=4), "AZT"),
)


@dataclass
class SmartOneRig(WebRig[SmartOneSimulator]):
    """The simulator and test clients for its HTTP API and its control API."""

    merchant_id: str = MERCHANT_ID

    async def raw(self, route: str, body: bytes) -> dict[str, Any]:
        """POST a body as it is; the JSON reply (HTTP 200 expected)."""
        response = await self.web.post(
            f"/{route}", data=body, headers={"Content-Type": CONTENT_TYPE}
        )
        assert response.status == 200, await response.text()
        assert response.headers["Content-Type"] == "application/json; charset=utf-8"
        return dict(await response.json())

    async def call(
        self, route: str, payload: dict[str, Any], *, merchant_id: str | None = None
    ) -> dict[str, Any]:
        """POST a payload signed with the merchant id (or another one)."""
        return await self.raw(route, encode_body(payload, merchant_id or self.merchant_id))

    async def state(self) -> dict[str, Any]:
        """GET the control API's state."""
        response = await self.control.get("/state")
        assert response.status == 200, await response.text()
        return dict(await response.json())


@asynccontextmanager
async def smartone_rig(
    state_file: Path | None = None, **settings: Any
) -> AsyncIterator[SmartOneRig]:
    """The SmartOne simulator in this loop; with ``state_file`` it persists like the process."""
    store, saved = open_state(state_file, CONFIG)
    docs = None if state_file is None else DocStore(state_file)
    sim = SmartOneSimulator(
        register=Register(config=CONFIG, state=saved),
        settings=SmartOneSettings(merchant_id=MERCHANT_ID, **settings),
        store=store,
        docs=docs,
    )
    closers = [c.close for c in (store, docs) if c is not None]
    async with serve_in_loop(sim, make_smartone_app(sim), sim.stop, closers) as (web, control):
        yield SmartOneRig(sim=sim, web=web, control=control)


@dataclass
class SmartOneSimProcess(WebSimProcess):
    """``firmware-sim serve --smartone 127.0.0.1:0 --merchant-id ID --control ... --state FILE``."""

    log_suffix: ClassVar[str] = ".smartone.log"

    merchant_id: str = MERCHANT_ID

    def front_end_args(self) -> list[str]:
        """``--smartone 127.0.0.1:PORT --merchant-id ID``."""
        return ["--smartone", f"127.0.0.1:{self.web_port}", "--merchant-id", self.merchant_id]

    def tape_all(self) -> list[dict[str, Any]]:
        """``firmware-sim tape --all``: the tape with the cash movements (deposit, withdraw)."""
        out = subprocess.run(
            [str(BIN / "firmware-sim"), "tape", "--all", "--state", str(self.state_file)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        return [json.loads(line) for line in out.splitlines() if line.strip()]
