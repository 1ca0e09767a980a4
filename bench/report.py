"""Figures of one benchmark run: a compact table with the goals, and one JSON line."""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass

from bench.agent_phase import AgentRun
from bench.driver_phase import DriverRun
from bench.procfs import TICKS_PER_S

__all__ = ["Report", "figures", "print_report"]

KIB = 1024
MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Report:
    """The measured runs and the short wire-counting runs (simulator at debug)."""

    agent: AgentRun
    driver: DriverRun
    agent_wire: AgentRun
    driver_wire: DriverRun


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _per(value: float | None, count: float) -> float | None:
    return None if value is None or count == 0 else value / count


def figures(report: Report) -> dict[str, float | int | bool | None]:
    """Every figure, named with its unit, for the README."""
    agent, driver = report.agent, report.driver
    seq = agent.sequential_ms
    agent_rate = agent.burst / agent.drain_s
    driver_rate = driver.receipts / driver.wall_s
    driver_ms = driver.wall_s * 1000 / driver.receipts
    p50 = statistics.median(seq) if seq else None
    agent_cpu_ms = agent.used.cpu_s * 1000 / agent.burst
    driver_cpu_ms = driver.cpu_s * 1000 / driver.receipts
    return {
        "sequential": len(seq),
        "burst": agent.burst,
        "http_keep_alive": agent.keep_alive,
        "agent_receipts_per_s": round(agent_rate, 1),
        "agent_http_accept_per_s": round(agent.burst / agent.accept_s, 1),
        "agent_p50_ms": None if p50 is None else round(p50, 2),
        "agent_p99_ms": round(_percentile(seq, 0.99), 2) if seq else None,
        "agent_max_ms": round(max(seq), 2) if seq else None,
        "driver_receipts_per_s": round(driver_rate, 1),
        "driver_ms_per_receipt": round(driver_ms, 2),
        "rate_ratio": round(agent_rate / driver_rate, 3),
        "p50_ratio": None if p50 is None else round(p50 / driver_ms, 3),
        "agent_round_trips_per_receipt": _round(_per(agent.wire.round_trips, agent.burst), 2),
        "driver_round_trips_per_receipt": _round(_per(driver.wire.round_trips, driver.receipts), 2),
        "agent_wire_bytes_per_receipt": _whole(
            _per(report.agent_wire.wire.wire_bytes, report.agent_wire.burst)
        ),
        "driver_wire_bytes_per_receipt": _whole(
            _per(report.driver_wire.wire.wire_bytes, report.driver_wire.receipts)
        ),
        "wire_sample_receipts": report.agent_wire.burst,
        "agent_cpu_ms_per_receipt": round(agent_cpu_ms, 3),
        "driver_cpu_ms_per_receipt": round(driver_cpu_ms, 3),
        "cpu_ratio": round(agent_cpu_ms / driver_cpu_ms, 3),
        "agent_rss_mib": round(agent.rss_bytes / MIB, 1),
        "agent_idle_cpu_pct": _round(agent.idle_cpu_pct, 2),
        "agent_idle_cpu_resolution_pct": _round(_per(100 / TICKS_PER_S, agent.idle_s), 2),
        "agent_disk_kib_per_receipt": round(agent.used.write_bytes / KIB / agent.burst, 2),
        "agent_log_bytes_per_receipt": round(agent.log_bytes / agent.burst),
        "agent_debug_log_records": agent.debug_records,
    }


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def _whole(value: float | None) -> int | None:
    return None if value is None else round(value)


def _show(value: object, unit: str = "") -> str:
    if value is None:
        return "-"
    return f"{value}{unit}"


def _quotient(f: dict[str, float | int | bool | None], name: str) -> float | None:
    agent, driver = f[f"agent_{name}"], f[f"driver_{name}"]
    if not isinstance(agent, int | float) or not isinstance(driver, int | float) or not driver:
        return None
    return round(agent / driver, 3)


def _check(is_met: bool | None) -> str:
    return "n/a" if is_met is None else ("met" if is_met else "MISSED")


def _at_most(value: object, limit: float) -> bool | None:
    return value <= limit if isinstance(value, int | float) else None


def _goals(f: dict[str, float | int | bool | None]) -> dict[str, bool | None]:
    """The goals the figures are held to; None when the run did not measure the figure."""
    rate_ratio = f["rate_ratio"]
    return {
        "goal_rate": rate_ratio >= 0.7 if isinstance(rate_ratio, float) else None,
        "goal_p50": _at_most(f["p50_ratio"], 1.5),
        "goal_cpu": bool(
            _at_most(f["cpu_ratio"], 2) and _at_most(f["agent_cpu_ms_per_receipt"], 2)
        ),
        "goal_disk": _at_most(f["agent_disk_kib_per_receipt"], 24),
    }


def print_report(report: Report) -> None:
    """The table, then the JSON line (last line of stdout)."""
    f = figures(report)
    goals = _goals(f)
    idle = f"{_show(f['agent_idle_cpu_pct'])} (±{_show(f['agent_idle_cpu_resolution_pct'])})"
    rows = [
        ("figure", "agent", "bare driver", "agent/driver", "goal"),
        ("receipts/s (burst drain)", f["agent_receipts_per_s"], f["driver_receipts_per_s"],
         f["rate_ratio"], f">= 0.7 x driver: {_check(goals['goal_rate'])}"),
        ("ms per receipt (p50 / mean)", f["agent_p50_ms"], f["driver_ms_per_receipt"],
         f["p50_ratio"], f"<= 1.5 x driver: {_check(goals['goal_p50'])}"),
        ("p99 / max ms (sequential)", f"{_show(f['agent_p99_ms'])} / {_show(f['agent_max_ms'])}",
         None, None, ""),
        ("round trips per receipt", f["agent_round_trips_per_receipt"],
         f["driver_round_trips_per_receipt"], _quotient(f, "round_trips_per_receipt"), ""),
        ("wire bytes per receipt", f["agent_wire_bytes_per_receipt"],
         f["driver_wire_bytes_per_receipt"], _quotient(f, "wire_bytes_per_receipt"), ""),
        ("CPU ms per receipt", f["agent_cpu_ms_per_receipt"], f["driver_cpu_ms_per_receipt"],
         f["cpu_ratio"], f"<= 2 x driver and <= 2 ms: {_check(goals['goal_cpu'])}"),
        ("disk KiB per receipt", f["agent_disk_kib_per_receipt"], None, None,
         f"<= 24 KiB: {_check(goals['goal_disk'])}"),
        ("  log file growth, bytes", f["agent_log_bytes_per_receipt"], None, None, ""),
        ("RSS after burst, MiB", f["agent_rss_mib"], None, None, ""),
        ("idle CPU, % of a core", idle, None, None, ""),
    ]  # fmt: skip
    text = [[str(cell) if cell is not None else "-" for cell in row] for row in rows]
    widths = [max(len(row[i]) for row in text) for i in range(len(rows[0]))]
    for row in text:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
    print(json.dumps({**f, **goals}))
