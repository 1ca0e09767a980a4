"""Payments over MQTT end to end: publish-to-result latency and results per second.

A real Mosquitto on a free port, firmware-sim on a pseudo-terminal (no print delay), the agent
as deployed (its own process, log level info). A plain paho client plays the CRM:

- sequential: publish one payment on ``cmd/receipt``, wait for its ``done`` on
  ``evt/receipt``; the p50 and p99 of that round trip;
- burst: publish N payments at once, wait for every result; N / (last result - first publish).

    .venv/bin/python bench/mqtt_latency.py [--sequential 200] [--burst 1000]

The last line of stdout is a JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import paho.mqtt.client as mqtt

from bench.workload import fresh_simulator, new_agent, receipt_body
from tests.support.broker import Broker
from tests.support.mqtt_client import PREFIX, PlainClient


class ResultClock:
    """Records when each id's first ``done`` arrived."""

    def __init__(self) -> None:
        self.done_at: dict[str, float] = {}
        self.changed = threading.Condition()

    def on_message(self, _c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        body = json.loads(msg.payload)
        if body.get("status") == "done":
            with self.changed:
                self.done_at.setdefault(body["id"], time.perf_counter())
                self.changed.notify_all()

    def wait(self, request_ids: set[str], timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        with self.changed:
            while not request_ids <= self.done_at.keys():
                left = deadline - time.monotonic()
                if left <= 0:
                    msg = f"{len(request_ids - self.done_at.keys())} results missing"
                    raise TimeoutError(msg)
                self.changed.wait(left)


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sequential", type=int, default=200, metavar="N")
    parser.add_argument("--burst", type=int, default=1000, metavar="N")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-mqtt-") as tmp:
        root = Path(tmp)
        broker = Broker(root / "broker")
        broker.start()
        sim = fresh_simulator(root / "sim", "register")
        agent = new_agent(root / "agent", sim.url)
        agent.settings = {"mqtt": {"url": broker.url, "drain_rate": 100_000}}
        agent.start()
        clock = ResultClock()
        crm = PlainClient(broker.url, "bench-crm", subscribe=(PREFIX + "evt/receipt",))
        crm.client.on_message = clock.on_message
        crm.connect()
        topic = PREFIX + "cmd/receipt"
        try:
            latencies: list[float] = []
            for i in range(args.sequential):
                request_id = f"seq-{i}"
                started = time.perf_counter()
                crm.publish(topic, receipt_body(request_id, 20_000 + i))
                clock.wait({request_id}, timeout_s=30)
                latencies.append((clock.done_at[request_id] - started) * 1000)
            ids = [f"burst-{i}" for i in range(args.burst)]
            started = time.perf_counter()
            for i, request_id in enumerate(ids):
                crm.publish(topic, receipt_body(request_id, 30_000 + i))
            published = time.perf_counter() - started
            clock.wait(set(ids), timeout_s=600)
            drain = max(clock.done_at[i] for i in ids) - started
        finally:
            crm.close()
            agent.stop()
            sim.stop()
            broker.stop()
    figures: dict[str, Any] = {
        "sequential": args.sequential,
        "latency_p50_ms": round(statistics.median(latencies), 1) if latencies else None,
        "latency_p99_ms": round(_percentile(latencies, 99), 1) if latencies else None,
        "burst": args.burst,
        "burst_publish_s": round(published, 2),
        "results_per_s": round(args.burst / drain, 1),
    }
    print(
        f"publish -> done over MQTT, p50 {figures['latency_p50_ms']} ms, p99 {figures['latency_p99_ms']} ms"
    )
    print(f"burst of {args.burst}: {figures['results_per_s']} results/s")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
