"""``fiscal-cloud``: ``run`` serves the API; ``reconcile`` prints a shift's table from the store.

``run`` ingests MQTT into the store (from ``[mqtt] url``, or a broker of its own) and serves
the API (cloud.app). ``--config`` defaults to ``$FISCAL_CLOUD_CONFIG``, else
/etc/fiscal-cloud/cloud.toml. Exit status 2 is a configuration error or a broker of its own
that cannot run, 1 a shift that cannot be found.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
from pathlib import Path

from cloud.app import run_cloud
from cloud.config import CONFIG_PATH_ENV, ConfigError, load_config
from cloud.local_broker import LocalBrokerError
from cloud.reconcile_model import Reconciliation
from cloud.reconcile_render import render_reconciliations
from cloud.shift_reconciliation import NoShift, club_agents, load_reconciliation
from cloud.store import CloudStore, StoreError

__all__ = ["main"]

DEFAULT_CONFIG = Path("/etc/fiscal-cloud/cloud.toml")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fiscal-cloud")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="serve the cloud API over the store")
    run.add_argument("--config", type=Path)
    rec = commands.add_parser("reconcile", help="print one shift's reconciliation")
    rec.add_argument("--config", type=Path)
    rec.add_argument("--club", required=True)
    rec.add_argument("--agent", help="one agent (default: every agent of the club)")
    rec.add_argument("--shift", type=int, help="shift number (default: current, else last)")
    rec.add_argument("--problems-only", action="store_true", help="leave out matched rows")
    rec.add_argument("--max-rows", type=int, help="show at most this many rows per shift")
    return parser


def _err(text: str) -> None:
    print(f"fiscal-cloud: {text}", file=sys.stderr)  # noqa: T201


async def _reconcile(args: argparse.Namespace, store_url: str, ofd: str | None) -> int:
    async with await CloudStore.open(store_url) as store:
        agents = [args.agent] if args.agent else await club_agents(store, args.club)
        recs: list[Reconciliation] = []
        for agent in agents:
            try:
                recs.append(
                    await load_reconciliation(
                        store, args.club, agent, args.shift, ofd_url_template=ofd
                    )
                )
            except NoShift as exc:
                if args.agent:
                    _err(str(exc))
                    return 1
    text = render_reconciliations(recs, problems_only=args.problems_only, max_rows=args.max_rows)
    sys.stdout.write(text)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns the exit status."""
    args = _parser().parse_args(argv)
    path = args.config or Path(os.environ.get(CONFIG_PATH_ENV) or DEFAULT_CONFIG)
    try:
        config = load_config(path, os.environ)
        if args.command == "run":
            config.check_access()
    except ConfigError as exc:
        _err(f"configuration: {exc}")
        return 2
    if args.command == "reconcile":
        try:
            return asyncio.run(_reconcile(args, config.store.url, config.ofd.url_template))
        except StoreError as exc:
            _err(f"store: {exc}")
            return 2
    with contextlib.suppress(KeyboardInterrupt):
        try:
            asyncio.run(run_cloud(config))
        except LocalBrokerError as exc:
            _err(f"broker: {exc}")
            return 2
    return 0
