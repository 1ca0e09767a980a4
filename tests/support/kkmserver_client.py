"""A KkmServer client as a CRM writes one from KkmServer's public documentation.

Plain urllib and JSON, on purpose nothing from ``agent``: ``POST /Execute`` with one JSON
command, ``Authorization: Basic`` only when a login is set, a fresh GUID ``IdCommand`` per
call unless the caller passes one, and ``GetRezult`` polling that reads ``Rezult.Status``.
"""

from __future__ import annotations

import base64
import json
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from typing import Any


@dataclass
class KkmClient:
    """One KkmServer endpoint, e.g. ``http://127.0.0.1:5893``."""

    base: str
    login: str = ""
    password: str = ""
    http_timeout_s: float = 60.0

    def post_raw(
        self, body: bytes, *, path: str = "/Execute", auth: bool = True
    ) -> tuple[int, Any]:
        """POST bytes as they are; (HTTP status, decoded JSON or None)."""
        request = urllib.request.Request(f"{self.base}{path}", data=body, method="POST")  # noqa: S310 - local test URL
        request.add_header("Content-Type", "application/json; charset=utf-8")
        if auth and (self.login or self.password):
            token = base64.b64encode(f"{self.login}:{self.password}".encode()).decode()
            request.add_header("Authorization", f"Basic {token}")
        try:
            with urllib.request.urlopen(request, timeout=self.http_timeout_s) as response:  # noqa: S310
                raw = response.read()
                return response.status, json.loads(raw) if raw.strip() else None
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                return exc.code, json.loads(raw) if raw.strip() else None
            except json.JSONDecodeError:
                return exc.code, raw

    def execute(self, command: dict[str, Any], **kwargs: Any) -> tuple[int, Any]:
        """Send one command as JSON."""
        return self.post_raw(json.dumps(command, ensure_ascii=False).encode(), **kwargs)

    def run(self, name: str, *, id_command: str | None = None, **fields: Any) -> dict[str, Any]:
        """A command with a fresh GUID (as CRMs do); HTTP 200 expected."""
        command = {"Command": name, "NumDevice": 0, "IdCommand": id_command or str(uuid.uuid4())}
        command.update(fields)
        status, reply = self.execute(command)
        assert status == 200, (name, status, reply)
        return reply

    def poll(self, id_command: str, *, timeout_s: float = 30.0) -> dict[str, Any]:
        """``GetRezult`` every 0.2 s until ``Rezult.Status`` is final (0, 2 or 3)."""
        deadline = time.monotonic() + timeout_s
        while True:
            reply = self.run("GetRezult", id_command=id_command)
            rezult = reply.get("Rezult") or {}
            if rezult.get("Status") in (0, 2, 3, 5) or time.monotonic() > deadline:
                return reply
            time.sleep(0.2)
