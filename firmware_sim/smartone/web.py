"""The HTTP face of the simulated SmartOne cash box: ``POST /<route>`` with form ``data``/``sign``.

Every reply is JSON (``application/json; charset=utf-8``) with HTTP 200, business errors in
``status``/``code`` (the HTTP status of envelope errors is unconfirmed; 200 is the simulator's
choice). An unknown route answers 404 with code 3. A power cut closes the connection with no
reply at all. The ``Date`` header of every reply is the cash box's own clock (an HTTP server
states its time there; the API has no clock route), so a moved register clock shows to the
driver as it would on a device whose clock is off.
"""

from __future__ import annotations

import json
from datetime import UTC
from email.utils import format_datetime
from typing import Any

from aiohttp import web

from firmware_sim.smartone.codes import SmartOneCode, reply
from firmware_sim.smartone.faults import route_name
from firmware_sim.smartone.simulator import ROUTES, Dropped, SmartOneSimulator

__all__ = ["make_smartone_app"]

SIM_KEY = web.AppKey("smartone_sim", SmartOneSimulator)
CHARSET = "utf-8"


def _json(sim: SmartOneSimulator, body: dict[str, Any], status: int = 200) -> web.Response:
    return web.Response(
        text=json.dumps(body, ensure_ascii=False),
        status=status,
        content_type="application/json",
        charset=CHARSET,
        headers={"Date": format_datetime(sim.register_clock().astimezone(UTC), usegmt=True)},
    )


async def _route(request: web.Request) -> web.StreamResponse:
    sim = request.app[SIM_KEY]
    name = route_name(request.match_info["route"])
    if name not in ROUTES:
        return _json(sim, reply(SmartOneCode.BAD_PARAMETERS, f"unknown route /{name}"), status=404)
    body = await request.read()
    try:
        answer = await sim.handle(name, body)
    except Dropped:
        if request.transport is not None:
            request.transport.abort()
        raise web.HTTPServiceUnavailable from None  # never written: the connection is gone
    return _json(sim, answer)


def make_smartone_app(sim: SmartOneSimulator) -> web.Application:
    """The aiohttp application of the cash box in front of ``sim``."""
    app = web.Application()
    app[SIM_KEY] = sim
    app.router.add_post("/{route}", _route)
    return app
