"""The HTTP face of the simulated ATOL driver web server (docs/atol-web-notes.md §1–§2).

``/api/v2`` (driver ≥ 10.7 and Web Requests): POST a request, GET its results, DELETE a
waiting one, the queue status, synchronous ``operations/query*`` reads and ``serverInfo``.
The older ``/requests`` form (driver ≤ 10.6) is served too: 201 with no body, flat
``errorCode``/``errorDescription`` in the results, ``/stat/requests``. Server-level errors
are ``{"error": {"code": 505, "description"}}`` with the HTTP status telling what happened.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import structlog
from aiohttp import web

from firmware_sim.atol import DEFAULT_ATOL_PORT
from firmware_sim.atol.errors import AtolError
from firmware_sim.atol.queue import BadRequest, NotCancelable, parse_request
from firmware_sim.atol.simulator import AtolSimulator

__all__ = ["DEFAULT_ATOL_PORT", "make_atol_app"]

log = structlog.get_logger("firmware_sim.atol.web")


SERVER_ERROR_CODE = 505
SERVER_VERSION = "1.0.4.0 (firmware-sim)"
DRIVER_VERSION = "10.10.7.0"
SIM_KEY = web.AppKey("atol_sim", AtolSimulator)
_OPERATIONS = {
    "queryDeviceInfo": "getDeviceInfo",
    "queryDeviceStatus": "getDeviceStatus",
    "queryShiftStatus": "getShiftStatus",
    "queryFnInfo": "getFnInfo",
    "queryFnStatus": "getFnStatus",
    "queryShiftTotals": "getShiftTotals",
    "queryOfdExchangeStatus": "ofdExchangeStatus",
}


def _error(status: int, text: str) -> web.Response:
    body = {"error": {"code": SERVER_ERROR_CODE, "description": text}}
    return web.json_response(body, status=status, dumps=_dumps)


async def _json_body(request: web.Request) -> Any:  # noqa: ANN401 - JSON
    try:
        return json.loads(await request.text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadRequest(f"body is not JSON: {exc}") from exc


async def _submit(request: web.Request, *, v1: bool) -> web.Response:
    sim = request.app[SIM_KEY]
    try:
        uuid, tasks = parse_request(await _json_body(request))
    except BadRequest as exc:
        return _error(400, str(exc))
    queued = await sim.submit(uuid, tasks)
    if queued is None:
        log.info("repeated uuid", uuid=uuid)
        return _error(409, f"Задание с uuid {uuid} уже существует")
    log.info("request queued", uuid=uuid, tasks=[str(t.get("type")) for t in tasks])
    if v1:
        return web.Response(status=201)
    body = {"uuid": uuid, "number": queued.number, **sim.queue.block_json()}
    return web.json_response(body, status=201)


async def _submit_v2(request: web.Request) -> web.Response:
    return await _submit(request, v1=False)


async def _submit_v1(request: web.Request) -> web.Response:
    return await _submit(request, v1=True)


def _results(request: web.Request, *, flat: bool) -> web.Response:
    sim = request.app[SIM_KEY]
    queued = sim.queue.requests.get(request.match_info["uuid"])
    if queued is None:
        return _error(404, "Задание не найдено")
    return web.json_response(
        {"results": [entry.as_json(flat=flat) for entry in queued.tasks]}, dumps=_dumps
    )


async def _results_v2(request: web.Request) -> web.Response:
    return _results(request, flat=False)


async def _results_v1(request: web.Request) -> web.Response:
    return _results(request, flat=True)


def _dumps(value: Any) -> str:  # noqa: ANN401 - JSON
    return json.dumps(value, ensure_ascii=False)


async def _cancel(request: web.Request, *, refused_status: int) -> web.Response:
    sim = request.app[SIM_KEY]
    try:
        await sim.cancel(request.match_info["uuid"])
    except KeyError:
        return _error(404, "Задание не найдено")
    except NotCancelable:
        return _error(refused_status, "Задание выполняется или выполнено")
    return web.json_response({})


async def _cancel_v2(request: web.Request) -> web.Response:
    return await _cancel(request, refused_status=409)


async def _cancel_v1(request: web.Request) -> web.Response:
    return await _cancel(request, refused_status=405)


async def _queue_status(request: web.Request) -> web.Response:
    return web.json_response(request.app[SIM_KEY].queue.status_json())


async def _queue_status_v1(request: web.Request) -> web.Response:
    status = request.app[SIM_KEY].queue.status_json()
    return web.json_response(
        {
            "ready_count": status["ready"],
            "not_ready_count": status["number"],
            "canceled_count": status["canceled"],
            "is_blocked": status["isBlocked"],
            "block_request_uuid": status["blockedUUID"],
        }
    )


async def _operation(request: web.Request) -> web.Response:
    task_type = _OPERATIONS.get(request.match_info["op"])
    if task_type is None:
        return _error(404, f"Операция {request.match_info['op']} не найдена")
    try:
        result = await request.app[SIM_KEY].operation({"type": task_type})
    except AtolError as exc:
        return web.json_response({"error": exc.as_json()}, status=400, dumps=_dumps)
    return web.json_response(result or {}, dumps=_dumps)


async def _server_info(_request: web.Request) -> web.Response:
    return web.json_response(
        {
            "serverVersion": SERVER_VERSION,
            "driverVersion": DRIVER_VERSION,
            "os": "linux",
            "currentDateTime": datetime.now(UTC).astimezone().isoformat(timespec="seconds"),
        }
    )


def make_atol_app(sim: AtolSimulator) -> web.Application:
    """The aiohttp application of the web server in front of ``sim``."""
    app = web.Application()
    app[SIM_KEY] = sim
    for path in ("/api/v2/requests", "/api/v2/request"):
        app.router.add_post(path, _submit_v2)
        app.router.add_get(path + "/{uuid}", _results_v2)
        app.router.add_delete(path + "/{uuid}", _cancel_v2)
    app.router.add_get("/api/v2/getRequestsQueueStatus", _queue_status)
    app.router.add_post("/api/v2/operations/{op}", _operation)
    app.router.add_get("/api/v2/serverInfo", _server_info)
    app.router.add_post("/requests", _submit_v1)
    app.router.add_get("/requests/{uuid}", _results_v1)
    app.router.add_delete("/requests/{uuid}", _cancel_v1)
    app.router.add_get("/stat/requests", _queue_status_v1)
    return app
