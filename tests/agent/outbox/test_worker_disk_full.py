"""A full disk under the running agent: 503, never a false accept; nothing printed unrecorded."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from agent.outbox.states import RowState
from agent.outbox.store import StorageUnavailable
from tests.support.agent_rig import AgentRig, agent_rig
from tests.support.payloads import receipt
from tests.support.small_disk import SmallDisk, small_disk

pytestmark = pytest.mark.timeout(30)


async def _until(predicate: Callable[[], Any], *, timeout_s: float = 10.0) -> Any:
    async with asyncio.timeout(timeout_s):
        while not (value := predicate()):
            await asyncio.sleep(0.02)
        return value


@pytest.fixture
async def disk_rig(tmp_path: Path) -> AsyncIterator[tuple[AgentRig, SmallDisk]]:
    """An agent whose state directory is a 1 MiB tmpfs, on a register with an open shift."""
    with small_disk(tmp_path / "state") as disk:
        async with agent_rig(disk.path) as rig:
            await rig.service.connect()
            await rig.service.open_shift()
            yield rig, disk


async def _post(rig: AgentRig, request_id: str) -> tuple[int, Any]:
    response = await rig.client.post("/api/v1/receipts", json=receipt(request_id, 15000))
    return response.status, await response.json()


def _use_up_the_wal_slack(rig: AgentRig) -> None:
    """Write until the full disk refuses: the WAL's last block may hold a few more small pages
    (512 bytes each), and an intent that fits there is on disk (then printing it is right)."""
    for _ in range(1000):
        try:
            rig.outbox.next_boot()  # a harmless write: the boot counter
        except StorageUnavailable:
            return
    pytest.fail("the full disk took 1000 writes")


def _marks(rig: AgentRig) -> list[str]:
    return [d.tags.mark.value for d in rig.register.device.state.documents if d.tags.mark]


async def test_disk_full_answers_503_and_accepts_again_when_space_returns(
    disk_rig: tuple[AgentRig, SmallDisk],
) -> None:
    """No 202 while the disk is full (503 storage_unavailable, nothing stored); 202 after."""
    rig, disk = disk_rig
    assert (await _post(rig, "before"))[0] == 202
    disk.fill()
    answers = [await _post(rig, f"full-{n}") for n in range(20)]
    refused = [(status, body) for status, body in answers if status != 202]
    assert refused, "the full disk never refused a request"
    assert all(s == 503 and b["error"]["code"] == "storage_unavailable" for s, b in refused)
    first_refused = next(n for n, (status, _) in enumerate(answers) if status != 202)
    assert rig.outbox.get(f"full-{first_refused}") is None, "a refused request was stored"
    assert rig.outbox.get("before") is not None
    disk.free()
    status, body = await _post(rig, f"full-{first_refused}")
    assert (status, body["status"]) == (202, "pending")


async def test_disk_full_the_worker_waits_and_prints_nothing_it_cannot_record(
    disk_rig: tuple[AgentRig, SmallDisk],
) -> None:
    """The intent cannot be stored: nothing is sent; health names the disk; all print once freed."""
    rig, disk = disk_rig
    for request_id in ("coffee-a", "coffee-b"):
        assert (await _post(rig, request_id))[0] == 202
    disk.fill()
    _use_up_the_wal_slack(rig)
    task = asyncio.create_task(rig.worker.run(), name="worker")
    try:
        condition = await _until(lambda: rig.worker.condition)
        assert condition.code == "storage_unavailable"
        await asyncio.sleep(0.3)
        assert _marks(rig) == [], "a receipt went to the register without its intent on disk"
        disk.free()
        await _until(
            lambda: all(
                (row := rig.outbox.get(i)) is not None and row.state is RowState.DONE
                for i in ("coffee-a", "coffee-b")
            )
        )
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert _marks(rig) == ["coffee-a", "coffee-b"]
