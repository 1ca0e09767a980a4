"""Health on the broker: retained, offline by the last will when the agent dies, online again.

A reader orders health by (boot, seq): the agent's restart counts one more boot, and the will
of the killed boot never stands after the live agent's newer health on the retained topic.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.support.mqtt_client import PREFIX, PlainClient

pytestmark = [pytest.mark.sim, pytest.mark.broker, pytest.mark.slow, pytest.mark.timeout(180)]

HEALTH = PREFIX + "health"
KEEPALIVE_S = 5


def _retained(broker: Any, name: str) -> dict[str, Any]:
    """The retained health as a new subscriber sees it."""
    reader = PlainClient(broker.url, name, subscribe=(HEALTH,)).connect()
    try:
        reader.wait_for(lambda: reader.received("health"), timeout_s=10, what="retained health")
        message = reader.received("health")[0]
        assert message.retain
        return message.json()  # type: ignore[no-any-return]
    finally:
        reader.close()


def test_health_retained_offline_on_kill_online_on_restart(
    broker: Any, start_sim: Any, start_agent: Any
) -> None:
    """Online retained; SIGKILL: offline within the keepalive; restart: online, next boot."""
    sim = start_sim()
    agent = start_agent(sim, settings={"mqtt": {"url": broker.url, "keepalive_s": KEEPALIVE_S}})
    watcher = PlainClient(broker.url, "support", subscribe=(HEALTH,)).connect()
    try:
        watcher.wait_for(
            lambda: any(m.json()["state"] != "offline" for m in watcher.received("health")),
            timeout_s=30,
            what="the first health",
        )
        first = _retained(broker, "reader-1")
        assert first["state"] in {"online", "degraded"}
        boot = first["boot"]
        assert first["seq"] >= 1
        for key in ("register", "shift", "fn", "outbox", "sync", "line", "version", "at"):
            assert key in first

        agent.kill()
        killed_at = time.monotonic()
        watcher.wait_for(
            lambda: watcher.received("health")[-1].json()["state"] == "offline",
            timeout_s=KEEPALIVE_S * 2 + 5,
            what="the last will",
        )
        assert time.monotonic() - killed_at <= KEEPALIVE_S * 1.5 + 3
        will = watcher.received("health")[-1].json()
        assert will == {"state": "offline", "boot": boot}

        agent.start()
        watcher.wait_for(
            lambda: (
                watcher.received("health")[-1].json().get("boot") == boot + 1
                and watcher.received("health")[-1].json()["state"] != "offline"
            ),
            timeout_s=30,
            what="health of the next boot",
        )
        time.sleep(KEEPALIVE_S * 1.5 + 1)  # a late will of the old boot would have landed now
        retained = _retained(broker, "reader-2")
        assert retained["boot"] == boot + 1
        assert retained["state"] != "offline"
        seqs = [
            m.json()["seq"] for m in watcher.received("health") if m.json().get("boot") == boot + 1
        ]
        assert seqs == sorted(seqs), "seq goes up within a boot"

        # Killed and restarted at once, before the broker noticed: the session takeover
        # sends the old boot's will, and the new boot's health must still be what stands.
        agent.kill()
        agent.start()
        watcher.wait_for(
            lambda: (
                watcher.received("health")[-1].json().get("boot") == boot + 2
                and watcher.received("health")[-1].json()["state"] != "offline"
            ),
            timeout_s=30,
            what="health of the boot after a quick restart",
        )
        time.sleep(KEEPALIVE_S * 1.5 + 1)
        retained = _retained(broker, "reader-3")
        assert (retained["boot"], retained["state"] != "offline") == (boot + 2, True)
        seqs = [
            m.json()["seq"] for m in watcher.received("health") if m.json().get("boot") == boot + 2
        ]

        agent.stop()  # orderly: the agent says offline itself, with the next seq
        watcher.wait_for(
            lambda: watcher.received("health")[-1].json()["state"] == "offline",
            timeout_s=15,
            what="the orderly offline",
        )
        last = watcher.received("health")[-1].json()
        assert last["boot"] == boot + 2
        assert last["seq"] > seqs[-1]
    finally:
        watcher.close()
