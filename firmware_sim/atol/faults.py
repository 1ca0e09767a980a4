"""Faults of the simulated ATOL register, by task type (the control API arms them).

Pure. A power cut or a refusal is armed on the next task of one ``type`` (``sell``,
``closeShift``, ...), before the register runs it or after it ran and was stored; a paper end
fires while the next document of that type prints (after its FD). The book is the shared
:class:`~firmware_sim.front_end_faults.OperationFaults`; an operation here is a task type, as
given, and a refusal takes an ATOL error code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from firmware_sim.front_end_faults import OperationFaults

__all__ = ["AtolFaults"]


@dataclass(slots=True, kw_only=True)
class AtolFaults(OperationFaults):
    """Pending faults of the ATOL front end; counters are used up as tasks run."""

    code_kind: ClassVar[str] = "an ATOL error code"
