"""The test payloads count money as the agent does: Decimal, half up, never float."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from agent.domain.money import Kopecks, Micros, line_amount
from tests.support.payloads import line_kopecks, money


def test_payload_money_half_a_kopeck_rounds_up() -> None:
    """0.05 x 0.5 = 0.025 pays 0.03 (half up), where float round() gave half to even."""
    assert line_kopecks({"price": "0.05", "qty": "0.5"}) == 3
    assert line_kopecks({"price": "150.00", "qty": "0.5"}) == 7500


@given(
    kopecks=st.integers(min_value=0, max_value=10**9),
    micros=st.integers(min_value=1, max_value=10**9),
)
def test_payload_money_matches_the_agents_line_amount(kopecks: int, micros: int) -> None:
    """For any price and quantity the helper's amount is the agent's (and the register's)."""
    qty = str(Decimal(micros) / Decimal(1_000_000))
    assert line_kopecks({"price": money(kopecks), "qty": qty}) == line_amount(
        Kopecks(kopecks), Micros(micros)
    )
