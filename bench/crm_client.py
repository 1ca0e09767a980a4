"""The CRM's side of the local HTTP API: JSON requests on one kept-alive connection.

A CRM that sends a club's payments keeps its HTTP connection open between requests, as the
common clients do by default (``requests.Session``, ``httpx.Client``, aiohttp's
``ClientSession``, 1C's ``HTTPСоединение``, curl with a reused handle); the agent's aiohttp
server keeps connections alive unless asked not to. ``keep_alive=False`` opens a new TCP
connection for every request, as urllib's ``urlopen`` does (the tests' ``http`` helper).
"""

from __future__ import annotations

import http.client
import json
from typing import Any
from urllib.parse import urlsplit

__all__ = ["CrmClient"]


class CrmClient:
    """POST JSON to the agent's API and read the answer; reconnects when the server closed."""

    def __init__(self, base: str, *, keep_alive: bool = True, timeout_s: float = 10.0) -> None:
        parts = urlsplit(base)
        self._host = parts.hostname or "127.0.0.1"
        self._port = parts.port or 80
        self._path = parts.path.rstrip("/")
        self._keep_alive = keep_alive
        self._timeout_s = timeout_s
        self._conn: http.client.HTTPConnection | None = None

    def post(self, path: str, body: object) -> tuple[int, Any]:
        """One JSON request; returns (status, decoded body)."""
        data = json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        if not self._keep_alive:
            headers["Connection"] = "close"
        for is_retry in (False, True):
            conn = self._connection()
            try:
                conn.request("POST", f"{self._path}{path}", body=data, headers=headers)
                response = conn.getresponse()
                raw = response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # A kept connection the server had closed: once more on a new one (a request
                # sent again under its id is answered once: the API is idempotent by id).
                self.close()
                if is_retry:
                    raise
                continue
            if not self._keep_alive or response.will_close:
                self.close()
            return response.status, json.loads(raw) if raw else None
        raise AssertionError  # unreachable: the loop returns or raises

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            self._conn = http.client.HTTPConnection(self._host, self._port, timeout=self._timeout_s)
        return self._conn

    def close(self) -> None:
        """Close the kept connection, if any."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None
