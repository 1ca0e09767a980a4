"""The findings on screen and as JSON, in both languages; the exit status; a bad settings file."""

from __future__ import annotations

import io
import json
from datetime import date, timedelta
from pathlib import Path

import pytest

from agent.doctor.checks import run_checks
from agent.doctor.facts import Source
from agent.doctor.findings import Size, msg
from agent.doctor.render import Header, render_json, render_text
from agent.doctor.run import run_doctor
from tests.support.doctor_facts import LIMITS, MIB, facts, flat, localizer, register

HEADER = Header(
    club="club-1", agent="desk-1", config_path="/etc/fiscal-agent/agent.toml", source=Source.PORT
)


def test_render_text_one_verdict_per_check_and_advice_below() -> None:
    """Paper out: its line says FAIL and the title, its advice follows with an arrow."""
    findings = run_checks(facts(register=register(has_paper=False)), LIMITS)
    text = render_text(findings, HEADER, localizer("en"), width=100)
    lines = text.splitlines()
    assert lines[0] == "fiscal-agent doctor: club-1/desk-1, settings /etc/fiscal-agent/agent.toml"
    assert lines[1] == "The register's facts: read from the register over its port."
    paper = next(i for i, line in enumerate(lines) if line.startswith("FAIL  Paper: "))
    assert lines[paper] == "FAIL  Paper: the register is out of paper"
    assert lines[paper + 1].startswith("      → Put a new roll of receipt paper")
    assert lines[-1] == "Problems: 1, warnings: 0."
    assert all(len(line) <= 100 for line in lines)
    assert sum(line.startswith("PASS  ") for line in lines) == 9


def test_render_text_in_russian() -> None:
    """The same screen in Russian: verdicts, titles, findings, advice, the result."""
    findings = run_checks(facts(register=register(has_paper=False)), LIMITS)
    text = render_text(findings, HEADER, localizer("ru"), width=100)
    assert text.splitlines()[0] == (
        "Проверка fiscal-agent: club-1/desk-1, настройки /etc/fiscal-agent/agent.toml"
    )
    assert "ОШИБКА    Бумага: в кассе закончилась бумага" in text
    assert "→ Вставьте в кассу новый рулон чековой ленты и закройте крышку" in flat(text)
    assert "ОК        Касса: ШТРИХ-М-01Ф, заводской № 0012345678, отвечает" in text
    assert text.splitlines()[-1] == "Ошибок: 1, предупреждений: 0."


def test_render_text_all_passed() -> None:
    """Nothing wrong: the last line says so."""
    findings = run_checks(facts(), LIMITS)
    assert render_text(findings, HEADER, localizer("en")).splitlines()[-1] == "Every check passed."
    assert render_text(findings, HEADER, localizer("ru")).splitlines()[-1] == (
        "Все проверки пройдены."
    )


def test_render_text_keeps_long_words_whole() -> None:
    """A URL or a path longer than the line is never cut in the middle."""
    long_path = "/var/lib/" + "x" * 120
    findings = run_checks(
        facts(disk=facts().disk.__class__(path=long_path, free_bytes=MIB)), LIMITS
    )
    text = render_text(findings, HEADER, localizer("en"), width=60)
    assert long_path in text


def test_render_json_stable_codes_and_translated_texts() -> None:
    """JSON: exit_status, source, and per check its stable status and code beside the texts."""
    findings = run_checks(facts(register=register(has_paper=False, clock_skew_s=120.0)), LIMITS)
    for lang in ("en", "ru"):
        document = json.loads(render_json(findings, HEADER, localizer(lang)))
        assert document["lang"] == lang
        assert document["exit_status"] == 2
        assert document["source"] == "port"
        checks = {check["check"]: check for check in document["checks"]}
        assert list(checks) == [
            "agent", "port", "register", "fn", "ofd", "shift", "paper", "clock", "disk", "broker",
        ]  # fmt: skip
        assert (checks["paper"]["status"], checks["paper"]["code"]) == ("fail", "paper_out")
        assert (checks["clock"]["status"], checks["clock"]["code"]) == ("warn", "clock_drift")
        assert checks["paper"]["advice"]
    russian = json.loads(render_json(findings, HEADER, localizer("ru")))
    paper = next(check for check in russian["checks"] if check["check"] == "paper")
    assert paper["title"] == "Бумага"
    assert paper["finding"] == "в кассе закончилась бумага"


@pytest.mark.parametrize(
    ("value", "en", "ru"),
    [
        (timedelta(seconds=42), "42 s", "42 с"),
        (timedelta(minutes=5), "5 min", "5 мин"),
        (timedelta(minutes=5, seconds=3), "5 min 3 s", "5 мин 3 с"),
        (timedelta(hours=2), "2 h", "2 ч"),
        (timedelta(hours=2, minutes=7, seconds=59), "2 h 7 min", "2 ч 7 мин"),
        (timedelta(days=6, hours=3), "6 d 3 h", "6 дн. 3 ч"),
        (timedelta(days=31), "31 d", "31 дн."),
        (date(2027, 3, 1), "2027-03-01", "01.03.2027"),
        (Size(150 * MIB), "150 MB", "150 МБ"),
        (Size(1536 * MIB), "1.5 GB", "1,5 ГБ"),
    ],
)
def test_localizer_parameters(value: timedelta | date | Size, en: str, ru: str) -> None:
    """Durations, dates and sizes are written each language's way."""
    message = msg("{diff}", diff=value)
    assert localizer("en").text(message) == en
    assert localizer("ru").text(message) == ru


def test_run_doctor_with_unreadable_settings_says_so_in_the_language(tmp_path: Path) -> None:
    """No settings file: exit 2, the reason, and who fixes it; in JSON with the key."""
    missing = tmp_path / "nope.toml"
    out = io.StringIO()
    status = run_doctor(config_path=missing, lang="ru", as_json=False, env={}, out=out)
    assert status == 2
    assert out.getvalue().startswith(f"Файл настроек {missing} нельзя использовать: config:")
    assert "→ Попросите сервисного инженера исправить файл настроек" in out.getvalue()
    out = io.StringIO()
    status = run_doctor(
        config_path=None,
        lang=None,
        as_json=True,
        env={"FISCAL_AGENT_CONFIG": str(missing)},
        out=out,
    )
    document = json.loads(out.getvalue())
    assert status == 2
    assert document["lang"] == "en"
    assert document["config"] == str(missing)
    assert document["error"]["finding"].startswith(f"The settings {missing} cannot be used")
