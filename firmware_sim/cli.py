"""``firmware-sim``: serve the simulated register, or print its FN tape.

stdout carries only what scripts read (the port line, the control line, the tape); logs go
to stderr through structlog.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import re
import sys
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import structlog

from firmware_sim.atol import DEFAULT_ATOL_PORT
from firmware_sim.link import BYTE_TIMEOUT_S
from firmware_sim.server import DEFAULT_TCP_PORT, ServeParams, run
from firmware_sim.smartone import DEFAULT_SMARTONE_PORT
from firmware_sim.state import (
    DEFAULT_TAX_TABLE,
    MSK,
    DeviceConfig,
    TaxRate,
    format_money,
    tape_entry,
)
from firmware_sim.store import StateStore, StoreError

if TYPE_CHECKING:
    from firmware_sim.smartone.settings import SmartOneSettings

__all__ = ["main"]

DEFAULT_FN_SERIAL = "9999078900012345"
DEFAULT_SERIAL = "0012345678"
FN_LIFE = timedelta(days=3 * 365)  # an FN-36 bought today
EXIT_USAGE = 2
BAKU = timezone(timedelta(hours=4), "AZT")
"""The SmartOne cash box's default time zone (Azerbaijan, UTC+4, no DST)."""


def _configure_logging(level: str, fmt: str) -> None:
    is_json = fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())
    numeric = logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer()
        if is_json
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    logging.basicConfig(level=numeric, stream=sys.stderr, format="%(name)s %(message)s")


def _host_port(value: str, *, default_port: int | None = None) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep:
        if default_port is None:
            raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {value!r}")
        return value, default_port
    if not host or not port.isdigit() or int(port) > 0xFFFF:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {value!r}")
    return host.strip("[]"), int(port)


def _tcp_address(value: str) -> tuple[str, int]:
    return _host_port(value, default_port=DEFAULT_TCP_PORT)


def _atol_address(value: str) -> tuple[str, int]:
    return _host_port(value, default_port=DEFAULT_ATOL_PORT)


def _smartone_address(value: str) -> tuple[str, int]:
    return _host_port(value, default_port=DEFAULT_SMARTONE_PORT)


def _tax_percents(value: str) -> frozenset[int]:
    try:
        percents = frozenset(int(part) for part in value.split(",") if part.strip())
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"expected percents x100 such as 1800,0: {value!r}"
        ) from exc
    if not percents or min(percents) < 0:
        raise argparse.ArgumentTypeError(f"expected percents x100 such as 1800,0: {value!r}")
    return percents


def _tz(value: str) -> tzinfo:
    match = re.fullmatch(r"([+-])(\d{2}):(\d{2})", value)
    if match:
        sign = 1 if match[1] == "+" else -1
        return timezone(sign * timedelta(hours=int(match[2]), minutes=int(match[3])))
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise argparse.ArgumentTypeError(f"unknown time zone {value!r}") from exc


def _tax_table(path: str) -> tuple[TaxRate, ...]:
    try:
        rows = json.loads(Path(path).read_text(encoding="utf-8"))
        return tuple(
            TaxRate(index=pos, code=row["code"], name=row["name"])
            for pos, row in enumerate(rows, start=1)
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise argparse.ArgumentTypeError(f"bad tax table {path}: {exc}") from exc


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="firmware-sim", description="A software ШТРИХ-М-01Ф fiscal register with its FN."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser(
        "serve", help="serve the register on a pty, a TCP port or as ATOL's web server"
    )
    where = serve.add_mutually_exclusive_group(required=True)
    where.add_argument("--pty", action="store_true", help="serve on a new pseudo-terminal")
    where.add_argument(
        "--tcp", type=_tcp_address, metavar="HOST[:PORT]", help="serve on TCP (port 7778, 0 = any)"
    )
    where.add_argument(
        "--atol-web",
        type=_atol_address,
        metavar="HOST[:PORT]",
        help="serve ATOL driver v10's web server API instead (port 16732, 0 = any)",
    )
    where.add_argument(
        "--smartone",
        type=_smartone_address,
        metavar="HOST[:PORT]",
        help="serve the SmartOne (Azsmart e-kassa) cash box's HTTP API instead (port 8008, "
        "0 = any); needs --merchant-id",
    )
    serve.add_argument("--control", type=_host_port, metavar="HOST:PORT", help="control API")
    serve.add_argument("--state", type=Path, metavar="FILE", help="state file (default: memory)")
    serve.add_argument(
        "--shift-age", type=float, metavar="SECONDS", help="start with an aged shift"
    )
    serve.add_argument("--print-ms", type=int, default=0, metavar="N", help="printing time")
    serve.add_argument("--fn-serial", help=f"FN serial, 16 digits (default {DEFAULT_FN_SERIAL})")
    serve.add_argument("--serial", help=f"register serial (default {DEFAULT_SERIAL})")
    serve.add_argument(
        "--fn-valid-until", type=date.fromisoformat, metavar="YYYY-MM-DD", help="FN expiry"
    )
    serve.add_argument("--inn", default="7700000000", help="the user's INN shown by 0x11")
    serve.add_argument(
        "--tz",
        type=_tz,
        help="register time zone (+03:00, IANA; default Moscow, +04:00 with --smartone)",
    )
    serve.add_argument("--tax-table", type=_tax_table, metavar="FILE", help="JSON tax table")
    serve.add_argument(
        "--tax-mode",
        type=int,
        choices=range(4),
        metavar="N",
        help="tax mode of a new state (table 1 field 14): 0 the register computes VAT, "
        "1 it signs the host's sums; 2, 3 as 0 (default 0)",
    )
    serve.add_argument("--paper-out", action="store_true", help="start without paper")
    serve.add_argument("--answer-delay-ms", type=int, default=0, metavar="N", help="slow answers")
    serve.add_argument(
        "--byte-timeout-ms", type=int, default=int(BYTE_TIMEOUT_S * 1000), metavar="N"
    )
    smartone = serve.add_argument_group("SmartOne cash box (--smartone)")
    smartone.add_argument(
        "--merchant-id",
        metavar="ID",
        help="the merchant id every request's signature is checked with: exactly 32 hex "
        "characters (required with --smartone)",
    )
    smartone.add_argument(
        "--tax-percents",
        type=_tax_percents,
        metavar="P,P",
        help="tax percents x100 the cash box allows, others answer 12 (default 1800,0)",
    )
    smartone.add_argument(
        "--refuse-z-with-cash",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="/close_shift answers 27 while the drawer holds cash (default on)",
    )
    smartone.add_argument(
        "--refuse-empty-z",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="/close_shift answers 26 after a shift with no transactions (default on)",
    )
    serve.add_argument("--log-level", default="info", help="debug shows every frame in hex")
    serve.add_argument("--log-format", choices=("auto", "json", "console"), default="auto")

    tape = commands.add_parser("tape", help="print the FN tape as JSON lines")
    tape.add_argument("--state", type=Path, required=True, metavar="FILE")
    tape.add_argument("--all", action="store_true", help="also cash in/out (not FN documents)")
    return parser


def _serve(args: argparse.Namespace) -> int:
    if args.shift_age is not None and args.shift_age < 0:
        sys.stderr.write("firmware-sim: --shift-age must not be negative\n")
        return EXIT_USAGE
    try:
        config = DeviceConfig(
            fn_serial=args.fn_serial or DEFAULT_FN_SERIAL,
            serial=args.serial or DEFAULT_SERIAL,
            fn_valid_until=args.fn_valid_until or (datetime.now(UTC).date() + FN_LIFE),
            print_time_s=max(args.print_ms, 0) / 1000,
            tax_rates=args.tax_table or DEFAULT_TAX_TABLE,
            tz=args.tz or (BAKU if args.smartone else MSK),
            inn=args.inn,
        )
    except ValueError as exc:
        sys.stderr.write(f"firmware-sim: {exc}\n")
        return EXIT_USAGE
    params = ServeParams(
        config=config,
        pty=args.pty,
        tcp=args.tcp,
        atol_web=args.atol_web,
        control=args.control,
        state_path=args.state,
        shift_age_s=args.shift_age,
        paper_out=args.paper_out,
        answer_delay_ms=max(args.answer_delay_ms, 0),
        byte_timeout_s=max(args.byte_timeout_ms, 1) / 1000,
        explicit_identity=bool(args.fn_serial or args.serial),
        tax_mode=args.tax_mode,
    )
    smartone = None
    if args.smartone is not None:
        smartone = _smartone_settings(args)
        if smartone is None:
            return EXIT_USAGE
    _configure_logging(args.log_level, args.log_format)
    try:
        return asyncio.run(_front_end(params, smartone, args.smartone))
    except StoreError as exc:
        sys.stderr.write(f"firmware-sim: {exc}\n")
        return EXIT_USAGE


async def _front_end(
    params: ServeParams, smartone: SmartOneSettings | None, address: tuple[str, int] | None
) -> int:
    """Serve the front end asked for: SmartOne, ATOL's web server or the Shtrih wire."""
    if smartone is not None and address is not None:
        from firmware_sim.smartone.serve import run_smartone  # noqa: PLC0415 - aiohttp

        return await run_smartone(params, smartone, address)
    if params.atol_web is not None:
        from firmware_sim.atol.serve import run_atol  # noqa: PLC0415 - aiohttp when serving

        return await run_atol(params)
    return await run(params)


def _smartone_settings(args: argparse.Namespace) -> SmartOneSettings | None:
    """The cash box's settings, or None (said on stderr) when the merchant id is wrong."""
    from firmware_sim.smartone.settings import SmartOneSettings  # noqa: PLC0415

    if not args.merchant_id:
        sys.stderr.write("firmware-sim: --smartone needs --merchant-id (32 hex characters)\n")
        return None
    try:
        settings = SmartOneSettings(
            merchant_id=args.merchant_id,
            refuse_z_with_cash=args.refuse_z_with_cash,
            refuse_empty_z=args.refuse_empty_z,
        )
    except ValueError as exc:
        sys.stderr.write(f"firmware-sim: --merchant-id: {exc}\n")
        return None
    if args.tax_percents is not None:
        settings.tax_percents = args.tax_percents
    return settings


def _tape(args: argparse.Namespace) -> int:
    if not args.state.exists():
        sys.stderr.write(f"firmware-sim: no state file {args.state}\n")
        return EXIT_USAGE
    from firmware_sim.smartone.tape import tape_fields  # noqa: PLC0415 - SmartOne only

    by_fd, by_movement = tape_fields(args.state)
    store = StateStore(args.state, read_only=True)
    try:
        entries: list[tuple[datetime, int, dict[str, Any]]] = [
            (doc.issued_at, 0, tape_entry(doc) | by_fd.get(doc.fd, {})) for doc in store.documents()
        ]
        if args.all:
            entries += [
                (
                    move.at,
                    1,
                    {
                        "type": f"cash_{move.direction}",
                        "number": move.number,
                        "total": format_money(move.amount),
                        "shift": move.shift,
                        "issued_at": move.at.isoformat(),
                    }
                    | by_movement.get(move.number, {}),
                )
                for move in store.cash_movements()
            ]
            entries.sort(key=lambda entry: (entry[0], entry[1]))
    finally:
        store.close()
    for _, _, entry in entries:
        sys.stdout.write(json.dumps(entry, ensure_ascii=False) + "\n")
    sys.stdout.flush()
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``firmware-sim`` console script."""
    args = _parser().parse_args(argv)
    if args.command == "serve":
        return _serve(args)
    return _tape(args)


if __name__ == "__main__":
    sys.exit(main())
