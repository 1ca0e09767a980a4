"""The checks: small pure functions from gathered facts to a finding with advice.

Each says PASS, WARN or FAIL (SKIP when its facts could not be read because another check
failed) in one line, and on WARN or FAIL what to do, in words a club's admin understands.
Thresholds come from :class:`agent.doctor.facts.Limits`.
"""

from __future__ import annotations

from agent.doctor.advice import call_engineer, replug, still_prints
from agent.doctor.cashbox_checks import cashbox_port
from agent.doctor.facts import (
    AgentFacts,
    BrokerFacts,
    BrokerOutcome,
    DiskFacts,
    Facts,
    Limits,
    PortFacts,
    PortKind,
    PortOutcome,
)
from agent.doctor.findings import CheckId, Finding, Msg, Size, Status, msg
from agent.doctor.register_checks import (
    check_clock,
    check_fn,
    check_ofd,
    check_paper,
    check_register,
    check_shift,
)

__all__ = [
    "check_agent",
    "check_broker",
    "check_clock",
    "check_disk",
    "check_fn",
    "check_ofd",
    "check_paper",
    "check_port",
    "check_register",
    "check_shift",
    "run_checks",
]


def check_agent(agent: AgentFacts) -> Finding:
    """The agent service answers on its local HTTP API."""
    check = CheckId.AGENT
    if agent.is_answering:
        return Finding(
            check=check,
            status=Status.PASS,
            code="running",
            finding=msg("the agent is running and answers at {url}", url=agent.url),
        )
    if agent.pid is not None:
        return Finding(
            check=check,
            status=Status.FAIL,
            code="not_answering",
            finding=msg(
                "the agent is running (process {pid}) but does not answer at {url}",
                pid=agent.pid,
                url=agent.url,
            ),
            advice=(
                msg("Restart the service: sudo systemctl restart fiscal-agent"),
                msg(
                    "If it happens again, send the output of "
                    "journalctl -u fiscal-agent -n 200 to your support."
                ),
            ),
        )
    return Finding(
        check=check,
        status=Status.FAIL,
        code="not_running",
        finding=msg("the service is not running: nothing answers at {url}", url=agent.url),
        advice=(
            msg("Check the service: systemctl status fiscal-agent"),
            msg("Start it: sudo systemctl start fiscal-agent"),
        ),
    )


def check_port(port: PortFacts) -> Finding:  # noqa: C901, PLR0911 - one flat dispatch on the outcome
    """The register's port exists and this user may use it; a TCP address accepts."""
    check = CheckId.PORT
    cashbox = cashbox_port(port)
    if cashbox is not None:
        return cashbox
    match port.outcome:
        case PortOutcome.IN_USE_BY_AGENT:
            return Finding(
                check=check,
                status=Status.PASS,
                code="in_use_by_agent",
                finding=msg("the agent talks to the register through {url}", url=port.url),
            )
        case PortOutcome.OK if port.kind is PortKind.WEB_SERVER:
            return Finding(
                check=check,
                status=Status.PASS,
                code="ok",
                finding=msg(
                    "ATOL's web server at {url} answers (driver {version})",
                    url=port.url,
                    version=port.version or "?",
                ),
            )
        case PortOutcome.NOT_SMARTONE:
            return Finding(
                check=check,
                status=Status.FAIL,
                code="not_smartone",
                finding=msg(
                    "{url} answers, but not as a SmartOne cash box ({reason})",
                    url=port.url,
                    reason=port.detail or "?",
                ),
                advice=(
                    msg(
                        "Ask your service engineer to check [smartone] url in the settings: "
                        "it must be the cash box's address, port 8008."
                    ),
                ),
            )
        case PortOutcome.NOT_ATOL:
            return Finding(
                check=check,
                status=Status.FAIL,
                code="not_atol",
                finding=msg(
                    "{url} answers, but not as ATOL's web server ({reason})",
                    url=port.url,
                    reason=port.detail or "?",
                ),
                advice=(
                    msg(
                        "Ask your service engineer to check [atol] url in the settings: "
                        "it must be the web server of ATOL's driver (port 16732 by default)."
                    ),
                ),
            )
        case PortOutcome.UNREACHABLE if port.kind is PortKind.WEB_SERVER:
            return Finding(
                check=check,
                status=Status.FAIL,
                code="unreachable",
                finding=msg(
                    "ATOL's web server at {url} does not answer ({reason})",
                    url=port.url,
                    reason=port.detail or "?",
                ),
                advice=(
                    msg(
                        "Check that ATOL's driver is installed on this computer and its web "
                        "server is running."
                    ),
                    msg(
                        "If it runs on another address, ask your service engineer to set "
                        "[atol] url in the settings."
                    ),
                ),
            )
        case PortOutcome.OK if port.kind is PortKind.TCP:
            return Finding(
                check=check,
                status=Status.PASS,
                code="ok",
                finding=msg("{url} accepts connections", url=port.url),
            )
        case PortOutcome.OK:
            return Finding(
                check=check,
                status=Status.PASS,
                code="ok",
                finding=msg("{url} is there and may be used", url=port.url),
            )
        case PortOutcome.MISSING:
            return Finding(
                check=check,
                status=Status.FAIL,
                code="missing",
                finding=msg(
                    "{url} does not exist: this computer does not see the register", url=port.url
                ),
                advice=(
                    *replug(port.kind),
                    msg(
                        "Still missing: the register may be on another port; "
                        "ask your service engineer to check [register] url in the settings."
                    ),
                ),
            )
        case PortOutcome.NO_PERMISSION:
            return Finding(
                check=check,
                status=Status.FAIL,
                code="no_permission",
                finding=msg(
                    "{url} is there but user {user} may not use it",
                    url=port.url,
                    user=port.user or "?",
                ),
                advice=(
                    msg("Run the check with sudo, as the service has its own user."),
                    msg(
                        "If the service cannot open it either, its user must be in the "
                        "dialout group: sudo usermod -aG dialout fiscal"
                    ),
                ),
            )
        case PortOutcome.UNREACHABLE:
            return Finding(
                check=check,
                status=Status.FAIL,
                code="unreachable",
                finding=msg(
                    "{url} does not accept connections ({reason})",
                    url=port.url,
                    reason=port.detail or "?",
                ),
                advice=replug(port.kind),
            )
        case PortOutcome.NOT_CHECKED:
            return Finding(
                check=check,
                status=Status.SKIP,
                code="not_checked",
                finding=msg("{url}: an address of this kind is not checked", url=port.url),
            )


def check_disk(disk: DiskFacts, limits: Limits) -> Finding:
    """Free space for the agent's SQLite file: WARN under 200 MB, FAIL under 20 MB."""
    check = CheckId.DISK
    if disk.free_bytes is None:
        return Finding(
            check=check,
            status=Status.WARN,
            code="unknown",
            finding=msg(
                "the free space in {path} cannot be read: {detail}",
                path=disk.path,
                detail=disk.detail or "?",
            ),
            advice=(call_engineer(),),
        )
    free = Size(disk.free_bytes)
    vacuum = msg(
        "Free up space on this computer: delete old files, or clear old system logs: "
        "sudo journalctl --vacuum-size=100M"
    )
    if disk.free_bytes < limits.disk_fail_bytes:
        return Finding(
            check=check,
            status=Status.FAIL,
            code="full",
            finding=msg(
                "only {free} free in {path}: the agent cannot store new payments",
                free=free,
                path=disk.path,
            ),
            advice=(vacuum, msg("If that is not enough, call your service engineer.")),
        )
    if disk.free_bytes < limits.disk_warn_bytes:
        return Finding(
            check=check,
            status=Status.WARN,
            code="low",
            finding=msg("only {free} free in {path}", free=free, path=disk.path),
            advice=(vacuum, msg("When the disk is full the agent stops taking payments.")),
        )
    return Finding(
        check=check,
        status=Status.PASS,
        code="ok",
        finding=msg("{free} free in {path}", free=free, path=disk.path),
    )


def check_broker(broker: BrokerFacts) -> Finding:  # noqa: C901, PLR0911 - one flat dispatch
    """The MQTT broker: TCP, and for mqtts:// a TLS handshake with the configured files."""
    check = CheckId.BROKER
    where = f"{broker.host}:{broker.port}"
    detail = broker.detail or "?"

    def fail(code: str, finding: Msg, *advice: Msg) -> Finding:
        return Finding(
            check=check,
            status=Status.FAIL,
            code=code,
            finding=finding,
            advice=(*advice, still_prints()),
        )

    match broker.outcome:
        case BrokerOutcome.CONNECTED_VIA_AGENT:
            return Finding(
                check=check,
                status=Status.PASS,
                code="ok",
                finding=msg("{where}: the agent is connected to it", where=where),
            )
        case BrokerOutcome.OK:
            finding = (
                msg("{where} answers and its certificate is in order", where=where)
                if broker.is_tls
                else msg("{where} answers", where=where)
            )
            return Finding(check=check, status=Status.PASS, code="ok", finding=finding)
        case BrokerOutcome.UNREACHABLE:
            return Finding(
                check=check,
                status=Status.WARN,
                code="unreachable",
                finding=msg("{where} does not answer ({reason})", where=where, reason=detail),
                advice=(
                    still_prints(),
                    msg(
                        "Check this computer's internet connection; if it works, tell your "
                        "support that the server does not answer."
                    ),
                ),
            )
        case BrokerOutcome.SERVER_CERT_EXPIRED:
            return fail(
                "server_cert_expired",
                msg("the server's certificate has expired ({detail})", detail=detail),
                msg("Tell your support: the server's certificate must be renewed."),
            )
        case BrokerOutcome.SERVER_CERT_UNTRUSTED:
            return fail(
                "server_cert_untrusted",
                msg(
                    "the server's certificate is not trusted: the CA in the settings did not "
                    "sign it ({detail})",
                    detail=detail,
                ),
                msg(
                    "Tell your support: [mqtt] ca in the settings does not match the "
                    "server's certificate."
                ),
            )
        case BrokerOutcome.SERVER_NAME_MISMATCH:
            return fail(
                "server_name_mismatch",
                msg("the server's certificate is not made out for {host}", host=broker.host),
                msg(
                    "Tell your support: the address in [mqtt] url does not match the "
                    "server's certificate."
                ),
            )
        case BrokerOutcome.CLIENT_CERT_EXPIRED:
            return fail(
                "client_cert_expired",
                msg("the server refused this computer's certificate: it has expired"),
                msg("Ask your support for a new certificate for this computer ([mqtt] cert)."),
            )
        case BrokerOutcome.CLIENT_CERT_REFUSED:
            return fail(
                "client_cert_refused",
                msg("the server refused this computer's certificate ({detail})", detail=detail),
                msg("Ask your support to check this computer's certificate ([mqtt] cert, key)."),
            )
        case BrokerOutcome.TLS_FILES:
            return fail(
                "tls_files",
                msg(
                    "the certificate files in the settings cannot be used: {detail}", detail=detail
                ),
                msg(
                    "Check [mqtt] ca, cert and key in the settings: the files must exist and "
                    "be readable."
                ),
            )
        case BrokerOutcome.TLS_FAILED:
            return fail(
                "tls_failed",
                msg(
                    "the secure connection to {where} failed ({detail})", where=where, detail=detail
                ),
                msg("Tell your support what this check shows."),
            )


def run_checks(facts: Facts, limits: Limits) -> tuple[Finding, ...]:
    """Every check, in the order :class:`CheckId` lists them."""
    register = facts.register
    return (
        check_agent(facts.agent),
        check_port(facts.port),
        check_register(register, facts.port),
        check_fn(register, limits),
        check_ofd(register, limits),
        check_shift(register, limits),
        check_paper(register),
        check_clock(register, limits),
        check_disk(facts.disk, limits),
        check_broker(facts.broker),
    )
