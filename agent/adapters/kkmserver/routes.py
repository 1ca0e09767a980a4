"""``POST /Execute`` as KkmServer serves it, on aiohttp (docs/kkmserver.md).

Thin: CORS, Basic auth, the lenient body, the HTTP status KkmServer uses (200 for every
command that ran, was queued or was refused, 400 for a body that is not JSON, 401, 500 for an
unexpected exception, 501 for an unknown command), and the envelope; the commands themselves
are the executor's.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
from decimal import Decimal
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Final

from aiohttp import web

from agent.adapters.kkmserver.commands import COMMANDS, KNOWN_ELSEWHERE
from agent.adapters.kkmserver.envelope import (
    PARSE_ERROR,
    RUN_ERROR,
    Status,
    envelope,
    unknown_command,
)
from agent.adapters.kkmserver.lenient import BodyError, FieldError, Fields, decode_body

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    import structlog

    from agent.adapters.kkmserver.executor import Executor

__all__ = ["MAX_BODY_BYTES", "Credentials", "build_kkmserver_app"]

MAX_BODY_BYTES: Final = 256 * 1024
REALM: Final = 'Basic realm="Please login!"'
_JSON_HEADERS: Final = {
    "Access-Control-Allow-Origin": "*",
    "Cache-Control": "no-store, no-cache, must-revalidate",
}


class Credentials:
    """KkmServer's Basic-auth rule: open when the login is ``Admin`` and the password empty."""

    def __init__(self, login: str, password: str) -> None:
        self._login = login
        self._password = password

    @property
    def is_open(self) -> bool:
        """Every request is accepted, with or without a header (KkmServer's default install)."""
        return self._login.lower() == "admin" and not self._password

    def accepts(self, header: str | None) -> bool:
        """The ``Authorization`` header names the configured login and password."""
        if self.is_open:
            return True
        if not header or header[:6].lower() != "basic ":
            return False
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return False
        login, sep, password = decoded.partition(":")
        return (
            bool(sep)
            and login.lower() == self._login.lower()
            and hmac.compare_digest(password.encode(), self._password.encode())
        )


def _default(value: object) -> object:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(type(value).__name__)


def _reply(body: dict[str, Any], status: HTTPStatus = HTTPStatus.OK) -> web.Response:
    return web.Response(
        text=json.dumps(body, ensure_ascii=False, default=_default),
        status=status,
        content_type="application/json",
        charset="utf-8",
        headers=_JSON_HEADERS,
    )


def build_kkmserver_app(
    executor: Executor,
    credentials: Credentials,
    version: str,
    log: structlog.typing.FilteringBoundLogger,
) -> web.Application:
    """The aiohttp application of the KkmServer-compatible API."""
    app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=[_preflight])
    handlers = _Handlers(executor, credentials, version, log.bind(adapter="kkmserver"))
    app.router.add_post("/Execute", handlers.execute)
    app.router.add_post("/Execute/{tail:.*}", handlers.execute)
    app.router.add_get("/Version", handlers.version)
    app.router.add_get("/VersionJSON", handlers.version)
    return app


@web.middleware
async def _preflight(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """``OPTIONS``: answered before auth with the CORS headers KkmServer sends."""
    if request.method != "OPTIONS":
        return await handler(request)
    headers = {
        "Access-Control-Allow-Origin": request.headers.get("Origin", "*"),
        "Access-Control-Allow-Methods": "GET,POST,OPTION",
        "Access-Control-Allow-Headers": request.headers.get("Access-Control-Request-Headers", ""),
        "Access-Control-Allow-Credentials": "true",
    }
    if request.headers.get("Access-Control-Request-Private-Network"):
        headers["Access-Control-Allow-Private-Network"] = "true"
    return web.Response(status=HTTPStatus.OK, headers=headers)


class _Handlers:
    def __init__(
        self,
        executor: Executor,
        credentials: Credentials,
        version: str,
        log: structlog.typing.FilteringBoundLogger,
    ) -> None:
        self._executor = executor
        self._credentials = credentials
        self._version = version
        self._log = log

    async def version(self, _request: web.Request) -> web.Response:
        return _reply({"Version": self._version})

    async def execute(self, request: web.Request) -> web.Response:
        if not self._credentials.accepts(request.headers.get("Authorization")):
            self._log.warning("kkmserver_unauthorized", peer=request.remote)
            return web.Response(
                status=HTTPStatus.UNAUTHORIZED,
                headers={"WWW-Authenticate": REALM, "Access-Control-Allow-Origin": "*"},
            )
        try:
            raw = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return self._parse_error(f"тело запроса больше {MAX_BODY_BYTES} байт")
        try:
            command = Fields(decode_body(raw, request.charset))
        except (BodyError, FieldError) as exc:
            return self._parse_error(str(exc))
        try:
            name = command.text("Command")
        except FieldError:
            name = ""
        id_command = _id_command(command)
        if name not in COMMANDS and name not in KNOWN_ELSEWHERE:
            self._log.info("kkmserver_unknown_command", command=name[:64])
            body = envelope(
                name,
                status=Status.ERROR,
                id_command=id_command,
                error=unknown_command(name),
                num_device=0,
            )
            return _reply(body, HTTPStatus.NOT_IMPLEMENTED)
        try:
            body = await self._executor.execute(command)
        except FieldError as exc:
            body = envelope(
                name,
                status=Status.ERROR,
                id_command=id_command,
                error=f"Ошибка в данных команды: {exc.name}: {exc.reason}",
            )
        except Exception as exc:  # noqa: BLE001 - KkmServer answers 500 with the reason
            self._log.exception("kkmserver_command_crashed", command=name)
            body = envelope(
                name, status=Status.ERROR, id_command=id_command, error=f"{RUN_ERROR}{exc}"
            )
            return _reply(body, HTTPStatus.INTERNAL_SERVER_ERROR)
        message_from = _text_or_empty(command, "MessageFrom")
        if message_from:
            body["MessageTo"] = message_from
        self._log.info(
            "kkmserver_command",
            command=name,
            id_command=id_command[:80],
            status=body.get("Status"),
            error=body.get("Error") or None,
        )
        return _reply(body)

    def _parse_error(self, reason: str) -> web.Response:
        self._log.info("kkmserver_unparsable", reason=reason[:200])
        body = envelope("", status=Status.ERROR, error=f"{PARSE_ERROR}{reason}", num_device=0)
        return _reply(body, HTTPStatus.BAD_REQUEST)


def _text_or_empty(command: Fields, name: str) -> str:
    try:
        return command.text(name)
    except FieldError:
        return ""


def _id_command(command: Fields) -> str:
    return _text_or_empty(command, "IdCommand")
