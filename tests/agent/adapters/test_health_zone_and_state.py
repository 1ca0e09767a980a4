"""Health v1.1: the register's zone (auto or configured, a mismatch warned), register.state,
boot and seq. The zone cases run over the real driver and the simulator's device."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from agent.contract import Health
from agent.drivers.interface import DeviceInfo, FnState, FnWarning, ShiftState
from agent.fiscal.service import RegisterSnapshot
from agent.fiscal.shift_guard import ShiftPolicy
from agent.intake.report_mapping import HealthInputs, health_to_contract
from agent.outbox.store import OutboxStats
from tests.agent.adapters.test_health_mapping import CLOCK, STATE
from tests.support.agent_rig import AgentRig, agent_rig

MSK = ZoneInfo("Europe/Moscow")
NEPAL = timezone(timedelta(hours=5, minutes=45))
NO_ROWS = OutboxStats(
    pending=0,
    printing=0,
    done=0,
    rejected=0,
    failed=0,
    unknown=0,
    oldest_pending_age_s=None,
    undelivered=0,
)


def _inputs(snapshot: RegisterSnapshot | None, **changes: object) -> HealthInputs:
    now = datetime.now(UTC)
    base = HealthInputs(
        version="0.1.0",
        uptime_s=1.0,
        now=now,
        is_link_up=True,
        snapshot=snapshot,
        snapshot_at=now,
        condition=None,
        last_error=None,
        outbox=NO_ROWS,
        sync_pending=0,
        sync_oldest_age_s=None,
        rotate_at=ShiftPolicy().rotate_at,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


async def _health(rig: AgentRig) -> Health:
    await rig.service.connect()
    return health_to_contract(_inputs(await rig.service.snapshot()))


@pytest.mark.parametrize(
    ("register_tz", "offset"),
    [pytest.param(NEPAL, "+05:45", id="nepal"), pytest.param(MSK, "+03:00", id="moscow")],
)
async def test_auto_zone_is_shown_in_health(
    tmp_path: Path, register_tz: tzinfo, offset: str
) -> None:
    async with agent_rig(tmp_path, register_tz=register_tz, configured_tz=None) as rig:
        health = await _health(rig)

    register = health.register
    assert register is not None
    assert (register.utc_offset, register.tz_source, register.measured_utc_offset) == (
        offset,
        "auto",
        offset,
    )
    assert register.error is None
    assert register.clock_skew_s is not None
    assert abs(register.clock_skew_s) < 60
    assert health.state == "online"


async def test_configured_zone_that_disagrees_is_warned_as_tz_mismatch(tmp_path: Path) -> None:
    """Config says Moscow, the register keeps Yekaterinburg time (+05:00): Moscow is used."""
    yekaterinburg = ZoneInfo("Asia/Yekaterinburg")
    async with agent_rig(tmp_path, register_tz=yekaterinburg, configured_tz=MSK) as rig:
        health = await _health(rig)

    register = health.register
    assert register is not None
    assert (register.utc_offset, register.tz_source, register.measured_utc_offset) == (
        "+03:00",
        "configured",
        "+05:00",
    )
    assert register.error == "tz_mismatch"
    assert health.state == "degraded"
    assert register.clock is not None
    assert register.clock.utcoffset() == timedelta(hours=3)


async def test_configured_zone_that_agrees_is_quiet(tmp_path: Path) -> None:
    async with agent_rig(tmp_path, register_tz=MSK, configured_tz=MSK) as rig:
        health = await _health(rig)

    assert health.register is not None
    assert (health.register.tz_source, health.register.error) == ("configured", None)
    assert health.state == "online"


async def test_register_state_follows_the_shift(tmp_path: Path) -> None:
    async with agent_rig(tmp_path) as rig:
        closed = await _health(rig)
        await rig.service.open_shift()
        opened = health_to_contract(_inputs(await rig.service.snapshot()))

    assert closed.register is not None
    assert opened.register is not None
    assert (closed.register.state, opened.register.state) == ("shift_closed", "ready")


# -- register.state, boot and seq from a snapshot ---------------------------------------------

SNAPSHOT = RegisterSnapshot(
    info=DeviceInfo(model="ШТРИХ-М-01Ф", serial="12345678", fn_serial="9999078900012345"),
    state=STATE,
    fn=FnState(
        serial="9999078900012345",
        last_fd=40,
        valid_until=date(2027, 3, 1),
        unsent_docs=0,
        oldest_unsent_at=None,
        warnings=FnWarning(0),
    ),
    shift_opened_at=CLOCK - timedelta(hours=6),
)


@pytest.mark.parametrize(
    ("changes", "name"),
    [
        pytest.param({}, "ready", id="ready"),
        pytest.param({"shift": ShiftState.CLOSED}, "shift_closed", id="closed"),
        pytest.param({"is_receipt_open": True, "device_mode": 8}, "receipt_open", id="receipt"),
        pytest.param(
            {"shift": ShiftState.EXPIRED, "device_mode": 3}, "shift_expired", id="expired"
        ),
        pytest.param({"has_paper": False}, "paper_out", id="paper"),
        pytest.param({"is_printing": True}, "printing", id="printing"),
    ],
)
def test_register_state_is_a_protocol_neutral_name(changes: dict[str, object], name: str) -> None:
    snapshot = replace(SNAPSHOT, state=replace(STATE, **changes))  # type: ignore[arg-type]
    health = health_to_contract(_inputs(snapshot, snapshot_at=CLOCK, now=CLOCK))
    assert health.register is not None
    assert health.register.state == name


def test_register_state_is_absent_while_the_link_is_down() -> None:
    health = health_to_contract(_inputs(SNAPSHOT, is_link_up=False, snapshot_at=CLOCK, now=CLOCK))
    assert health.register is not None
    assert health.register.state is None


def test_boot_and_seq_pass_through_and_the_will_carries_boot() -> None:
    health = health_to_contract(_inputs(SNAPSHOT, boot=7, seq=412, snapshot_at=CLOCK, now=CLOCK))
    wire = health.model_dump(mode="json", exclude_none=True)
    assert (wire["boot"], wire["seq"]) == (7, 412)
    will = Health.model_validate_json('{"state": "offline", "boot": 7}')
    assert (will.state, will.boot, will.seq) == ("offline", 7, None)
    assert "boot" not in health_to_contract(_inputs(None)).model_dump(exclude_none=True)
