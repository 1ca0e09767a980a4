"""What Linux accounts to one process, read from /proc/<pid>: CPU time, memory, disk writes.

Every figure covers all the process's threads (the agent's SQLite calls run in worker
threads); the benchmark takes deltas of them around a run.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["TICKS_PER_S", "ProcSample", "rss_bytes", "sample"]

TICKS_PER_S = os.sysconf("SC_CLK_TCK")
"""CPU time is counted in these ticks: the resolution of every CPU figure."""
_UTIME, _STIME = 11, 12
"""utime and stime in /proc/<pid>/stat, counted from the field after the command name."""


@dataclass(frozen=True, slots=True)
class ProcSample:
    """CPU seconds (user + system) and bytes sent to storage, so far."""

    cpu_s: float
    write_bytes: int

    def __sub__(self, earlier: ProcSample) -> ProcSample:
        return ProcSample(self.cpu_s - earlier.cpu_s, self.write_bytes - earlier.write_bytes)


def _cpu_s(pid: int) -> float:
    text = Path(f"/proc/{pid}/stat").read_text()
    fields = text[text.rindex(")") + 2 :].split()  # the command name may hold spaces
    return (int(fields[_UTIME]) + int(fields[_STIME])) / TICKS_PER_S


def _keyed(path: str, key: str) -> int:
    for line in Path(path).read_text().splitlines():
        name, _, value = line.partition(":")
        if name == key:
            return int(value.split()[0])
    msg = f"no {key} in {path}"
    raise LookupError(msg)


def sample(pid: int) -> ProcSample:
    """CPU time so far, and write_bytes: what the process made the kernel write to storage.

    write_bytes counts page-cache pages as they are dirtied (4 KiB each time a clean page
    becomes dirty), so a small append after an fsync costs a whole page. Writes to a pipe,
    a socket or a terminal are not in it: a log must go to a file to count.
    """
    return ProcSample(_cpu_s(pid), _keyed(f"/proc/{pid}/io", "write_bytes"))


def rss_bytes(pid: int) -> int:
    """Resident memory now (VmRSS)."""
    return _keyed(f"/proc/{pid}/status", "VmRSS") * 1024
