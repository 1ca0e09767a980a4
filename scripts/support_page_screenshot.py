"""The support page's screenshot for README: a dozen agents with the usual troubles.

Seeds a throwaway SQLite store with agents out of paper, offline, with a shift near its 24
hours, an FN about to expire, an OFD backlog, an unknown receipt and a missing receipt, serves
the cloud's app on a local port and saves what headless chromium shows.

    .venv/bin/python scripts/support_page_screenshot.py [--out docs/images/support-page.png] [--lang en]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiohttp import web
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from agent.contract import ReceiptRequest, ShiftReport
from cloud.api import build_api
from cloud.store import CloudStore
from cloud.web import add_support_page

FN = "9999078900012345"
ZERO = {"cash": "0.00", "card": "0.00", "prepaid": "0.00", "count": 0}


def _health(now: datetime, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "state": "online",
        "boot": 4,
        "seq": 120,
        "register": {"link": "up", "model": "ШТРИХ-М-01Ф", "serial": "00106304", "state": "ready"},
        "shift": {
            "open": True,
            "number": 214,
            "age_s": 5 * 3600.0,
            "closes_at": (now + timedelta(hours=18)).isoformat(),
        },
        "fn": {"serial": FN, "days_left": 288, "unsent_docs": 0},
        "outbox": {"pending": 0, "failed": 0, "unknown": 0},
        "sync": {"pending": 0, "broker": "up"},
    }
    body.update(fields)
    return body


def agents(now: datetime) -> list[tuple[str, str, dict[str, Any]]]:
    ago = lambda **kw: (now - timedelta(**kw)).isoformat()  # noqa: E731
    return [
        ("arena-north", "desk-1", _health(now)),
        (
            "arena-north",
            "desk-2",
            _health(
                now,
                state="degraded",
                register={"link": "up", "model": "ШТРИХ-М-01Ф", "error": "paper_out"},
                outbox={"pending": 2, "oldest_pending_age_s": 140.0, "failed": 0},
                last_error={"code": "paper_out", "message": "paper", "at": ago(minutes=3)},
            ),
        ),
        ("arena-north", "bar", {"state": "offline", "boot": 9}),
        (
            "cyber-lab",
            "desk-1",
            _health(now, shift={"open": True, "number": 88, "age_s": 23.4 * 3600}),
        ),
        (
            "cyber-lab",
            "desk-2",
            _health(
                now,
                fn={
                    "serial": FN,
                    "days_left": 12,
                    "unsent_docs": 3,
                    "oldest_unsent_at": ago(days=7),
                },
            ),
        ),
        (
            "gg-club",
            "desk-1",
            _health(
                now,
                state="degraded",
                line={"stopped": True, "row": "crm-88121", "since": ago(minutes=6)},
                outbox={
                    "pending": 4,
                    "oldest_pending_age_s": 380.0,
                    "failed": 0,
                    "unknown": 1,
                    "unknown_ids": ["crm-88121"],
                },
                last_error={"code": "outcome_unknown", "message": "?", "at": ago(minutes=6)},
            ),
        ),
        (
            "gg-club",
            "desk-2",
            _health(
                now,
                sync={"pending": 37, "oldest_pending_age_s": 1260.0, "broker": "down"},
                last_error={"code": "mqtt_link_down", "message": "down", "at": ago(minutes=21)},
            ),
        ),
        ("pixel", "desk-1", _health(now)),
        (
            "pixel",
            "desk-2",
            _health(now, last_error={"code": "link_down", "message": "x", "at": ago(days=2)}),
        ),
    ]


async def seed(store: CloudStore, now: datetime) -> None:
    for club, agent, health in agents(now):
        await store.record_health(club, agent, health)
        report = ShiftReport.model_validate(
            {
                "kind": "open",
                "shift": 214,
                "fn": FN,
                "opened_at": (now - timedelta(hours=5)).isoformat(),
                "counters": {
                    "sales": ZERO,
                    "refunds": ZERO,
                    "cash_in": "0.00",
                    "cash_out": "0.00",
                    "cash_in_drawer": "0.00",
                    "first_fd": 1,
                    "last_fd": 1,
                },
            }
        )
        await store.record_shift_reports(club, agent, [report])
    missing = ReceiptRequest.model_validate(
        {
            "id": "crm-77410",
            "kind": "sale",
            "category": "service",
            "items": [{"name": "Час игры", "qty": "1", "price": "250.00", "vat": "vat22"}],
            "payments": {"card": "250.00"},
        }
    )
    await store.record_requests("pixel", "desk-1", [missing])
    await store.record_health("arena-north", "bar", {"state": "offline", "boot": 9})


def serve(store_url: str, port_box: list[int], ready: threading.Event) -> None:
    async def main() -> None:
        async with await CloudStore.open(store_url) as store:
            await seed(store, datetime.now(UTC))
            app = add_support_page(build_api(store), store)
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            port_box.append(runner.addresses[0][1])
            ready.set()
            await asyncio.sleep(3600)

    asyncio.run(main())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="docs/images/support-page.png")
    parser.add_argument("--lang", default="en", choices=("en", "ru"))
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        port_box: list[int] = []
        ready = threading.Event()
        threading.Thread(
            target=serve, args=(f"sqlite:///{tmp}/cloud.db", port_box, ready), daemon=True
        ).start()
        ready.wait(30)
        options = webdriver.ChromeOptions()
        options.binary_location = "/usr/bin/chromium"
        for arg in (
            "--headless=new",
            "--no-sandbox",
            "--disable-dev-shm-usage",
            "--window-size=1600,820",
        ):
            options.add_argument(arg)
        driver = webdriver.Chrome(options=options, service=Service("/usr/bin/chromedriver"))
        try:
            driver.get(f"http://127.0.0.1:{port_box[0]}/?lang={args.lang}")
            out = Path(args.out)
            out.parent.mkdir(parents=True, exist_ok=True)
            driver.save_screenshot(str(out))
            print(out)
        finally:
            driver.quit()


if __name__ == "__main__":
    main()
