"""What the ATOL and SmartOne test rigs share: the in-process servers and the child process.

- :func:`open_state` opens the state file as ``firmware-sim serve`` does (with the test's
  device identity the first time).
- :func:`serve_in_loop` puts a simulator's web app and the control app on aiohttp test
  servers in the test's own loop and takes them down (then the simulator, then its files).
- :class:`WebRig` holds the simulator and the two test clients.
- :class:`WebSimProcess` is ``firmware-sim serve`` of a web front end on free ports, kept
  across :meth:`WebSimProcess.restart`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Generic, Self, TypeVar

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from firmware_sim.atol.simulator import AtolSimulator
from firmware_sim.control import make_control_app
from firmware_sim.smartone.simulator import SmartOneSimulator
from firmware_sim.state import DeviceConfig, DeviceState
from firmware_sim.store import StateStore
from tests.support.processes import SimProcess

__all__ = ["WebRig", "WebSimProcess", "open_state", "serve_in_loop"]

SimT = TypeVar("SimT", AtolSimulator, SmartOneSimulator)


def open_state(
    state_file: Path | None, config: DeviceConfig
) -> tuple[StateStore | None, DeviceState | None]:
    """The state file's store and saved state (none without a file); a new file gets ``config``."""
    store = None if state_file is None else StateStore(state_file)
    saved = None if store is None else store.load()
    if store is not None and store.identity() is None:
        store.save_identity(config)
    return store, saved


@asynccontextmanager
async def serve_in_loop(
    sim: AtolSimulator | SmartOneSimulator,
    app: web.Application,
    stop: Callable[[], Awaitable[None]],
    closers: Sequence[Callable[[], object]],
) -> AsyncIterator[tuple[TestClient[Any, Any], TestClient[Any, Any]]]:
    """The web and control test clients; on the way out ``stop``, then the ``closers``."""
    web_client = TestClient(TestServer(app))
    control = TestClient(TestServer(make_control_app(sim)))
    await web_client.start_server()
    await control.start_server()
    try:
        yield web_client, control
    finally:
        await web_client.close()
        await control.close()
        await stop()
        for close in closers:
            close()


@dataclass
class WebRig(Generic[SimT]):
    """The simulator and test clients for its web API and its control API."""

    sim: SimT
    web: TestClient[Any, Any]
    control: TestClient[Any, Any]

    async def ctl(self, path: str, body: object | None = None) -> dict[str, Any]:
        """POST to the control API (200 expected)."""
        response = await self.control.post(path, json=body or {})
        assert response.status == 200, await response.text()
        return dict(await response.json())


@dataclass
class WebSimProcess(SimProcess):
    """``firmware-sim serve`` of a web front end with ``--control`` on 127.0.0.1."""

    log_suffix: ClassVar[str] = ".web.log"

    web_port: int = 0  # 0: a free one; kept by :meth:`restart`
    control_port: int = 0

    def front_end_args(self) -> list[str]:
        """The front end's own ``serve`` flags, its address (``self.web_port``) included."""
        raise NotImplementedError

    def start(self) -> Self:
        """Start it and read the web server's and the control API's URLs from its stdout."""
        self._launch(self.front_end_args(), f"127.0.0.1:{self.control_port}", self.log_suffix)
        assert self.url.startswith("http://"), f"simulator printed {self.url!r}"
        self.web_port = int(self.url.rsplit(":", 1)[1])
        self.control_port = int(self.control.rsplit(":", 1)[1])
        return self

    def restart(self, *, kill: bool = True) -> Self:
        """SIGKILL (or stop) and start again on the same state file and the same ports."""
        if kill:
            self.kill()
        else:
            self.stop()
        return self.start()

    def kill(self) -> None:
        """SIGKILL: what was answered is on disk."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=5)
        self._close()
