"""Kill -9 the process that writes the outbox: every acknowledged id is in the file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from agent.outbox.store import Outbox

IDS_BEFORE_KILL = 40
ROUNDS = 3
DEADLINE_S = 30.0

# The child acknowledges an id (prints it) only after submit_receipt returned, exactly as an
# adapter sends PUBACK or 202 only after the commit.
CHILD = """
import sys
from datetime import UTC, datetime
from pathlib import Path

from agent.domain.money import Kopecks, Micros
from agent.domain.receipt import (
    Cashier, Category, Item, PaymentMethod, Payments, PaymentSubject, Receipt, ReceiptKind,
    TaxSystem, VatRate,
)
from agent.outbox.store import Outbox

receipt = Receipt(
    kind=ReceiptKind.SALE, category=Category.GOODS, tax_system=TaxSystem.USN_INCOME,
    items=(Item(name="Кофе", qty=Micros(1_000_000), price=Kopecks(15000), vat=VatRate.NONE,
                subject=PaymentSubject.COMMODITY, method=PaymentMethod.FULL_SETTLEMENT),),
    payments=Payments(cash=Kopecks(15000)), cashier=Cashier(name="Иванов"),
)
outbox = Outbox(Path(sys.argv[1]), clock=lambda: datetime.now(UTC), max_pending=1_000_000)
prefix = sys.argv[2]
index = 0
while True:
    row_id = f"{prefix}-{index}"
    submission = outbox.submit_receipt(row_id, receipt, "fp")
    assert submission.status.value == "accepted", submission.status
    sys.stdout.write(row_id + "\\n")
    sys.stdout.flush()
    index += 1
"""


def _run_and_kill(path: Path, prefix: str) -> list[str]:
    """Start a writer, read acknowledged ids, SIGKILL it mid-stream; return every ack seen."""
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path), prefix],
        stdout=subprocess.PIPE,
        text=True,
    )
    acked: list[str] = []
    deadline = time.monotonic() + DEADLINE_S
    try:
        assert child.stdout is not None
        while len(acked) < IDS_BEFORE_KILL:
            assert time.monotonic() < deadline, "the writer did not acknowledge in time"
            line = child.stdout.readline()
            assert line, f"the writer exited early with {child.poll()}"
            acked.append(line.strip())
        os.kill(child.pid, signal.SIGKILL)
        acked.extend(line.strip() for line in child.stdout if line.strip())
    finally:
        if child.poll() is None:
            child.kill()
        child.wait()
        if child.stdout is not None:
            child.stdout.close()
    assert child.returncode == -signal.SIGKILL
    return acked


@pytest.mark.sim
@pytest.mark.timeout(120)
def test_store_sigkill_loses_no_acknowledged_id(tmp_path: Path) -> None:
    """Three writers killed with SIGKILL mid-stream: every id they acknowledged is stored."""
    path = tmp_path / "agent.sqlite3"
    acked: list[str] = []
    for round_number in range(ROUNDS):
        acked.extend(_run_and_kill(path, f"round{round_number}"))
    outbox = Outbox(path, clock=lambda: datetime.now(UTC), max_pending=1_000_000)
    try:
        missing = [row_id for row_id in acked if outbox.get(row_id) is None]
        stats = outbox.stats()
    finally:
        outbox.close()
    assert len(acked) >= ROUNDS * IDS_BEFORE_KILL
    assert missing == []
    # At most one row per writer was committed but not yet acknowledged when it died.
    assert len(acked) <= stats.pending <= len(acked) + ROUNDS
