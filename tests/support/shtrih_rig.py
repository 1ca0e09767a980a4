"""The driver over an in-memory link to the simulator's pure device and link."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo

import structlog

from agent.drivers.shtrih.driver import DriverParams, ShtrihDriver
from firmware_sim.device import Device
from firmware_sim.link import DeviceLink
from firmware_sim.state import MSK, DeviceConfig
from tests.support.shtrih_fakes import FakeLink, utc_now

FN_SERIAL = "9999078900001366"
FAST = DriverParams(
    tz=MSK,
    byte_timeout_s=0.02,
    enq_timeout_s=0.05,
    ack_timeout_s=0.05,
    answer_timeout_s=0.3,
    print_wait_s=1.0,
    print_poll_interval_s=0.01,
)
"""Every timeout shrunk so that a failure takes well under a second."""

Handler = Callable[[bytes, datetime], bytes]


@dataclass
class Rig:
    """One register: the pure device, the fake wire, the driver, and what was sent."""

    device: Device
    link: FakeLink
    driver: ShtrihDriver
    commands: list[int] = field(default_factory=list)
    intercept: dict[int, Callable[[bytes], bytes | None]] = field(default_factory=dict)

    def command_codes(self) -> list[int]:
        """Command codes the device executed, in order."""
        return list(self.commands)


def make_rig(
    *,
    params: DriverParams = FAST,
    print_time_s: float = 0.0,
    tz: tzinfo = MSK,
    host_clock: Callable[[], datetime] = utc_now,
    on_round_trip: Callable[[str, float], None] | None = None,
) -> Rig:
    """A register with a closed shift behind a fake link; not connected yet.

    ``tz`` is the zone the register keeps its clock in; ``host_clock`` the host's clock the
    driver measures it against ("auto", ``params.tz`` None).
    """
    device = Device(
        config=DeviceConfig(
            fn_serial=FN_SERIAL,
            serial="12345678",
            fn_valid_until=date(2027, 11, 21),
            print_time_s=print_time_s,
            tz=tz,
        )
    )
    rig: Rig

    def handler(payload: bytes, now: datetime) -> bytes:
        code = 0xFF00 | payload[1] if payload[0] == 0xFF and len(payload) > 1 else payload[0]
        rig.commands.append(code)
        scripted = rig.intercept.get(code)
        if scripted is not None:
            answer = scripted(payload)
            if answer is not None:
                return answer
        return device.handle(payload, now)

    link = FakeLink(DeviceLink(handler, byte_timeout_s=0.01, wall_clock=utc_now))
    driver = ShtrihDriver(
        transport=link,
        params=params,
        log=structlog.get_logger("test"),
        host_clock=host_clock,
        on_round_trip=on_round_trip,
    )
    rig = Rig(device=device, link=link, driver=driver)
    return rig
