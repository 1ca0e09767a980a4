"""HTTP to ATOL's driver v10 web server: the ATOL driver's transport (docs/atol-driver.md §2).

The only module of the agent below the adapters that imports aiohttp (pyproject's import
contracts name it): the web server *is* this register's link, as a serial port is Shtrih's.
It speaks the v2 API (``/api/v2/requests``) or the older v1 (``/requests``) and knows nothing
of tasks' meaning: it posts a request under a uuid, fetches its results, and turns HTTP and
socket trouble into typed errors:

- the server cannot be reached (refused, DNS): :class:`~agent.drivers.errors.LinkDown`; a
  request that could not connect was never sent;
- the request went out and no answer came (timeout, reset): :class:`NoAnswer`; the server
  may have queued it (a POST) or not.
"""

from __future__ import annotations

import json
from enum import Enum
from typing import Any, Final

import aiohttp
import structlog

from agent.drivers.atol.codec.results import TaskResult, parse_results
from agent.drivers.atol.codec.tasks import Task
from agent.drivers.atol.codec.values import MalformedResult
from agent.drivers.atol.errors import ServerAuthRefused, ServerFailed, ServerRefused
from agent.drivers.atol.params import AtolParams
from agent.drivers.errors import LinkDown, LinkError, MalformedPayload

__all__ = ["AtolHttp", "NoAnswer", "Submitted"]

_PATHS: Final = {"v2": "/api/v2/requests", "v1": "/requests"}


class Submitted(Enum):
    """What a POST of a request achieved."""

    ACCEPTED = "accepted"  # 201: queued now
    DUPLICATE = "duplicate"  # 409: the server has this uuid already; read its results


class NoAnswer(LinkError):
    """The request was sent and no answer came (timeout, connection reset)."""

    def __init__(self, url: str, what: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"no answer from the ATOL web server {url} to {what}: {reason}")


class AtolHttp:
    """One client session to the web server; ``api`` settles to ``v2`` or ``v1``."""

    def __init__(self, params: AtolParams, *, log: structlog.typing.FilteringBoundLogger) -> None:
        self._params = params
        self._url = params.url.rstrip("/")
        self._log = log
        self._api: str | None = None if params.api == "auto" else params.api
        self._session: aiohttp.ClientSession | None = None

    @property
    def url(self) -> str:
        """The web server's base URL."""
        return self._url

    @property
    def api(self) -> str | None:
        """``v2`` or ``v1`` once known (after :meth:`detect_api` in auto mode)."""
        return self._api

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            auth = None
            if self._params.username is not None:
                auth = aiohttp.BasicAuth(self._params.username, self._params.password or "")
            timeout = aiohttp.ClientTimeout(total=self._params.request_timeout_s)
            self._session = aiohttp.ClientSession(auth=auth, timeout=timeout)
        return self._session

    async def aclose(self) -> None:
        """Close the client session."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _call(
        self, method: str, path: str, what: str, body: object = None
    ) -> tuple[int, Any]:
        """One HTTP exchange: the status and the parsed JSON body (None when empty or not JSON)."""
        url = self._url + path
        try:
            async with self._client().request(method, url, json=body) as response:
                text = await response.text()
                status = response.status
        except aiohttp.ClientConnectorError as exc:
            raise LinkDown(self._url, f"cannot connect to the ATOL web server: {exc}") from exc
        except TimeoutError as exc:
            raise NoAnswer(self._url, what, "timed out") from exc
        except aiohttp.ClientError as exc:
            raise NoAnswer(self._url, what, f"{type(exc).__name__}: {exc}") from exc
        if status == 401:
            raise ServerAuthRefused(self._url)
        try:
            parsed = None if not text.strip() else json.loads(text)
        except ValueError:
            parsed = None
            if 200 <= status < 300:
                raise MalformedPayload(0, f"{what}: not JSON: {text[:200]!r}") from None
        return status, parsed

    async def detect_api(self) -> str:
        """The API the server speaks: asks ``/api/v2/serverInfo`` in auto mode (404: v1)."""
        if self._api is not None:
            return self._api
        status, body = await self._call("GET", "/api/v2/serverInfo", "serverInfo")
        if 200 <= status < 300:
            self._api = "v2"
        elif status == 404:
            self._api = "v1"
        else:
            raise ServerFailed(status, _detail(body))
        self._log.info("atol web server", api=self._api, server=body if self._api == "v2" else None)
        return self._api

    async def server_info(self) -> dict[str, Any] | None:
        """``/api/v2/serverInfo`` (versions of the server and the driver), or None on v1."""
        if await self.detect_api() != "v2":
            return None
        status, body = await self._call("GET", "/api/v2/serverInfo", "serverInfo")
        return body if status == 200 and isinstance(body, dict) else None

    async def submit(self, uuid: str, tasks: list[Task]) -> Submitted:
        """POST the request ``{"uuid", "request": tasks}``: 201 accepted, 409 known uuid."""
        path = _PATHS[await self.detect_api()]
        what = f"POST {uuid}"
        status, body = await self._call("POST", path, what, {"uuid": uuid, "request": tasks})
        if status in (200, 201):
            return Submitted.ACCEPTED
        if status == 409:
            return Submitted.DUPLICATE
        if status == 400:
            raise ServerRefused(status, _detail(body))
        raise ServerFailed(status, _detail(body))

    async def fetch(self, uuid: str) -> tuple[TaskResult, ...] | None:
        """GET the request's results, one per task; None when the server has no such uuid."""
        path = f"{_PATHS[await self.detect_api()]}/{uuid}"
        status, body = await self._call("GET", path, f"GET {uuid}")
        if status == 404:
            return None
        if status != 200:
            raise ServerFailed(status, _detail(body))
        try:
            return parse_results(body)
        except MalformedResult as exc:
            raise MalformedPayload(0, f"results of {uuid}: {exc}") from exc


def _detail(body: object) -> str:
    """The server's ``{"error": {"code", "description"}}``, or the body as it is."""
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        error = body["error"]
        return f"{error.get('code')} {error.get('description', '')}".strip()
    return repr(body)[:200]
