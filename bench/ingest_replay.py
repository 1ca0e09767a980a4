"""The ingest's own cost per result, without a broker: deliveries replayed into a SQLite store.

    .venv/bin/python bench/ingest_replay.py [--src DIR] [--results 20000] [--repeat 5]

``Ingest.run`` (cloud.ingest.consumer) reads N done results (bench/cloud_seed.py, the bodies
bench/cloud_ingest.py publishes) from a stand-in link that hands them out in bursts of 500,
writes them into a fresh SQLite store and acknowledges each; the CPU time of this process
(every thread: the validation, the rows, SQLAlchemy, aiosqlite's thread and SQLite itself) and
the wall time per result, best of ``--repeat``. No broker and no paho: on a machine shared
with other work this is the steadier figure for comparing two versions of the ingest's code
(``--src``: another checkout's, e.g. main's from ``git archive``), in alternation.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any


def _load(src: Path) -> dict[str, Any]:
    sys.path.insert(0, str(src))
    from bench.cloud_seed import result_payloads  # noqa: PLC0415 - from the tree under test
    from cloud.ingest.consumer import Ingest  # noqa: PLC0415
    from cloud.store import CloudStore  # noqa: PLC0415
    from mqtt_link import Incoming, LinkClosed, Protocol  # noqa: PLC0415

    return {
        "result_payloads": result_payloads,
        "Ingest": Ingest,
        "CloudStore": CloudStore,
        "Incoming": Incoming,
        "LinkClosed": LinkClosed,
        "Protocol": Protocol,
    }


class _Link:
    """What Ingest uses of an MqttLink: deliveries in bursts of ``burst``, acks counted."""

    def __init__(self, messages: list[Any], closed: type[Exception], protocol: object) -> None:
        self._messages = messages
        self._closed = closed
        self._next = 0
        self.burst = 500
        self.acked = 0
        self.settings = SimpleNamespace(client_id="replay", subscriptions=())
        self.protocol = protocol

    def add_on_connect(self, _callback: object) -> None:
        return

    async def receive(self) -> Any:
        if self._next >= len(self._messages):
            raise self._closed("replay")
        await asyncio.sleep(0)  # a delivery arrives on a later pass of the loop
        message = self._messages[self._next]
        self._next += 1
        return message

    @property
    def pending(self) -> int:
        return min(self.burst, len(self._messages) - self._next)

    def receive_ready(self, limit: int) -> list[Any]:
        if self._next >= len(self._messages):
            raise self._closed("replay")
        ready = self._messages[self._next : self._next + min(limit, self.burst)]
        self._next += len(ready)
        return ready

    def ack(self, _message: object) -> bool:
        self.acked += 1
        return True


@contextlib.contextmanager
def _store_url(postgres: bool) -> Iterator[str]:
    """A fresh store: a SQLite file, or a throwaway database on the local PostgreSQL."""
    if not postgres:
        with tempfile.TemporaryDirectory(prefix="ingest-replay-") as tmp:
            yield f"sqlite:///{tmp}/cloud.db"
        return
    from tests.support.postgres import postgres_server, throwaway_database  # noqa: PLC0415

    with postgres_server() as server:
        if isinstance(server, str):
            raise SystemExit(f"no PostgreSQL: {server}")
        with throwaway_database(server) as url:
            yield url


async def _once(tree: dict[str, Any], messages: list[Any], url: str) -> tuple[float, float, int]:
    async with await tree["CloudStore"].open(url) as store:
        link = _Link(messages, tree["LinkClosed"], tree["Protocol"].V311)
        ingest = tree["Ingest"](link, store)
        cpu, wall = time.process_time(), time.perf_counter()
        await ingest.run()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        if link.acked != len(messages):
            raise RuntimeError(f"{link.acked} of {len(messages)} acknowledged")
        return cpu, wall, int(ingest.stats.batches)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--results", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="a throwaway database on the local PostgreSQL (CPU: this process's only)",
    )
    args = parser.parse_args()
    tree = _load(args.src.resolve())
    payloads = tree["result_payloads"](args.results, 100, 3)
    messages = [
        tree["Incoming"](
            topic=topic,
            payload=body,
            mid=index % 65_535 + 1,
            qos=1,
            retain=False,
            duplicate=False,
            connection=1,
        )
        for index, (topic, body) in enumerate(payloads)
    ]
    runs = []
    for _ in range(args.repeat):
        with _store_url(args.postgres) as url:
            runs.append(asyncio.run(_once(tree, messages, url)))
    cpu = min(run[0] for run in runs) / len(messages) * 1e6
    wall = min(run[1] for run in runs) / len(messages) * 1e6
    print(
        f"{args.src} ({'postgresql' if args.postgres else 'sqlite'}): best of {args.repeat}: {cpu:.1f} us CPU, {wall:.1f} us wall a result "
        f"({runs[0][2]} batches)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
