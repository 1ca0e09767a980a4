"""FF35, pure: begin a correction receipt (docs/corrections.md).

The rest of a correction receipt is the receipt commands (:mod:`.receipt`) and tags (:mod:`.tlv`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from agent.drivers.shtrih.wire import Command, PasswordRequest

__all__ = [
    "BeginCorrectionRequest",
    "BeginCorrectionResponse",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class BeginCorrectionRequest(PasswordRequest):
    """FF35 Начать формирование чека коррекции (docs/corrections.md).

    ::

        FF 35 | password u32 (system administrator)

    On an FFD 1.2 register the correction receipt then takes FF46 lines, FF0C tags (1173,
    1174 with 1178, the mark) and closes with FF45, as a receipt does.
    """

    command: ClassVar[Command] = Command.BEGIN_CORRECTION_RECEIPT


@dataclass(frozen=True, slots=True, kw_only=True)
class BeginCorrectionResponse:
    """FF35 answer: ``err`` only."""
