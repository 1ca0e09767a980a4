"""The agent's local HTTP API (CONTRACT.md, "Agent's local HTTP API"), on aiohttp.

Thin by design: validate with the contract's pydantic models, map to the domain, commit to the
outbox, *then* answer 202. Shift and report commands run on the register through the worker,
between receipts. Every error is ``{"error": {"code", "message", "field"?}}`` with a 4xx (or a
503 when the register or the outbox cannot take the request right now).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from agent.adapters.receipt_mapping import (
    cash_to_domain,
    receipt_to_domain,
    row_to_outcome,
    row_to_result,
)
from agent.adapters.report_mapping import shift_report_to_contract
from agent.contract import (
    CashCommand,
    CommandOutcome,
    ErrorBody,
    ReceiptRequest,
    ShiftCommand,
    request_fingerprint,
)
from agent.domain.errors import ReceiptRuleError
from agent.drivers.errors import Disposition, DriverError, LinkError
from agent.fiscal.errors import FiscalError
from agent.outbox.states import RowState
from agent.outbox.store import SubmissionStatus
from agent.outbox.worker import error_code

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    import structlog

    from agent.config import AgentConfig
    from agent.contract import Health
    from agent.fiscal.reports import ShiftReportData
    from agent.fiscal.service import FiscalService
    from agent.outbox.store import Outbox, OutboxRow
    from agent.outbox.worker import FiscalWorker

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

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpDeps:
    """What the routes need; built by the composition root."""

    config: AgentConfig
    outbox: Outbox
    worker: FiscalWorker
    health: Callable[[], Awaitable[Health]]
    log: structlog.typing.FilteringBoundLogger


def build_app(deps: HttpDeps) -> web.Application:
    """The aiohttp application with every route of the local API."""
    app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=[_errors_middleware])
    handlers = _Handlers(deps)
    app.router.add_post("/api/v1/receipts", handlers.post_receipt)
    app.router.add_get("/api/v1/receipts/{id}", handlers.get_receipt)
    app.router.add_post("/api/v1/shift", handlers.post_shift)
    app.router.add_post("/api/v1/cash", handlers.post_cash)
    app.router.add_get("/api/v1/health", handlers.get_health)
    app.router.add_get("/api/v1/outbox", handlers.get_outbox)
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


@web.middleware
async def _errors_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    try:
        return await handler(request)
    except _HttpError as exc:
        return _json(exc.body, exc.status)
    except web.HTTPRequestEntityTooLarge:
        body = ErrorBody.of("too_large", f"the body is over {MAX_BODY_BYTES} bytes")
        return _json(body, HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
    except web.HTTPException as exc:
        if exc.status >= HTTPStatus.BAD_REQUEST:
            code = "not_found" if exc.status == HTTPStatus.NOT_FOUND else "http_error"
            return _json(ErrorBody.of(code, exc.reason), HTTPStatus(exc.status))
        raise


async def _read_json(request: web.Request) -> object:
    try:
        return await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise _HttpError(
            HTTPStatus.BAD_REQUEST, "invalid_json", f"the body is not JSON: {exc}"
        ) from exc


def _validate(model: type[M], data: object) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        body = ErrorBody.from_validation_error(exc)
        raise _HttpError(
            HTTPStatus.UNPROCESSABLE_ENTITY, body.error.code, body.error.message, body.error.field
        ) from exc


def _register_error(exc: DriverError | FiscalError) -> _HttpError:
    code = error_code(exc)
    if isinstance(exc, LinkError) or exc.disposition is Disposition.WAIT:
        return _HttpError(HTTPStatus.SERVICE_UNAVAILABLE, code, str(exc))
    if exc.disposition is Disposition.REJECT:
        return _HttpError(HTTPStatus.CONFLICT, code, str(exc))
    return _HttpError(HTTPStatus.SERVICE_UNAVAILABLE, code, str(exc))


class _Handlers:
    def __init__(self, deps: HttpDeps) -> None:
        self._deps = deps
        self._log = deps.log.bind(adapter="http")

    async def post_receipt(self, request: web.Request) -> web.Response:
        req = _validate(ReceiptRequest, await _read_json(request))
        log = self._log.bind(request_id=req.id)
        try:
            receipt = receipt_to_domain(req, config=self._deps.config)
        except ReceiptRuleError as exc:
            log.info("receipt_refused", error=exc.code, field=exc.field)
            raise _HttpError(
                HTTPStatus.UNPROCESSABLE_ENTITY, exc.code, str(exc), exc.field
            ) from exc
        submission = await asyncio.to_thread(
            self._deps.outbox.submit_receipt, req.id, receipt, request_fingerprint(req)
        )
        return self._submitted(req.id, submission.status, submission.row, log)

    def _submitted(
        self,
        request_id: str,
        status: SubmissionStatus,
        row: OutboxRow | None,
        log: structlog.typing.FilteringBoundLogger,
    ) -> web.Response:
        if status is SubmissionStatus.ACCEPTED:
            self._deps.worker.notify()
            log.info("accepted")
            return web.json_response({"id": request_id, "status": "pending"}, status=202)
        if status is SubmissionStatus.DUPLICATE and row is not None:
            log.info("duplicate", state=row.state.value)
            return _json(row_to_result(row))
        if status is SubmissionStatus.CONFLICT:
            log.warning("id_conflict")
            raise _HttpError(
                HTTPStatus.CONFLICT,
                "id_conflict",
                f"id {request_id} is known with other content; a new payment needs a new id",
                "id",
            )
        log.error("outbox_full")
        raise _HttpError(
            HTTPStatus.SERVICE_UNAVAILABLE,
            "outbox_full",
            "the outbox holds its maximum of unprinted requests; try again later",
        )

    async def get_receipt(self, request: web.Request) -> web.Response:
        request_id = request.match_info["id"]
        row = await asyncio.to_thread(self._deps.outbox.get, request_id)
        if row is None:
            raise _HttpError(HTTPStatus.NOT_FOUND, "not_found", f"no request with id {request_id}")
        return _json(row_to_result(row))

    async def post_shift(self, request: web.Request) -> web.Response:
        command = _validate(ShiftCommand, await _read_json(request))
        actions: dict[str, Callable[[FiscalService], Awaitable[ShiftReportData]]] = {
            "open": lambda service: service.open_shift(),
            "close": lambda service: service.close_shift(),
            "x_report": lambda service: service.x_report(),
        }
        try:
            async with asyncio.timeout(COMMAND_TIMEOUT_S):
                report = await self._deps.worker.execute(actions[command.action])
        except TimeoutError as exc:
            raise _HttpError(
                HTTPStatus.GATEWAY_TIMEOUT, "register_timeout", "the register is busy; try again"
            ) from exc
        except (DriverError, FiscalError) as exc:
            self._log.warning("shift_command_failed", action=command.action, error=str(exc))
            raise _register_error(exc) from exc
        return _json(shift_report_to_contract(report))

    async def post_cash(self, request: web.Request) -> web.Response:
        command = _validate(CashCommand, await _read_json(request))
        log = self._log.bind(request_id=command.id)
        submission = await asyncio.to_thread(
            self._deps.outbox.submit_cash,
            command.id,
            cash_to_domain(command),
            request_fingerprint(command),
        )
        if submission.status is SubmissionStatus.ACCEPTED:
            self._deps.worker.notify()
        elif submission.status is not SubmissionStatus.DUPLICATE:
            self._submitted(command.id, submission.status, submission.row, log)
        row = await self._wait_final(command.id)
        if row is None or row.state in (RowState.PENDING, RowState.PRINTING):
            return _json(CommandOutcome(id=command.id, status="pending"), HTTPStatus.ACCEPTED)
        return _json(row_to_outcome(row))

    async def _wait_final(self, request_id: str) -> OutboxRow | None:
        row = None
        try:
            async with asyncio.timeout(CASH_WAIT_S):
                while True:
                    row = await asyncio.to_thread(self._deps.outbox.get, request_id)
                    if row is None or row.state not in (RowState.PENDING, RowState.PRINTING):
                        return row
                    await asyncio.sleep(0.05)
        except TimeoutError:
            return row

    async def get_health(self, _request: web.Request) -> web.Response:
        return _json(await self._deps.health())

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
