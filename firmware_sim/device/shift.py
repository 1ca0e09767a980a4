"""Shift commands: 0xE0 open, 0x40 X report, 0x41 Z report, FF40, FF41 and FF42.

Opening and closing the shift with their FN documents, the begun shift documents
FF0C tags go into, and the shift totals the close-shift report records.
"""

from __future__ import annotations

from firmware_sim.commands import ErrorCode, Refusal, le
from firmware_sim.device.core import DeviceCore, _PendingShift
from firmware_sim.state import DocumentTags


class ShiftCommands(DeviceCore):
    """Shift open and close and reports of :class:`~firmware_sim.device.Device`."""

    def _take_pending_tags(self, kind: _PendingShift) -> DocumentTags:
        tags = self._pending_tags if self._pending_shift is kind else DocumentTags()
        self._pending_shift = None
        self._pending_tags = DocumentTags()
        return tags

    def _open_shift(self, body: bytes) -> bytes:
        """0xE0: opens a shift with an open-shift FD; answer ``E0 00 op``."""
        op = self._operator(self._password_only(body))
        self._check_not_busy()
        assert self._now is not None
        tags = self._pending_tags if self._pending_shift is _PendingShift.OPEN else None
        self.open_shift(self._now, tags)  # the model's checks: receipt, shift, FN life, paper
        self._take_pending_tags(_PendingShift.OPEN)
        return bytes([op])

    def _x_report(self, body: bytes) -> bytes:
        """0x40: prints the shift counters; no FD, the shift stays open."""
        op = self._operator(self._password_only(body), admin=True)
        self._check_not_busy()
        assert self._now is not None
        self.x_report(self._now)
        return bytes([op])

    def _z_report(self, body: bytes) -> bytes:
        """0x41: closes the shift with a close-shift FD and clears the shift registers."""
        op = self._operator(self._password_only(body), admin=True)
        self._check_not_busy()
        assert self._now is not None
        tags = self._pending_tags if self._pending_shift is _PendingShift.CLOSE else None
        self.close_shift(self._now, tags)  # allowed past 24 hours: that is how one ends it
        self._take_pending_tags(_PendingShift.CLOSE)
        return bytes([op])

    def _fn_shift_params(self, body: bytes) -> bytes:
        """FF40: shift state, shift number, receipts issued in the shift so far."""
        self._fn_password(body)
        return (
            bytes([int(self._is_shift_open)])
            + le(self._shift_number & 0xFFFF, 2)
            + le(self._receipts_in_shift & 0xFFFF, 2)
        )

    def _fn_begin_open_shift(self, body: bytes) -> bytes:
        """FF41: begin the open-shift report; FF0C tags then go into it."""
        self._fn_password(body)
        self._check_no_receipt()
        if self._is_expired(self._clock()):
            raise Refusal(ErrorCode.FN_SHIFT_OVER_24H, "shift open for more than 24 hours")
        if self._is_shift_open:
            raise Refusal(ErrorCode.FN_BAD_STATE, "shift already open")
        self._pending_shift = _PendingShift.OPEN
        self._pending_tags = DocumentTags()
        return b""

    def _fn_begin_close_shift(self, body: bytes) -> bytes:
        """FF42: begin the close-shift report; FF0C tags then go into it."""
        self._fn_password(body)
        self._check_no_receipt()
        if not self._is_shift_open:
            raise Refusal(ErrorCode.FN_BAD_STATE, "shift closed")
        self._pending_shift = _PendingShift.CLOSE
        self._pending_tags = DocumentTags()
        return b""
