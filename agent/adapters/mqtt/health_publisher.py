"""Health on the broker: retained, on every change and every 30 s, ordered by (boot, seq).

``boot`` counts the agent's starts (kept in the state file), ``seq`` the healths of one boot,
so a reader can order what it sees (docs/contract.md, "Health"): a restarted agent is never
taken for an old one, and the last will of an earlier boot never marks a live agent offline.
The will is ``{"state": "offline", "boot": B}``, retained, set with the connection; an orderly
stop publishes the same itself, with the next seq, before it disconnects.

A change is any field but the clocks that move by themselves (``at``, ``uptime_s``, the ages,
the register's clock and its skew, whose trouble shows as ``register.error``), so a register
going out of paper shows at once, and a quiet agent says it is alive every ``interval_s``
without a message every time the register's clock ticks.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import TYPE_CHECKING, Any, Final

from mqtt_link.errors import LinkDown

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    import structlog

    from agent.contract import Health
    from mqtt_link.link import MqttLink

__all__ = ["DEFAULT_INTERVAL_S", "HealthPublisher", "offline_payload"]

DEFAULT_INTERVAL_S: Final = 30.0
CHECK_S: Final = 1.0
"""How often health is computed to see whether it changed."""
_MOVING: Final = frozenset(
    {"at", "uptime_s", "seq", "boot", "age_s", "oldest_pending_age_s", "clock", "clock_skew_s"}
)


def offline_payload(boot: int, seq: int | None = None) -> bytes:
    """The last will (no seq: it is only known at connect) or the orderly stop's message."""
    body: dict[str, Any] = {"state": "offline", "boot": boot}
    if seq is not None:
        body["seq"] = seq
    return json.dumps(body).encode("utf-8")


class HealthPublisher:
    """Publishes the agent's health, retained, while the link is up."""

    def __init__(
        self,
        *,
        link: MqttLink,
        health: Callable[[], Awaitable[Health]],
        topic: str,
        boot: int,
        log: structlog.typing.FilteringBoundLogger,
        interval_s: float = DEFAULT_INTERVAL_S,
    ) -> None:
        self._link = link
        self._health = health
        self._topic = topic
        self.boot = boot
        self.seq = 0
        self._interval_s = interval_s
        self._log = log.bind(component="mqtt_health")
        self._due = asyncio.Event()
        self._last_signature: str | None = None
        self._last_sent = 0.0

    def publish_soon(self, *_: object) -> None:
        """Publish at the next check whatever changed (after a reconnect, say)."""
        self._due.set()

    async def run(self) -> None:
        """Until cancelled."""
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(CHECK_S):
                    await self._due.wait()
            if not self._link.is_connected:
                # Never spin here: ``_due`` may be set (and stays set, so the first health
                # after the reconnect goes out at once), and an already-set event's wait does
                # not yield to the loop. A plain sleep always does.
                await asyncio.sleep(CHECK_S)
                continue
            forced = self._due.is_set()
            self._due.clear()
            health = await self._health()
            signature = _signature(health)
            is_due = time.monotonic() - self._last_sent >= self._interval_s
            if forced or is_due or signature != self._last_signature:
                await self._send(health, signature)

    async def _send(self, health: Health, signature: str) -> None:
        self.seq += 1
        body = health.model_copy(update={"boot": self.boot, "seq": self.seq})
        payload = body.model_dump_json(by_alias=True, exclude_none=True).encode("utf-8")
        try:
            await self._link.publish(self._topic, payload, qos=1, retain=True)
        except LinkDown:
            self._due.set()  # say it again once the link is back
            return
        self._last_signature = signature
        self._last_sent = time.monotonic()

    def final_message(self) -> tuple[str, bytes, bool]:
        """What an orderly stop publishes before it disconnects (topic, payload, retain)."""
        self.seq += 1
        return self._topic, offline_payload(self.boot, self.seq), True


def _signature(health: Health) -> str:
    return json.dumps(_strip(health.model_dump(mode="json")), sort_keys=True)


def _strip(value: Any) -> Any:  # noqa: ANN401 - a JSON tree
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k not in _MOVING}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value
