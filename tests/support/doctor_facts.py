"""The doctor's tests: facts with healthy defaults, and findings read as a person reads them."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from agent.doctor.facts import (
    AgentFacts,
    BrokerFacts,
    BrokerOutcome,
    DiskFacts,
    Facts,
    FnFacts,
    Limits,
    PortFacts,
    PortKind,
    PortOutcome,
    RegisterFacts,
    RegisterOutcome,
    ShiftFacts,
    Source,
)
from agent.doctor.findings import Finding
from agent.doctor.i18n import Lang, translations
from agent.doctor.render import Localizer

LIMITS = Limits(shift_max_age=timedelta(hours=23, minutes=30))
MIB = 1024 * 1024


def register(**changes: Any) -> RegisterFacts:
    """A register that answered over its port with nothing wrong; ``changes`` override."""
    healthy = RegisterFacts(
        outcome=RegisterOutcome.OK,
        source=Source.PORT,
        model="ШТРИХ-М-01Ф",
        serial="0012345678",
        has_paper=True,
        shift=ShiftFacts(is_open=True, is_expired=False, number=7, age=timedelta(hours=3)),
        fn=FnFacts(
            valid_until=date(2028, 1, 31),
            days_left=400,
            unsent_docs=0,
            oldest_unsent_age=None,
        ),
        clock_skew_s=2.0,
    )
    return replace(healthy, **changes)


def facts(**changes: Any) -> Facts:
    """Everything healthy, the agent running; ``changes`` override whole parts."""
    healthy = Facts(
        config_path="/etc/fiscal-agent/agent.toml",
        agent=AgentFacts(url="http://127.0.0.1:8750/api/v1/health", is_answering=True),
        port=PortFacts(url="/dev/ttyACM0", kind=PortKind.DEVICE, outcome=PortOutcome.OK),
        register=register(),
        disk=DiskFacts(path="/var/lib/fiscal-agent", free_bytes=5000 * MIB),
        broker=BrokerFacts(
            url="mqtt://127.0.0.1:1883",
            host="127.0.0.1",
            port=1883,
            is_tls=False,
            outcome=BrokerOutcome.OK,
        ),
    )
    return replace(healthy, **changes)


def localizer(lang: Lang) -> Localizer:
    """Texts in ``lang`` through its catalog."""
    return Localizer(lang, translations(lang))


def read(finding: Finding, lang: Lang = "en") -> tuple[str, list[str]]:
    """A finding's one line and its advice, as a person reads them in ``lang``."""
    loc = localizer(lang)
    return loc.text(finding.finding), [loc.text(advice) for advice in finding.advice]


def flat(text: str) -> str:
    """Whitespace (line wrapping) collapsed to single spaces, for phrase assertions."""
    return " ".join(text.split())
