"""A scripted stand-in for ATOL's web server: unit tests of the ATOL driver's HTTP handling.

Not a simulator (that is ``firmware-sim serve --atol-web``): it answers what each test
scripts. A POST stores the request under its uuid (201; 409 for a known uuid); a GET answers
each task from ``answers`` (by task type: a list of entries given out one per GET, the last
one repeated) or, without a script, ``ready`` with ``results[type]``. ``post_delays`` holds
back the answers of the next POSTs (after storing them) to lose them at the client.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.support.scripted_server import ScriptedServer, next_answer

__all__ = ["ScriptedAtol", "error", "ready", "status"]


def ready(result: dict[str, Any] | None = None) -> dict[str, Any]:
    """A ``ready`` entry with its result."""
    entry: dict[str, Any] = {"status": "ready", "error": {"code": 0, "description": "Ошибок нет"}}
    if result is not None:
        entry["result"] = result
    return entry


def error(code: int, description: str = "") -> dict[str, Any]:
    """An ``error`` entry."""
    return {"status": "error", "error": {"code": code, "description": description}}


def status(name: str, code: int = 0) -> dict[str, Any]:
    """An entry of any status (``wait``, ``inProgress``, ``blocked``, ``interrupted``...)."""
    return {"status": name, "error": {"code": code, "description": ""}}


@dataclass
class ScriptedAtol(ScriptedServer):
    """The scripted server; ``await start()`` then use ``url``."""

    v1: bool = False
    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    answers: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    documents: dict[int, dict[str, Any]] = field(default_factory=dict)
    post_delays: list[float] = field(default_factory=list)
    requests: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    log: list[tuple[str, str]] = field(default_factory=list)

    async def start(self) -> None:
        """Listen on a free port."""
        app = web.Application()
        base = "/requests" if self.v1 else "/api/v2/requests"
        app.router.add_post(base, self._post)
        app.router.add_get(base + "/{uuid}", self._get)
        if not self.v1:
            app.router.add_get("/api/v2/serverInfo", self._info)
        await self._listen(app)

    def posted(self, task_type: str) -> list[str]:
        """The uuids of every POST whose first task had this type, in order (repeats too)."""
        return [uuid for kind, uuid in self.log if kind == f"POST {task_type}"]

    async def _info(self, _: web.Request) -> web.Response:
        return web.json_response({"serverVersion": "1.0.4.0", "driverVersion": "10.10.0.0"})

    async def _post(self, request: web.Request) -> web.Response:
        body = await request.json()
        uuid, tasks = body["uuid"], body["request"]
        tasks = tasks if isinstance(tasks, list) else [tasks]
        self.log.append((f"POST {tasks[0]['type']}", uuid))
        known = uuid in self.requests
        if not known:
            self.requests[uuid] = tasks
        if self.post_delays:
            await asyncio.sleep(self.post_delays.pop(0))
        if known:
            return web.json_response(
                {"error": {"code": 505, "description": "duplicate uuid"}}, status=409
            )
        return web.json_response(
            {"uuid": uuid, "number": len(self.requests), "isBlocked": False, "blockedUUID": ""},
            status=201,
        )

    async def _get(self, request: web.Request) -> web.Response:
        uuid = request.match_info["uuid"]
        self.log.append(("GET", uuid))
        tasks = self.requests.get(uuid)
        if tasks is None:
            return web.json_response(
                {"error": {"code": 505, "description": "not found"}}, status=404
            )
        return web.json_response({"results": [self._answer(task) for task in tasks]})

    def _answer(self, task: dict[str, Any]) -> dict[str, Any]:
        kind = task["type"]
        script = self.answers.get(kind)
        if script:
            return next_answer(script)
        if kind == "getFnDocument":
            document = self.documents.get(task["fiscalDocumentNumber"])
            return error(999, "no such document") if document is None else ready(document)
        return ready(self.results.get(kind))
