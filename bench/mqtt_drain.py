"""A bare MQTT subscriber in a process of its own, for bench/cloud_ingest.py to compare with.

    python bench/mqtt_drain.py PORT CLIENT_ID FILTER COUNT

Connects with a persistent session (MQTT 3.1.1, QoS 1, paho acknowledging each message as it
is handled, nothing else done with it) and subscribes; with COUNT 0 prints ``subscribed`` once the
broker confirmed it and leaves; otherwise prints ``first T`` at its first message and ``done T`` once it has had COUNT messages
(T: ``time.monotonic()``, the system's one monotonic clock, which the bench reads too), then
waits for its stdin to close before it leaves. COUNT 0: only the session and its subscription
are made.
"""

from __future__ import annotations

import sys
import threading
import time

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion


def main(argv: list[str]) -> int:
    port, client_id, topic, count = int(argv[0]), argv[1], argv[2], int(argv[3])
    client = mqtt.Client(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id=client_id,
        protocol=mqtt.MQTTv311,
        clean_session=False,
    )
    finished = threading.Event()
    received = 0

    def on_connect(c: mqtt.Client, *_: object) -> None:
        c.subscribe(topic, qos=1)

    def on_subscribe(*_: object) -> None:
        if count == 0:
            print("subscribed", flush=True)
            finished.set()

    def on_message(*_: object) -> None:
        nonlocal received
        received += 1
        if received == 1:
            print(f"first {time.monotonic()!r}", flush=True)
        if received == count:
            print(f"done {time.monotonic()!r}", flush=True)
            finished.set()

    client.on_connect = on_connect
    client.on_subscribe = on_subscribe
    client.on_message = on_message
    client.connect("127.0.0.1", port, keepalive=60)
    client.loop_start()
    finished.wait()
    if count:
        sys.stdin.read()  # stay, for the bench to read this process's CPU time, until told
    client.disconnect()
    client.loop_stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
