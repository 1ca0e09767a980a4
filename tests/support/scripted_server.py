"""What the scripted stand-ins (ATOL's web server, the SmartOne cashbox) share.

:class:`ScriptedServer` listens on a free port of 127.0.0.1 with the stand-in's app and gives
its base URL; :func:`next_answer` gives out a script's answers one per call, the last one
repeated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

__all__ = ["ScriptedServer", "next_answer"]


def next_answer(script: list[dict[str, Any]]) -> dict[str, Any]:
    """The script's next answer (used up), or its last one again (kept)."""
    return script.pop(0) if len(script) > 1 else script[0]


@dataclass
class ScriptedServer:
    """A scripted stand-in's test server; ``await start()`` then use ``url``."""

    _server: TestServer | None = field(default=None, init=False)

    @property
    def url(self) -> str:
        """The base URL."""
        assert self._server is not None
        return str(self._server.make_url("")).rstrip("/")

    async def _listen(self, app: web.Application) -> None:
        """Serve ``app`` on a free port of 127.0.0.1."""
        self._server = TestServer(app, host="127.0.0.1")
        await self._server.start_server()

    async def close(self) -> None:
        """Stop listening."""
        if self._server is not None:
            await self._server.close()
