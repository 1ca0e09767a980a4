"""``fiscal-agent``: run the agent, show its health on one screen, or say what is wrong."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from agent.config import AgentConfig, ConfigError, config_path, load_config
from agent.logging_setup import configure_logging

__all__ = ["main"]

STATUS_TIMEOUT_S = 5.0
UNKNOWN_LIST_MAX = 1000
CLOCK_NOTE_S = 5.0
"""A register clock this far from the host's is worth a note on the status screen."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fiscal-agent", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the agent (the systemd service runs this)")
    run.add_argument("--config", type=Path, help=_CONFIG_HELP)
    status = sub.add_parser("status", help="one-screen local health")
    status.add_argument("--config", type=Path, help=_CONFIG_HELP)
    status.add_argument("--json", action="store_true", help="print the Health JSON as it is")
    doctor = sub.add_parser(
        "doctor",
        help="check the register, its FN and paper, the shift, the disk, the broker and the"
        " service, and say what to do (exit 0 all pass, 1 a warning, 2 a failure)",
    )
    doctor.add_argument(
        "--config",
        type=Path,
        help="agent.toml (default: $FISCAL_AGENT_CONFIG, else /etc/fiscal-agent/agent.toml)",
    )
    doctor.add_argument(
        "--lang", choices=("ru", "en"), help="language (default: [doctor] lang, else LANG)"
    )
    doctor.add_argument("--json", action="store_true", help="the findings as JSON")
    return parser


_CONFIG_HELP = "agent.toml (default: $FISCAL_AGENT_CONFIG, else /etc/fiscal-agent/agent.toml)"


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``fiscal-agent`` console script."""
    args = _parser().parse_args(argv)
    if args.command == "doctor":
        from agent.doctor.run import run_doctor  # noqa: PLC0415 - keeps `run` and `status` light

        return run_doctor(
            config_path=args.config,
            lang=args.lang,
            as_json=args.json,
            env=os.environ,
            out=sys.stdout,
        )
    try:
        config = load_config(config_path(args.config, os.environ), os.environ)
    except ConfigError as exc:
        print(f"fiscal-agent: configuration error: {exc}", file=sys.stderr)  # noqa: T201
        return 2
    if args.command == "run":
        configure_logging(level=config.log.level, fmt=config.log.format)
        from agent.app import run_agent  # noqa: PLC0415 - keeps `status` light
        from agent.outbox.store import OutboxError  # noqa: PLC0415 - keeps `status` light

        try:
            asyncio.run(run_agent(config))
        except OutboxError as exc:
            # A state directory that is read-only or full at start, or a newer schema: say
            # so in one line; systemd restarts the service until the disk takes writes again.
            print(f"fiscal-agent: cannot open the outbox: {exc}", file=sys.stderr)  # noqa: T201
            return 1
        except ConfigError as exc:  # found while building: e.g. a protocol this build lacks
            print(f"fiscal-agent: configuration error: {exc}", file=sys.stderr)  # noqa: T201
            return 2
        return 0
    return _status(config, as_json=args.json)


def _status(config: AgentConfig, *, as_json: bool) -> int:
    base = f"http://{config.http.host}:{config.http.port}/api/v1"
    try:
        health = _get_json(f"{base}/health")
        unknown: list[dict[str, Any]] = []
        if (health.get("outbox") or {}).get("unknown"):
            unknown = _get_json(f"{base}/outbox?state=unknown&limit={UNKNOWN_LIST_MAX}")
    except (urllib.error.URLError, OSError) as exc:
        print(f"agent: not answering at {base} ({exc})")  # noqa: T201
        print("       is the service running?  systemctl status fiscal-agent")  # noqa: T201
        return 1
    if as_json:
        print(json.dumps(health, ensure_ascii=False, indent=2))  # noqa: T201
    else:
        print(render_status(health, unknown))  # noqa: T201
    return 0 if health.get("state") == "online" else 1


def _get_json(url: str) -> Any:  # noqa: ANN401 - JSON of any shape
    with urllib.request.urlopen(url, timeout=STATUS_TIMEOUT_S) as response:  # noqa: S310 - our own http URL
        return json.loads(response.read())


def render_status(health: dict[str, Any], unknown: list[dict[str, Any]] | None = None) -> str:
    """Health as a one-screen summary for a person on site; ``unknown`` rows listed last."""
    reg = health.get("register") or {}
    shift = health.get("shift") or {}
    fn = health.get("fn") or {}
    outbox = health.get("outbox") or {}
    sync = health.get("sync") or {}
    problem = f"   PROBLEM: {reg['error']}" if reg.get("error") else ""
    skew = reg.get("clock_skew_s")
    if skew is not None and abs(skew) >= CLOCK_NOTE_S:
        problem += f"   clock {skew:+.0f} s vs this host"
    zone = f"   tz {reg['utc_offset']} ({reg.get('tz_source')})" if reg.get("utc_offset") else ""
    measured = reg.get("measured_utc_offset")
    if zone and measured and measured != reg["utc_offset"]:
        zone += f", its clock says {measured}"
    lines = [
        (
            f"agent     {health.get('state', '?')}   version {health.get('version', '?')}   "
            f"up {_duration(health.get('uptime_s'))}"
        ),
        (
            f"register  link {reg.get('link', '?')}   {reg.get('model') or ''} "
            f"serial {reg.get('serial') or '?'}   mode {reg.get('mode')}{zone}{problem}"
        ),
    ]
    if shift.get("open"):
        lines.append(
            f"shift     #{shift.get('number')} open {_duration(shift.get('age_s'))}, "
            f"guard closes it at {shift.get('closes_at')}"
        )
    else:
        lines.append(f"shift     closed (last #{shift.get('number')})")
    lines.append(
        f"FN        {fn.get('serial') or '?'}   valid until {fn.get('valid_until')} "
        f"({fn.get('days_left')} days)   unsent to OFD {fn.get('unsent_docs')}"
        + (f" since {fn['oldest_unsent_at']}" if fn.get("oldest_unsent_at") else "")
    )
    lines.append(
        f"outbox    {outbox.get('pending', 0)} waiting"
        + (
            f" (oldest {_duration(outbox.get('oldest_pending_age_s'))})"
            if outbox.get("oldest_pending_age_s")
            else ""
        )
        + f", {outbox.get('failed', 0)} failed, {outbox.get('unknown', 0)} unknown"
    )
    line = health.get("line") or {}
    if line.get("stopped"):
        lines.append(
            f"LINE      STOPPED since {line.get('since')} behind {line.get('row')}: "
            f"{line.get('reason')} (printing resumes once the register answers for it)"
        )
    broker = f"   broker {sync['broker']}" if sync.get("broker") else ""
    oldest = sync.get("oldest_pending_age_s")
    lines.append(
        f"sync      {sync.get('pending', 0)} waiting"
        + (f" (oldest {_duration(oldest)})" if oldest else "")
        + broker
    )
    error = health.get("last_error")
    if error:
        lines.append(f"last error {error.get('code')}: {error.get('message')} at {error.get('at')}")
    if unknown:
        lines.append("UNKNOWN   a person must settle these (POST /api/v1/receipts/{id}/resolve):")
        lines.extend(
            f"  {row.get('id')}  since {row.get('accepted_at')}  "
            f"{(row.get('error') or {}).get('message', '')}"
            for row in unknown
        )
    return "\n".join(lines)


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    total = int(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"
