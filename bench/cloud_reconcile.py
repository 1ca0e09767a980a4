"""The reconciliation of one large shift, in pure Python.

Builds a shift of N CRM requests (sales and refunds, cash with change, card, prepaid), their
results with a few left out (crm_only), a few documents printed by hand (register_only) and
app transactions, then times :func:`cloud.reconcile.reconcile` alone (best of ``--repeat``)
and, separately, writing the result as the API's JSON body (:func:`to_contract`).

    .venv/bin/python bench/cloud_reconcile.py [--rows 100000] [--repeat 5]

The last line of stdout is a JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cloud.reconcile import reconcile
from cloud.reconcile_contract import to_contract
from cloud.reconcile_model import (
    AppTransaction,
    CrmRequest,
    Fiscal,
    Kind,
    Kopecks,
    PaymentCounters,
    Payments,
    RegisterDocument,
    RequestOutcome,
    ShiftCounters,
    ShiftWindow,
)

FN = "9289000100346765"
OPENED = datetime(2026, 1, 5, 9, 0, tzinfo=timezone(timedelta(hours=3)))


def build(rows: int):
    shift_len = timedelta(hours=23)
    step = shift_len / (rows + 1)
    requests, results, docs, txs = [], [], [], []
    sales = [0, 0, 0]
    refunds = [0, 0, 0]
    for i in range(rows):
        when = OPENED + step * (i + 1)
        total = 10_000 + (i * 7919) % 90_001
        kind = Kind.REFUND if i % 50 == 0 else Kind.SALE
        mode = i % 3
        if mode == 0:
            payments = Payments(cash=Kopecks(total + (i % 5) * 100))  # change
            part = (0, total)
        elif mode == 1:
            payments = Payments(card=Kopecks(total))
            part = (1, total)
        else:
            payments = Payments(prepaid=Kopecks(total))
            part = (2, total)
        request_id = f"crm-{i:08d}"
        requests.append(
            CrmRequest(
                club="club-1",
                agent="desk-1",
                id=request_id,
                kind=kind,
                payments=payments,
                total=Kopecks(total),
                received_at=when,
                paid_at=when if i % 2 else None,
            )
        )
        if i % 1000 == 999:  # never printed
            continue
        fd = 100 + i
        results.append(
            RequestOutcome(
                id=request_id,
                status="done",
                fiscal=Fiscal(
                    fn=FN,
                    fd=fd,
                    fp=1_000_000_000 + i,
                    total=Kopecks(total),
                    issued_at=when + timedelta(seconds=2),
                    doc_id=f"{FN}:{fd}",
                    shift=12,
                    mark=request_id,
                ),
            )
        )
        side = refunds if kind is Kind.REFUND else sales
        side[part[0]] += part[1]
    for j in range(rows // 1000):
        docs.append(
            RegisterDocument(
                fn=FN,
                fd=10_000_000 + j,
                type="receipt",
                shift=12,
                issued_at=OPENED + timedelta(minutes=j),
                kind=Kind.SALE,
                total=Kopecks(5_000),
            )
        )
        sales[0] += 5_000
        txs.append(
            AppTransaction(
                id=f"app-{j}",
                kind=Kind.SALE,
                payments=Payments(card=Kopecks(30_000)),
                at=OPENED + timedelta(minutes=j),
            )
        )

    def counters(values):
        return PaymentCounters(cash=values[0], card=values[1], prepaid=values[2], count=0)

    shift = ShiftWindow(
        club="club-1",
        agent="desk-1",
        number=12,
        opened_at=OPENED,
        closed_at=OPENED + shift_len,
        fn=FN,
        counters=ShiftCounters(sales=counters(sales), refunds=counters(refunds)),
    )
    return shift, requests, results, docs, txs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    shift, requests, results, docs, txs = build(args.rows)
    template = "https://check.ofd.example/rec?fn={fn}&i={fd}&fp={fp}&s={sum}&t={time}"
    best = float("inf")
    rec = None
    for _ in range(args.repeat):
        start = time.perf_counter()
        rec = reconcile(shift, requests, results, docs, txs, ofd_url_template=template)
        best = min(best, time.perf_counter() - start)
    assert rec is not None
    start = time.perf_counter()
    body = to_contract(rec)
    json_s = time.perf_counter() - start

    statuses: dict[str, int] = {}
    for row in rec.rows:
        statuses[row.status.value] = statuses.get(row.status.value, 0) + 1
    print(f"reconcile {args.rows} requests: best {best * 1000:.0f} ms of {args.repeat}")
    print(f"to_contract (the JSON body): {json_s * 1000:.0f} ms")
    print(f"rows {statuses}; difference {body['totals']['difference']}")
    print(
        json.dumps(
            {
                "rows": args.rows,
                "reconcile_s": round(best, 4),
                "to_contract_s": round(json_s, 4),
                "statuses": statuses,
                "difference": body["totals"]["difference"],
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
