"""``python -m cloud.ingest --mqtt URL --store URL --client-id ID``: the ingest alone.

The cloud's CLI (``fiscal-cloud``) is the way to run it in production; this entry point runs
the ingest by itself (the tests kill it mid-load). SIGTERM and SIGINT stop it cleanly.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
from pathlib import Path

from cloud.ingest.consumer import IngestSettings
from cloud.ingest.service import serve
from mqtt_link import LinkSettings


def main(argv: list[str] | None = None) -> None:
    """Parse the arguments and run until SIGTERM or SIGINT."""
    parser = argparse.ArgumentParser(prog="python -m cloud.ingest")
    parser.add_argument("--mqtt", required=True, help="mqtt://host[:port]")
    parser.add_argument("--store", required=True, help="sqlite:///path or postgresql://...")
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--batch-window-ms", type=float, default=20.0)
    parser.add_argument("--stats-file", type=Path)
    parser.add_argument(
        "--plain",
        action="store_true",
        help="plain subscriptions over MQTT 3.1.1 (fiscal-cloud's default, [mqtt] shared = false);"
        " without it, shared ones on MQTT 5",
    )
    args = parser.parse_args(argv)
    settings = IngestSettings(
        batch_size=args.batch_size, batch_window_s=args.batch_window_ms / 1000
    )
    asyncio.run(_run(args, settings))


async def _run(args: argparse.Namespace, settings: IngestSettings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    stats = await serve(
        LinkSettings(url=args.mqtt, client_id=args.client_id, backoff_min_s=0.2, backoff_max_s=5.0),
        args.store,
        stop=stop,
        settings=settings,
        shared=not args.plain,
    )
    if args.stats_file is not None:
        await asyncio.to_thread(
            args.stats_file.write_text, json.dumps(stats.as_dict()), encoding="utf-8"
        )


if __name__ == "__main__":
    main()
