"""The agent's local HTTP API (docs/contract.md, "Agent's local HTTP API"), on aiohttp.

Thin by design: read the JSON body, hand it to the one intake (``agent.intake``) that every
way in shares, and format what comes back. Every error is ``{"error": {"code", "message",
"field"?}}``: 4xx for a request that a resend will not fix, 503 when the register, the line or
the disk cannot take it right now (docs/errors.md lists every code). ``GET /metrics`` is the
same health, and the agent's counters, in the Prometheus text format (beyond the contract).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from aiohttp import web
from pydantic import BaseModel

from agent.adapters.metrics import METRICS_CONTENT_TYPE, AgentMetrics
from agent.contract import CommandOutcome, ErrorBody
from agent.drivers.errors import Disposition, DriverError
from agent.fiscal.errors import FiscalError
from agent.intake import (
    IdConflict,
    IntakeError,
    InvalidRequest,
    NotSettleable,
    RequestNotFound,
    SettlementRefused,
)
from agent.intake.receipt_mapping import row_to_outcome, row_to_result
from agent.intake.report_mapping import shift_report_to_contract
from agent.outbox.codes import error_code
from agent.outbox.states import RowState
from agent.outbox.store import OutboxError

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    import structlog

    from agent.contract import Health
    from agent.intake import Intake
    from agent.outbox.store import Outbox

__all__ = ["CASH_WAIT_S", "COMMAND_TIMEOUT_S", "MAX_BODY_BYTES", "HttpDeps", "build_app"]

COMMAND_TIMEOUT_S = 60.0
"""How long a shift command may wait for the register before the answer is 504 (a Z report
on real hardware may take most of a minute)."""
CASH_WAIT_S = 15.0
"""How long POST /cash waits for the outcome before it answers 202 pending; sending the same
command again (same id) answers with the outcome once it is there."""
MAX_BODY_BYTES = 256 * 1024
"""A receipt of 100 items is a few kilobytes; anything this large is not a receipt."""
OUTBOX_LIST_MAX = 1000


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpDeps:
    """What the routes need; built by the composition root."""

    intake: Intake
    outbox: Outbox
    health: Callable[[], Awaitable[Health]]
    log: structlog.typing.FilteringBoundLogger
    metrics: AgentMetrics = field(default_factory=AgentMetrics)


def build_app(deps: HttpDeps) -> web.Application:
    """The aiohttp application with every route of the local API."""
    app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=[_errors_middleware])
    handlers = _Handlers(deps)
    app.router.add_post("/api/v1/receipts", handlers.post_receipt)
    app.router.add_get("/api/v1/receipts/{id}", handlers.get_receipt)
    app.router.add_post("/api/v1/receipts/{id}/resolve", handlers.post_resolve)
    app.router.add_post("/api/v1/shift", handlers.post_shift)
    app.router.add_post("/api/v1/cash", handlers.post_cash)
    app.router.add_post("/api/v1/drawer", handlers.post_drawer)
    app.router.add_get("/api/v1/health", handlers.get_health)
    app.router.add_get("/api/v1/outbox", handlers.get_outbox)
    app.router.add_get("/metrics", handlers.get_metrics)
    return app


class _HttpError(Exception):
    def __init__(
        self, status: HTTPStatus, code: str, message: str, field: str | None = None
    ) -> None:
        self.status = status
        self.body = ErrorBody.of(code, message, field)
        super().__init__(message)


def _json(model: BaseModel | list[Any], status: HTTPStatus = HTTPStatus.OK) -> web.Response:
    if isinstance(model, BaseModel):
        text = model.model_dump_json(by_alias=True, exclude_none=True)
    else:
        text = json.dumps(model, ensure_ascii=False)
    return web.Response(text=text, status=status, content_type="application/json")


_INTAKE_STATUS: tuple[tuple[type[IntakeError], HTTPStatus], ...] = (
    (IdConflict, HTTPStatus.CONFLICT),
    (RequestNotFound, HTTPStatus.NOT_FOUND),
    (NotSettleable, HTTPStatus.CONFLICT),
    (SettlementRefused, HTTPStatus.UNPROCESSABLE_ENTITY),
    (InvalidRequest, HTTPStatus.UNPROCESSABLE_ENTITY),
)


def _status_of(exc: Exception) -> HTTPStatus:
    """4xx for what a resend cannot fix, 503 for what waits on the register, line or disk."""
    if isinstance(exc, IntakeError) and exc.disposition is Disposition.REJECT:
        return next(status for cls, status in _INTAKE_STATUS if isinstance(exc, cls))
    if isinstance(exc, (DriverError, FiscalError)) and exc.disposition is Disposition.REJECT:
        return HTTPStatus.CONFLICT
    return HTTPStatus.SERVICE_UNAVAILABLE


@web.middleware
async def _errors_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < HTTPStatus.BAD_REQUEST:
            raise
        return _json(*_error_answer(exc))
    except (_HttpError, IntakeError, DriverError, FiscalError, OutboxError, TimeoutError) as exc:
        return _json(*_error_answer(exc))


def _error_answer(exc: Exception) -> tuple[ErrorBody, HTTPStatus]:
    """The error body and status for an exception a handler raised."""
    if isinstance(exc, _HttpError):
        return exc.body, exc.status
    if isinstance(exc, IntakeError):
        return ErrorBody.of(exc.public_code, exc.message, exc.field), _status_of(exc)
    if isinstance(exc, (DriverError, FiscalError, OutboxError)):
        return ErrorBody.of(error_code(exc), str(exc)), _status_of(exc)
    if isinstance(exc, web.HTTPRequestEntityTooLarge):
        body = ErrorBody.of("too_large", f"the body is over {MAX_BODY_BYTES} bytes")
        return body, HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    if isinstance(exc, web.HTTPException):
        code = "not_found" if exc.status == HTTPStatus.NOT_FOUND else "http_error"
        return ErrorBody.of(code, exc.reason), HTTPStatus(exc.status)
    return ErrorBody.of(
        "register_timeout", "the register is busy; try again"
    ), HTTPStatus.GATEWAY_TIMEOUT


async def _read_json(request: web.Request) -> object:
    try:
        return await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise _HttpError(
            HTTPStatus.BAD_REQUEST, "invalid_json", f"the body is not JSON: {exc}"
        ) from exc


class _Handlers:
    def __init__(self, deps: HttpDeps) -> None:
        self._deps = deps
        self._intake = deps.intake
        self._log = deps.log.bind(adapter="http")

    async def post_receipt(self, request: web.Request) -> web.Response:
        submitted = await self._intake.submit_receipt(await _read_json(request))
        if submitted.is_new:
            body = {"id": submitted.row.id, "status": "pending"}
            return web.json_response(body, status=HTTPStatus.ACCEPTED)
        return _json(row_to_result(submitted.row))

    async def get_receipt(self, request: web.Request) -> web.Response:
        row = await self._intake.row(request.match_info["id"])
        return _json(row_to_result(row))

    async def post_resolve(self, request: web.Request) -> web.Response:
        row = await self._intake.settle(request.match_info["id"], await _read_json(request))
        return _json(row_to_result(row))

    async def post_shift(self, request: web.Request) -> web.Response:
        data = await _read_json(request)
        try:
            async with asyncio.timeout(COMMAND_TIMEOUT_S):
                report = await self._intake.shift(data)
        except (DriverError, FiscalError) as exc:
            self._log.warning("shift_command_failed", error=error_code(exc), detail=str(exc))
            raise
        return _json(shift_report_to_contract(report))

    async def post_cash(self, request: web.Request) -> web.Response:
        submitted = await self._intake.submit_cash(await _read_json(request))
        row = await self._intake.wait_final(submitted.row.id, CASH_WAIT_S)
        if row.state in (RowState.PENDING, RowState.PRINTING):
            return _json(CommandOutcome(id=row.id, status="pending"), HTTPStatus.ACCEPTED)
        return _json(row_to_outcome(row))

    async def post_drawer(self, _request: web.Request) -> web.Response:
        try:
            async with asyncio.timeout(COMMAND_TIMEOUT_S):
                await self._intake.open_drawer()
        except (DriverError, FiscalError) as exc:
            self._log.warning("drawer_failed", error=error_code(exc), detail=str(exc))
            raise
        return _json(CommandOutcome(status="done"))

    async def get_health(self, _request: web.Request) -> web.Response:
        return _json(await self._deps.health())

    async def get_metrics(self, _request: web.Request) -> web.Response:
        body = self._deps.metrics.exposition(await self._deps.health())
        return web.Response(body=body, headers={"Content-Type": METRICS_CONTENT_TYPE})

    async def get_outbox(self, request: web.Request) -> web.Response:
        state_name = request.query.get("state")
        state = None
        if state_name:
            try:
                state = RowState(state_name)
            except ValueError as exc:
                names = ", ".join(s.value for s in RowState)
                raise _HttpError(
                    HTTPStatus.BAD_REQUEST,
                    "invalid_state",
                    f"state must be one of {names}",
                    "state",
                ) from exc
        try:
            limit = int(request.query.get("limit", "100"))
        except ValueError as exc:
            raise _HttpError(
                HTTPStatus.BAD_REQUEST, "invalid_limit", "limit must be an integer", "limit"
            ) from exc
        limit = max(1, min(limit, OUTBOX_LIST_MAX))
        rows = await asyncio.to_thread(self._deps.outbox.list, state=state, limit=limit)
        items = [
            {
                **row_to_result(row).model_dump(mode="json", exclude_none=True),
                "kind": row.kind.value,
                "state": row.state.value,
                "accepted_at": row.accepted_at.isoformat(),
                "attempts": row.attempts,
            }
            for row in rows
        ]
        return _json(items)
