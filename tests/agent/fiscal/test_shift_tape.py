"""The shift's FN tape read back (``evt/document``, v1.1): foreign documents, one read each.

Over the real driver and the simulator's device in one process. A receipt printed at the
register past the agent (``tests.support.by_hand``) must come back as foreign; every FD of
the shift is read once and only once, and an FD the caller skips costs no round trip.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from agent.domain.money import Kopecks
from agent.domain.receipt import ReceiptKind
from agent.drivers.interface import DocumentType
from agent.fiscal.tape import TapeDocument, foreign_documents
from agent.intake.document_mapping import document_to_contract, document_type_name
from firmware_sim.state import MSK
from tests.support.agent_rig import AgentRig, agent_rig
from tests.support.by_hand import print_by_hand
from tests.support.payloads import receipt

pytestmark = pytest.mark.timeout(60)

FIND_DOCUMENT = 0xFF0A
BEGIN_READ_DOCUMENT = 0xFF3A
FN = "9999078900001366"


def _doc(fd: int, *, mark: str | None = None) -> TapeDocument:
    return TapeDocument(
        fn=FN,
        fd=fd,
        fp=1000 + fd,
        type=DocumentType.RECEIPT,
        shift=3,
        issued_at=datetime(2026, 1, 5, 12, tzinfo=MSK),
        kind=ReceiptKind.SALE,
        total=Kopecks(15000),
        mark=mark,
    )


# -- the pure filter --------------------------------------------------------------------------


def test_foreign_documents_are_those_the_agent_did_not_issue_in_fd_order() -> None:
    documents = [_doc(10, mark="a"), _doc(11), _doc(12, mark="b"), _doc(13, mark="x")]
    foreign = foreign_documents(documents, {10, 12})
    assert [doc.fd for doc in foreign] == [11, 13]


def test_foreign_documents_judge_by_fd_alone_not_by_the_mark() -> None:
    """A document carrying a mark the agent did not issue under that FD is still foreign."""
    assert foreign_documents([_doc(5, mark="crm-1")], set()) == (_doc(5, mark="crm-1"),)
    assert foreign_documents([_doc(5)], {5}) == ()
    assert foreign_documents([], {1, 2}) == ()


def test_document_types_have_contract_names() -> None:
    assert document_type_name(DocumentType.OPEN_SHIFT) == "open_shift"
    assert document_type_name(DocumentType.CLOSE_SHIFT) == "close_shift"
    assert document_type_name(31) == "correction"
    assert document_type_name(99) == "fd_type_99"


# -- against the simulator --------------------------------------------------------------------


class _Reads:
    """The FDs the driver asked FF0A for, and how many FF3A (TLV reads) it began."""

    def __init__(self, rig: AgentRig) -> None:
        self.headers: list[int] = []
        self.rig = rig
        rig.register.intercept[FIND_DOCUMENT] = self._find

    def _find(self, payload: bytes) -> None:
        self.headers.append(int.from_bytes(payload[6:10], "little"))  # FF 0A | pwd u32 | FD u32

    def since(self, start: int) -> Counter[int]:
        return Counter(self.rig.register.command_codes()[start:])


async def _print(rig: AgentRig, request_id: str, kopecks: int) -> int:
    response = await rig.client.post("/api/v1/receipts", json=receipt(request_id, kopecks))
    assert response.status == 202
    row = rig.outbox.get(request_id)
    assert row is not None
    await rig.worker._process(row)
    done = rig.outbox.get(request_id)
    assert done is not None
    assert done.fiscal is not None
    return done.fiscal.fd


async def test_receipt_printed_by_hand_shows_up_as_foreign(tmp_path: Path) -> None:
    """The current shift read back: open, the agent's receipts, the one printed by hand."""
    async with agent_rig(tmp_path) as rig:
        await rig.service.connect()
        opened = await rig.service.open_shift()
        first = await _print(rig, "a", 15000)
        second = await _print(rig, "b", 20000)
        by_hand = print_by_hand(rig.register.device, price=10000, cash=15000)
        third = await _print(rig, "c", 30000)
        reads = _Reads(rig)
        start = len(rig.register.commands)

        tape = await rig.service.documents_of_shift()

        used = reads.since(start)
        issued = rig.outbox.issued_fds(tape.fn, opened.first_fd or 0, tape.last_fd)

    assert opened.first_fd is not None
    fds = [doc.fd for doc in tape.documents]
    assert fds == [opened.first_fd, first, second, by_hand, third]
    assert (tape.first_fd, tape.last_fd, tape.unreadable) == (opened.first_fd, third, ())
    # One read per document: each FD's header once, a TLV read for each receipt only.
    assert sorted(reads.headers) == fds
    assert used[BEGIN_READ_DOCUMENT] == 4
    assert issued == {first, second, third}
    foreign = foreign_documents(tape.documents, issued | {opened.first_fd})
    assert [doc.fd for doc in foreign] == [by_hand]
    hand = foreign[0]
    assert (hand.kind, hand.total, hand.mark, hand.shift) == (
        ReceiptKind.SALE,
        Kopecks(10000),
        None,
        opened.shift,
    )
    sim = next(doc for doc in rig.register.device.state.documents if doc.fd == by_hand)
    assert hand.issued_at == sim.issued_at
    assert hand.issued_at.utcoffset() == timedelta(hours=3)
    ours = next(doc for doc in tape.documents if doc.fd == first)
    assert ours.mark == "a"
    message = document_to_contract(hand).model_dump(mode="json", exclude_none=True)
    assert message == {
        "fn": tape.fn,
        "fd": by_hand,
        "doc_id": f"{tape.fn}:{by_hand}",
        "type": "receipt",
        "kind": "sale",
        "total": "100.00",
        "shift": opened.shift,
        "issued_at": sim.issued_at.isoformat(),
        # 150.00 tendered in cash for 100.00: the FN keeps the cash net of change (1031).
        "payments": {"cash": "100.00", "card": "0.00", "prepaid": "0.00"},
    }


async def test_skipped_fds_cost_no_round_trip(tmp_path: Path) -> None:
    """Skipping the agent's own receipts reads only the open-shift document and the foreign one."""
    async with agent_rig(tmp_path) as rig:
        await rig.service.connect()
        opened = await rig.service.open_shift()
        ours = [await _print(rig, f"r-{n}", 10000 + n) for n in range(5)]
        by_hand = print_by_hand(rig.register.device, price=500, card=500)
        reads = _Reads(rig)
        start = len(rig.register.commands)

        tape = await rig.service.documents_of_shift(skip=set(ours))

        used = reads.since(start)

    assert [doc.fd for doc in tape.documents] == [opened.first_fd, by_hand]
    assert sorted(reads.headers) == [opened.first_fd, by_hand]
    assert used[BEGIN_READ_DOCUMENT] == 1
    # Beyond the two documents only the FN's last FD was asked for (FF01).
    documents_cost = used[FIND_DOCUMENT] + used[BEGIN_READ_DOCUMENT] + used[0xFF3B]
    assert sum(used.values()) - documents_cost == 1, used


async def test_z_report_reads_its_own_shift_even_after_a_new_one_opened(tmp_path: Path) -> None:
    """Read with the Z's report: its range, close-shift document included, not the new shift."""
    async with agent_rig(tmp_path) as rig:
        await rig.service.connect()
        opened = await rig.service.open_shift()
        first = await _print(rig, "a", 15000)
        by_hand = print_by_hand(rig.register.device, price=700, cash=1000)
        z = await rig.service.close_shift()
        await rig.service.open_shift()
        await _print(rig, "next-shift", 100)

        tape = await rig.service.documents_of_shift(z)

    assert [doc.fd for doc in tape.documents] == [opened.first_fd, first, by_hand, z.last_fd]
    assert [doc.type for doc in tape.documents] == [
        DocumentType.OPEN_SHIFT,
        DocumentType.RECEIPT,
        DocumentType.RECEIPT,
        DocumentType.CLOSE_SHIFT,
    ]
    assert {doc.shift for doc in tape.documents} == {z.shift}


async def test_closed_shift_without_a_report_walks_back_to_its_open_only(
    tmp_path: Path,
) -> None:
    """No shift open: the last shift from its open-shift document, never the one before it."""
    async with agent_rig(tmp_path) as rig:
        await rig.service.connect()
        await rig.service.open_shift()
        await _print(rig, "old", 15000)
        await rig.service.close_shift()
        opened = await rig.service.open_shift()
        by_hand = print_by_hand(rig.register.device, price=300, cash=300)
        z = await rig.service.close_shift()
        reads = _Reads(rig)

        tape = await rig.service.documents_of_shift()

    assert opened.first_fd is not None
    assert [doc.fd for doc in tape.documents] == [opened.first_fd, by_hand, z.last_fd]
    assert tape.first_fd == opened.first_fd
    assert sorted(reads.headers) == [opened.first_fd, by_hand, z.last_fd]


async def test_times_come_back_in_the_registers_zone_with_auto(tmp_path: Path) -> None:
    """A register in +05:45 on a host in any zone: the document's time is the right instant."""
    kathmandu = timezone(timedelta(hours=5, minutes=45))
    async with agent_rig(tmp_path, register_tz=kathmandu, configured_tz=None) as rig:
        await rig.service.connect()
        await rig.service.open_shift()
        by_hand = print_by_hand(rig.register.device, price=300, cash=300)
        tape = await rig.service.documents_of_shift()

    hand = next(doc for doc in tape.documents if doc.fd == by_hand)
    assert hand.issued_at.utcoffset() == timedelta(hours=5, minutes=45)
    assert abs(hand.issued_at - datetime.now(UTC)) < timedelta(minutes=1)
