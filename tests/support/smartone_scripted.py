"""A scripted stand-in for the SmartOne cashbox: unit tests of the SmartOne driver's HTTP side.

Not a simulator (that is firmware_sim's SmartOne front end): it answers what each test
scripts. Every POST is decoded with the shared envelope codec and its signature checked
against ``merchant_id`` (a mismatch answers code 1, as the cashbox does). ``answers`` holds,
per route (``"/sale"``), replies given out one per POST, the last one repeated; a route
without a script answers ``{"status": "success", "code": 0}`` plus ``results[route]``.
``delays`` holds back the next answers of a route (after recording the request) to lose
them at the client; ``http_status`` answers a route with that HTTP status and a text body. ``requests`` records every (route, payload) in order.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from agent.drivers.smartone.envelope import EnvelopeError, decode_body, verify
from tests.support.scripted_server import ScriptedServer, next_answer

__all__ = ["MERCHANT_ID", "ScriptedSmartOne", "failure", "success"]

MERCHANT_ID = "0123456789abcdef0123456789abcdef"


def success(**fields: Any) -> dict[str, Any]:
    """A success reply with the route's fields."""
    return {"status": "success", "code": 0, **fields}


def failure(code: int, message: str = "") -> dict[str, Any]:
    """An error reply."""
    return {"status": "error", "code": code, "message": message}


@dataclass
class ScriptedSmartOne(ScriptedServer):
    """The scripted cashbox; ``await start()`` then use ``url``."""

    merchant_id: str = MERCHANT_ID
    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    answers: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    delays: dict[str, list[float]] = field(default_factory=dict)
    http_status: dict[str, int] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    content_types: list[str] = field(default_factory=list)
    date_header: str | None = None  # the HTTP Date of every reply (None: aiohttp's own)

    async def start(self) -> None:
        """Listen on a free port of 127.0.0.1."""
        app = web.Application()
        app.router.add_post("/{route}", self._post)
        await self._listen(app)

    def sent(self, route: str) -> list[dict[str, Any]]:
        """The payloads POSTed to ``route``, in order."""
        return [payload for name, payload in self.requests if name == route]

    def routes(self) -> list[str]:
        """Every route POSTed, in order."""
        return [name for name, _ in self.requests]

    async def _post(self, request: web.Request) -> web.Response:
        route = "/" + request.match_info["route"]
        self.content_types.append(request.headers.get("Content-Type", ""))
        try:
            signed = decode_body(await request.read())
        except EnvelopeError as exc:
            return web.json_response(failure(2, str(exc)))
        self.requests.append((route, signed.payload))
        delays = self.delays.get(route)
        if delays:
            await asyncio.sleep(delays.pop(0))
        status = self.http_status.get(route)
        if status is not None:
            return web.Response(status=status, text="no such route")
        if not verify(signed, self.merchant_id):
            return web.json_response(failure(1, "AUTH_ERROR"))
        headers = {} if self.date_header is None else {"Date": self.date_header}
        script = self.answers.get(route)
        if script:
            answer = next_answer(script)
            return web.json_response(answer, headers=headers)
        return web.json_response(success(**self.results.get(route, {})), headers=headers)
