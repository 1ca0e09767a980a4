"""The cloud's ingest rate against a bare MQTT subscriber, and one large shift reconciled.

One real Mosquitto for the whole run, configured as the tests' broker (tests/support/broker.py:
``max_inflight_messages 20``, Mosquitto's default, which deploy/mosquitto/mosquitto.conf keeps;
``--inflight`` changes it). N done results (``--results``, realistic ReceiptResult bodies with
their fiscal fields) are spread over ``--clubs`` x ``--desks`` agents on
``fiscal/v1/club-X/desk-Y/evt/receipt``. Both consumers run in processes of their own and are
timed the same way:

- a bare paho subscriber (bench/mqtt_drain.py: MQTT 3.1.1, QoS 1, counting messages, nothing
  else), until it has all N;
- ``python -m cloud.ingest --plain`` (as ``fiscal-cloud`` runs by default) on SQLite, then on
  PostgreSQL (when one is reachable), until all N rows are in the store's ``results`` table
  (counted every 20 ms).

``--start cold`` (the default): each consumer makes its persistent session and leaves, the N
results are published and queued by the broker for it (the backlog an outage leaves), and it
is started again: N / (its process start -> its last result), its own start included for both.
``--start paused``: each is started, connected and idle, SIGSTOPped while the N are published,
and timed from its SIGCONT. For each: ``startup_s`` (process start to its first result), the
steady rate from its first result to its last, and ``cpu_us_per_result``, its CPU time (every
thread, /proc) over the drain.

Then one agent's shift of ``--rows`` CRM requests is seeded through the store's ``record_*``
batch methods and :func:`cloud.shift_reconciliation.load_reconciliation` is timed end to end
(the store's read of the shift and the reconciliation), with each part timed apart.

    .venv/bin/python bench/cloud_ingest.py [--results 20000] [--rows 100000]

The last line of stdout is a JSON object with every figure.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import select as io_select
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import func, select

from bench import procfs
from bench.cloud_seed import result_payloads, seed_shift, shift_clock
from cloud.shift_reconciliation import load_reconciliation, read_window, reconcile_inputs
from cloud.store import CloudStore
from cloud.store.engine import create_engine, migrate
from cloud.store.schema import results
from tests.support.broker import Broker
from tests.support.postgres import Postgres, postgres_server, throwaway_database

FILTER = "fiscal/v1/+/+/evt/receipt"
TIMEOUT_S = 600.0
POLL_S = 0.02
"""How often the store is counted while the ingest drains (the end is known to this much)."""
DRAIN = Path(__file__).resolve().parent / "mqtt_drain.py"
_PROBE_BODY = result_payloads(1, 1, 1)[0][1]
PROBES = [(f"fiscal/v1/club-probe/desk-{n}/evt/receipt", _PROBE_BODY) for n in (1, 2)]
"""One result to make a session with, and one queued before a consumer's timed start."""


class BenchBroker(Broker):
    """The tests' Mosquitto with ``max_inflight_messages`` set (the tests' broker uses 20)."""

    def __init__(self, workdir: Path, inflight: int) -> None:
        super().__init__(workdir, kind="mosquitto")
        self.inflight = inflight

    def _mosquitto_command(self) -> list[str]:
        command = super()._mosquitto_command()
        conf = Path(command[-1])
        text = conf.read_text().replace(
            "max_inflight_messages 20", f"max_inflight_messages {self.inflight}"
        )
        conf.write_text(text)
        return command


def _client(client_id: str, *, clean: bool) -> mqtt.Client:
    client = mqtt.Client(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id=client_id,
        protocol=mqtt.MQTTv311,
        clean_session=clean,
    )
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    return client


def _connect(client: mqtt.Client, broker: Broker) -> None:
    client.connect("127.0.0.1", broker.port, keepalive=30)


def publish_all(broker: Broker, payloads: list[tuple[str, bytes]]) -> float:
    """Publish every payload at QoS 1; seconds until the broker acknowledged the last."""
    client = _client("bench-publisher", clean=True)
    _connect(client, broker)
    client.loop_start()
    start = time.perf_counter()
    infos = [client.publish(topic, body, qos=1) for topic, body in payloads]
    for info in infos:
        info.wait_for_publish(timeout=TIMEOUT_S)
    elapsed = time.perf_counter() - start
    client.disconnect()
    client.loop_stop()
    return elapsed


def _drainer(broker: Broker, count: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(DRAIN), str(broker.port), "bench-bare", FILTER, str(count)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def _said(proc: subprocess.Popen[str], word: str) -> float:
    """Wait for the drainer's line ``word [T]``; its T (0.0 when the line has none)."""
    assert proc.stdout is not None
    ready, _, _ = io_select.select([proc.stdout], [], [], TIMEOUT_S)
    line = proc.stdout.readline() if ready else ""
    name, _, at = line.strip().partition(" ")
    if name != word:
        raise RuntimeError(f"the bare subscriber said {line!r}, not {word!r}")
    return float(at) if at else 0.0


def _paused_drain(
    pid: int, broker: Broker, payloads: list[tuple[str, bytes]]
) -> tuple[float, float]:
    """Stop ``pid``, queue the backlog for it, let it go: (when it went on, its CPU seconds then).

    The consumer is connected and idle when it is stopped, so both consumers are timed the
    same way: from a running, connected state, with the whole backlog queued at the broker
    (and the few the broker sends before any acknowledgement waiting in the socket).
    """
    os.kill(pid, signal.SIGSTOP)
    try:
        publish_all(broker, payloads)
    finally:
        cpu = procfs.sample(pid).cpu_s
        start = time.monotonic()
        os.kill(pid, signal.SIGCONT)
    return start, cpu


def bare_subscriber_rate(broker: Broker, payloads: list[tuple[str, bytes]]) -> dict[str, float]:
    """A bare paho subscriber's drain of the queued backlog, messages/s.

    In a process of its own (bench/mqtt_drain.py), timed as the ingest is (see ``PAUSED``):
    ``startup_s`` is its process start to its first message; ``steady_rate_per_s`` from its
    first message to its last; ``cpu_us_per_result`` its CPU time over the drain.
    """
    proc = _drainer(broker, 0)  # the session and its subscription
    try:
        _said(proc, "subscribed")
        proc.wait(30)
    finally:
        proc.kill()
    count = len(payloads) + (1 if PAUSED else 0)
    if PAUSED:
        publish_all(broker, [PROBES[1]])
    else:
        publish_all(broker, payloads)
    started = time.monotonic()
    proc = _drainer(broker, count)
    try:
        first = _said(proc, "first")
        cpu = procfs.sample(proc.pid).cpu_s
        if PAUSED:
            start, cpu = _paused_drain(proc.pid, broker, payloads)
        last = _said(proc, "done")
        cpu = procfs.sample(proc.pid).cpu_s - cpu
    finally:
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            proc.wait(30)
        finally:
            proc.kill()
    if not PAUSED:
        start = started
    return {
        "rate_per_s": len(payloads) / (last - start),
        "seconds": last - start,
        "startup_s": first - started,
        "steady_rate_per_s": (len(payloads) - (0 if PAUSED else 1))
        / (last - (start if PAUSED else first)),
        "cpu_us_per_result": cpu / len(payloads) * 1e6,
    }


async def _stored(url: str) -> int:
    engine = create_engine(url)
    try:
        await migrate(engine)
        async with engine.connect() as conn:
            return int((await conn.execute(select(func.count()).select_from(results))).scalar_one())
    finally:
        await engine.dispose()


async def _wait_stored(
    url: str, base: int, want: int, proc: subprocess.Popen[bytes]
) -> tuple[float, int, float, float]:
    """Poll the store: when rows past ``base`` first showed, how many then, when all were in.

    And the ingest's CPU seconds when the first showed.
    """
    engine = create_engine(url)
    first = 0.0
    cpu = 0.0
    first_count = base
    count: int | None = None
    try:
        deadline = time.monotonic() + TIMEOUT_S
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"the ingest exited with {proc.returncode}")
            async with engine.connect() as conn:
                count = (await conn.execute(select(func.count()).select_from(results))).scalar()
            now = time.monotonic()
            if count is not None and not first and count > base:
                first, first_count, cpu = now, count, procfs.sample(proc.pid).cpu_s
            if count is not None and count >= want:
                return first or now, first_count - base, now, cpu
            await asyncio.sleep(POLL_S)
        raise TimeoutError(f"the store has {count} of {want} results")
    finally:
        await engine.dispose()


PAUSED = False
"""``--start paused``: each consumer is started, connected and idle, then SIGSTOPped while the
backlog is published, and timed from its SIGCONT. Default (``cold``): the backlog is queued
while the consumer is away (its session kept, as after an outage) and each consumer is timed
from its own process start."""
SHARED = False
"""``--shared``: the ingest on shared subscriptions (MQTT 5) instead of fiscal-cloud's default."""
ROOT = Path(__file__).resolve().parent.parent
INGEST_SRC: list[Path] = []
"""``--ingest-src DIR``: the ingest run from another checkout (an A/B in the same minutes)."""
PROFILE: list[str] = []
"""``--profile-ingest FILE``: the measured ingest runs under cProfile, written to FILE.<store>."""


def _ingest(
    broker: Broker,
    store_url: str,
    workdir: Path,
    profile: str | None = None,
    stats_file: Path | None = None,
) -> subprocess.Popen[bytes]:
    log = (workdir / "ingest.log").open("ab")
    profiler = ["-m", "cProfile", "-o", profile] if profile else []
    return subprocess.Popen(
        [
            sys.executable,
            *profiler,
            "-m",
            "cloud.ingest",
            "--mqtt",
            broker.url,
            "--store",
            store_url,
            "--client-id",
            "bench-ingest",
            *([] if SHARED else ["--plain"]),
            *(["--stats-file", str(stats_file)] if stats_file is not None else []),
        ],
        stdout=log,
        stderr=log,
        env={**os.environ, "PYTHONPATH": str(INGEST_SRC[0] if INGEST_SRC else ROOT)},
    )


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


def ingest_rate(
    broker: Broker, store_url: str, payloads: list[tuple[str, bytes]], workdir: Path
) -> dict[str, float]:
    """The cloud ingest's drain of the queued backlog into the store, results/s.

    Timed as the bare subscriber is (see ``PAUSED``): ``startup_s`` is its process start to
    its first stored row; ``steady_rate_per_s`` from the first stored row to the last;
    ``cpu_us_per_result`` its CPU time (every thread) over the drain.
    """
    proc = _ingest(broker, store_url, workdir)
    try:  # its first run makes the session and the schema; the probe shows it is subscribed
        deadline = time.monotonic() + 60
        while asyncio.run(_stored(store_url)) < 1:
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("the ingest never stored the probe")
            publish_all(broker, [PROBES[0]])
            time.sleep(0.5)
    finally:
        _stop(proc)
    base = asyncio.run(_stored(store_url))
    publish_all(broker, [PROBES[1]] if PAUSED else payloads)
    profile = f"{PROFILE[0]}.{store_url.split(':', 1)[0]}" if PROFILE else None
    stats_file = workdir / "ingest-stats.json"
    started = time.monotonic()
    proc = _ingest(broker, store_url, workdir, profile, stats_file)
    try:
        if PAUSED:
            ready, _, _, _ = asyncio.run(_wait_stored(store_url, base, base + 1, proc))
            start, cpu = _paused_drain(proc.pid, broker, payloads)
            base += 1
        first, at_first, last, cpu_first = asyncio.run(
            _wait_stored(store_url, base, base + len(payloads), proc)
        )
        cpu = procfs.sample(proc.pid).cpu_s - (cpu if PAUSED else cpu_first)
    finally:
        _stop(proc)
    if not PAUSED:
        start, ready = started, first
    stats = json.loads(stats_file.read_text())
    steady = (last - first) or 1e-9
    return {
        "rate_per_s": len(payloads) / (last - start),
        "seconds": last - start,
        "startup_s": ready - started,
        "steady_rate_per_s": (len(payloads) - at_first) / steady,
        "cpu_us_per_result": cpu / len(payloads) * 1e6,
        "results_per_batch": (len(payloads) + (1 if PAUSED else 0)) / max(1, int(stats["batches"])),
        "ingest_stats": stats,
    }


async def _reconcile_shift(store_url: str, rows: int, repeat: int) -> dict[str, Any]:
    """Seed one shift, then time load_reconciliation end to end, and its two parts apart.

    Wall and CPU time (``time.process_time``: this process, so on SQLite the database's work
    too, on PostgreSQL the client's only) of the best of ``repeat`` runs each; on a machine
    shared with other work the CPU time is the steadier figure.
    """
    store = await CloudStore.open(store_url, clock=shift_clock(rows))
    async with store:
        seed_start = time.perf_counter()
        seeded = await seed_shift(store, rows)
        seed_s = time.perf_counter() - seed_start
        club, agent, number = seeded.club, seeded.agent, seeded.shift
        best: dict[str, tuple[float, float]] = {}

        def keep(name: str, wall: float, cpu: float) -> None:
            held = best.get(name)
            best[name] = (wall, cpu) if held is None or wall < held[0] else held

        rec = None
        for _ in range(repeat):
            wall, cpu = time.perf_counter(), time.process_time()
            rec = await load_reconciliation(store, club, agent, number)
            keep("load_reconciliation", time.perf_counter() - wall, time.process_time() - cpu)
            wall, cpu = time.perf_counter(), time.process_time()
            inputs = await read_window(store, rec.shift)
            keep("store_read", time.perf_counter() - wall, time.process_time() - cpu)
            wall, cpu = time.perf_counter(), time.process_time()
            reconcile_inputs(rec.shift, inputs)
            keep("reconcile", time.perf_counter() - wall, time.process_time() - cpu)
    assert rec is not None
    statuses: dict[str, int] = {}
    for row in rec.rows:
        statuses[row.status] = statuses.get(row.status, 0) + 1
    out: dict[str, Any] = {"rows": rows, "seed_s": round(seed_s, 2), "statuses": statuses}
    for name, (wall, cpu) in best.items():
        out[f"{name}_s"] = round(wall, 3)
        out[f"{name}_cpu_s"] = round(cpu, 3)
    return out


@contextlib.contextmanager
def _postgres(enabled: bool) -> Iterator[Postgres | None]:
    if not enabled:
        yield None
        return
    with postgres_server() as server:
        if isinstance(server, str):
            print(f"PostgreSQL skipped: {server}", flush=True)
            yield None
        else:
            yield server


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 3)
    if isinstance(value, dict):
        return {key: _rounded(item) for key, item in value.items()}
    return value


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=int, default=20_000)
    parser.add_argument("--clubs", type=int, default=100)
    parser.add_argument("--desks", type=int, default=3)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument(
        "--inflight",
        type=int,
        default=20,
        help="the broker's max_inflight_messages (Mosquitto's default and the tests': 20)",
    )
    parser.add_argument("--skip-reconcile", action="store_true")
    parser.add_argument(
        "--start",
        choices=("cold", "paused"),
        default="cold",
        help="cold: each consumer timed from its own process start, the backlog queued while "
        "it was away; paused: from SIGCONT, the backlog published while it was SIGSTOPped",
    )
    parser.add_argument(
        "--shared",
        action="store_true",
        help="the ingest on shared subscriptions over MQTT 5 (default: plain, 3.1.1, as "
        "fiscal-cloud runs with [mqtt] shared = false)",
    )
    parser.add_argument(
        "--ingest-src",
        metavar="DIR",
        type=Path,
        help="run `python -m cloud.ingest` from this source tree (e.g. main's, for an A/B)",
    )
    parser.add_argument(
        "--profile-ingest",
        metavar="FILE",
        help="run the measured ingest under cProfile into FILE.sqlite / FILE.postgresql",
    )
    parser.add_argument(
        "--skip-ingest",
        action="store_true",
        help="only the 100,000-row shift reconciled (no bare subscriber, no ingest)",
    )
    args = parser.parse_args()
    if args.start == "paused":
        global PAUSED  # noqa: PLW0603 - a flag of this script's one run
        PAUSED = True
    if args.shared:
        global SHARED  # noqa: PLW0603 - a flag of this script's one run
        SHARED = True
    if args.ingest_src:
        INGEST_SRC.append(args.ingest_src.resolve())
        figures_src = str(args.ingest_src)
    else:
        figures_src = str(ROOT)
    if args.profile_ingest:
        PROFILE.append(args.profile_ingest)

    payloads = result_payloads(args.results, args.clubs, args.desks)
    figures: dict[str, Any] = {
        "load_average_1m": os.getloadavg()[0],  # the machine's load as the run started
        "ingest_src": figures_src,
        "results": args.results,
        "agents": args.clubs * args.desks,
        "bytes_per_result": round(sum(len(body) for _, body in payloads) / len(payloads)),
    }
    with (
        tempfile.TemporaryDirectory(prefix="cloud-bench-") as tmp,
        _postgres(not args.no_postgres) as pg,
    ):
        root = Path(tmp)
        broker = BenchBroker(root / "broker", args.inflight).start()
        figures["broker_max_inflight_messages"] = args.inflight
        figures["start"] = args.start
        try:
            bare = {"rate_per_s": 0.0}
            if not args.skip_ingest:
                bare = bare_subscriber_rate(broker, payloads)
                figures["bare_subscriber"] = bare
                print(f"bare paho subscriber: {bare['rate_per_s']:.0f} results/s", flush=True)
            stores = {"sqlite": f"sqlite:///{root}/cloud.db"}
            urls: dict[str, str] = {}
            with contextlib.ExitStack() as stack:
                if pg is not None:
                    stores["postgresql"] = stack.enter_context(throwaway_database(pg))
                    urls["postgresql_reconcile"] = stack.enter_context(throwaway_database(pg))
                for name, url in stores.items() if not args.skip_ingest else ():
                    rate = ingest_rate(broker, url, payloads, root)
                    rate["ratio_to_bare"] = rate["rate_per_s"] / bare["rate_per_s"]
                    figures[f"ingest_{name}"] = rate
                    print(
                        f"ingest on {name}: {rate['rate_per_s']:.0f} results/s stored "
                        f"(ratio {rate['ratio_to_bare']:.2f}, goal >= 0.5)",
                        flush=True,
                    )
                recon_stores = {"sqlite": f"sqlite:///{root}/shift.db"}
                if "postgresql_reconcile" in urls:
                    recon_stores["postgresql"] = urls["postgresql_reconcile"]
                for name, url in recon_stores.items() if not args.skip_reconcile else ():
                    shift = asyncio.run(_reconcile_shift(url, args.rows, args.repeat))
                    figures[f"reconcile_{name}"] = shift
                    print(
                        f"{args.rows} rows on {name}: load_reconciliation "
                        f"{shift['load_reconciliation_s']} s (CPU "
                        f"{shift['load_reconciliation_cpu_s']} s; goal < 1 s): the store's "
                        f"read {shift['store_read_s']} s (CPU {shift['store_read_cpu_s']} s), "
                        f"reconcile {shift['reconcile_s']} s (CPU {shift['reconcile_cpu_s']} s)",
                        flush=True,
                    )
        finally:
            broker.stop()
    print(json.dumps(_rounded(figures)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
