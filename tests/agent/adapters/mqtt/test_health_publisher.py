"""Health on the broker: what is published, and that a link that is down never freezes the agent."""

from __future__ import annotations

import asyncio
import contextlib
import json

import structlog

from agent.adapters.mqtt.health_publisher import HealthPublisher, offline_payload
from agent.contract import Health
from mqtt_link.link import MqttLink
from mqtt_link.settings import LinkSettings


async def test_a_link_that_is_down_is_waited_for_not_spun_on() -> None:
    """Asked to publish while the link is down, the publisher yields the loop until it is up.

    A publisher that looped on its "due" flag without awaiting anything would freeze the whole
    agent (the worker included) once a broker connection was lost; this test would then never
    get its ticks and time out.
    """
    link = MqttLink(LinkSettings(url="mqtt://127.0.0.1:1", client_id="unit"))
    asked = 0

    async def health() -> Health:
        nonlocal asked
        asked += 1
        raise AssertionError("health is not computed while the link is down")

    publisher = HealthPublisher(
        link=link, health=health, topic="t/health", boot=3, log=structlog.get_logger("test")
    )
    publisher.publish_soon()
    task = asyncio.create_task(publisher.run(), name="health")
    loop = asyncio.get_running_loop()
    started, ticks = loop.time(), 0
    while loop.time() - started < 0.3:
        await asyncio.sleep(0.01)
        ticks += 1
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert ticks >= 10
    assert asked == 0


def test_the_will_and_the_orderly_goodbye() -> None:
    """The will carries the boot only; the orderly stop's message also the next seq."""
    assert json.loads(offline_payload(4)) == {"state": "offline", "boot": 4}
    link = MqttLink(LinkSettings(url="mqtt://127.0.0.1:1", client_id="unit"))

    async def health() -> Health:
        raise AssertionError

    publisher = HealthPublisher(
        link=link, health=health, topic="t/health", boot=4, log=structlog.get_logger("test")
    )
    publisher.seq = 17
    topic, payload, retain = publisher.final_message()
    assert (topic, retain) == ("t/health", True)
    assert json.loads(payload) == {"state": "offline", "boot": 4, "seq": 18}


def test_only_a_real_change_counts_not_the_clocks_ticking() -> None:
    """Clocks and ages moving change nothing; paper running out does."""
    from agent.adapters.mqtt.health_publisher import _signature  # noqa: PLC0415 - one test

    base = {
        "state": "online",
        "version": "0.1.0",
        "uptime_s": 10.0,
        "at": "2026-12-01T10:00:00+00:00",
        "register": {"link": "up", "clock": "2026-12-01T13:00:00+03:00", "clock_skew_s": 0.4},
        "shift": {"open": True, "age_s": 100.0},
        "fn": {},
        "outbox": {"pending": 0, "failed": 0},
        "sync": {"pending": 0},
    }
    later = {
        **base,
        "uptime_s": 12.0,
        "at": "2026-12-01T10:00:02+00:00",
        "register": {"link": "up", "clock": "2026-12-01T13:00:02+03:00", "clock_skew_s": 0.6},
        "shift": {"open": True, "age_s": 102.0},
    }
    paper = {**later, "state": "degraded", "register": {**later["register"], "error": "paper_out"}}
    one, two, three = (Health.model_validate(h) for h in (base, later, paper))
    assert _signature(one) == _signature(two)
    assert _signature(two) != _signature(three)
