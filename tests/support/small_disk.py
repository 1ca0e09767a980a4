"""A small tmpfs the tests fill up or make read-only: a real full disk, not a mock.

Mounting needs root (tests and CI run as root). Where the kernel or the sandbox refuses, the
fixture skips with the reason, so a run without the privilege says so instead of passing.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

__all__ = ["SmallDisk", "small_disk"]


@dataclass(frozen=True, slots=True)
class SmallDisk:
    """A mounted tmpfs of ``size_kib``; ``fill()`` takes all its space, ``free()`` gives it back."""

    path: Path
    size_kib: int

    @property
    def _filler(self) -> Path:
        return self.path / "filler.bin"

    def fill(self) -> None:
        """Write zeros until the disk refuses one more byte."""
        fd = os.open(self._filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            for chunk in (65536, 4096, 1):
                with contextlib.suppress(OSError):
                    while True:
                        os.write(fd, b"\0" * chunk)
        finally:
            os.close(fd)

    def free(self) -> None:
        """Delete the filler: the space is back."""
        self._filler.unlink(missing_ok=True)

    def remount(self, *, read_only: bool) -> None:
        """Make the disk read-only, or writable again (no file may be open for writing)."""
        mode = "ro" if read_only else "rw"
        subprocess.run(["mount", "-o", f"remount,{mode}", str(self.path)], check=True)


@contextlib.contextmanager
def small_disk(path: Path, size_kib: int = 1024) -> Iterator[SmallDisk]:
    """Mount a tmpfs at ``path`` for the duration; skip the test where mounting is refused."""
    path.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_kib}k", "tmpfs", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs for the full-disk test (needs root): {result.stderr}")
    try:
        yield SmallDisk(path=path, size_kib=size_kib)
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)
