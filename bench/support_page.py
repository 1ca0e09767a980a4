"""The support page with many agents: how long ``GET /`` and its refresh take.

Seeds a SQLite store with ``--agents`` agents in clubs of five, each with a health (a few
degraded, out of paper, offline), an open shift and ``--payments`` payments in it (one left
without a receipt every tenth agent), then serves the cloud's app (the API and the page) on a
local port and times ``GET /`` and ``GET /board`` over HTTP with the support login, best and
median of ``--repeat``. Not a timed test: a figure for README, "Benchmark".

    .venv/bin/python bench/support_page.py [--agents 200] [--payments 20] [--repeat 5]

The last line of stdout is a JSON object with every figure.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp
from aiohttp import web

from agent.contract import ReceiptRequest, ReceiptResult, ShiftReport
from cloud.api import build_api
from cloud.config import AuthConfig
from cloud.store import CloudStore
from cloud.web import add_support_page

TOKEN = "support-token-bench-0123456789"  # noqa: S105 - a local benchmark token
FN = "9999078900012345"
_ZERO = {"cash": "0.00", "card": "0.00", "prepaid": "0.00", "count": 0}


def _request(request_id: str, kopecks: int) -> ReceiptRequest:
    price = f"{kopecks // 100}.{kopecks % 100:02d}"
    return ReceiptRequest.model_validate(
        {
            "id": request_id,
            "kind": "sale",
            "category": "goods",
            "items": [{"name": "Кофе", "qty": "1", "price": price, "vat": "vat22"}],
            "payments": {"cash": price},
        }
    )


def _done(request_id: str, fd: int, kopecks: int, at: datetime) -> ReceiptResult:
    price = f"{kopecks // 100}.{kopecks % 100:02d}"
    return ReceiptResult.model_validate(
        {
            "id": request_id,
            "status": "done",
            "fiscal": {
                "fn": FN,
                "fd": fd,
                "fp": 4000000000 + fd,
                "shift": 1,
                "number": fd,
                "issued_at": at.isoformat(),
                "total": price,
                "qr": f"t=20260105T1500&s={price}&fn={FN}&i={fd}&fp={4000000000 + fd}&n=1",
                "doc_id": f"{FN}:{fd}",
                "mark": request_id,
            },
        }
    )


def _health(index: int, now: datetime) -> dict[str, object]:
    health: dict[str, object] = {
        "state": "online",
        "boot": 1,
        "seq": 1,
        "register": {"link": "up", "model": "ШТРИХ-М-01Ф", "serial": f"{index:08d}"},
        "shift": {"open": True, "number": 1, "age_s": 3600.0 + index * 300},
        "fn": {"days_left": 400 - index, "unsent_docs": index % 4},
        "outbox": {"pending": 0, "failed": 0, "unknown": 0},
        "sync": {"pending": 0, "broker": "up"},
    }
    if index % 17 == 0:
        health["state"] = "degraded"
        health["register"] = {"link": "up", "model": "ШТРИХ-М-01Ф", "error": "paper_out"}
        health["last_error"] = {"code": "paper_out", "message": "paper", "at": now.isoformat()}
    if index % 23 == 0:
        return {"state": "offline", "boot": 1}
    return health


async def seed(store: CloudStore, agents: int, payments: int) -> None:
    now = datetime.now(UTC)
    opened = now - timedelta(hours=2)
    for index in range(agents):
        club, agent = f"club-{index // 5:03d}", f"desk-{index % 5}"
        report = ShiftReport.model_validate(
            {
                "kind": "open",
                "shift": 1,
                "fn": FN,
                "opened_at": opened.isoformat(),
                "counters": {
                    "sales": _ZERO,
                    "refunds": _ZERO,
                    "cash_in": "0.00",
                    "cash_out": "0.00",
                    "cash_in_drawer": "0.00",
                    "first_fd": 1,
                    "last_fd": 1,
                },
            }
        )
        await store.record_shift_reports(club, agent, [report])
        requests = [_request(f"{agent}-{n}", 10_000 + n) for n in range(payments)]
        await store.record_requests(club, agent, requests)
        printed = requests[:-1] if index % 10 == 0 else requests
        results = [
            _done(r.id, 100 + n, 10_000 + n, opened + timedelta(minutes=n))
            for n, r in enumerate(printed)
        ]
        await store.record_results(club, agent, results)
        await store.record_health(club, agent, _health(index, now))


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--payments", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        async with await CloudStore.open(f"sqlite:///{tmp}/cloud.db") as store:
            started = time.perf_counter()
            await seed(store, args.agents, args.payments)
            seed_s = time.perf_counter() - started
            auth = AuthConfig(support_token=TOKEN)
            app = add_support_page(build_api(store, auth=auth), store, auth=auth)
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            port = runner.addresses[0][1]
            login = base64.b64encode(f"bench:{TOKEN}".encode()).decode()
            figures: dict[str, object] = {"agents": args.agents, "payments": args.payments}
            async with aiohttp.ClientSession(headers={"Authorization": f"Basic {login}"}) as http:
                for path in ("/", "/board"):
                    times = []
                    size = 0
                    for _ in range(args.repeat):
                        begin = time.perf_counter()
                        async with http.get(f"http://127.0.0.1:{port}{path}") as response:
                            body = await response.read()
                            assert response.status == 200, response.status
                        times.append(time.perf_counter() - begin)
                        size = len(body)
                    rows = body.count(b"data-agent=")
                    assert rows == args.agents, (path, rows)
                    name = "page" if path == "/" else "refresh"
                    figures[f"{name}_best_s"] = round(min(times), 4)
                    figures[f"{name}_median_s"] = round(statistics.median(times), 4)
                    figures[f"{name}_bytes"] = size
                    print(
                        f"GET {path}: best {min(times):.3f} s, median {statistics.median(times):.3f} s, {size} bytes, {rows} agents"
                    )
            await runner.cleanup()
    figures["seed_s"] = round(seed_s, 2)
    print(json.dumps(figures))


if __name__ == "__main__":
    asyncio.run(main())
