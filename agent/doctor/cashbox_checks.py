"""The port and register checks' findings for a SmartOne cash box (its local HTTP API).

The doctor is the cash box's "Check" button: whether the cash box answers, whether it
accepts the signature made with the merchant id, and (the shift check) whether a shift is
open. Pure functions of the gathered facts; :func:`agent.doctor.checks.check_port` and
:func:`agent.doctor.register_checks.check_register` ask them first for a cash box, and fall
back to their own wording for what is the same on every register.
"""

from __future__ import annotations

from agent.doctor.advice import replug
from agent.doctor.facts import PortFacts, PortKind, PortOutcome, RegisterFacts
from agent.doctor.facts import RegisterOutcome as Outcome
from agent.doctor.findings import CheckId, Finding, Status, msg

__all__ = ["cashbox_port", "cashbox_register"]


def cashbox_port(port: PortFacts) -> Finding | None:
    """The port check of a cash box; None where the common wording fits."""
    check = CheckId.PORT
    if port.kind is not PortKind.CASHBOX:
        return None
    match port.outcome:
        case PortOutcome.OK:
            return Finding(
                check=check,
                status=Status.PASS,
                code="ok",
                finding=msg("the SmartOne cash box at {url} answers", url=port.url),
            )
        case PortOutcome.UNREACHABLE:
            return Finding(
                check=check,
                status=Status.FAIL,
                code="unreachable",
                finding=msg(
                    "the SmartOne cash box at {url} does not answer ({reason})",
                    url=port.url,
                    reason=port.detail or "?",
                ),
                advice=replug(port.kind),
            )
        case _:
            return None


def cashbox_register(register: RegisterFacts, port: PortFacts) -> Finding | None:
    """The register check of a cash box; None where the common wording fits."""
    check = CheckId.REGISTER
    if port.kind is not PortKind.CASHBOX:
        return None
    match register.outcome:
        case Outcome.OK if register.code is None:
            return Finding(
                check=check,
                status=Status.PASS,
                code="ok",
                finding=msg(
                    "the cash box {model}, serial number {serial}, answers and accepts the "
                    "signature made with the merchant id",
                    model=register.model or "?",
                    serial=register.serial or "?",
                ),
            )
        case Outcome.WRONG_PASSWORD:
            return Finding(
                check=check,
                status=Status.FAIL,
                code="wrong_password",
                finding=msg(
                    "the cash box refused the signature: the merchant id in the settings is "
                    "not the one the cash box was registered with"
                ),
                advice=(
                    msg(
                        "[smartone] merchant_id in the settings must be the merchant id the "
                        "supplier gave with the cash box (32 characters, 0-9 and a-f)."
                    ),
                    msg(
                        "Nothing is printed and nothing is lost meanwhile: payments wait and "
                        "print once the merchant id is right and the service restarted: "
                        "sudo systemctl restart fiscal-agent"
                    ),
                ),
            )
        case Outcome.PORT_FAILED | Outcome.NO_ANSWER:
            return Finding(
                check=check,
                status=Status.FAIL,
                code=register.code or "no_answer",
                finding=msg(
                    "the SmartOne cash box does not answer: {detail}",
                    detail=register.detail or "?",
                ),
                advice=replug(port.kind),
            )
        case _:
            return None
