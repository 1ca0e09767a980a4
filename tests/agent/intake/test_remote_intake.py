"""The intake for commands from the broker: every outcome a durable event, over the real core.

The agent's core runs in one process (real driver, the simulator's device, a real SQLite
outbox); the consumer's decoding is driven with the messages a broker would deliver.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog

from agent.adapters.mqtt.consumer import CommandConsumer
from agent.adapters.mqtt.topics import Topics
from agent.intake import Intake
from agent.intake.remote import Answer, RemoteIntake
from agent.intake.tape_sync import TapeSync
from agent.outbox.shift_commands import ShiftCommands
from agent.outbox.states import RowState
from agent.outbox.store import Outbox
from agent.outbox.sync_queue import SyncEntry, SyncQueue, SyncTopic
from mqtt_link.incoming import Incoming
from mqtt_link.link import MqttLink
from mqtt_link.settings import LinkSettings
from tests.support.agent_rig import AgentRig, agent_rig, host_now
from tests.support.by_hand import print_by_hand
from tests.support.payloads import receipt

TOPICS = Topics("club-1", "desk-1")
RECEIPT = TOPICS.prefix + "cmd/receipt"
SHIFT = TOPICS.prefix + "cmd/shift"


@dataclass
class Remote:
    rig: AgentRig
    remote: RemoteIntake
    queue: SyncQueue

    def entries(self, topic: SyncTopic | None = None) -> list[SyncEntry]:
        found = self.queue.batch(limit=1000)
        return [e for e in found if topic is None or e.topic is topic]

    def payloads(self, topic: SyncTopic) -> list[dict[str, Any]]:
        return [json.loads(e.payload) for e in self.entries(topic) if e.payload is not None]

    async def until_final(self, request_id: str) -> None:
        async with asyncio.timeout(10):
            while True:
                row = self.rig.outbox.get(request_id)
                if row is not None and row.state.is_final:
                    return
                await asyncio.sleep(0.02)


@asynccontextmanager
async def remote_rig(tmp_path: Path, *, outbox: Outbox | None = None) -> AsyncIterator[Remote]:
    async with agent_rig(tmp_path) as rig:
        box = outbox or rig.outbox
        queue = SyncQueue(box, clock=host_now)
        log = structlog.get_logger("test")
        intake = Intake(config=rig.config, outbox=box, worker=rig.worker, log=log, queue=queue)
        remote = RemoteIntake(
            intake=intake,
            queue=queue,
            commands=ShiftCommands(box),
            tape=TapeSync(worker=rig.worker, outbox=box, queue=queue, log=log),
            clock=host_now,
            log=log,
        )
        worker = asyncio.create_task(rig.worker.run(), name="worker")
        try:
            yield Remote(rig=rig, remote=remote, queue=queue)
        finally:
            await remote.close()
            worker.cancel()
            await asyncio.gather(worker, return_exceptions=True)


async def test_a_new_receipt_is_committed_and_its_result_queued_when_done(tmp_path: Path) -> None:
    """TAKEN once committed; done queues the row's result; asking again queues it again."""
    async with remote_rig(tmp_path) as made:
        assert await made.remote.receipt(RECEIPT, receipt("r-1", 15000)) is Answer.TAKEN
        await made.until_final("r-1")
        (entry,) = made.entries(SyncTopic.RECEIPT)
        assert entry.ref == "r-1"
        assert await made.remote.receipt(RECEIPT, receipt("r-1", 15000)) is Answer.TAKEN
        assert [e.ref for e in made.entries(SyncTopic.RECEIPT)] == ["r-1", "r-1"]
        assert len(made.rig.register.device.state.documents) >= 1


async def test_bad_input_with_a_new_id_is_rejected_under_that_id(tmp_path: Path) -> None:
    """A float price with a readable new id: a rejected ReceiptResult naming the field."""
    body = receipt("r-bad", 15000)
    body["items"][0]["price"] = 150.0
    async with remote_rig(tmp_path) as made:
        assert await made.remote.receipt(RECEIPT, body) is Answer.TAKEN
        (result,) = made.payloads(SyncTopic.RECEIPT)
        assert (result["id"], result["status"]) == ("r-bad", "rejected")
        assert result["error"]["code"] == "invalid_request"
        assert "items.0.price" in result["error"]["message"]
        assert made.rig.outbox.get("r-bad") is None
        assert made.entries(SyncTopic.REJECTED) == []


async def test_no_readable_id_or_a_known_id_goes_to_evt_rejected(tmp_path: Path) -> None:
    """No id: evt/rejected; a known id with other content: evt/rejected, the row untouched."""
    async with remote_rig(tmp_path) as made:
        assert await made.remote.receipt(RECEIPT, [1, 2]) is Answer.TAKEN
        assert await made.remote.receipt(RECEIPT, receipt("r-1", 15000)) is Answer.TAKEN
        await made.until_final("r-1")
        assert await made.remote.receipt(RECEIPT, receipt("r-1", 99000)) is Answer.TAKEN
        bad = receipt("r-1", 15000)
        bad["kind"] = "gift"
        assert await made.remote.receipt(RECEIPT, bad) is Answer.TAKEN
        rejected = made.payloads(SyncTopic.REJECTED)
        assert [(r.get("id"), r["code"]) for r in rejected] == [
            (None, "invalid_request"),
            ("r-1", "id_conflict"),
            ("r-1", "invalid_request"),
        ]
        assert all(r["topic"] == RECEIPT and r["message"] and r["at"] for r in rejected)
        row = made.rig.outbox.get("r-1")
        assert row is not None
        assert row.state is RowState.DONE
        assert [p["status"] for p in made.payloads(SyncTopic.RECEIPT)] == []


async def test_no_room_is_not_taken(tmp_path: Path) -> None:
    """A full outbox: NO_ROOM and nothing stored, so the adapter must not acknowledge."""
    full = Outbox(tmp_path / "full.sqlite3", clock=host_now, max_pending=1)
    try:
        async with remote_rig(tmp_path, outbox=full) as made:
            assert await made.remote.receipt(RECEIPT, receipt("a", 100)) is Answer.TAKEN
            assert await made.remote.receipt(RECEIPT, receipt("b", 200)) is Answer.NO_ROOM
            assert full.get("b") is None
    finally:
        full.close()


async def test_a_shift_command_runs_once_per_id(tmp_path: Path) -> None:
    """open, then close twice under one id: one Z; its report and outcome queued, the id kept."""
    async with remote_rig(tmp_path) as made:
        assert await made.remote.shift(SHIFT, {"id": "open-1", "action": "open"}) is Answer.TAKEN
        assert await made.remote.shift(SHIFT, {"id": "z-1", "action": "close"}) is Answer.TAKEN
        async with asyncio.timeout(10):
            while len(made.payloads(SyncTopic.COMMAND)) < 2:
                await asyncio.sleep(0.02)
        closes_before = made.rig.register.device.state.last_fd
        assert await made.remote.shift(SHIFT, {"id": "z-1", "action": "close"}) is Answer.TAKEN
        await asyncio.sleep(0.2)
        assert made.rig.register.device.state.last_fd == closes_before, "closed twice"
        reports = made.payloads(SyncTopic.SHIFT)
        assert [(r["kind"], r.get("request_id")) for r in reports] == [
            ("open", "open-1"),
            ("z", "z-1"),
        ]
        outcomes = made.payloads(SyncTopic.COMMAND)
        assert outcomes == [
            {"id": "open-1", "status": "done"},
            {"id": "z-1", "status": "done"},
            {"id": "z-1", "status": "done"},
        ]
        assert await made.remote.shift(SHIFT, {"id": "z-1", "action": "open"}) is Answer.TAKEN
        assert made.payloads(SyncTopic.REJECTED)[-1]["code"] == "id_conflict"
        assert await made.remote.shift(SHIFT, {"action": "close"}) is Answer.TAKEN
        assert "needs an id" in made.payloads(SyncTopic.REJECTED)[-1]["message"]


async def test_sync_tape_queues_what_the_agent_did_not_print(tmp_path: Path) -> None:
    """A receipt printed by hand is queued as evt/document; the agent's own receipts are not."""
    async with remote_rig(tmp_path) as made:
        assert await made.remote.receipt(RECEIPT, receipt("ours", 15000)) is Answer.TAKEN
        await made.until_final("ours")
        by_hand = print_by_hand(made.rig.register.device, price=10000, cash=10000)
        sync = {"id": "tape-1", "action": "sync_tape"}
        assert await made.remote.shift(SHIFT, sync) is Answer.TAKEN
        async with asyncio.timeout(10):
            while not made.payloads(SyncTopic.COMMAND):
                await asyncio.sleep(0.02)
        assert made.payloads(SyncTopic.COMMAND) == [{"id": "tape-1", "status": "done"}]
        (document,) = made.payloads(SyncTopic.DOCUMENT)
        assert (document["fd"], document["type"], document["total"]) == (
            by_hand,
            "receipt",
            "100.00",
        )
        assert "mark" not in document


async def test_the_consumer_names_what_it_cannot_read(tmp_path: Path) -> None:
    """Not JSON, 1 MB or more, a topic not served: each an evt/rejected with its code."""
    async with remote_rig(tmp_path) as made:
        link = MqttLink(LinkSettings(url="mqtt://127.0.0.1:1", client_id="unit"))
        consumer = CommandConsumer(
            link=link, remote=made.remote, topics=TOPICS, log=structlog.get_logger("test")
        )

        def message(topic: str, payload: bytes) -> Incoming:
            return Incoming(
                topic=topic,
                payload=payload,
                mid=1,
                qos=1,
                retain=False,
                duplicate=False,
                connection=1,
            )

        answers = [
            await consumer.handle(message(RECEIPT, b"{nope")),
            await consumer.handle(message(RECEIPT, b"{" + b" " * 1_000_000 + b"}")),
            await consumer.handle(message(TOPICS.prefix + "cmd/unknown", b"{}")),
            await consumer.handle(message(RECEIPT, json.dumps(receipt("fine", 100)).encode())),
        ]
        assert answers == [Answer.TAKEN] * 4
        codes = [r["code"] for r in made.payloads(SyncTopic.REJECTED)]
        assert codes == ["invalid_json", "too_large", "topic_not_served"]
        assert made.rig.outbox.get("fine") is not None
