"""Typed transport errors: the port or socket is gone.

The transport sits below the drivers (docs/style.md §1), so it cannot raise the drivers' errors;
a driver translates :class:`LinkDown` into ``agent.drivers.errors.LinkDown``.
"""

from __future__ import annotations

__all__ = ["LinkDown", "TransportError"]


class TransportError(Exception):
    """Base of everything the transport raises."""


class LinkDown(TransportError):
    """The port or socket could not be opened, failed, or was closed under us."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"link {url} is down: {reason}")
