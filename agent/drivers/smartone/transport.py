"""HTTP to the SmartOne cashbox: the SmartOne driver's transport (docs/smartone-driver.md §2).

The only module of the SmartOne driver that imports aiohttp (pyproject's import contracts
name it). It POSTs one signed form body to a route and returns the reply's JSON object,
turning HTTP and socket trouble into typed errors:

- the cashbox cannot be reached (refused, DNS): :class:`~agent.drivers.errors.LinkDown`; a
  request that could not connect was never sent;
- the request went out and no answer came (timeout, reset): :class:`NoAnswer`; on a fiscal
  route the document may exist or not;
- an HTTP status other than 200: :class:`HttpStatus` (a link error naming the status);
- a 200 whose body is not a JSON object: :class:`~agent.drivers.errors.MalformedPayload`.

The API has no clock route, but an HTTP server states its time in every reply's ``Date``
header: :attr:`SmartOneHttp.clock_offset` is how far the cashbox's clock was from the host's
at the last reply that had one (to the second), which the driver adds to the host's clock.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import aiohttp
import structlog

from agent.drivers.errors import LinkDown, LinkError, MalformedPayload
from agent.drivers.smartone.envelope import CONTENT_TYPE, encode_body

__all__ = ["HttpStatus", "NoAnswer", "SmartOneHttp"]


class NoAnswer(LinkError):
    """The request was sent and no answer came (timeout, connection reset)."""

    def __init__(self, url: str, route: str, reason: str) -> None:
        self.url = url
        self.route = route
        self.reason = reason
        super().__init__(f"no answer from the SmartOne cashbox {url} to {route}: {reason}")


class HttpStatus(LinkError):
    """The cashbox answered with an HTTP status other than 200 (its business errors are 200)."""

    def __init__(self, url: str, route: str, status: int, body: str) -> None:
        self.url = url
        self.route = route
        self.status = status
        super().__init__(
            f"SmartOne cashbox {url} answered {route} with HTTP {status}: {body[:200]!r}"
        )


class SmartOneHttp:
    """One client session to the cashbox; every POST is signed with the merchant id."""

    def __init__(
        self, url: str, merchant_id: str, *, log: structlog.typing.FilteringBoundLogger
    ) -> None:
        self._url = url.rstrip("/")
        self._merchant_id = merchant_id
        self._log = log
        self._session: aiohttp.ClientSession | None = None
        self._clock_offset: timedelta | None = None

    @property
    def clock_offset(self) -> timedelta | None:
        """The cashbox's clock minus the host's at the last dated reply; None before one."""
        return self._clock_offset

    @property
    def url(self) -> str:
        """The cashbox's base URL."""
        return self._url

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        return self._session

    async def aclose(self) -> None:
        """Close the client session."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def post(self, route: str, payload: dict[str, Any], *, timeout_s: float) -> object:
        """POST ``payload`` to ``route`` (``"/sale"``) and return the reply's parsed JSON."""
        body = encode_body(payload, self._merchant_id)
        timeout = aiohttp.ClientTimeout(total=timeout_s)
        try:
            async with self._client().post(
                self._url + route,
                data=body,
                headers={"Content-Type": CONTENT_TYPE},
                timeout=timeout,
            ) as response:
                raw = await response.read()
                status = response.status
                self._note_clock(response.headers.get("Date"))
        except aiohttp.ClientConnectorError as exc:
            raise LinkDown(self._url, f"cannot connect to the SmartOne cashbox: {exc}") from exc
        except TimeoutError as exc:
            raise NoAnswer(self._url, route, f"timed out after {timeout_s:g} s") from exc
        except aiohttp.ClientError as exc:
            raise NoAnswer(self._url, route, f"{type(exc).__name__}: {exc}") from exc
        text = raw.decode("utf-8", errors="replace")
        if status != 200:
            raise HttpStatus(self._url, route, status, text)
        try:
            parsed: object = json.loads(text)
        except ValueError:
            raise MalformedPayload(0, f"SmartOne {route}: not JSON: {text[:200]!r}") from None
        return parsed

    def _note_clock(self, header: str | None) -> None:
        """Keep the offset of the reply's ``Date`` from the host's clock; ignore a bad one."""
        if not header:
            return
        try:
            stated = parsedate_to_datetime(header)
        except (TypeError, ValueError):
            self._log.warning("smartone_bad_date_header", date=header[:64])
            return
        if stated.tzinfo is None:  # "-0000": a time whose zone the sender did not know
            stated = stated.replace(tzinfo=UTC)
        self._clock_offset = stated - datetime.now(UTC)
