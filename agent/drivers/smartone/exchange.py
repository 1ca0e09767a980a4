"""One SmartOne exchange, with the recovery rules of docs/smartone-notes.md §7.

:class:`Exchange` sits between the driver and the HTTP transport: it checks each reply's
``code`` (a refusal becomes a typed error, :mod:`agent.drivers.smartone.errors`), resends a
fiscal request whose answer was lost once with the same ``documentExtID``, and polls
``/check_status`` while the cashbox says a document is still processing (code 44,
``docStatus`` 0) or was not printed (code 15). It holds no lock: the driver runs one
operation at a time.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any, Final, TypeVar

import structlog

from agent.drivers.errors import MalformedPayload
from agent.drivers.smartone.codec import check_status_request
from agent.drivers.smartone.copies import OwedCopies
from agent.drivers.smartone.errors import (
    NOT_FOUND,
    NOT_PRINTED,
    STILL_PROCESSING,
    StillProcessing,
    reply_error,
)
from agent.drivers.smartone.params import SmartOneParams
from agent.drivers.smartone.replies import (
    DocumentReply,
    MalformedReply,
    document_reply,
    reply_status,
)
from agent.drivers.smartone.transport import NoAnswer, SmartOneHttp

__all__ = ["MAX_POLL_INTERVAL_S", "Exchange"]

MAX_POLL_INTERVAL_S: Final = 5.0
"""The longest pause between two ``/check_status`` polls (the first is the configured one)."""

_T = TypeVar("_T")


class Exchange:
    """Signed requests to one cashbox, checked and recovered."""

    def __init__(
        self, params: SmartOneParams, *, log: structlog.typing.FilteringBoundLogger
    ) -> None:
        self._params = params
        self._log = log
        self.http = SmartOneHttp(params.url, params.merchant_id, log=log)
        self.copies = OwedCopies(log)

    async def read(self, route: str, payload: dict[str, Any], decode: Callable[[object], _T]) -> _T:
        """A read (or a shift route): one POST, its code checked, its body decoded."""
        raw = await self.http.post(route, payload, timeout_s=self._params.read_timeout_s)
        return self._checked(route, raw, decode)

    async def send(
        self,
        route: str,
        payload: dict[str, Any],
        decode: Callable[[object], _T],
        *,
        timeout_s: float | None = None,
    ) -> _T:
        """A POST with ``timeout_s`` (default: the read timeout), its code checked."""
        raw = await self.http.post(
            route, payload, timeout_s=timeout_s or self._params.read_timeout_s
        )
        return self._checked(route, raw, decode)

    async def document(self, route: str, payload: dict[str, Any], key: str) -> DocumentReply:
        """A fiscal document (``/sale``, ``/refund``) under ``documentExtID`` ``key``, closed.

        A lost answer: the same request once more after ``resend_delay_s`` (the cashbox
        answers the stored document if the first one ran); a second loss raises the link
        error (outcome unknown). Code 44 or ``docStatus`` 0: polled until closed
        (:meth:`poll`). Code 15: the document may be fiscalised and not printed; polled too.
        """
        timeout = self._params.sale_timeout_s
        try:
            raw = await self.http.post(route, payload, timeout_s=timeout)
        except NoAnswer as exc:
            self._log.warning(
                "answer lost: resending the same request", route=route, error=str(exc)
            )
            await asyncio.sleep(self._params.resend_delay_s)
            raw = await self.http.post(route, payload, timeout_s=timeout)
        code, message = self._status(route, raw)
        if code == NOT_PRINTED:
            self._log.warning("document not printed: checking its status", route=route, code=code)
            reply = await self.poll(route, key)
            if reply.document_id is not None:
                self.copies.owe(reply.document_id, key)
            return reply
        if code == STILL_PROCESSING:
            return await self.poll(route, key)
        if code != 0:
            raise reply_error(code, message, route=route, key=key)
        reply = self._decode(route, document_reply, raw)
        if reply.is_closed:
            return reply
        return await self.poll(route, key)

    async def status(self, key: str) -> DocumentReply | None:
        """``/check_status`` once: the document, or None when the cashbox has none (9).

        Code 44 is returned as a reply with ``doc_status`` 0 (still processing).
        """
        raw = await self.http.post(
            "/check_status", check_status_request(key), timeout_s=self._params.read_timeout_s
        )
        code, message = self._status("/check_status", raw)
        if code == NOT_FOUND:
            return None
        if code == STILL_PROCESSING:
            return _processing(key)
        if code != 0:
            raise reply_error(code, message, route="/check_status", key=key)
        reply = self._decode("/check_status", document_reply, raw)
        if reply.doc_status == -1:  # the older pages' empty result
            return None
        return reply

    async def poll(self, route: str, key: str) -> DocumentReply:
        """``/check_status`` until the document is closed: 1 s, backing off to 5 s.

        Raises :class:`~agent.drivers.smartone.errors.StillProcessing` after
        ``processing_timeout_s``, and :class:`~agent.drivers.smartone.errors.RequestNotFound`
        when the cashbox no longer has it (rolled back: nothing was issued).
        """
        started = time.monotonic()
        delay = self._params.poll_interval_s
        while True:
            await asyncio.sleep(delay)
            try:
                reply = await self.status(key)
            except NoAnswer as exc:
                self._log.warning("check_status unanswered", key=key, error=str(exc))
                reply = _processing(key)
            if reply is None:
                raise reply_error(NOT_FOUND, "no document under this key", route=route, key=key)
            if reply.is_closed:
                return reply
            waited = time.monotonic() - started
            if waited >= self._params.processing_timeout_s:
                raise StillProcessing(route, key, round(waited, 1))
            delay = min(delay * 2, MAX_POLL_INTERVAL_S)

    def _checked(self, route: str, raw: object, decode: Callable[[object], _T]) -> _T:
        code, message = self._status(route, raw)
        if code != 0:
            raise reply_error(code, message, route=route)
        return self._decode(route, decode, raw)

    def _status(self, route: str, raw: object) -> tuple[int, str]:
        return self._decode(route, reply_status, raw)

    @staticmethod
    def _decode(route: str, decode: Callable[[object], _T], raw: object) -> _T:
        try:
            return decode(raw)
        except MalformedReply as exc:
            raise MalformedPayload(0, f"SmartOne {route}: {exc}") from exc


def _processing(key: str) -> DocumentReply:
    return DocumentReply(
        document_id=None,
        document_ext_id=key,
        fiscal_id=None,
        fiscal_num=None,
        fiscal_url=None,
        doc_time=None,
        print_time=None,
        doc_status=0,
        print_error=0,
        payments=(),
    )
