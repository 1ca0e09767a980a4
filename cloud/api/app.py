"""The cloud's HTTP API (docs/contract.md, cloud HTTP API): aiohttp, parses and formats only.

:func:`build_api` takes the store, the ``[auth]`` tokens, an optional :class:`Publisher`
(reissue needs MQTT: without one it answers 503), the OFD link template, and the ingest's
:class:`~cloud.ingest.waiters.ShiftWaiters` for the close-shift check.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

import structlog
from aiohttp import web
from pydantic import BaseModel, ValidationError

from cloud.api import actions
from cloud.api.auth import Role, authenticate, require
from cloud.api.bodies import ActionBody, TransactionsBody
from cloud.api.errors import ApiError, error_middleware
from cloud.api.publisher import Publisher
from cloud.config import AuthConfig
from cloud.ingest.waiters import ShiftWaiters
from cloud.metrics import METRICS_CONTENT_TYPE, CloudMetrics
from cloud.reconcile_contract import to_contract
from cloud.reconcile_model import Reconciliation, RowStatus
from cloud.shift_check import DEFAULT_TIMEOUT_S, check_current_shift
from cloud.shift_reconciliation import NoShift, club_agents, load_reconciliation
from cloud.store import CloudStore

__all__ = ["build_api"]

_log = structlog.get_logger("cloud.api")
_NAME = re.compile(r"\A[A-Za-z0-9_-]{1,64}\Z")
_READERS = frozenset({Role.CRM, Role.SUPPORT})
_ACTORS = frozenset({Role.CRM, Role.SUPPORT})
_POSTERS = frozenset({Role.CRM})
_MAX_LIMIT = 10_000
_M = TypeVar("_M", bound=BaseModel)

_STORE: web.AppKey[CloudStore] = web.AppKey("store", CloudStore)
_AUTH: web.AppKey[AuthConfig] = web.AppKey("auth", AuthConfig)
_PUBLISHER: web.AppKey[Publisher | None] = web.AppKey("publisher")
_OFD: web.AppKey[str | None] = web.AppKey("ofd")
_WAITERS: web.AppKey[ShiftWaiters | None] = web.AppKey("waiters")
_CHECK_TIMEOUT: web.AppKey[float] = web.AppKey("check_timeout", float)
_METRICS: web.AppKey[CloudMetrics] = web.AppKey("metrics", CloudMetrics)


def _json_default(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def _ok(body: object, status: int = 200) -> web.Response:
    return web.json_response(
        body, status=status, dumps=lambda obj: json.dumps(obj, default=_json_default)
    )


def _name(request: web.Request, key: str) -> str:
    value = request.match_info[key]
    if not _NAME.match(value):
        raise ApiError(400, "bad_name", f"{key} must be 1..64 of A-Z a-z 0-9 _ -")
    return value


def _query_name(request: web.Request, key: str) -> str | None:
    value = request.query.get(key)
    if value is None or value == "":
        return None
    if not _NAME.match(value):
        raise ApiError(400, "bad_query", f"{key} must be 1..64 of A-Z a-z 0-9 _ -")
    return value


def _query_int(request: web.Request, key: str, low: int, high: int) -> int | None:
    value = request.query.get(key)
    if value is None or value == "":
        return None
    try:
        number = int(value)
    except ValueError:
        raise ApiError(400, "bad_query", f"{key} must be a whole number") from None
    if not low <= number <= high:
        raise ApiError(400, "bad_query", f"{key} must be from {low} to {high}")
    return number


def _flag(request: web.Request, key: str) -> bool:
    value = request.query.get(key, "0").lower()
    if value not in {"0", "1", "true", "false", ""}:
        raise ApiError(400, "bad_query", f"{key} must be 1 or 0")
    return value in {"1", "true"}


async def _body(request: web.Request, model: type[_M]) -> _M:
    try:
        raw = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ApiError(400, "bad_json", "the body is not JSON") from None
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"]) or "body"
        raise ApiError(
            422, "invalid_body", f"{where}: {first['msg'].removeprefix('Value error, ')}"
        ) from None


def _role(request: web.Request, allowed: frozenset[Role], action: str) -> Role:
    role = authenticate(request, request.app[_AUTH])
    require(role, allowed, action)
    return role


async def healthz(request: web.Request) -> web.Response:
    """Liveness, always open."""
    del request
    return _ok({"status": "ok"})


async def agents(request: web.Request) -> web.Response:
    """Every known agent with its last Health and when it was seen."""
    _role(request, _READERS, "read")
    records = await request.app[_STORE].agents()
    return _ok(
        {
            "agents": [
                {
                    "club": rec.club,
                    "agent": rec.agent,
                    "health": rec.health.model_dump(mode="json", exclude_none=True),
                    "seen_at": rec.seen_at,
                }
                for rec in records
            ]
        }
    )


async def receipts(request: web.Request) -> web.Response:
    """The fiscal results stored for the club (``?agent=``, ``?shift=``: done ones of it)."""
    _role(request, _READERS, "read")
    club = _name(request, "club")
    agent = _query_name(request, "agent")
    shift = _query_int(request, "shift", 0, 2**31 - 1)
    records = await request.app[_STORE].results(club, agent, shift)
    return _ok(
        {
            "receipts": [
                {
                    "agent": rec.agent,
                    "received_at": rec.received_at,
                    **rec.result.model_dump(mode="json", exclude_none=True),
                }
                for rec in records
            ]
        }
    )


def _page(
    rec: Reconciliation, *, problems_only: bool, offset: int, limit: int | None
) -> dict[str, Any]:
    rows = rec.rows
    if problems_only:
        rows = tuple(
            row for row in rows if not (row.status is RowStatus.MATCHED and not row.other_shift)
        )
    end = len(rows) if limit is None else offset + limit
    body = to_contract(dataclasses.replace(rec, rows=rows[offset:end]))
    body["page"] = {"offset": offset, "limit": limit, "rows_total": len(rows)}
    counts = dict.fromkeys((status.value for status in RowStatus), 0)
    for row in rec.rows:
        counts[row.status.value] += 1
    body["counts"] = counts
    return body


async def reconciliation(request: web.Request) -> web.Response:
    """One agent's shift: rows and the four totals (``problems_only``, ``limit``, ``offset``)."""
    _role(request, _READERS, "read")
    store = request.app[_STORE]
    club = _name(request, "club")
    agent = _query_name(request, "agent")
    shift = _query_int(request, "shift", 0, 2**31 - 1)
    problems_only = _flag(request, "problems_only")
    limit = _query_int(request, "limit", 0, _MAX_LIMIT)
    offset = _query_int(request, "offset", 0, 2**31 - 1) or 0
    if agent is None:
        known = await club_agents(store, club)
        if len(known) != 1:
            raise ApiError(
                400, "agent_required", f"club {club} has {len(known)} agents: name one with ?agent="
            )
        agent = known[0]
    try:
        rec = await load_reconciliation(
            store, club, agent, shift, ofd_url_template=request.app[_OFD]
        )
    except NoShift as exc:
        raise ApiError(404, exc.public_code, str(exc)) from None
    return _ok(_page(rec, problems_only=problems_only, offset=offset, limit=limit))


async def transactions(request: web.Request) -> web.Response:
    """Store the CRM's transactions the register never sees (for the grand total)."""
    _role(request, _POSTERS, "post transactions")
    club = _name(request, "club")
    body = await _body(request, TransactionsBody)
    await request.app[_STORE].record_transactions(club, [tx.to_store() for tx in body.transactions])
    return _ok({"stored": len(body.transactions)}, status=201)


async def reissue(request: web.Request) -> web.Response:
    """Send a ``crm_only`` request to its agent again as ``cmd/receipt``: no new payment."""
    role = _role(request, _ACTORS, "reissue")
    club, agent = _name(request, "club"), _name(request, "agent")
    request_id = request.match_info["id"]
    body = await _body(request, ActionBody)
    try:
        await actions.reissue(
            request.app[_STORE],
            request.app[_PUBLISHER],
            club,
            agent,
            request_id,
            role=role.value,
            by=body.by,
            reason=body.reason,
        )
    except actions.ActionRefused as exc:
        raise ApiError(exc.status, exc.code, exc.message) from None
    return _ok({"id": request_id, "status": "reissued"}, status=202)


async def adopt(request: web.Request) -> web.Response:
    """Mark a ``register_only`` document as taken into the CRM, with who and why."""
    role = _role(request, _ACTORS, "adopt")
    club, agent = _name(request, "club"), _name(request, "agent")
    doc_id = request.match_info["doc_id"]
    body = await _body(request, ActionBody)
    try:
        adoption = await actions.adopt(
            request.app[_STORE],
            club,
            agent,
            doc_id,
            role=role.value,
            by=body.by,
            reason=body.reason,
        )
    except actions.ActionRefused as exc:
        raise ApiError(exc.status, exc.code, exc.message) from None
    return _ok(
        {
            "doc_id": doc_id,
            "adopted": {
                "by": adoption.by,
                "role": adoption.role,
                "reason": adoption.reason,
                "at": adoption.at,
            },
        }
    )


async def shift_check(request: web.Request) -> web.Response:
    """The close-shift check: an X report asked for now, the current shift reconciled on it."""
    _role(request, _READERS, "read")
    club, agent = _name(request, "club"), _name(request, "agent")
    publisher = request.app[_PUBLISHER]
    waiters = request.app[_WAITERS]
    if publisher is None or waiters is None:
        raise ApiError(
            503, "mqtt_unavailable", "the cloud runs without [mqtt]: cannot ask for an X report"
        )
    check = await check_current_shift(
        request.app[_STORE],
        publisher.publish,
        waiters,
        club,
        agent,
        timeout_s=request.app[_CHECK_TIMEOUT],
        ofd_url_template=request.app[_OFD],
    )
    return _ok(check.to_contract())


async def metrics(request: web.Request) -> web.Response:
    """Prometheus metrics: behind the same tokens as every read (crm or support)."""
    _role(request, _READERS, "read")
    body = await request.app[_METRICS].exposition()
    return web.Response(body=body, headers={"Content-Type": METRICS_CONTENT_TYPE})


_Route = tuple[str, str, Callable[[web.Request], Any]]
_ROUTES: tuple[_Route, ...] = (
    ("GET", "/healthz", healthz),
    ("GET", "/metrics", metrics),
    ("GET", "/api/v1/agents", agents),
    ("GET", "/api/v1/clubs/{club}/receipts", receipts),
    ("GET", "/api/v1/clubs/{club}/reconciliation", reconciliation),
    ("POST", "/api/v1/clubs/{club}/transactions", transactions),
    ("POST", "/api/v1/clubs/{club}/agents/{agent}/reissue/{id}", reissue),
    ("POST", "/api/v1/clubs/{club}/agents/{agent}/adopt/{doc_id}", adopt),
    ("GET", "/api/v1/clubs/{club}/agents/{agent}/shifts/current/check", shift_check),
)


def build_api(
    store: CloudStore,
    *,
    auth: AuthConfig | None = None,
    publisher: Publisher | None = None,
    ofd_url_template: str | None = None,
    waiters: ShiftWaiters | None = None,
    check_timeout_s: float = DEFAULT_TIMEOUT_S,
    metrics: CloudMetrics | None = None,
) -> web.Application:
    """The aiohttp application over an open store.

    The close-shift check needs both ``publisher`` and the ingest's ``waiters`` (503 without).
    ``metrics`` are the process's (with the ingest's counters); without, the agents only.
    """
    app = web.Application(middlewares=[error_middleware], client_max_size=4 * 1024 * 1024)
    app[_STORE] = store
    app[_AUTH] = auth if auth is not None else AuthConfig()
    app[_PUBLISHER] = publisher
    app[_OFD] = ofd_url_template
    app[_WAITERS] = waiters
    app[_CHECK_TIMEOUT] = check_timeout_s
    app[_METRICS] = metrics if metrics is not None else CloudMetrics(store)
    for method, path, handler in _ROUTES:
        app.router.add_route(method, path, handler)
    return app
