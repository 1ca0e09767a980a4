"""The API's errors: ``{"error": {"code", "message"}}`` with a 4xx status (docs/contract.md)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from aiohttp import web

__all__ = ["ApiError", "error_middleware", "error_response"]

_log = structlog.get_logger("cloud.api")


class ApiError(Exception):
    """A request the API answers with an error: ``public_code`` is the body's ``code``."""

    def __init__(
        self, status: int, public_code: str, message: str, *, headers: dict[str, str] | None = None
    ) -> None:
        self.status = status
        self.public_code = public_code
        self.message = message
        self.headers = headers or {}
        super().__init__(f"{public_code}: {message}")


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    """The error body with its status."""
    body: dict[str, Any] = {"error": {"code": code, "message": message}}
    return web.json_response(body, status=status, headers=headers)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn :class:`ApiError` and aiohttp's own 404/405 into the error body."""
    try:
        return await handler(request)
    except ApiError as exc:
        return error_response(exc.status, exc.public_code, exc.message, exc.headers)
    except web.HTTPNotFound:
        return error_response(404, "not_found", f"no route {request.path}")
    except web.HTTPMethodNotAllowed:
        return error_response(405, "method_not_allowed", f"{request.method} {request.path}")
