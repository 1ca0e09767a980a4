"""Errors the Shtrih-M driver adds to agent.drivers.errors.

:class:`DocumentNotFound` belongs in ``agent/drivers/errors.py`` next to the other
``DeviceError`` subclasses (every driver can miss a document); it lives here until that file
takes it, with the same base class, so the service can catch ``DeviceError`` today.
"""

from __future__ import annotations

from agent.drivers.errors import DeviceError, Disposition

__all__ = ["DocumentNotFound"]


class DocumentNotFound(DeviceError):
    """The FN archive has no document with this number (FF0A answered FN 0x08)."""

    disposition = Disposition.REJECT

    def __init__(self, code: int, command: int, fd: int) -> None:
        self.fd = fd
        super().__init__(code, command, f"no fiscal document {fd} in the FN")
