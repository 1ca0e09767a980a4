"""The register's zone, configured or measured at connect ("auto"), whatever the host's zone.

The issue: a Pi often runs in UTC while the register keeps local time, and an issued_at of
07:40+03:00 came out as 07:40Z when ``[register] tz`` was not set. With "auto" the driver
measures the register's offset from the host's UTC clock, so the host's own zone no longer
matters; a configured zone wins and a disagreement is reported.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from agent.domain.receipt import VatRate
from agent.drivers.clock_zone import (
    ZoneSource,
    format_utc_offset,
    measure_utc_offset,
    settle_zone,
)
from tests.support.receipts import goods_receipt, receipt_ref
from tests.support.shtrih_rig import FAST, make_rig

HOST_NOW = datetime(2026, 1, 5, 4, 40, tzinfo=UTC)
MSK = timezone(timedelta(hours=3))


def _wall(offset: timedelta, drift: timedelta = timedelta(0)) -> datetime:
    """The register's naive wall clock at HOST_NOW in ``offset``, ``drift`` fast."""
    return (HOST_NOW + offset + drift).replace(tzinfo=None)


# -- the measurement --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("offset", "drift", "measured"),
    [
        pytest.param(timedelta(hours=3), timedelta(0), timedelta(hours=3), id="msk"),
        pytest.param(timedelta(hours=3), timedelta(minutes=4), timedelta(hours=3), id="4min-fast"),
        pytest.param(
            timedelta(hours=3),
            -timedelta(minutes=7, seconds=29),
            timedelta(hours=3),
            id="7m29-slow",
        ),
        pytest.param(
            timedelta(hours=3),
            timedelta(minutes=7, seconds=30),
            timedelta(hours=3, minutes=15),
            id="tie-rounds-up",
        ),
        pytest.param(
            timedelta(hours=5, minutes=45), timedelta(0), timedelta(hours=5, minutes=45), id="npt"
        ),
        pytest.param(
            -timedelta(hours=3, minutes=30), timedelta(0), -timedelta(hours=3, minutes=30), id="nst"
        ),
        pytest.param(timedelta(0), -timedelta(minutes=2), timedelta(0), id="utc-slow"),
    ],
)
def test_measured_offset_rounds_to_a_quarter_hour(
    offset: timedelta, drift: timedelta, measured: timedelta
) -> None:
    assert measure_utc_offset(_wall(offset, drift), HOST_NOW) == measured


def test_measurement_wants_a_naive_wall_and_an_aware_host_clock() -> None:
    with pytest.raises(ValueError, match="naive"):
        measure_utc_offset(HOST_NOW, HOST_NOW)
    with pytest.raises(ValueError, match="aware"):
        measure_utc_offset(_wall(timedelta(0)), HOST_NOW.replace(tzinfo=None))


def test_auto_uses_the_measured_offset_as_a_fixed_zone() -> None:
    zone = settle_zone(None, _wall(timedelta(hours=5, minutes=45)), HOST_NOW)
    assert zone.source is ZoneSource.AUTO
    assert zone.utc_offset == zone.measured == timedelta(hours=5, minutes=45)
    assert zone.zone.utcoffset(None) == timedelta(hours=5, minutes=45)
    assert not zone.is_mismatch
    assert not zone.is_fallback


def test_configured_zone_wins_and_a_quarter_hour_apart_is_a_mismatch() -> None:
    moscow = ZoneInfo("Europe/Moscow")
    agreeing = settle_zone(moscow, _wall(timedelta(hours=3), timedelta(minutes=6)), HOST_NOW)
    assert agreeing.source is ZoneSource.CONFIGURED
    assert agreeing.zone is moscow
    assert agreeing.utc_offset == timedelta(hours=3)
    assert not agreeing.is_mismatch
    off = settle_zone(moscow, _wall(timedelta(hours=3, minutes=15)), HOST_NOW)
    assert off.is_mismatch
    assert off.utc_offset == timedelta(hours=3)
    assert off.measured == timedelta(hours=3, minutes=15)


def test_a_clock_days_wrong_is_no_zone_and_auto_falls_back_to_the_hosts() -> None:
    zone = settle_zone(None, _wall(timedelta(days=2)), HOST_NOW)
    assert zone.is_fallback
    assert zone.measured == timedelta(days=2)
    assert zone.utc_offset == HOST_NOW.astimezone().utcoffset()


@pytest.mark.parametrize(
    ("offset", "text"),
    [
        (timedelta(hours=3), "+03:00"),
        (timedelta(hours=5, minutes=45), "+05:45"),
        (-timedelta(hours=3, minutes=30), "-03:30"),
        (timedelta(0), "+00:00"),
        (timedelta(hours=14), "+14:00"),
    ],
)
def test_offsets_are_written_as_iso_8601(offset: timedelta, text: str) -> None:
    assert format_utc_offset(offset) == text


# -- the driver against the simulator ---------------------------------------------------------


@pytest.fixture(params=["UTC", "America/New_York", "Asia/Kathmandu"])
def host_zone(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The host's own zone (TZ), which "auto" must not depend on."""
    monkeypatch.setenv("TZ", request.param)
    time.tzset()
    yield request.param
    monkeypatch.undo()
    time.tzset()


async def test_auto_publishes_the_right_instant_whatever_the_hosts_zone(host_zone: str) -> None:
    """Register on Moscow time, no zone configured: +03:00 times, the true instant."""
    rig = make_rig(params=replace(FAST, tz=None), tz=MSK)
    try:
        info = await rig.driver.connect()
        state = await rig.driver.read_state()
        await rig.driver.open_shift(goods_receipt((100, VatRate.NONE)).cashier)
        issued = await rig.driver.register(
            goods_receipt((15000, VatRate.NONE)), ref=receipt_ref("m-1")
        )
    finally:
        await rig.driver.aclose()

    assert info.clock_zone is not None
    assert info.clock_zone.source is ZoneSource.AUTO
    assert info.clock_zone.utc_offset == timedelta(hours=3)
    for moment in (state.clock, issued.issued_at):
        assert moment.utcoffset() == timedelta(hours=3), host_zone
        assert abs(moment - datetime.now(UTC)) < timedelta(minutes=1)
    document = next(d for d in rig.device.state.documents if d.fd == issued.fd)
    # The FN's own time read in its zone (FF45 answers it to the minute).
    assert issued.issued_at == document.issued_at.replace(second=0)


async def test_auto_follows_a_register_in_another_zone_than_the_host() -> None:
    """Register on Nepal time (+05:45) and a few minutes fast: still +05:45, the skew kept."""
    nepal = timezone(timedelta(hours=5, minutes=45))
    rig = make_rig(params=replace(FAST, tz=None), tz=nepal)
    rig.device.advance_clock(4 * 60)
    try:
        info = await rig.driver.connect()
        state = await rig.driver.read_state()
    finally:
        await rig.driver.aclose()

    assert info.clock_zone is not None
    assert info.clock_zone.utc_offset == timedelta(hours=5, minutes=45)
    assert state.clock.utcoffset() == timedelta(hours=5, minutes=45)
    skew = state.clock - datetime.now(UTC)
    assert timedelta(minutes=3) < skew < timedelta(minutes=5)


async def test_configured_zone_wins_and_its_disagreement_is_reported() -> None:
    """Register on Yekaterinburg time (+05:00), config says Moscow: Moscow is used, flagged."""
    rig = make_rig(
        params=replace(FAST, tz=ZoneInfo("Europe/Moscow")), tz=ZoneInfo("Asia/Yekaterinburg")
    )
    try:
        info = await rig.driver.connect()
        state = await rig.driver.read_state()
    finally:
        await rig.driver.aclose()

    zone = info.clock_zone
    assert zone is not None
    assert zone.source is ZoneSource.CONFIGURED
    assert (zone.utc_offset, zone.measured) == (timedelta(hours=3), timedelta(hours=5))
    assert zone.is_mismatch
    assert state.clock.utcoffset() == timedelta(hours=3)


async def test_measured_against_the_injected_host_clock() -> None:
    """The driver's host clock is the measuring stick: a host an hour behind reads +04:00."""
    rig = make_rig(
        params=replace(FAST, tz=None),
        tz=MSK,
        host_clock=lambda: datetime.now(UTC) - timedelta(hours=1),
    )
    try:
        info = await rig.driver.connect()
    finally:
        await rig.driver.aclose()

    assert info.clock_zone is not None
    assert info.clock_zone.measured == timedelta(hours=4)


async def test_a_zone_measured_anew_at_reconnect_drops_times_read_in_the_old_one() -> None:
    """The register's clock set an hour forward (DST by hand): the next connect reads +04:00,
    and the cached open-shift document is read again in it rather than kept at +03:00, so
    the shift's age is the register's wall-clock difference, as its 24-hour lock counts."""
    rig = make_rig(params=replace(FAST, tz=None), tz=MSK)
    try:
        await rig.driver.connect()
        await rig.driver.open_shift(goods_receipt((100, VatRate.NONE)).cashier)
        before = await rig.driver.shift_open_document(await rig.driver.read_state())
        rig.device.advance_clock(3600)
        info = await rig.driver.connect()
        start = len(rig.commands)
        after = await rig.driver.shift_open_document(await rig.driver.read_state())
        codes = rig.command_codes()[start:]
    finally:
        await rig.driver.aclose()

    assert before is not None
    assert after is not None
    assert info.clock_zone is not None
    assert info.clock_zone.utc_offset == timedelta(hours=4)
    assert before.issued_at.utcoffset() == timedelta(hours=3)
    assert after.issued_at.utcoffset() == timedelta(hours=4)
    assert after.fd == before.fd
    assert 0xFF0A in codes  # read again, not served from the cache
