"""The fault-injection control API: JSON over HTTP on localhost (``--control HOST:PORT``).

One API for the three front ends: the Shtrih wire (:class:`Simulator`), the ATOL web server
(:class:`AtolSimulator`) and the SmartOne cash box (:class:`SmartOneSimulator`). Faults armed
on a command take ``on_command`` (a Shtrih command code) for the first and ``on_task`` (an
ATOL task type, a SmartOne route such as ``sale``) for the others; byte faults exist on the
Shtrih wire only, the cover on the ATOL register only, ``/settings`` (the Z refusals) on the
SmartOne cash box only (docs/smartone-sim.md). Every route is listed in
docs/simulator.md. Errors are ``{"error": {"code", "message"}}``
with status 400; successful calls answer with the state as GET /state shows it.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from aiohttp import web

from firmware_sim.atol.simulator import AtolSimulator
from firmware_sim.faults import Direction
from firmware_sim.server import Simulator
from firmware_sim.smartone.simulator import SmartOneSimulator

__all__ = ["make_control_app", "start_control"]

log = structlog.get_logger("firmware_sim.control")

AnySimulator = Simulator | AtolSimulator | SmartOneSimulator
TaskSimulator = AtolSimulator | SmartOneSimulator  # faults armed by on_task
SIM_KEY = web.AppKey[AnySimulator]("sim")
MAX_ATOL_CODE = 999
MAX_TAX_MODE = 3  # table 1 row 1 field 14 takes 0..3

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class BadRequest(Exception):
    """A control request with a missing or wrong field."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        super().__init__(message)


async def _body(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    try:
        raw = await request.json()
    except json.JSONDecodeError as exc:
        raise BadRequest("bad_json", f"body is not JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise BadRequest("bad_json", "body must be a JSON object")
    return raw


def _int(body: dict[str, Any], key: str, *, default: int | None = None, minimum: int = 0) -> int:
    value = body.get(key, default)
    if value is None:
        raise BadRequest("missing_field", f"{key} is required")
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise BadRequest("bad_field", f"{key} must be an integer >= {minimum}")
    return value


def _direction(body: dict[str, Any]) -> Direction:
    try:
        return Direction(body.get("direction", "out"))
    except ValueError as exc:
        raise BadRequest("bad_field", 'direction must be "out" or "in"') from exc


def _route(action: Callable[[AnySimulator, dict[str, Any]], Awaitable[None]]) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        sim = request.app[SIM_KEY]
        try:
            body = await _body(request)
            await action(sim, body)
        except BadRequest as exc:
            log.info("control request refused", path=request.path, code=exc.code)
            return web.json_response({"error": {"code": exc.code, "message": str(exc)}}, status=400)
        log.info("control", path=request.path)
        return web.json_response(await sim.summary())

    return handler


async def _state(_sim: AnySimulator, _body: dict[str, Any]) -> None:
    return None


def _shtrih(sim: AnySimulator) -> Simulator:
    if not isinstance(sim, Simulator):
        raise BadRequest("not_supported", "byte faults exist on the Shtrih wire only")
    return sim


async def _drop(sim: AnySimulator, body: dict[str, Any]) -> None:
    _shtrih(sim).faults.drop(_int(body, "count"), _direction(body))


async def _corrupt(sim: AnySimulator, body: dict[str, Any]) -> None:
    _shtrih(sim).faults.corrupt(_int(body, "count"), _direction(body))


async def _delay(sim: AnySimulator, body: dict[str, Any]) -> None:
    sim.faults.answer_delay_ms = _int(body, "ms")


async def _clear(sim: AnySimulator, _body: dict[str, Any]) -> None:
    sim.faults.clear()


async def _paper_out(sim: AnySimulator, body: dict[str, Any]) -> None:
    if body.get("on_task") is not None:
        if not isinstance(sim, TaskSimulator):
            raise BadRequest("not_supported", "on_task is for the ATOL and SmartOne front ends")
        sim.faults.arm_paper_out(_task_type(body))
        return
    await sim.set_paper(False)


async def _paper_back(sim: AnySimulator, _body: dict[str, Any]) -> None:
    await sim.set_paper(True)


def _command(body: dict[str, Any]) -> int:
    """``on_command``: a hex command code such as "FF45" or "85" (one or two bytes)."""
    command = body.get("on_command")
    if command is None:
        raise BadRequest("missing_field", "on_command is required")
    try:
        code = int(str(command), 16)
    except ValueError:
        code = -1
    if not 0 <= code <= 0xFFFF:
        raise BadRequest("bad_field", "on_command must be a hex command code such as FF45")
    return code


def _bool(body: dict[str, Any], key: str, *, default: bool) -> bool:
    value = body.get(key, default)
    if not isinstance(value, bool):
        raise BadRequest("bad_field", f"{key} must be true or false")
    return value


def _task_type(body: dict[str, Any]) -> str:
    """``on_task``: an ATOL task type ("sell", "closeShift") or a SmartOne route ("sale")."""
    task = body.get("on_task", body.get("on_command"))
    if task is None:
        raise BadRequest("missing_field", "on_task is required")
    if not isinstance(task, str) or not task:
        raise BadRequest("bad_field", "on_task must be a task type such as sell")
    return task


async def _power_cut(sim: AnySimulator, body: dict[str, Any]) -> None:
    after = _bool(body, "after", default=False)
    if body.get("on_command") is None and body.get("on_task") is None:
        await sim.power_cut()
    elif isinstance(sim, TaskSimulator):
        sim.faults.arm_power_cut(_task_type(body), after=after)
    else:
        sim.faults.arm_power_cut(_command(body), after=after)


async def _power_disarm(sim: AnySimulator, _body: dict[str, Any]) -> None:
    sim.faults.disarm_power_cut()


async def _refuse(sim: AnySimulator, body: dict[str, Any]) -> None:
    if isinstance(sim, TaskSimulator):
        task = _task_type(body)
        code = _int(body, "code", minimum=1)
        if code > MAX_ATOL_CODE:
            raise BadRequest("bad_field", "code must be an ATOL error code 1..999")
        sim.faults.arm_refusal(
            task,
            code=code,
            count=_int(body, "count", default=1, minimum=1),
            after=_bool(body, "after", default=False),
        )
        return
    command = _command(body)
    code = _int(body, "code", minimum=1)
    if code > 0xFF:
        raise BadRequest("bad_field", "code must be an error code 1..255")
    sim.faults.arm_refusal(
        command,
        code=code,
        count=_int(body, "count", default=1, minimum=1),
        after=_bool(body, "after", default=False),
    )


async def _power_back(sim: AnySimulator, _body: dict[str, Any]) -> None:
    await sim.power_back()


async def _advance_clock(sim: AnySimulator, body: dict[str, Any]) -> None:
    seconds = body.get("seconds")
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        raise BadRequest("bad_field", "seconds must be a number")
    await sim.advance_clock(float(seconds))


async def _ofd_ack(sim: AnySimulator, body: dict[str, Any]) -> None:
    through = body.get("through_fd")
    if through is not None:
        through = _int(body, "through_fd")
    await sim.ofd_ack(through)


async def _tax_mode(sim: AnySimulator, body: dict[str, Any]) -> None:
    if isinstance(sim, SmartOneSimulator):
        raise BadRequest("not_supported", "the SmartOne cash box has no tax mode")
    mode = _int(body, "mode")
    if mode > MAX_TAX_MODE:
        raise BadRequest("bad_field", "mode must be 0, 1, 2 or 3")
    await sim.set_tax_mode(mode)


async def _cover_open(sim: AnySimulator, _body: dict[str, Any]) -> None:
    if not isinstance(sim, AtolSimulator):
        raise BadRequest("not_supported", "the cover is simulated on the ATOL front end only")
    await sim.set_cover(True)


async def _cover_close(sim: AnySimulator, _body: dict[str, Any]) -> None:
    if not isinstance(sim, AtolSimulator):
        raise BadRequest("not_supported", "the cover is simulated on the ATOL front end only")
    await sim.set_cover(False)


def _optional_bool(body: dict[str, Any], key: str) -> bool | None:
    if body.get(key) is None:
        return None
    return _bool(body, key, default=False)


async def _settings(sim: AnySimulator, body: dict[str, Any]) -> None:
    if not isinstance(sim, SmartOneSimulator):
        raise BadRequest("not_supported", "settings exist on the SmartOne cash box only")
    await sim.configure(
        refuse_z_with_cash=_optional_bool(body, "refuse_z_with_cash"),
        refuse_empty_z=_optional_bool(body, "refuse_empty_z"),
    )


def make_control_app(sim: AnySimulator) -> web.Application:
    """The aiohttp application serving the control routes for ``sim``."""
    app = web.Application()
    app[SIM_KEY] = sim
    app.router.add_get("/state", _route(_state))
    app.router.add_post("/faults/drop", _route(_drop))
    app.router.add_post("/faults/corrupt", _route(_corrupt))
    app.router.add_post("/faults/delay", _route(_delay))
    app.router.add_post("/faults/clear", _route(_clear))
    app.router.add_post("/faults/refuse", _route(_refuse))
    app.router.add_post("/paper/out", _route(_paper_out))
    app.router.add_post("/paper/back", _route(_paper_back))
    app.router.add_post("/power/cut", _route(_power_cut))
    app.router.add_post("/power/back", _route(_power_back))
    app.router.add_post("/power/disarm", _route(_power_disarm))
    app.router.add_post("/clock/advance", _route(_advance_clock))
    app.router.add_post("/ofd/ack", _route(_ofd_ack))
    app.router.add_post("/tax-mode", _route(_tax_mode))
    app.router.add_post("/cover/open", _route(_cover_open))
    app.router.add_post("/cover/close", _route(_cover_close))
    app.router.add_post("/settings", _route(_settings))
    return app


async def start_control(
    sim: AnySimulator, host: str, port: int
) -> tuple[web.AppRunner, tuple[str, int]]:
    """Serve the control API; returns the runner (clean it up) and the bound address."""
    runner = web.AppRunner(make_control_app(sim), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = runner.addresses[0]
    return runner, (host, int(bound[1]))
