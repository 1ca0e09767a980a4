"""Advice more than one check gives, in one wording."""

from __future__ import annotations

from agent.doctor.facts import PortKind
from agent.doctor.findings import Msg, msg

__all__ = ["call_engineer", "replug", "still_prints"]


def replug(kind: PortKind) -> tuple[Msg, ...]:
    """Switched on and plugged in: the USB cable, or the network for a TCP register."""
    if kind is PortKind.WEB_SERVER:
        return (
            msg("Check that the register is switched on and its cable is plugged in."),
            msg(
                "ATOL's driver reaches the register with its own connection settings: "
                "check them in the driver's settings (the service engineer knows them)."
            ),
        )
    if kind is PortKind.CASHBOX:
        return (
            msg("Check that the cash box is switched on and connected to the club's network."),
            msg(
                "Check that the cash box's network address has not changed "
                "([smartone] url in the settings; its port is 8008)."
            ),
        )
    if kind is PortKind.TCP:
        return (
            msg("Check that the register is switched on and its network cable is plugged in."),
            msg(
                "Check that the register's network address has not changed "
                "([register] url in the settings)."
            ),
        )
    return (
        msg("Check that the register is switched on and its USB cable is plugged in."),
        msg("Unplug the USB cable and plug it back, wait 10 seconds and run the check again."),
    )


def call_engineer() -> Msg:
    """When only a person who knows the register can help."""
    return msg("Call your service engineer and tell them what this check shows.")


def still_prints() -> Msg:
    """The broker is not needed to print: said with every broker problem."""
    return msg(
        "Receipts still print meanwhile: their results wait on this computer and are sent later."
    )
