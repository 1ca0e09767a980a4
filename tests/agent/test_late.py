"""[receipts] late: when a receipt printed after its payment is a correction receipt."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from pydantic import ValidationError

from agent.config import ConfigError, load_config
from agent.contract import ErrorBody, ReceiptRequest
from agent.domain.late import (
    DEFAULT_LATE_POLICY,
    LATE_GRACE,
    LateMode,
    LatePolicy,
    correction_for,
    parse_late_policy,
)
from agent.domain.receipt import Correction, CorrectionType

MSK = timezone(timedelta(hours=3))
OPENED = datetime(2026, 12, 1, 9, 0, tzinfo=MSK)  # today's shift opened at 09:00 MSK
CLOCK = datetime(2026, 12, 1, 12, 0, tzinfo=MSK)  # the register's clock now
OTHER_SHIFT = LatePolicy(LateMode.OTHER_SHIFT)


def _decide(
    policy: LatePolicy, paid_at: datetime | None, *, opened: datetime | None = OPENED
) -> Correction | None:
    return correction_for(policy, paid_at=paid_at, clock=CLOCK, shift_opened_at=opened)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("other_shift", LatePolicy(LateMode.OTHER_SHIFT)),
        ("never", LatePolicy(LateMode.NEVER)),
        ("after:2h", LatePolicy(LateMode.AFTER, timedelta(hours=2))),
        ("after:1d12h", LatePolicy(LateMode.AFTER, timedelta(days=1, hours=12))),
        (" after:90s ", LatePolicy(LateMode.AFTER, timedelta(seconds=90))),
    ],
)
def test_parse_late_policy(text: str, expected: LatePolicy) -> None:
    assert parse_late_policy(text) == expected


@pytest.mark.parametrize("text", ["", "always", "after", "after:", "after:0s", "after:2x", "2h"])
def test_parse_late_policy_refuses_naming_the_forms(text: str) -> None:
    with pytest.raises(ValueError, match=r"other_shift|positive"):
        parse_late_policy(text)


def test_other_shift_yesterdays_payment_is_a_correction_dated_on_the_register_zone() -> None:
    """Paid at 23:30 UTC on Nov 30 = 02:30 MSK on Dec 1, before the shift: dated Dec 1."""
    paid_at = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)
    assert _decide(OTHER_SHIFT, paid_at) == Correction(
        type=CorrectionType.SELF, settled_on=date(2026, 12, 1)
    )
    paid_at = datetime(2026, 11, 30, 20, 0, tzinfo=UTC)  # 23:00 MSK on Nov 30
    assert _decide(OTHER_SHIFT, paid_at) == Correction(
        type=CorrectionType.SELF, settled_on=date(2026, 11, 30)
    )


def test_other_shift_a_payment_in_the_open_shift_is_a_receipt() -> None:
    assert _decide(OTHER_SHIFT, OPENED + timedelta(minutes=1)) is None
    assert _decide(OTHER_SHIFT, CLOCK) is None


def test_other_shift_a_shift_opened_for_the_payment_itself_is_not_late() -> None:
    """The shift opened a second after the payment, for its receipt: within the grace."""
    opened = CLOCK - timedelta(seconds=1)
    assert _decide(OTHER_SHIFT, CLOCK - timedelta(seconds=30), opened=opened) is None
    late = CLOCK - LATE_GRACE - timedelta(seconds=1)
    assert _decide(OTHER_SHIFT, late, opened=opened) is not None


def test_other_shift_without_the_shift_open_time_stays_a_receipt() -> None:
    assert _decide(OTHER_SHIFT, CLOCK - timedelta(days=3), opened=None) is None


def test_never_and_no_paid_at_are_always_receipts() -> None:
    assert _decide(LatePolicy(LateMode.NEVER), CLOCK - timedelta(days=3)) is None
    assert _decide(OTHER_SHIFT, None) is None
    assert _decide(LatePolicy(LateMode.AFTER, timedelta(hours=1)), None) is None


def test_after_counts_on_the_register_clock() -> None:
    policy = LatePolicy(LateMode.AFTER, timedelta(hours=2))
    assert _decide(policy, CLOCK - timedelta(hours=2)) is None
    later = _decide(policy, CLOCK - timedelta(hours=2, seconds=1))
    assert later == Correction(type=CorrectionType.SELF, settled_on=date(2026, 12, 1))
    # Within the same shift, but past the duration: still a correction under after:.
    assert _decide(policy, OPENED + timedelta(minutes=30)) is not None


def test_config_receipts_late(tmp_path: Path) -> None:
    base = (
        'club = "c"\nagent = "a"\n[register]\nurl = "socket://127.0.0.1:7778"\n'
        '[tax]\ntop_up = "osn"\nservice = "osn"\ngoods = "osn"\n'
    )
    path = tmp_path / "agent.toml"
    path.write_text(base)
    assert load_config(path, {}).receipts.late == DEFAULT_LATE_POLICY
    path.write_text(base + '[receipts]\nlate = "after:3h"\n')
    assert load_config(path, {}).receipts.late == LatePolicy(LateMode.AFTER, timedelta(hours=3))
    assert load_config(path, {"FISCAL_AGENT_RECEIPTS_LATE": "never"}).receipts.late == LatePolicy(
        LateMode.NEVER
    )
    path.write_text(base + '[receipts]\nlate = "sometimes"\n')
    with pytest.raises(ConfigError, match=r"receipts\.late.*other_shift"):
        load_config(path, {})


def _request(paid_at: str) -> dict[str, object]:
    return {
        "id": "crm-1",
        "kind": "sale",
        "category": "goods",
        "items": [{"name": "Кофе", "qty": "1", "price": "150.00", "vat": "vat22"}],
        "payments": {"cash": "150.00"},
        "paid_at": paid_at,
    }


def test_paid_at_is_an_aware_time_in_the_past() -> None:
    yesterday = datetime.now(UTC) - timedelta(days=1)
    request = ReceiptRequest.model_validate(_request(yesterday.isoformat()))
    assert request.paid_at == yesterday
    soon = datetime.now(UTC) + timedelta(minutes=1)  # within the skew of two clocks
    assert ReceiptRequest.model_validate(_request(soon.isoformat())).paid_at == soon


@pytest.mark.parametrize(
    ("paid_at", "message"),
    [
        ((datetime.now(UTC) + timedelta(hours=1)).isoformat(), "future"),
        ("2026-12-01T10:00:00", "timezone"),
        ("yesterday", "datetime"),
    ],
    ids=["in-an-hour", "naive", "not-a-time"],  # stable ids: xdist workers collect alike
)
def test_paid_at_refused_naming_the_field(paid_at: str, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        ReceiptRequest.model_validate(_request(paid_at))
    body = ErrorBody.from_validation_error(caught.value)
    assert body.error.field == "paid_at"
    assert message in body.error.message.lower()
