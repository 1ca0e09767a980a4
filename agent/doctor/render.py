"""Findings as text for a person, or as JSON for a script, in the chosen language.

Every text goes through the language's catalog (:mod:`agent.doctor.i18n`), parameters
included: dates (``2027-03-01``; ``01.03.2027`` in Russian), durations (``5 h 12 min``),
sizes (``180 MB``; ``1,5 ГБ``) and nested messages. The exit status: 0 when every check
passed, 1 with a WARN, 2 with a FAIL (a SKIP changes nothing: the FAIL that caused it counts).
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Final

from agent.doctor.facts import Source
from agent.doctor.findings import CheckId, Finding, Msg, Param, Size, Status, msg

if TYPE_CHECKING:
    import gettext

    from agent.doctor.i18n import Lang

__all__ = ["Header", "Localizer", "exit_status", "render_json", "render_text"]

EXIT_OK: Final = 0
EXIT_WARN: Final = 1
EXIT_FAIL: Final = 2
_MIB: Final = 1024 * 1024
_GIB: Final = 1024 * _MIB
_MIN_WIDTH: Final = 60


def _status_label(status: Status) -> Msg:
    match status:
        case Status.PASS:
            return msg("PASS")
        case Status.WARN:
            return msg("WARN")
        case Status.FAIL:
            return msg("FAIL")
        case Status.SKIP:
            return msg("SKIP")


_TITLES: Final[dict[CheckId, Msg]] = {
    CheckId.AGENT: msg("Agent service"),
    CheckId.PORT: msg("Register port"),
    CheckId.REGISTER: msg("Register"),
    CheckId.FN: msg("Fiscal storage (FN)"),
    CheckId.OFD: msg("Sending to the OFD"),
    CheckId.SHIFT: msg("Shift"),
    CheckId.PAPER: msg("Paper"),
    CheckId.CLOCK: msg("Register clock"),
    CheckId.DISK: msg("Disk space"),
    CheckId.BROKER: msg("Link to the server (MQTT)"),
}


@dataclass(frozen=True, slots=True)
class Localizer:
    """Turns a :class:`Msg` into text in one language."""

    lang: Lang
    catalog: gettext.NullTranslations

    def text(self, message: Msg) -> str:
        """The message translated, its parameters filled in this language."""
        if message.plural is not None and message.count is not None:
            template = self.catalog.ngettext(message.text, message.plural, message.count)
        else:
            template = self.catalog.gettext(message.text)
        if not message.params:
            return template
        values = {name: self._param(value) for name, value in message.params.items()}
        return template.format(**values)

    def _param(self, value: Param) -> str:
        if isinstance(value, Msg):
            return self.text(value)
        if isinstance(value, Size):
            return self._size(value.bytes)
        if isinstance(value, timedelta):
            return self.text(_duration(value))
        if isinstance(value, date):
            return value.strftime("%d.%m.%Y") if self.lang == "ru" else value.isoformat()
        return str(value)

    def _size(self, count: int) -> str:
        if count >= _GIB:
            number = f"{count / _GIB:.1f}"
            if self.lang == "ru":
                number = number.replace(".", ",")
            return self.text(msg("{value} GB", value=number))
        return self.text(msg("{value} MB", value=count // _MIB))


def _duration(value: timedelta) -> Msg:
    """A duration to the unit that matters: days and hours, hours and minutes, ..."""
    seconds = max(int(value.total_seconds()), 0)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return (
            msg("{days} d {hours} h", days=days, hours=hours)
            if hours
            else msg("{days} d", days=days)
        )
    if hours:
        return (
            msg("{hours} h {minutes} min", hours=hours, minutes=minutes)
            if minutes
            else msg("{hours} h", hours=hours)
        )
    if minutes:
        return (
            msg("{minutes} min {seconds} s", minutes=minutes, seconds=secs)
            if secs
            else msg("{minutes} min", minutes=minutes)
        )
    return msg("{seconds} s", seconds=secs)


def exit_status(findings: Sequence[Finding]) -> int:
    """2 with any FAIL, 1 with any WARN, else 0."""
    statuses = {finding.status for finding in findings}
    if Status.FAIL in statuses:
        return EXIT_FAIL
    if Status.WARN in statuses:
        return EXIT_WARN
    return EXIT_OK


@dataclass(frozen=True, slots=True, kw_only=True)
class Header:
    """Who was checked, with which settings, and where the register's facts came from."""

    club: str
    agent: str
    config_path: str
    source: Source | None


def _source_line(source: Source | None) -> Msg:
    if source is None:
        return msg("The register's facts: none could be read.")
    if source is Source.AGENT:
        return msg("The register's facts: from the running agent.")
    return msg("The register's facts: read from the register over its port.")


def render_text(
    findings: Sequence[Finding], header: Header, localizer: Localizer, *, width: int = 100
) -> str:
    """Per check: its verdict, title and finding, and its advice below; then the result."""
    t = localizer.text
    width = max(width, _MIN_WIDTH)
    labels = {status: t(_status_label(status)) for status in Status}
    titles = {check: t(title) for check, title in _TITLES.items()}
    label_width = max(len(label) for label in labels.values())
    indent = " " * (label_width + 2)
    lines = [
        t(
            msg(
                "fiscal-agent doctor: {club}/{agent}, settings {config}",
                club=header.club,
                agent=header.agent,
                config=header.config_path,
            )
        ),
        t(_source_line(header.source)),
        "",
    ]
    for finding in findings:
        head = f"{labels[finding.status]:<{label_width}}  "
        lines += textwrap.wrap(
            f"{titles[finding.check]}: {t(finding.finding)}",
            width=width,
            initial_indent=head,
            subsequent_indent=indent,
            break_on_hyphens=False,
            break_long_words=False,
        )
        for advice in finding.advice:
            lines += textwrap.wrap(
                t(advice),
                width=width,
                initial_indent=f"{indent}→ ",
                subsequent_indent=f"{indent}  ",
                break_on_hyphens=False,
                break_long_words=False,
            )
    lines.append("")
    fails = sum(finding.status is Status.FAIL for finding in findings)
    warns = sum(finding.status is Status.WARN for finding in findings)
    if fails or warns:
        lines.append(t(msg("Problems: {fails}, warnings: {warns}.", fails=fails, warns=warns)))
    else:
        lines.append(t(msg("Every check passed.")))
    return "\n".join(lines)


def render_json(findings: Sequence[Finding], header: Header, localizer: Localizer) -> str:
    """The findings as one JSON object; ``status`` and ``code`` are stable, the texts are not."""
    t = localizer.text
    document = {
        "lang": localizer.lang,
        "exit_status": exit_status(findings),
        "club": header.club,
        "agent": header.agent,
        "config": header.config_path,
        "source": None if header.source is None else header.source.value,
        "checks": [
            {
                "check": finding.check.value,
                "status": finding.status.value,
                "code": finding.code,
                "title": t(_TITLES[finding.check]),
                "finding": t(finding.finding),
                "advice": [t(advice) for advice in finding.advice],
            }
            for finding in findings
        ],
    }
    return json.dumps(document, ensure_ascii=False, indent=2)
