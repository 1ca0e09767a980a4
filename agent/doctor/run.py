"""``fiscal-agent doctor``: load the settings, gather the facts, run the checks, print them.

Exit status: 0 when every check passed, 1 with a WARN, 2 with a FAIL, and 2 when the settings
themselves cannot be read.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Final, TextIO

from agent.config import DEFAULT_CONFIG_PATH, AgentConfig, ConfigError, load_config
from agent.config import config_path as resolve_config_path
from agent.doctor.checks import run_checks
from agent.doctor.facts import Facts, Limits, RegisterOutcome, Source
from agent.doctor.findings import Finding, msg
from agent.doctor.gather import gather
from agent.doctor.i18n import choose_lang, translations
from agent.doctor.render import EXIT_FAIL, Header, Localizer, exit_status, render_json, render_text

__all__ = ["DEFAULT_CONFIG", "diagnose", "limits_of", "run_doctor"]

DEFAULT_CONFIG: Final = DEFAULT_CONFIG_PATH
"""Where the systemd unit's settings are: the doctor's default."""
_MAX_WIDTH: Final = 110


def limits_of(config: AgentConfig) -> Limits:
    """The checks' thresholds; the shift's comes from the guard's ``[shift] max_age``."""
    return Limits(shift_max_age=config.shift.max_age)


async def diagnose(config: AgentConfig, config_path: Path) -> tuple[Facts, tuple[Finding, ...]]:
    """Gather the facts and judge them."""
    facts = await gather(config, config_path)
    return facts, run_checks(facts, limits_of(config))


def run_doctor(
    *,
    config_path: Path | None,
    lang: str | None,
    as_json: bool,
    env: Mapping[str, str],
    out: TextIO,
) -> int:
    """Run every check and print the findings; returns the exit status."""
    path = resolve_config_path(config_path, env)
    try:
        config = load_config(path, env)
    except ConfigError as exc:
        localizer = _localizer(lang, None, env)
        return _config_error(path, exc, localizer, as_json=as_json, out=out)
    localizer = _localizer(lang, config.doctor.lang, env)
    facts, findings = asyncio.run(diagnose(config, path))
    header = Header(
        club=config.club, agent=config.agent, config_path=str(path), source=_source(facts)
    )
    if as_json:
        out.write(render_json(findings, header, localizer) + "\n")
    else:
        width = min(shutil.get_terminal_size((100, 24)).columns, _MAX_WIDTH)
        out.write(render_text(findings, header, localizer, width=width) + "\n")
    return exit_status(findings)


def _source(facts: Facts) -> Source | None:
    """Where the register's facts came from: the agent's report, or the port if it was read."""
    register = facts.register
    if register.source is Source.PORT and register.outcome is not RegisterOutcome.OK:
        return None
    return register.source


def _localizer(cli: str | None, configured: str | None, env: Mapping[str, str]) -> Localizer:
    lang = choose_lang(cli, configured, env)
    return Localizer(lang, translations(lang))


def _config_error(
    path: Path, exc: ConfigError, localizer: Localizer, *, as_json: bool, out: TextIO
) -> int:
    finding = localizer.text(
        msg("The settings {path} cannot be used: {error}", path=str(path), error=str(exc))
    )
    advice = localizer.text(
        msg("Ask your service engineer to correct the settings file, then run the check again.")
    )
    if as_json:
        document = {
            "lang": localizer.lang,
            "exit_status": EXIT_FAIL,
            "config": str(path),
            "error": {"code": "config", "key": exc.key, "finding": finding, "advice": [advice]},
        }
        out.write(json.dumps(document, ensure_ascii=False, indent=2) + "\n")
    else:
        out.write(f"{finding}\n→ {advice}\n")
    return EXIT_FAIL
